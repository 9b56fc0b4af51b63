#!/usr/bin/env python3
"""`tether bench-link` against a real tetherd on loopback TCP.

Passes when bench-link reports sane, nonzero round trips and throughput both
ways and exits 0; when a request over tetherd's limit is refused with the
server's reason (exit 1); when hand-made link-test requests that break the
protocol get their refusal text and the connection ends; and when tetherd
still serves after all of it.

Usage: check_bench_link.py --tetherd PATH --tether PATH --native-icd JSON
"""
import argparse
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import tetherd_harness as th  # noqa: E402

MSG_HELLO, MSG_WELCOME = 1, 2
CHANNEL_LINK_TEST = 2


def fail(msg):
    th.log("FAIL: " + msg)
    sys.exit(1)


def bench(tether, addr, client_env, *extra):
    cmd = [tether, "bench-link", "--server", addr] + list(extra)
    th.log("running: " + " ".join(cmd))
    env = th.base_env()
    env.update(client_env)
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    th.log("exit %d\n%s%s" % (run.returncode, th.indent(run.stdout, "  out| "), th.indent(run.stderr, "  err| ")))
    return run


def check_numbers(out):
    m = re.search(r"round trip: median ([0-9.]+) ms, p99 ([0-9.]+) ms, min ([0-9.]+) ms \((\d+) exchanges", out)
    if not m:
        fail("no round-trip line")
    median, p99, least, count = float(m.group(1)), float(m.group(2)), float(m.group(3)), int(m.group(4))
    # Loopback on any machine: well under 50 ms, and more than a handful in a second.
    if not (0 < least <= median <= p99 < 50) or count < 100:
        fail("implausible round trips: median %s p99 %s min %s count %d" % (median, p99, least, count))
    for way in ("upload", "download"):
        m = re.search(r"^%s: +([0-9.]+) Gbit/s \(([0-9.]+) MB in ([0-9.]+) s, (\d+) request" % way, out, re.M)
        if not m:
            fail("no %s line" % way)
        gbps, mb, secs, requests = float(m.group(1)), float(m.group(2)), float(m.group(3)), int(m.group(4))
        if gbps <= 0.01 or requests < 1 or secs < 0.9 or abs(mb - requests * 4194304 / 1e6) > 0.2:
            fail("implausible %s: %s Gbit/s, %s MB, %s s, %d requests" % (way, gbps, mb, secs, requests))
        th.log("%s: %.2f Gbit/s" % (way, gbps))
    if "path:       not a Thunderbolt/USB4 link" not in out:
        fail("loopback reported as a Thunderbolt link")


def u32(v):
    return struct.pack("<I", v)


def string(s):
    return u32(len(s)) + s


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            fail("connection closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def hello(port, channel):
    """A link-test HELLO as the tool sends it; returns the socket and WELCOME's status and text."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    body = b"TETHER\r\n" + u32(1) + u32(1) + u32(0) + string(b"raw link test") + u32(0) + u32(channel)
    s.sendall(struct.pack("<IIQ", MSG_HELLO, 0, len(body)) + body)
    mtype, _, size = struct.unpack("<IIQ", recv_exact(s, 16))
    if mtype != MSG_WELCOME:
        fail("expected WELCOME, got message type %d" % mtype)
    w = recv_exact(s, size)
    status, text_len = struct.unpack("<I", w[:4])[0], struct.unpack("<I", w[16:20])[0]
    return s, status, w[20:20 + text_len].decode()


def refused(port, request, want_status, want_text):
    s, status, _ = hello(port, CHANNEL_LINK_TEST)
    if status != 0:
        fail("link-test HELLO refused (status %d)" % status)
    s.sendall(request)
    status, text_len, _ = struct.unpack("<IIQ", recv_exact(s, 16))
    text = recv_exact(s, text_len).decode()
    if status != want_status or text != want_text:
        fail("refusal: status %d %r, want %d %r" % (status, text, want_status, want_text))
    if s.recv(1) != b"":
        fail("the connection went on after a refusal")
    s.close()
    th.log("refused as expected: %s" % text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tetherd", required=True)
    ap.add_argument("--tether", required=True)
    ap.add_argument("--native-icd", required=True)
    args = ap.parse_args()
    native = os.environ.get("TETHER_NATIVE_ICD", args.native_icd)
    with tempfile.TemporaryDirectory(prefix="tether-bench-link-") as work, \
            th.Tetherd(args.tetherd, native, work, transport="tcp", extra_args=["--insecure"]) as server:
        # The tool runs as the paired client (TLS); --insecure lets the raw
        # requests below speak the link-test protocol in plaintext.
        run = bench(args.tether, server.addr, server.client_env, "--seconds", "1", "--size", "4M")
        if run.returncode != 0:
            fail("bench-link exited %d" % run.returncode)
        check_numbers(run.stdout)
        if "security:   TLS 1.3, " not in run.stdout:
            fail("bench-link did not measure over TLS as the paired client")

        # Over the server's per-request limit: refused with its reason.
        run = bench(args.tether, server.addr, server.client_env, "--seconds", "1", "--size", "2G")
        want = ("tetherd refused the upload: upload of 2147483648 bytes: must be 1..1073741824 "
                "(the server's limit per request)")
        if run.returncode != 1 or want not in run.stderr:
            fail("an oversized upload was not refused as expected")

        # Requests no tool sends.
        refused(server.port, struct.pack("<IIQ", 9, 0, 16), 1, "unknown request 9 (1 echo, 2 upload, 3 download)")
        refused(server.port, struct.pack("<IIQ", 1, 5, 16), 1, "reserved field is 5, must be 0")
        refused(server.port, struct.pack("<IIQ", 1, 0, 1 << 20), 1, "echo of 1048576 bytes: must be 1..65536")
        refused(server.port, struct.pack("<IIQ", 3, 0, 1 << 62), 1,
                "download of 4611686018427387904 bytes: must be 1..1073741824 (the server's limit per request)")
        s, status, text = hello(server.port, 3)
        s.close()
        if status != 2 or text != "bad HELLO: unknown channel 3":
            fail("an unknown channel: status %d %r" % (status, text))

        # tetherd serves on.
        run = bench(args.tether, server.addr, server.client_env, "--seconds", "1", "--size", "4M")
        if run.returncode != 0 or not server.alive():
            fail("tetherd did not survive the bad requests")
        log = server.log_text()
        if "refused: unknown request 9" not in log:
            fail("tetherd did not log the refusal")
    th.log("PASS")


if __name__ == "__main__":
    main()
