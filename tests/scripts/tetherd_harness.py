"""Start and stop a tetherd for a test, and build the environments that send a
Vulkan program to the native driver or through the tether ICD.

Shared by run_compare.py and compare_vulkaninfo.py (python3 stdlib only).
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

# Loader variables a caller's environment may carry; each run sets its own.
_LOADER_VARS = (
    "VK_DRIVER_FILES", "VK_ICD_FILENAMES", "VK_ADD_DRIVER_FILES",
    "VK_INSTANCE_LAYERS", "VK_LOADER_LAYERS_ENABLE", "VK_LOADER_LAYERS_DISABLE",
    "VK_LAYER_ENABLES", "VK_LOADER_DRIVERS_SELECT", "VK_LOADER_DRIVERS_DISABLE",
    "TETHER_SERVER",
)
VALIDATION_LAYER = "VK_LAYER_KHRONOS_validation"
SYNC_VALIDATION = "VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT"
# What the Khronos validation layer prints by default (no messenger installed):
# "Validation Error: [ VUID-... ]" and, for synchronization validation,
# "Validation Error: [ SYNC-HAZARD-... ]".
_VALIDATION_RE = re.compile(r"Validation Error|VUID-|SYNC-HAZARD")

READY_TIMEOUT_S = 10.0
STOP_GRACE_S = 5.0
PAIR_TIMEOUT_S = 20.0
# How long session processes may take to end once their clients have left
# (they free everything, then check for leaks in sanitizer builds).
SESSIONS_END_S = 30.0
LSAN_SUPPRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tetherd_lsan.supp")


def log(msg):
    print("[tether-test] " + msg, flush=True)


def base_env():
    """The caller's environment without any loader or tether selection."""
    env = dict(os.environ)
    for var in _LOADER_VARS:
        env.pop(var, None)
    return env


def native_env(native_icd, validation=False, sync_validation=False):
    """Environment that loads only the real driver, optionally validated."""
    env = base_env()
    env["VK_DRIVER_FILES"] = native_icd
    if validation:
        env["VK_INSTANCE_LAYERS"] = VALIDATION_LAYER
        if sync_validation:
            env["VK_LAYER_ENABLES"] = SYNC_VALIDATION
    return env


def tether_env(icd_manifest, server):
    """Environment that loads only the tether ICD, pointed at server.

    server is a Tetherd (its address, and for TCP the client configuration
    directory its pairing wrote, so the ICD talks TLS to it) or an address.
    In sanitizer builds the ICD is instrumented but the application is not:
    TETHER_TEST_CLIENT_PRELOAD names the sanitizer runtimes to preload.
    """
    env = base_env()
    env["VK_DRIVER_FILES"] = icd_manifest
    if isinstance(server, str):
        env["TETHER_SERVER"] = server
    else:
        env["TETHER_SERVER"] = server.addr
        env.update(server.client_env)
    preload = os.environ.get("TETHER_TEST_CLIENT_PRELOAD")
    if preload:
        env["LD_PRELOAD"] = preload
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    return env


_SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:")


def _append_option(env, name, opt):
    old = env.get(name)
    env[name] = old + ":" + opt if old else opt


