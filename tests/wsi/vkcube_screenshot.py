#!/usr/bin/env python3
"""vkcube's frame K, natively and through tether, screenshot and compared pixel by pixel.

  vkcube_screenshot.py --vkcube PATH --layer-dir DIR --native-icd JSON --native-only
  vkcube_screenshot.py --vkcube PATH --layer-dir DIR --native-icd JSON
                       --tetherd PATH --icd-manifest JSON

Each run is `vkcube --c FRAMES --present_mode 2` (FIFO) under a private Xvfb with
VK_LAYER_TETHER_frame_gate (tests/wsi/layer_frame_gate.c) enabled. After the
application's K-th present (default: the last, FRAMES) the layer waits for the
device to idle, writes a ready file naming vkcube's window and holds vkcube
until this script has its screenshot (`xwd -id WINDOW`); then vkcube goes on
and must exit 0. vkcube turns the cube by a fixed angle per frame, so frame K
is the same picture on every run whatever the timing.

Presentation may reach the window some ms after vkQueuePresentKHR returned
(through tether the frame crosses the link after the present), so the
screenshot is retaken every 0.1 s until three in a row agree (at most
--settle seconds).

What must match: every pixel's red, green and blue. Allowed differences: none
in colour, since both runs render on the same driver (tetherd runs on the
native driver); the only bits not compared are the 8 padding bits of each
32-bit pixel of Xvfb's depth-24 visual, which hold no colour (xwd.py drops
them). A difference is a bug to find, not a tolerance to add; the screenshots
(and a white-on-black diff) are saved as PNG in the working directory.

--native-only runs natively twice and requires identical screenshots: that
checks the harness and that frame K is deterministic, which the comparison
with tether relies on. With --validation the native runs use the Khronos
validation layer and tetherd does too; any validation error fails the test.
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
import xwd  # noqa: E402
from xvfb import Xvfb  # noqa: E402

GATE_LAYER = "VK_LAYER_TETHER_frame_gate"
CRASH_SIGNALS = (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE, signal.SIGILL)
SHOT_INTERVAL_S = 0.1
STABLE_SHOTS = 3
# vkcube's default window; stated so the comparison does not depend on it.
WIDTH, HEIGHT = 500, 500


class RunFailed(Exception):
    pass


def gate_env(base, layer_dir, validation, workdir, label, frame, hold_s):
    """@base plus the frame gate layer (and the validation layer below it)."""
    env = dict(base)
    layers = [GATE_LAYER] + ([th.VALIDATION_LAYER] if validation else [])
    env["VK_INSTANCE_LAYERS"] = ":".join(layers)
    # Added to, not replacing, the standard search path (the validation layer).
    env["VK_ADD_LAYER_PATH"] = layer_dir
    env["TETHER_FRAME_GATE_AT"] = str(frame)
    env["TETHER_FRAME_GATE_READY"] = os.path.join(workdir, label + ".ready")
    env["TETHER_FRAME_GATE_GO"] = os.path.join(workdir, label + ".go")
    env["TETHER_FRAME_GATE_TIMEOUT_S"] = str(hold_s)
    return env


def read_ready(path):
    fields = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            fields[key] = value
    return fields


def top_level_windows(display_env):
    """Window ids (ints) of the root's children, from `xwininfo -root -tree`."""
    out = subprocess.run(["xwininfo", "-root", "-tree"], env=display_env, capture_output=True,
                         text=True, timeout=10).stdout
    ids = []
    for line in out.splitlines():
        word = line.strip().split(" ", 1)[0]
        if word.startswith("0x") and "(the root window)" not in line:
            ids.append(int(word, 16))
    return ids, out


def screenshot(display_env, window, path):
    subprocess.run(["xwd", "-silent", "-id", "0x%x" % window, "-out", path], env=display_env,
                   check=True, timeout=10)
    return xwd.read_xwd(path)


def stable_screenshot(display_env, window, workdir, label, settle_s):
    """Screenshots until STABLE_SHOTS in a row agree; return (image, shots taken)."""
    deadline = time.monotonic() + settle_s
    same = 0
    last = None
    shots = 0
    while True:
        path = os.path.join(workdir, "%s.%d.xwd" % (label, shots))
        image = screenshot(display_env, window, path)
        shots += 1
        same = same + 1 if last is not None and image.rgb == last.rgb else 1
        last = image
        if same >= STABLE_SHOTS:
            return image, shots
        if time.monotonic() > deadline:
            raise RunFailed("%s: window 0x%x still changing after %d screenshots over %.1f s"
                            % (label, window, shots, settle_s))
        time.sleep(SHOT_INTERVAL_S)


