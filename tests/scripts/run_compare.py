#!/usr/bin/env python3
"""Run a Vulkan program natively and through tether and compare the results.

  run_compare.py --tetherd PATH --icd-manifest PATH --native-icd PATH
                 [--transport unix|tcp] [--validation] [--sync-validation]
                 [--timeout S] [--keep] -- APP [ARGS...]

"{out}" in ARGS becomes the output file of each run. Passes (exit 0) only when
both runs exit 0, print the same "device:" line, write byte-identical outputs,
and (with --validation) neither the native run nor the tetherd log reports a
validation error. Exit 1 on a failed comparison, 2 on a harness error.
"""
import argparse
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tetherd_harness as th  # noqa: E402

CHUNK = 1 << 20
# Exit by one of these signals is a tetherd crash, not our SIGTERM/SIGKILL.
CRASH_SIGNALS = (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE, signal.SIGILL)


def first_difference(a_path, b_path):
    """Return (offset, size_a, size_b) of the first differing byte, or None."""
    size_a = os.path.getsize(a_path)
    size_b = os.path.getsize(b_path)
    offset = 0
    with open(a_path, "rb") as a, open(b_path, "rb") as b:
        while True:
            ca = a.read(CHUNK)
            cb = b.read(CHUNK)
            if ca != cb:
                for i in range(min(len(ca), len(cb))):
                    if ca[i] != cb[i]:
                        return offset + i, size_a, size_b
                return offset + min(len(ca), len(cb)), size_a, size_b
            if not ca:
                return None
            offset += len(ca)


def hex_window(path, offset, width=16):
    start = max(0, offset - offset % width - width)
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(3 * width)
    rows = []
    for r in range(0, len(data), width):
        chunk = data[r:r + width]
        mark = "  <-- first difference" if start + r <= offset < start + r + width else ""
        rows.append("    %08x: %s%s" % (start + r, chunk.hex(" "), mark))
    return "\n".join(rows)


def device_line(output):
    for line in output.splitlines():
        if line.startswith("device: "):
            return line
    return None


def run_app(label, cmd_template, env, workdir, timeout):
    out_path = os.path.join(workdir, "out." + label)
    cmd = [arg.replace("{out}", out_path) for arg in cmd_template]
    th.log("%s run: %s" % (label, " ".join(cmd)))
    t0 = time.monotonic()
    rc, text = th.run_program(cmd, env, os.path.join(workdir, "app.%s.log" % label), timeout)
    th.log("%s run: exit %d in %.2f s" % (label, rc, time.monotonic() - t0))
    return rc, text, out_path


def compare(args, workdir):
    failures = []

    def fail(msg):
        th.log("FAIL: " + msg)
        failures.append(msg)

    native_env = th.native_env(args.native_icd, args.validation, args.sync_validation)
    n_rc, n_text, n_out = run_app("native", args.app, native_env, workdir, args.timeout)
    if n_rc != 0:
        fail("native run exited %d:\n%s" % (n_rc, th.indent(n_text, "  native| ")))

    server = th.Tetherd(args.tetherd, args.native_icd, workdir, args.transport,
                        args.validation, args.sync_validation)
    try:
        server.start()
    except RuntimeError as e:
        fail(str(e))
        return failures
    try:
        t_rc, t_text, t_out = run_app("tether", args.app,
                                      th.tether_env(args.icd_manifest, server),
                                      workdir, args.timeout)
        died = not server.alive()
    finally:
        s_rc = server.stop()
    th.log("tetherd stopped, exit status %s" % s_rc)
    if s_rc is not None and -s_rc in CRASH_SIGNALS:
        fail("tetherd crashed (signal %d):\n%s" % (-s_rc, server.log_tail()))
    if t_rc != 0:
        fail("tether run exited %d:\n%s" % (t_rc, th.indent(t_text, "  tether| ")))
    if died:
        fail("tetherd died during the run (status %s):\n%s" % (s_rc, server.log_tail()))

    for who, text in (("tetherd", server.log_text()),
                      ("tether run", t_text)):
        bad = th.sanitizer_lines(text)
        if bad:
            fail("sanitizer report in %s:\n%s" % (who, "\n".join(bad[:20])))

    n_dev, t_dev = device_line(n_text), device_line(t_text)
    if n_dev is None or n_dev != t_dev:
        fail("device line differs: native %r, tether %r" % (n_dev, t_dev))

    if os.path.exists(n_out) and os.path.exists(t_out):
        diff = first_difference(n_out, t_out)
        if diff is not None:
            off, size_n, size_t = diff
            fail("outputs differ at byte %d (0x%x); sizes native %d, tether %d\n"
                 "  native:\n%s\n  tether:\n%s"
                 % (off, off, size_n, size_t, hex_window(n_out, off), hex_window(t_out, off)))
        else:
            th.log("outputs identical (%d bytes)" % os.path.getsize(n_out))
    else:
        fail("missing output: native %s, tether %s"
             % (os.path.exists(n_out), os.path.exists(t_out)))

    if args.validation:
        bad = th.validation_lines(n_text)
        if bad:
            fail("validation errors in the NATIVE run (a bug in the program itself):\n"
                 + "\n".join("  " + line for line in bad[:40]))
        bad = th.validation_lines(server.log_text())
        if bad:
            fail("validation errors in the tetherd log (%d lines):\n" % len(bad)
                 + "\n".join("  " + line for line in bad[:40]))
    return failures


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tetherd", required=True)
    p.add_argument("--icd-manifest", required=True, help="tether ICD manifest JSON")
    p.add_argument("--native-icd", required=True,
                   help="real driver's ICD manifest JSON (TETHER_NATIVE_ICD in the environment wins, "
                        "so a built tree can be tested against another machine's GPU)")
    p.add_argument("--transport", choices=("unix", "tcp"), default="unix")
    p.add_argument("--validation", action="store_true",
                   help="validation layer in the native run and in tetherd; fail on errors")
    p.add_argument("--sync-validation", action="store_true",
                   help="also enable synchronization validation (implies --validation)")
    p.add_argument("--timeout", type=int, default=300, help="seconds per program run")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("app", nargs=argparse.REMAINDER, help="-- APP [ARGS...]")
    args = p.parse_args()
    if args.app and args.app[0] == "--":
        args.app = args.app[1:]
    if not args.app:
        p.error("no program given after --")
    if args.sync_validation:
        args.validation = True
    args.native_icd = os.environ.get("TETHER_NATIVE_ICD") or args.native_icd
    for path in (args.tetherd, args.icd_manifest, args.native_icd, args.app[0]):
        if not os.path.exists(path):
            th.die("not found: " + path)

    workdir = tempfile.mkdtemp(prefix="tether-cmp-")
    try:
        failures = compare(args, workdir)
    finally:
        if args.keep:
            th.log("work directory kept: " + workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    name = os.path.basename(args.app[0])
    if failures:
        th.log("%s: FAILED (%d problem%s)" % (name, len(failures),
                                             "" if len(failures) == 1 else "s"))
        return 1
    th.log("%s: native and tether (%s) agree" % (name, args.transport))
    return 0


if __name__ == "__main__":
    sys.exit(main())