def _instrumented(exe):
    """Whether exe was built with AddressSanitizer."""
    try:
        with open(exe, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def _icd_library(manifest):
    try:
        with open(manifest) as f:
            path = json.load(f)["ICD"]["library_path"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return path if os.path.isabs(path) else os.path.join(os.path.dirname(manifest), path)


def tetherd_leak_env(env, tetherd, native_icd):
    """tetherd runs with LeakSanitizer on (sanitizer builds), whatever the test
    runs with: the sanitizer pass turns it off for clients, whose loader and
    drivers leak at exit, but tetherd and each session process must free
    what they held (tests/tetherd_leak_env.h says the same for the C tests).
    Only third-party leaks are suppressed.

    The real driver is preloaded: a session destroys its last instance before
    its leak check, and the loader then unloads the driver, whose globals stop
    being roots for LeakSanitizer. What they point at (lavapipe's and LLVM's
    caches, kept for the process's life) would be reported as leaked, from
    frames in a module that is gone, so not even a suppression could name it.
    Preloaded, the library stays."""
    if not _instrumented(tetherd):
        return env
    _append_option(env, "ASAN_OPTIONS", "detect_leaks=1")
    _append_option(env, "LSAN_OPTIONS", "suppressions=%s:print_suppressions=0" % os.path.normpath(LSAN_SUPPRESSIONS))
    library = _icd_library(native_icd)
    if library:
        # The driver then comes before the sanitizer runtime in the initial
        # library list: harmless here (it defines no allocator).
        _append_option(env, "ASAN_OPTIONS", "verify_asan_link_order=0")
        env["LD_PRELOAD"] = (env["LD_PRELOAD"] + " " + library) if env.get("LD_PRELOAD") else library
    return env


def _children(pid):
    """Live child processes of pid (tetherd's sessions)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and fields[1] == str(pid) and fields[0] != "Z":
            kids.append(int(entry))
    return kids


def sanitizer_lines(text):
    """Lines of a log that report a sanitizer error (in sanitizer builds)."""
    return [line for line in text.splitlines() if _SANITIZER_RE.search(line)]


def validation_lines(text):
    """Lines of a log that report a validation error."""
    return [line for line in text.splitlines() if _VALIDATION_RE.search(line)]


def _free_tcp_port():
    # Racy by nature (the port is released before tetherd binds it), but
    # loopback ports are plentiful and a clash shows as a clear start failure.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tether_cli_next_to(tetherd):
    """The tether tool of the build tetherd comes from (TETHER_CLI wins)."""
    cli = os.environ.get("TETHER_CLI")
    if cli:
        return cli
    build = os.path.dirname(os.path.dirname(os.path.abspath(tetherd)))
    return os.path.join(build, "tools", "tether")


def pair_client(tether_cli, addr, pin_file, config_dir, env=None, prefix=(), timeout=PAIR_TIMEOUT_S):
    """`tether pair addr` as the client whose configuration is config_dir,
    typing the PIN tetherd writes to pin_file. Return (exit status, output)."""
    env = dict(env if env is not None else base_env())
    env["TETHER_CONFIG_DIR"] = config_dir
    if os.path.exists(pin_file):
        os.unlink(pin_file)
    proc = subprocess.Popen(list(prefix) + [tether_cli, "pair", addr, "--name", "tether-test"], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    pin = None
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with open(pin_file) as f:
                pin = f.read().strip() or None
        except OSError:
            pass
        if pin:
            break
        time.sleep(0.02)
    try:
        typed = ((pin or "") + "\n").encode()
        out, _ = proc.communicate(typed, timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        return -9, out.decode("utf-8", "replace")
    return proc.returncode, out.decode("utf-8", "replace")


class Tetherd:
    """One tetherd process listening on a Unix socket or a loopback TCP port.

    The listen string is what tetherd's --listen takes and what the ICD reads
    from TETHER_SERVER: "unix:PATH" or "127.0.0.1:PORT". Over TCP tetherd
    serves paired clients only, so start() pairs a client first, with the
    real `tether pair` and the PIN tetherd writes to its --pairing-pin-file;
    client_env then points the ICD at that client's identity, and every TCP
    test runs over TLS 1.3 (docs/SECURITY.md, "Tests").
    """

    def __init__(self, tetherd, native_icd, workdir, transport="unix",
                 validation=False, sync_validation=False, extra_args=(), tether_cli=None):
        if transport not in ("unix", "tcp"):
            raise ValueError("transport must be unix or tcp")
        self.tetherd = tetherd
        self.transport = transport
        self.log_path = os.path.join(workdir, "tetherd.log")
        self.state_dir = os.path.join(workdir, "tetherd-state")
        self.pin_file = os.path.join(workdir, "tetherd-pin")
        self.client_config = os.path.join(workdir, "client-config")
        self.tether_cli = tether_cli or tether_cli_next_to(tetherd)
        self.client_env = {}
        if transport == "unix":
            self.sock_path = os.path.join(workdir, "s")
            self.addr = "unix:" + self.sock_path
        else:
            self.port = _free_tcp_port()
            self.addr = "127.0.0.1:%d" % self.port
            self.client_env = {"TETHER_CONFIG_DIR": self.client_config}
        self.env = tetherd_leak_env(native_env(native_icd, validation, sync_validation), tetherd, native_icd)
        self.extra_args = list(extra_args)
        self.proc = None
        self._log = None

    def pair(self):
        """Pair client_config with this tetherd; raise on failure."""
        t0 = time.monotonic()
        rc, out = pair_client(self.tether_cli, self.addr, self.pin_file, self.client_config)
        if rc != 0:
            raise RuntimeError("tether pair %s failed (exit %d):\n%s\n%s"
                               % (self.addr, rc, indent(out, "  pair| "), self.log_tail()))
        log("paired a test client with %s in %.0f ms: the ICD talks TLS to it"
            % (self.addr, 1000 * (time.monotonic() - t0)))

    def start(self):
        """Start tetherd and wait until it accepts connections (over TCP, with
        a client paired); raise on failure."""
        cmd = [self.tetherd, "--listen", self.addr, "--state-dir", self.state_dir,
               "--pairing-pin-file", self.pin_file] + self.extra_args
        log("starting: %s (log %s)" % (" ".join(cmd), self.log_path))
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("tetherd exited with status %d before listening\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            if self._accepts():
                log("tetherd (pid %d) listening on %s" % (self.proc.pid, self.addr))
                if self.transport == "tcp":
                    try:
                        self.pair()
                    except BaseException:
                        self.stop()  # never leave a tetherd behind
                        raise
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("tetherd did not accept connections on %s within %.0f s\n%s"
                           % (self.addr, READY_TIMEOUT_S, self.log_tail()))

    def _accepts(self):
        # A probe connection that closes at once: tetherd must treat it as a
        # client that went away before its handshake.
        if self.transport == "unix":
            if not os.path.exists(self.sock_path):
                return False
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target = self.sock_path
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            target = ("127.0.0.1", self.port)
        s.settimeout(1.0)
        try:
            s.connect(target)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def stop(self):
        """Wait for the sessions to end, then SIGTERM, then SIGKILL after
        STOP_GRACE_S; return the exit status. Raises RuntimeError when the log
        holds a sanitizer report (a leak included) from tetherd or a session."""
        if self.proc is None:
            return None
        deadline = time.monotonic() + SESSIONS_END_S
        while self.proc.poll() is None and _children(self.proc.pid):
            if time.monotonic() > deadline:
                log("tetherd still has session processes %r after %.0f s" % (_children(self.proc.pid),
                                                                            SESSIONS_END_S))
                break
            time.sleep(0.05)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                log("tetherd ignored SIGTERM for %.0f s: SIGKILL" % STOP_GRACE_S)
                self.proc.kill()
                self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None
        report = sanitizer_lines(self.log_text())
        if report:
            raise RuntimeError("tetherd's log holds sanitizer reports (%s):\n%s"
                               % (self.log_path, "\n".join(report)))
        return self.proc.returncode

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=40):
        text = self.log_text().splitlines()
        return "\n".join("  tetherd| " + line for line in text[-lines:])

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def run_program(cmd, env, log_path, timeout):
    """Run cmd with stdout+stderr to log_path; return (exit status, output text).

    A timeout kills the program and reports status -9.
    """
    with open(log_path, "wb") as out:
        try:
            rc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            log("timed out after %d s: %s" % (timeout, " ".join(cmd)))
            rc = -9
        except OSError as e:
            log("cannot run %s: %s" % (cmd[0], e))
            rc = 127
    with open(log_path, "rb") as f:
        return rc, f.read().decode("utf-8", "replace")


def indent(text, prefix, lines=60):
    tail = text.splitlines()[-lines:]
    return "\n".join(prefix + line for line in tail)


def die(msg):
    log("ERROR: " + msg)
    sys.exit(2)