def run_vkcube(args, label, env, display_env, workdir):
    """One gated vkcube run; returns (screenshot, output text)."""
    cmd = [args.vkcube, "--c", str(args.frames), "--present_mode", "2",
           "--width", str(WIDTH), "--height", str(HEIGHT)]
    ready = env["TETHER_FRAME_GATE_READY"]
    log_path = os.path.join(workdir, "vkcube.%s.log" % label)
    th.log("%s run: %s (gate after present %d)" % (label, " ".join(cmd), args.gate_at))
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            image = gated_screenshot(args, label, proc, ready, env, display_env, workdir)
            with open(env["TETHER_FRAME_GATE_GO"], "w"):
                pass
            try:
                rc = proc.wait(args.timeout)
            except subprocess.TimeoutExpired:
                raise RunFailed("%s: vkcube did not exit within %d s of the screenshot"
                                % (label, args.timeout))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    with open(log_path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    print(th.indent(text, "  %s| " % label, lines=40), flush=True)
    th.log("%s run: exit %d in %.2f s" % (label, rc, time.monotonic() - t0))
    if rc != 0:
        raise RunFailed("%s: vkcube --c %d exited %d" % (label, args.frames, rc))
    return image, text


def gated_screenshot(args, label, proc, ready, env, display_env, workdir):
    deadline = time.monotonic() + args.timeout
    while not os.path.exists(ready):
        if proc.poll() is not None:
            raise RunFailed("%s: vkcube exited %d before present %d (see its output)"
                            % (label, proc.returncode, args.gate_at))
        if time.monotonic() > deadline:
            raise RunFailed("%s: no present %d within %d s" % (label, args.gate_at, args.timeout))
        time.sleep(0.02)
    info = read_ready(ready)
    window = int(info.get("window", "0"), 16)
    th.log("%s: present %s returned %s; window 0x%x" % (label, info.get("frame"),
                                                       info.get("present_result"), window))
    if int(info.get("present_result", "-1")) != 0:
        raise RunFailed("%s: vkQueuePresentKHR %d returned %s"
                        % (label, args.gate_at, info.get("present_result")))
    ids, tree = top_level_windows(display_env)
    if window not in ids:
        raise RunFailed("%s: window 0x%x of vkcube's XCB surface is not a top-level window:\n%s"
                        % (label, window, tree))
    image, shots = stable_screenshot(display_env, window, workdir, label, args.settle)
    th.log("%s: %dx%d screenshot stable after %d shots" % (label, image.width, image.height,
                                                          shots))
    if (image.width, image.height) != (WIDTH, HEIGHT):
        raise RunFailed("%s: window is %dx%d, vkcube was asked for %dx%d"
                        % (label, image.width, image.height, WIDTH, HEIGHT))
    return image


def native_run(args, label, display_env, workdir, fail):
    env = gate_env(th.native_env(args.native_icd), args.layer_dir, args.validation, workdir,
                   label, args.gate_at, args.timeout)
    env["DISPLAY"] = display_env["DISPLAY"]
    image, text = run_vkcube(args, label, env, display_env, workdir)
    if args.validation:
        bad = th.validation_lines(text)
        if bad:
            fail("validation errors in the %s vkcube run:\n" % label
                 + "\n".join("  " + line for line in bad[:40]))
    return image


def tether_run(args, display_env, workdir, fail):
    server = th.Tetherd(args.tetherd, args.native_icd, workdir, args.transport, args.validation)
    server.start()
    try:
        env = gate_env(th.tether_env(args.icd_manifest, server), args.layer_dir, False,
                       workdir, "tether", args.gate_at, args.timeout)
        env["DISPLAY"] = display_env["DISPLAY"]
        image, _ = run_vkcube(args, "tether", env, display_env, workdir)
        if not server.alive():
            fail("tetherd died during the vkcube run:\n" + server.log_tail())
    finally:
        s_rc = server.stop()
        th.log("tetherd stopped, exit status %s" % s_rc)
        if s_rc is not None and -s_rc in CRASH_SIGNALS:
            fail("tetherd crashed (signal %d):\n%s" % (-s_rc, server.log_tail()))
        if args.validation:
            bad = th.validation_lines(server.log_text())
            if bad:
                fail("validation errors in the tetherd log (%d lines):\n" % len(bad)
                     + "\n".join("  " + line for line in bad[:40]))
    return image


def compare(a, b, a_name, b_name, out_dir, fail):
    count, bbox, first = xwd.difference(a, b)
    if count == 0:
        th.log("%s and %s screenshots identical (%dx%d, %d colours)"
               % (a_name, b_name, a.width, a.height, xwd.distinct_colors(a)))
        return
    x, y, pa, pb = first
    saved = []
    for name, image in ((a_name, a), (b_name, b), ("diff", xwd.diff_image(a, b))):
        path = os.path.join(out_dir, "vkcube_%s.png" % name)
        xwd.write_png(path, image)
        saved.append(path)
    fail("%s and %s screenshots differ in %d of %d pixels, within (%d,%d)-(%d,%d); first at "
         "(%d,%d): %s #%02x%02x%02x, %s #%02x%02x%02x\n  saved: %s"
         % (a_name, b_name, count, a.width * a.height, bbox[0], bbox[1], bbox[2], bbox[3],
            x, y, a_name, pa[0], pa[1], pa[2], b_name, pb[0], pb[1], pb[2], " ".join(saved)))


def sanity(image, fail):
    """A frame of vkcube: a textured cube on a background, not a blank window."""
    colours = xwd.distinct_colors(image)
    if colours < 64:
        fail("native screenshot has only %d colours: no cube drawn?" % colours)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vkcube", default=shutil.which("vkcube") or "vkcube")
    p.add_argument("--layer-dir", required=True,
                   help="directory holding VK_LAYER_TETHER_frame_gate's manifest")
    p.add_argument("--native-icd", required=True,
                   help="real driver's ICD manifest (TETHER_NATIVE_ICD in the environment wins)")
    p.add_argument("--native-only", action="store_true",
                   help="two native runs, screenshots must be identical")
    p.add_argument("--tetherd")
    p.add_argument("--icd-manifest", help="tether ICD manifest JSON")
    p.add_argument("--transport", choices=("unix", "tcp"), default="unix")
    p.add_argument("--validation", action="store_true")
    p.add_argument("--frames", type=int, default=300, help="vkcube --c")
    p.add_argument("--gate-at", type=int, help="present to screenshot after (default: --frames)")
    p.add_argument("--settle", type=float, default=2.0,
                   help="seconds the screenshot may take to stop changing")
    p.add_argument("--timeout", type=int, default=90, help="seconds per vkcube run")
    p.add_argument("--out-dir", default=os.getcwd(), help="where differing screenshots go")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    if not args.native_only and not (args.tetherd and args.icd_manifest):
        p.error("--tetherd and --icd-manifest are needed unless --native-only")
    args.gate_at = args.gate_at or args.frames
    if not 1 <= args.gate_at <= args.frames:
        p.error("--gate-at must be within 1..--frames")
    args.native_icd = os.environ.get("TETHER_NATIVE_ICD") or args.native_icd
    for path in [args.vkcube, args.native_icd, args.layer_dir] + (
            [] if args.native_only else [args.tetherd, args.icd_manifest]):
        if not os.path.exists(path):
            th.die("not found: " + path)

    failures = []

    def fail(msg):
        th.log("FAIL: " + msg)
        failures.append(msg)

    workdir = tempfile.mkdtemp(prefix="tether-vkcube-")
    xvfb = Xvfb(os.path.join(workdir, "xvfb.log"))
    try:
        th.log("Xvfb on %s" % xvfb.start())
        display_env = xvfb.env(th.base_env())
        native = native_run(args, "native", display_env, workdir, fail)
        sanity(native, fail)
        if args.native_only:
            again = native_run(args, "native_again", display_env, workdir, fail)
            compare(native, again, "native", "native_again", args.out_dir, fail)
        else:
            tethered = tether_run(args, display_env, workdir, fail)
            compare(native, tethered, "native", "tether", args.out_dir, fail)
    except (RunFailed, RuntimeError, subprocess.SubprocessError, ValueError) as e:
        fail(str(e))
    finally:
        xvfb.stop()
        if args.keep or failures:
            th.log("work directory kept: " + workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    mode = "natively twice" if args.native_only else "natively and through tether"
    if failures:
        th.log("vkcube frame %d %s: FAILED (%d problem%s)"
               % (args.gate_at, mode, len(failures), "" if len(failures) == 1 else "s"))
        return 1
    th.log("vkcube frame %d %s: identical screenshots, vkcube exited 0" % (args.gate_at, mode))
    return 0


if __name__ == "__main__":
    sys.exit(main())
