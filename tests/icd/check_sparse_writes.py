#!/usr/bin/env python3
"""Runs tests/icd/sparse_writes through tether and checks, from the session
totals both ends log (TETHER_LOG=info), that with write watching the client
compared only the written pages before each submit, and that after each wait
tetherd read back only memory the GPU can write (the small destination
buffer), never the large upload heap the GPU only reads.

  check_sparse_writes.py --tetherd PATH --icd-manifest PATH --native-icd PATH APP
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import tetherd_harness as th  # noqa: E402

FRAMES, MAPPED = 200, 64 << 20        # as in sparse_writes.c
COMPARED = re.compile(r"(\d+) bytes of mapped memory compared")
SERVER_COMPARED = re.compile(r"session ended \([^)]*\): (\d+) bytes of mapped memory compared")
DESTINATION = FRAMES * 4096          # the one buffer the GPU writes
NO_WATCH = "no write watching"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tetherd", required=True)
    p.add_argument("--icd-manifest", required=True)
    p.add_argument("--native-icd", required=True)
    p.add_argument("app")
    args = p.parse_args()
    native = os.environ.get("TETHER_NATIVE_ICD") or args.native_icd
    with tempfile.TemporaryDirectory(prefix="tether-sparse-") as work:
        server = th.Tetherd(args.tetherd, native, work)
        server.env["TETHER_LOG"] = "info"
        server.start()
        try:
            env = th.tether_env(args.icd_manifest, server)
            env["TETHER_LOG"] = "info"
            run = subprocess.run([args.app], env=env, capture_output=True, text=True, timeout=300)
        finally:
            # The session is a child of tetherd: it logs its totals when it
            # sees the client leave, which may be just after the client exits.
            deadline = time.monotonic() + 10
            while not SERVER_COMPARED.search(server.log_text()) and time.monotonic() < deadline:
                time.sleep(0.05)
            server.stop()
        server_log = server.log_text()
    print(run.stdout + run.stderr)
    if run.returncode != 0:
        print("FAIL: sparse_writes exited %d" % run.returncode)
        return 1
    m = COMPARED.search(run.stderr)
    if not m:
        print("FAIL: the ICD reported no session totals")
        return 1
    compared = int(m.group(1))
    sm = SERVER_COMPARED.search(server_log)
    if not sm:
        print("FAIL: tetherd reported no session totals:\n" + server_log[-2000:])
        return 1
    server_compared = int(sm.group(1))
    # Each wait reads back the destination; the map calls read each memory once.
    server_limit = 2 * FRAMES * DESTINATION + 2 * (MAPPED + DESTINATION)
    if server_compared > server_limit:
        print("FAIL: tetherd compared %d bytes after %d waits (limit %d): it reads back memory "
              "the GPU cannot write" % (server_compared, FRAMES, server_limit))
        return 1
    print("tetherd compared %d bytes after %d waits" % (server_compared, FRAMES))
    if NO_WATCH in run.stderr:
        # Without write watching every submit compares the whole mapping.
        if compared < FRAMES * MAPPED:
            print("FAIL: whole scans should compare %d bytes, compared %d" % (FRAMES * MAPPED, compared))
            return 1
        print("PASS (no write watching on this system): %d bytes compared" % compared)
        return 0
    # One written page a frame (plus pages the ICD itself wrote while applying
    # GPU writes): far below one whole mapping, let alone one per frame.
    limit = MAPPED
    if compared > limit:
        print("FAIL: %d bytes compared for %d one-page frames (limit %d)" % (compared, FRAMES, limit))
        return 1
    print("PASS: %d bytes compared for %d frames in %d MiB mapped" % (compared, FRAMES, MAPPED >> 20))
    return 0


if __name__ == "__main__":
    sys.exit(main())
