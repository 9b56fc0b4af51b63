#!/usr/bin/env python3
"""Run tests/wsi/wsi_present under a private Xvfb, natively or through tether.

  run_wsi_present.py --native-icd JSON --native-only [--validation] -- wsi_present ARGS
  run_wsi_present.py --native-icd JSON --tetherd PATH --icd-manifest JSON
                     [--validation] -- wsi_present ARGS

Natively the program runs on the real driver (with the Khronos validation layer
under --validation); through tether it runs on the tether ICD against a tetherd
started here on the real driver (the validation layer then runs in tetherd, as
in run_compare.py). Passes when the program exits 0, no validation error is
printed and, through tether, tetherd neither crashed nor died. With --no-destroy
or --abandon among the program's arguments (a client that leaves: exits without
destroying anything, the latter with a present waiting forever on a semaphore
nothing signals), that client's session must end (its tetherd session process
exits) and tetherd must serve another client (the program's "queries" check).
--abandon runs through tether only: natively it would hang the driver's queue.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
import tetherd_harness as th  # noqa: E402
from xvfb import Xvfb  # noqa: E402

# Exit by one of these signals is a tetherd crash, not our SIGTERM/SIGKILL.
CRASH_SIGNALS = (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE, signal.SIGILL)


SESSION_END_S = 10.0

# wsi_present modes whose client returns from main leaving its objects (and,
# for --abandon, a copy-out waiting forever) to tetherd: its session must end.
LEAVING_CLIENTS = ("--no-destroy", "--abandon")


def children(pid):
    """Pids of the processes whose parent is @pid (tetherd's session processes)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def wait_sessions_gone(server):
    """True once tetherd has no session process left (within SESSION_END_S)."""
    deadline = time.monotonic() + SESSION_END_S
    while children(server.proc.pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def end_stuck_sessions(pids):
    """Where each of @pids (session processes that did not end) is stuck, then
    SIGKILL: they outlive tetherd's SIGTERM (reparented to init), so a failed
    run must not leave them behind. The backtrace is best effort (needs gdb
    and ptrace permission)."""
    for pid in pids:
        gdb = shutil.which("gdb")
        if gdb:
            try:
                out = subprocess.run([gdb, "-p", str(pid), "-batch", "-ex", "thread apply all bt"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, timeout=30).stdout
                text = out.decode("utf-8", "replace")
                frames = [line for line in text.splitlines()
                          if line.startswith("Thread ") or line.startswith("#")]
                th.log("session process %d, its threads (gdb):\n%s"
                       % (pid, th.indent("\n".join(frames), "  gdb| ", lines=80)))
            except (OSError, subprocess.TimeoutExpired) as e:
                th.log("session process %d: no backtrace (%s)" % (pid, e))
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def run(label, cmd, env, workdir, timeout, fail):
    th.log("%s run: %s" % (label, " ".join(cmd)))
    t0 = time.monotonic()
    rc, text = th.run_program(cmd, env, os.path.join(workdir, "app.%s.log" % label), timeout)
    th.log("%s run: exit %d in %.2f s" % (label, rc, time.monotonic() - t0))
    print(th.indent(text, "  %s| " % label, lines=80), flush=True)
    if rc != 0:
        fail("%s run exited %d" % (label, rc))
    for line in th.sanitizer_lines(text)[:20]:
        fail("sanitizer report in the %s run: %s" % (label, line))
    return rc, text


def native(args, xvfb, workdir, fail):
    env = xvfb.env(th.native_env(args.native_icd, args.validation))
    _, text = run("native", args.app, env, workdir, args.timeout, fail)
    if args.validation:
        bad = th.validation_lines(text)
        if bad:
            fail("validation errors in the native run (a bug in the test program):\n"
                 + "\n".join("  " + line for line in bad[:40]))


def tether(args, xvfb, workdir, fail):
    server = th.Tetherd(args.tetherd, args.native_icd, workdir, args.transport, args.validation)
    try:
        server.start()
    except RuntimeError as e:
        fail(str(e))
        return
    leaving = " ".join(a for a in args.app[1:] if a in LEAVING_CLIENTS)
    try:
        env = xvfb.env(th.tether_env(args.icd_manifest, server))
        run("tether", args.app, env, workdir, args.timeout, fail)
        if not server.alive():
            fail("tetherd died during the run:\n" + server.log_tail())
        elif leaving:
            # The first client left its swapchain, surface and device behind
            # (with --abandon, also a frame whose copy-out waits forever): its
            # session must end (one process per session, docs/ARCHITECTURE.md)
            # and the server must take the next client.
            if not wait_sessions_gone(server):
                stuck = children(server.proc.pid)
                fail("tetherd session processes %s still running %.0f s after the client "
                     "exited (%s) without destroying its objects:\n%s"
                     % (stuck, SESSION_END_S, leaving, server.log_tail()))
                end_stuck_sessions(stuck)
            again = [args.app[0], "queries"]
            run("tether-next-client", again, env, workdir, args.timeout, fail)
            if not server.alive():
                fail("tetherd died serving the client after %s:\n%s"
                     % (leaving, server.log_tail()))
    finally:
        s_rc = server.stop()
    th.log("tetherd stopped, exit status %s" % s_rc)
    if s_rc is not None and -s_rc in CRASH_SIGNALS:
        fail("tetherd crashed (signal %d):\n%s" % (-s_rc, server.log_tail()))
    for line in th.sanitizer_lines(server.log_text())[:20]:
        fail("sanitizer report in tetherd: " + line)
    if args.validation:
        bad = th.validation_lines(server.log_text())
        if bad:
            fail("validation errors in the tetherd log (%d lines):\n" % len(bad)
                 + "\n".join("  " + line for line in bad[:40]))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--native-icd", required=True,
                   help="real driver's ICD manifest (TETHER_NATIVE_ICD in the environment wins)")
    p.add_argument("--native-only", action="store_true", help="run on the real driver only")
    p.add_argument("--tetherd")
    p.add_argument("--icd-manifest", help="tether ICD manifest JSON")
    p.add_argument("--transport", choices=("unix", "tcp"), default="unix")
    p.add_argument("--validation", action="store_true",
                   help="Khronos validation layer in the native run / in tetherd; fail on errors")
    p.add_argument("--timeout", type=int, default=90, help="seconds per program run")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("app", nargs=argparse.REMAINDER, help="-- wsi_present [ARGS...]")
    args = p.parse_args()
    if args.app and args.app[0] == "--":
        args.app = args.app[1:]
    if not args.app:
        p.error("no program given after --")
    if not args.native_only and not (args.tetherd and args.icd_manifest):
        p.error("--tetherd and --icd-manifest are needed unless --native-only")
    if args.native_only and "--abandon" in args.app[1:]:
        p.error("wsi_present --abandon runs through tether only: natively the never-signalled "
                "present semaphore would just hang the driver's queue")
    args.native_icd = os.environ.get("TETHER_NATIVE_ICD") or args.native_icd
    for path in [args.native_icd, args.app[0]] + ([] if args.native_only
                                                  else [args.tetherd, args.icd_manifest]):
        if not os.path.exists(path):
            th.die("not found: " + path)

    failures = []

    def fail(msg):
        th.log("FAIL: " + msg)
        failures.append(msg)

    workdir = tempfile.mkdtemp(prefix="tether-wsi-")
    xvfb = Xvfb(os.path.join(workdir, "xvfb.log"))
    try:
        try:
            th.log("Xvfb on %s" % xvfb.start())
        except RuntimeError as e:
            th.die(str(e))
        if args.native_only:
            native(args, xvfb, workdir, fail)
        else:
            tether(args, xvfb, workdir, fail)
    finally:
        xvfb.stop()
        if args.keep or failures:
            th.log("work directory kept: " + workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    what = " ".join(os.path.basename(a) for a in args.app)
    mode = "natively" if args.native_only else "through tether (%s)" % args.transport
    if failures:
        th.log("%s %s: FAILED (%d problem%s)" % (what, mode, len(failures),
                                                "" if len(failures) == 1 else "s"))
        return 1
    th.log("%s %s: passed" % (what, mode))
    return 0


if __name__ == "__main__":
    sys.exit(main())
