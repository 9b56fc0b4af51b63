#!/usr/bin/env python3
"""tetherd on one host, its clients on another: two network namespaces joined
by a veth pair, and the security of what crosses it (docs/SECURITY.md).

  netns_security.py --tetherd PATH --tether PATH --icd-manifest JSON
                    --native-icd JSON [--compute PATH] [--wsi-present PATH] TEST

TEST is one of the functions in TESTS below (one CTest test each). Needs root
(ip netns, veth): exits 77 (skipped) only when not root. Exit 0 pass, 1 fail.
The modes proxy, replay and hold run inside a namespace, started by the tests.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
sys.path.insert(0, os.path.join(HERE, "..", "wsi"))
import tetherd_harness as th  # noqa: E402

SKIP = 77
PORT = 7380
SERVER_IP, CLIENT_IP = "10.77.0.1", "10.77.0.2"
ADDR = "%s:%d" % (SERVER_IP, PORT)
WAIT_S = 10.0


class Failed(Exception):
    pass


def check(ok, msg):
    if not ok:
        raise Failed(msg)


class Link:
    """Two namespaces (server, client) and the veth pair between them."""

    def __init__(self):
        tag = "ts%d" % os.getpid()
        self.srv, self.cli = tag + "-srv", tag + "-cli"
        self.srv_if, self.cli_if = tag + "s", tag + "c"

    def _ip(self, *args):
        subprocess.run(["ip"] + list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def up(self):
        self.down()
        self._ip("netns", "add", self.srv)
        self._ip("netns", "add", self.cli)
        self._ip("link", "add", self.srv_if, "netns", self.srv, "type", "veth", "peer", "name", self.cli_if,
                 "netns", self.cli)
        self._ip("-n", self.srv, "addr", "add", SERVER_IP + "/30", "dev", self.srv_if)
        self._ip("-n", self.cli, "addr", "add", CLIENT_IP + "/30", "dev", self.cli_if)
        for ns, dev in ((self.srv, self.srv_if), (self.cli, self.cli_if)):
            self._ip("-n", ns, "link", "set", "lo", "up")
            self._ip("-n", ns, "link", "set", dev, "up")
        th.log("link: %s (%s) <-> %s (%s)" % (self.srv, SERVER_IP, self.cli, CLIENT_IP))

    def down(self):
        for ns in (self.srv, self.cli):
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def on_server(self):
        return ["ip", "netns", "exec", self.srv]

    def on_client(self):
        return ["ip", "netns", "exec", self.cli]


class Server:
    """tetherd in the server namespace, listening on the veth address."""

    def __init__(self, args, link, work, extra=()):
        self.args, self.link = args, link
        self.state = os.path.join(work, "state")
        self.pin_file = os.path.join(work, "pin")
        self.log_path = os.path.join(work, "tetherd.log")
        self.env = th.native_env(args.native_icd, validation=True)
        self.env["TETHER_LOG"] = "info"
        self.extra = list(extra)
        self.proc = None

    def start(self):
        cmd = link_cmd(self.link.on_server(), [self.args.tetherd, "--listen", ADDR, "--state-dir", self.state,
                                               "--pairing-pin-file", self.pin_file] + self.extra)
        th.log("starting: " + " ".join(cmd))
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + WAIT_S
        while "listening on" not in self.log():
            check(self.proc.poll() is None, "tetherd exited: " + self.log())
            check(time.monotonic() < deadline, "tetherd did not start: " + self.log())
            time.sleep(0.05)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def fingerprint(self):
        m = re.search(r"certificate (SHA256:[0-9a-f]{64})", self.log())
        check(m, "tetherd did not print its certificate")
        return m.group(1)

    def wait_log(self, pattern, what):
        deadline = time.monotonic() + WAIT_S
        while not re.search(pattern, self.log()):
            check(time.monotonic() < deadline, "tetherd never logged %s (/%s/):\n%s"
                  % (what, pattern, th.indent(self.log(), "  tetherd| ")))
            time.sleep(0.05)

    def lines_about(self, peer):
        return [line for line in self.log().splitlines() if peer + ":" in line or peer + " " in line]

    def list_clients(self):
        out = subprocess.run([self.args.tetherd, "--state-dir", self.state, "--list-clients"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=True)
        return out.stdout.decode()


def link_cmd(prefix, cmd):
    return list(prefix) + list(cmd)


class Client:
    """A client machine's tether configuration, used from the client namespace."""

    def __init__(self, args, link, work, name):
        self.args, self.link = args, link
        self.config = os.path.join(work, name)
        os.makedirs(self.config, mode=0o700, exist_ok=True)

    def env(self, base=None):
        env = dict(base if base is not None else th.base_env())
        env["TETHER_CONFIG_DIR"] = self.config
        return env

    def run(self, cmd, env=None, timeout=60):
        p = subprocess.run(link_cmd(self.link.on_client(), cmd), env=env or self.env(), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    def tether(self, *argv):
        return self.run([self.args.tether] + list(argv))

    def pair(self, server, answer=None):
        """`tether pair`, typing the PIN tetherd shows (or answer(pin))."""
        if os.path.exists(server.pin_file):
            os.unlink(server.pin_file)
        proc = subprocess.Popen(link_cmd(self.link.on_client(), [self.args.tether, "pair", ADDR, "--name",
                                                                 os.path.basename(self.config)]),
                                env=self.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        pin, deadline = None, time.monotonic() + WAIT_S
        while pin is None and proc.poll() is None and time.monotonic() < deadline:
            try:
                with open(server.pin_file) as f:
                    pin = f.read().strip() or None
            except OSError:
                time.sleep(0.02)
        typed = answer(pin) if answer and pin else (pin or "")
        out, _ = proc.communicate((typed + "\n").encode(), timeout=WAIT_S)
        return proc.returncode, out.decode("utf-8", "replace"), pin

    def fingerprint(self):
        rc, out = self.tether("paired")
        m = re.search(r"this client: (SHA256:[0-9a-f]{64})", out)
        check(rc == 0 and m, "tether paired: " + out)
        return m.group(1)

    def paired_servers(self):
        try:
            with open(os.path.join(self.config, "paired-servers")) as f:
                return f.read()
        except OSError:
            return ""


def short(fp):
    return fp[:7 + 16]


def decoded_lines(server, peer):
    """Log lines saying tetherd read a HELLO or ran a session for @peer."""
    return [line for line in server.lines_about(peer)
            if re.search(r'client ".*" from|session for|paired client', line)]


def stranger_identity(client):
    """An identity tetherd never saw: a P-256 key and self-signed certificate."""
    path = os.path.join(client.config, "identity.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "1", "-subj", "/CN=stranger", "-keyout", path + ".key", "-out", path + ".crt"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(path, "w") as out:
        for part in (".key", ".crt"):
            with open(path + part) as f:
                out.write(f.read())
            os.unlink(path + part)
    os.chmod(path, 0o600)


def pin_to(client, server_fp, address=ADDR, name="server"):
    """Writes a paired-servers entry by hand: the client believes it is paired."""
    with open(os.path.join(client.config, "paired-servers"), "a") as f:
        f.write("%s\t2026-01-01T00:00:00Z\t%s\t%s\n" % (server_fp, address, name))
    os.chmod(os.path.join(client.config, "paired-servers"), 0o600)


# ---- tests ----

def pairing_over_veth_succeeds(args, link, work):
    server = Server(args, link, work).start()
    try:
        client = Client(args, link, work, "handheld")
        rc, out, pin = client.pair(server)
        check(rc == 0 and "paired with" in out, "tether pair failed (%d):\n%s" % (rc, out))
        check(pin and re.search(r"PIN %s \(valid" % pin, server.log()), "tetherd did not show the PIN it used")
        check(server.fingerprint() in client.paired_servers(), "the client did not pin the server's certificate")
        check(client.fingerprint() in server.list_clients(), "tetherd --list-clients lacks the client")
        check(not os.path.exists(server.pin_file), "the PIN file outlived the pairing")
        rc, out = client.tether("status", "--server", ADDR)
        check(rc == 0 and "TLS 1.3" in out, "tether status after pairing (%d):\n%s" % (rc, out))
        th.log("paired over the veth link; tether status: " + out.splitlines()[-1])
    finally:
        server.stop()


def pin_option_after_interrupted_request(args, link, work):
    """A request left without a PIN (no input), then `tether pair --pin` with
    the PIN tetherd showed for it: same client, same PIN, paired."""
    server = Server(args, link, work).start()
    try:
        client = Client(args, link, work, "scripted")
        rc, out = client.tether("pair", ADDR)  # standard input is empty
        check(rc != 0 and "no PIN was given" in out, "tether pair without a PIN (%d):\n%s" % (rc, out))
        with open(server.pin_file) as f:
            pin = f.read().strip()
        rc, out = client.tether("pair", ADDR, "--pin", pin)
        check(rc == 0 and "paired with" in out, "tether pair --pin (%d):\n%s" % (rc, out))
        check(server.log().count("tetherd: PIN %s" % pin) == 2, "tetherd did not keep the PIN for its client")
        check(client.fingerprint() in server.list_clients(), "the client is not listed")
    finally:
        server.stop()


def no_pairing_refuses_requests(args, link, work):
    """--no-pairing: no PIN for anyone; clients paired before are still served."""
    server = Server(args, link, work).start()
    client = Client(args, link, work, "early")
    try:
        rc, out, _ = client.pair(server)
        check(rc == 0, "tether pair: " + out)
    finally:
        server.stop()
    server = Server(args, link, work, extra=["--no-pairing"]).start()
    try:
        late = Client(args, link, work, "late")
        rc, out, pin = late.pair(server)
        check(rc != 0 and "pairing is turned off" in out and pin is None, "--no-pairing paired (%d):\n%s" % (rc, out))
        check("tetherd: PIN" not in server.log(), "tetherd showed a PIN with --no-pairing")
        rc, out = client.tether("status", "--server", ADDR)
        check(rc == 0 and "TLS 1.3" in out, "a client paired before --no-pairing was refused (%d):\n%s" % (rc, out))
    finally:
        server.stop()


def unpaired_client_refused(args, link, work):
    server = Server(args, link, work).start()
    try:
        client = Client(args, link, work, "stranger")
        stranger_identity(client)
        pin_to(client, server.fingerprint())
        rc, out = client.tether("status", "--server", ADDR)
        check(rc != 0 and "not paired with this server" in out, "an unpaired client got in (%d):\n%s" % (rc, out))
        server.wait_log(r"refused %s:\d+: client certificate %s" % (re.escape(CLIENT_IP),
                                                                  re.escape(short(client.fingerprint()))),
                        "the refusal of the unpaired certificate")
        peer = re.search(r"refused (%s:\d+): client certificate" % re.escape(CLIENT_IP), server.log()).group(1)
        check(not decoded_lines(server, peer), "tetherd decoded messages of a refused client:\n"
              + "\n".join(decoded_lines(server, peer)))
        # The ICD reports it as a failed vkCreateInstance, with the reason.
        if args.compute:
            env = client.env(th.tether_env(args.icd_manifest, ADDR))
            rc, out = client.run([args.compute, os.path.join(work, "out")], env=env)
            check(rc != 0 and "not paired" in out, "the ICD did not report the refusal (%d):\n%s" % (rc, out))
    finally:
        server.stop()


def plaintext_client_refused(args, link, work):
    server = Server(args, link, work).start()
    try:
        client = Client(args, link, work, "plain")
        rc, out = client.tether("status", "--server", ADDR)
        check(rc != 0 and "requires pairing" in out, "a plaintext client got in (%d):\n%s" % (rc, out))
        server.wait_log(r"refused %s:\d+: plaintext connection" % re.escape(CLIENT_IP), "the plaintext refusal")
        peer = re.search(r"refused (%s:\d+): plaintext" % re.escape(CLIENT_IP), server.log()).group(1)
        check(not decoded_lines(server, peer), "tetherd decoded a plaintext client's HELLO")
        if args.compute:
            env = client.env(th.tether_env(args.icd_manifest, ADDR))
            rc, out = client.run([args.compute, os.path.join(work, "out")], env=env)
            check(rc != 0 and "tether pair %s" % ADDR in out, "the ICD did not say how to pair (%d):\n%s" % (rc, out))
    finally:
        server.stop()


def wrong_pin_consumed_and_rate_limited(args, link, work):
    server = Server(args, link, work).start()
    try:
        client = Client(args, link, work, "guesser")
        rc, out, pin = client.pair(server, answer=lambda p: "%06d" % ((int(p) + 1) % 1000000))
        check(rc != 0 and pin, "a wrong PIN paired (%d):\n%s" % (rc, out))
        check(server.fingerprint() not in client.paired_servers(), "the client pinned a server it did not pair with")
        server.wait_log(r"pairing with %s:\d+ .* failed" % re.escape(CLIENT_IP), "the failed attempt")
        check(not os.path.exists(server.pin_file), "the PIN was not spent by the wrong guess")
        check(client.fingerprint() not in server.list_clients(), "a wrong PIN left the client paired")
        # Right away: locked, and no new PIN is shown.
        shown = server.log().count("tetherd: PIN ")
        rc, out, _ = client.pair(server, answer=lambda p: pin)
        check(rc != 0 and "locked" in out, "pairing was not locked after a wrong PIN (%d):\n%s" % (rc, out))
        check(server.log().count("tetherd: PIN ") == shown, "tetherd showed a PIN while locked")
        # The spent PIN is no good later either: after the lock a new one is shown.
        time.sleep(5.5)
        rc, out, new_pin = client.pair(server, answer=lambda p: pin)
        check(rc != 0 and new_pin and new_pin != pin, "the spent PIN paired (%d):\n%s" % (rc, out))
        time.sleep(10.5)  # the second failure in a row locks for 10 s
        rc, out, _ = client.pair(server)
        check(rc == 0, "the right PIN after the lock did not pair (%d):\n%s" % (rc, out))
    finally:
        server.stop()


def replayed_handshake_refused(args, link, work):
    server = Server(args, link, work).start()
    try:
        client = Client(args, link, work, "recorded")
        rc, out, _ = client.pair(server)
        check(rc == 0, "tether pair: " + out)
        # A recording proxy in the client's namespace; the client's pairing
        # is valid for the proxy's address too (same pinned certificate).
        record = os.path.join(work, "client-bytes")
        proxy = subprocess.Popen(link_cmd(link.on_client(), [sys.executable, __file__, "proxy", "7999", ADDR,
                                                             record]), stdout=subprocess.PIPE)
        check(proxy.stdout.readline().startswith(b"listening"), "the recording proxy did not start")
        pin_to(client, server.fingerprint(), "127.0.0.1:7999")
        rc, out = client.tether("status", "--server", "127.0.0.1:7999")
        check(rc == 0 and "TLS 1.3" in out, "status through the proxy (%d):\n%s" % (rc, out))
        proxy.wait(WAIT_S)
        recorded = os.path.getsize(record)
        check(recorded > 500, "the proxy recorded only %d bytes" % recorded)
        sessions = server.log().count("session for")
        # Every byte the client sent, replayed on a new connection.
        rc, out = client.run([sys.executable, __file__, "replay", ADDR, record])
        check(rc == 0, "replay: " + out)
        port = int(re.search(r"from port (\d+)", out).group(1))
        peer = "%s:%d" % (CLIENT_IP, port)
        server.wait_log(r"refused %s: TLS handshake failed" % re.escape(peer), "the replay's refusal")
        check(not decoded_lines(server, peer), "tetherd decoded a replayed message:\n"
              + "\n".join(decoded_lines(server, peer)))
        check(server.log().count("session for") == sessions, "the replay started a session")
        th.log("replayed %d recorded bytes: %s" % (recorded, out.strip()))
    finally:
        server.stop()


def revoked_client_refused_and_session_ended(args, link, work):
    server = Server(args, link, work).start()
    try:
        client = Client(args, link, work, "revoked")
        rc, out, _ = client.pair(server)
        check(rc == 0, "tether pair: " + out)
        holder = subprocess.Popen(link_cmd(link.on_client(), [sys.executable, __file__, "hold", ADDR,
                                                              os.path.join(client.config, "identity.pem")]),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = holder.stdout.readline().decode()
        check(line.startswith("welcome"), "the live session did not start: " + line)
        fp = client.fingerprint()
        out = subprocess.run([args.tetherd, "--state-dir", server.state, "--revoke", fp[7:7 + 12]],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode()
        check("revoked client" in out, "tetherd --revoke: " + out)
        t0 = time.monotonic()
        try:
            line = holder.communicate(timeout=WAIT_S)[0].decode()
        except subprocess.TimeoutExpired:
            holder.kill()
            raise Failed("the revoked client's live session did not end")
        check("closed" in line, "the session holder: " + line)
        server.wait_log(r"client %s\S* was revoked: ending its session" % re.escape(short(fp)), "the session's end")
        th.log("the revoked client's live session ended %.2f s after --revoke" % (time.monotonic() - t0))
        rc, out = client.tether("status", "--server", ADDR)
        check(rc != 0 and "revoked" in out, "a revoked client got in (%d):\n%s" % (rc, out))
        check(fp not in server.list_clients(), "--list-clients still shows the revoked client")
    finally:
        server.stop()


def compute_over_tls_matches_native(args, link, work):
    import run_compare
    check(args.compute, "--compute is needed")
    native_out, tether_out = os.path.join(work, "out.native"), os.path.join(work, "out.tether")
    rc, text = th.run_program([args.compute, native_out], th.native_env(args.native_icd),
                              os.path.join(work, "native.log"), 300)
    check(rc == 0, "native run: " + text)
    server = Server(args, link, work).start()
    try:
        client = Client(args, link, work, "compute")
        rc, out, _ = client.pair(server)
        check(rc == 0, "tether pair: " + out)
        env = client.env(th.tether_env(args.icd_manifest, ADDR))
        env["TETHER_LOG"] = "info"
        rc, out = client.run([args.compute, tether_out], env=env, timeout=300)
        check(rc == 0, "tether run (%d):\n%s" % (rc, th.indent(out, "  tether| ")))
        check("TLS 1.3" in out, "the ICD did not use TLS:\n" + out)
        diff = run_compare.first_difference(native_out, tether_out)
        check(diff is None, "outputs differ at byte %s" % (diff,))
        check(re.search(r"session for .* of paired client", server.log()), "no paired session in the log")
        bad = th.validation_lines(server.log())
        check(not bad, "validation errors in tetherd:\n" + "\n".join(bad[:20]))
        th.log("%s over TLS across the veth link: %d bytes identical to native"
               % (os.path.basename(args.compute), os.path.getsize(native_out)))
    finally:
        server.stop()


def frames_over_tls_present(args, link, work):
    from xvfb import Xvfb
    check(args.wsi_present, "--wsi-present is needed")
    server = Server(args, link, work).start()
    xvfb = Xvfb(os.path.join(work, "xvfb.log"))
    try:
        client = Client(args, link, work, "display")
        rc, out, _ = client.pair(server)
        check(rc == 0, "tether pair: " + out)
        xvfb.start()
        env = xvfb.env(client.env(th.tether_env(args.icd_manifest, ADDR)))
        env["TETHER_LOG"] = "info"
        rc, out = client.run([args.wsi_present, "present-modes"], env=env, timeout=120)
        check(rc == 0 and "PASS present-modes" in out, "wsi_present over TLS (%d):\n%s"
              % (rc, th.indent(out, "  app| ")))
        check("frame channel open" in out, "the ICD opened no frame channel:\n" + out)
        server.wait_log(r"TLS frame channel routed to its session", "the routed frame channel")
        server.wait_log(r"frame channel attached", "the attached frame channel")
        bad = th.validation_lines(server.log())
        check(not bad, "validation errors in tetherd:\n" + "\n".join(bad[:20]))
    finally:
        xvfb.stop()
        server.stop()


TESTS = {f.__name__: f for f in (
    pairing_over_veth_succeeds, pin_option_after_interrupted_request, no_pairing_refuses_requests, unpaired_client_refused, plaintext_client_refused,
    wrong_pin_consumed_and_rate_limited, replayed_handshake_refused,
    revoked_client_refused_and_session_ended, compute_over_tls_matches_native, frames_over_tls_present)}


# ---- helper modes, run inside a namespace ----

def proxy_main(port, target, record):
    """Forwards one connection to @target, writing what the client sent to @record."""
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", int(port)))
    lst.listen(1)
    print("listening", flush=True)
    c, _ = lst.accept()
    host, tport = target.rsplit(":", 1)
    s = socket.create_connection((host, int(tport)))
    out = open(record, "wb")

    def pump(src, dst, sink):
        while True:
            data = src.recv(65536)
            if not data:
                break
            if sink:
                sink.write(data)
            dst.sendall(data)
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    t = threading.Thread(target=pump, args=(s, c, None))
    t.start()
    pump(c, s, out)
    t.join()
    out.close()
    return 0


def replay_main(target, record):
    """Sends a recorded client stream on a new connection; reports what came back."""
    host, port = target.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    with open(record, "rb") as f:
        s.sendall(f.read())
    s.settimeout(WAIT_S)
    got = 0
    try:
        while True:
            data = s.recv(65536)
            if not data:
                break
            got += len(data)
    except OSError:
        pass
    print("replay from port %d: %d bytes back, then the server closed" % (s.getsockname()[1], got))
    return 0


def hold_main(target, identity):
    """A paired client's session (TLS, HELLO, WELCOME) held open until tetherd ends it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the test holds a session; pinning is tested elsewhere
    ctx.load_cert_chain(identity, identity)
    ctx.set_alpn_protocols(["tether/1"])
    host, port = target.rsplit(":", 1)
    s = ctx.wrap_socket(socket.create_connection((host, int(port))))
    name = b"session holder"
    body = (b"TETHER\r\n" + struct.pack("<III", 1, 1, 0) + struct.pack("<I", len(name)) + name
            + struct.pack("<II", 0, 0))
    s.sendall(struct.pack("<IIQ", 1, 0, len(body)) + body)
    head = b""
    while len(head) < 16:
        head += s.recv(16 - len(head))
    mtype, _, size = struct.unpack("<IIQ", head)
    payload = b""
    while len(payload) < size:
        payload += s.recv(size - len(payload))
    status = struct.unpack("<I", payload[:4])[0]
    if mtype != 2 or status != 0:
        print("refused: type %d status %d" % (mtype, status), flush=True)
        return 1
    print("welcome", flush=True)
    try:
        while s.recv(4096):
            pass
    except (OSError, ssl.SSLError):
        pass
    print("closed", flush=True)
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("proxy", "replay", "hold"):
        mode = {"proxy": proxy_main, "replay": replay_main, "hold": hold_main}[sys.argv[1]]
        return mode(*sys.argv[2:])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tetherd", required=True)
    p.add_argument("--tether", required=True)
    p.add_argument("--icd-manifest", required=True)
    p.add_argument("--native-icd", required=True)
    p.add_argument("--compute", help="a compute program of tests/apps (writes its result to its argument)")
    p.add_argument("--wsi-present", help="tests/wsi/wsi_present")
    p.add_argument("test", choices=sorted(TESTS))
    args = p.parse_args()
    args.native_icd = os.environ.get("TETHER_NATIVE_ICD") or args.native_icd
    if os.geteuid() != 0:
        th.log("SKIP: network namespaces need root")
        return SKIP
    for tool in ("ip", "openssl"):
        if not shutil.which(tool):
            th.log("FAIL: %s is missing (tools/deps.sh installs it)" % tool)
            return 1
    work = tempfile.mkdtemp(prefix="tether-netns-")
    link = Link()
    try:
        link.up()
        TESTS[args.test](args, link, work)
    except Failed as e:
        th.log("FAIL: %s" % e)
        for name in ("tetherd.log",):
            path = os.path.join(work, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    print(th.indent(f.read().decode("utf-8", "replace"), "  tetherd| ", lines=40))
        return 1
    finally:
        link.down()
        shutil.rmtree(work, ignore_errors=True)
    th.log("%s: passed" % args.test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
