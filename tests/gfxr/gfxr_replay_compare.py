#!/usr/bin/env python3
"""A gfxreconstruct capture of vkcube, made natively, replays through tether with
the same screenshots as the native replay.

  gfxr_replay_compare.py --tetherd PATH --icd-manifest JSON --native-icd JSON
                         [--gfxrecon-replay PATH] [--vkcube PATH] [--frames N]
                         [--transport unix|tcp] [--validation] [--keep]

Each run, from nothing cached:
 1. capture: `vkcube --c N` on the real driver under a private Xvfb, with the
    capture layer VK_LAYER_LUNARG_gfxreconstruct writing WORK/vkcube.gfxr;
 2. native replay: `gfxrecon-replay --wsi xcb --screenshots 1-N` on the real
    driver (the reference; with --validation under the Khronos layer);
 3. tether replay: the same command with the loader on the tether ICD and a
    tetherd on the real driver (with --validation, the layer in tetherd);
 4. tether replay with `--wsi headless` (the ICD's own VK_EXT_headless_surface).

Every screenshot (frames 1..N, 32-bit BMP) must be byte-identical to the
reference, headers included: both sides render on the same driver. gfxrecon's
screenshots are copies of the application's swapchain images (its virtual
swapchain), read back through the device, so they show the same picture
whatever surface the replay presents to; that is what lets step 4 compare with
the xcb reference. A native headless replay is not possible on lavapipe before
Mesa 23 (Debian 12's 22.3 does not expose VK_EXT_headless_surface: vkCreateInstance
fails with VK_ERROR_EXTENSION_NOT_PRESENT); where the native driver does
expose it, the native headless replay is run and compared too.

The replays must have replayed: exit 0, exactly N screenshots, no gfxrecon
ERROR/FATAL line, no gfxrecon WARNING the native replay did not print, and
the reference frames are pictures (>= MIN_COLOURS colours) that change from
frame to frame (vkcube spins the cube by a fixed angle per frame).

Exit 0 on success, 1 on a failed comparison, 2 on a harness error, 77 (a CTest
skip) when gfxrecon-replay is not installed.
"""
import argparse
import glob
import os
import shutil
import signal
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
sys.path.insert(0, os.path.join(HERE, "..", "wsi"))
import tetherd_harness as th  # noqa: E402
from xvfb import Xvfb  # noqa: E402

SKIP = 77
CAPTURE_LAYER = "VK_LAYER_LUNARG_gfxreconstruct"
# Where the loader looks for explicit layer manifests on Linux (besides
# VK_LAYER_PATH / VK_ADD_LAYER_PATH), to say clearly that the layer is missing.
LAYER_DIRS = ("/usr/local/share/vulkan/explicit_layer.d", "/usr/share/vulkan/explicit_layer.d",
              "/etc/vulkan/explicit_layer.d")
CRASH_SIGNALS = (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE, signal.SIGILL)
# vkcube's window (and so the swapchain and every screenshot): small enough
# that 3 x N screenshots stay a few MB.
WIDTH, HEIGHT = 256, 256
MIN_COLOURS = 64
SHOT_PREFIX = "screenshot"


class HarnessError(Exception):
    pass


# ---------------------------------------------------------------- environments

def clean(env):
    """@env without gfxreconstruct settings a caller may have left set."""
    return {k: v for k, v in env.items() if not k.startswith("GFXRECON_")}


def with_display(env, display):
    env = dict(env)
    env.pop("WAYLAND_DISPLAY", None)
    if display:
        env["DISPLAY"] = display
    else:
        env.pop("DISPLAY", None)  # headless must not need an X server
    return env


def capture_layer_present():
    dirs = list(LAYER_DIRS)
    for var in ("VK_LAYER_PATH", "VK_ADD_LAYER_PATH"):
        dirs += [d for d in os.environ.get(var, "").split(os.pathsep) if d]
    for d in dirs:
        for path in glob.glob(os.path.join(d, "*.json")):
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    if CAPTURE_LAYER in f.read():
                        return path
            except OSError:
                pass
    return None


# ---------------------------------------------------------------- BMP files

def bmp_layout(path):
    """(width, height, bits per pixel, pixel data offset) of a BMP file."""
    with open(path, "rb") as f:
        head = f.read(54)
    if len(head) < 54 or head[:2] != b"BM":
        raise HarnessError("%s is not a BMP file" % path)
    offset = struct.unpack_from("<I", head, 10)[0]
    width, height, _, bpp = struct.unpack_from("<iiHH", head, 18)
    return width, abs(height), bpp, offset


def pixel_words(path):
    """The pixels of a 32-bit BMP as a list of ints (BGRA little-endian)."""
    width, height, bpp, offset = bmp_layout(path)
    with open(path, "rb") as f:
        data = f.read()[offset:]
    if bpp != 32 or len(data) < width * height * 4:
        raise HarnessError("%s: %d bits per pixel, %d pixel bytes for %dx%d"
                           % (path, bpp, len(data), width, height))
    return memoryview(data[:width * height * 4]).cast("I").tolist(), width, height


def describe_difference(ref, got):
    """One paragraph on where two screenshots differ (header or pixels)."""
    with open(ref, "rb") as f:
        a = f.read()
    with open(got, "rb") as f:
        b = f.read()
    width, height, bpp, offset = bmp_layout(ref)
    first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    if first < offset:
        return ("BMP headers differ at byte %d: native %s, tether %s"
                % (first, a[:offset].hex(" "), b[:offset].hex(" ")))
    if len(a) != len(b) or bpp != 32:
        return "sizes differ: native %d bytes, tether %d bytes" % (len(a), len(b))
    pa, _, _ = pixel_words(ref)
    pb, _, _ = pixel_words(got)
    diff = [i for i in range(len(pa)) if pa[i] != pb[i]]
    i = diff[0]
    # BMP rows run bottom-up when the header's height is positive.
    x, y = i % width, height - 1 - i // width
    return ("%d of %d pixels differ; first at (%d,%d): native 0x%08x, tether 0x%08x (AARRGGBB)"
            % (len(diff), len(pa), x, y, pa[i], pb[i]))


# ---------------------------------------------------------------- steps

def run_step(label, cmd, env, workdir, timeout):
    """Run @cmd, log its exit status and time; return (rc, output text)."""
    th.log("%s: %s" % (label, " ".join(cmd)))
    t0 = time.monotonic()
    rc, text = th.run_program(cmd, env, os.path.join(workdir, label + ".log"), timeout)
    th.log("%s: exit %d in %.2f s" % (label, rc, time.monotonic() - t0))
    return rc, text


def capture(args, display, workdir):
    """vkcube --c N natively under the capture layer; return the capture's path."""
    path = os.path.join(workdir, "vkcube.gfxr")
    env = with_display(clean(th.native_env(args.native_icd)), display)
    env["VK_INSTANCE_LAYERS"] = CAPTURE_LAYER
    env["GFXRECON_CAPTURE_FILE"] = path
    env["GFXRECON_CAPTURE_FILE_TIMESTAMP"] = "false"
    cmd = [args.vkcube, "--c", str(args.frames), "--present_mode", "2",
           "--width", str(WIDTH), "--height", str(HEIGHT)]
    rc, text = run_step("capture", cmd, env, workdir, args.timeout)
    if rc != 0:
        raise HarnessError("vkcube under the capture layer exited %d:\n%s"
                           % (rc, th.indent(text, "  capture| ")))
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        raise HarnessError("the capture layer wrote no %s:\n%s"
                           % (path, th.indent(text, "  capture| ")))
    th.log("capture: %s, %d bytes" % (path, os.path.getsize(path)))
    return path


def replay(args, label, wsi, env, cap, workdir):
    """gfxrecon-replay of @cap; return (rc, output text, screenshot directory)."""
    shots = os.path.join(workdir, "shots." + label)
    os.mkdir(shots)
    cmd = [args.gfxrecon_replay, "--wsi", wsi, "--screenshots", "1-%d" % args.frames,
           "--screenshot-format", "bmp", "--screenshot-dir", shots,
           "--screenshot-prefix", SHOT_PREFIX, cap]
    rc, text = run_step(label, cmd, clean(env), workdir, args.timeout)
    return rc, text, shots


def gfxrecon_lines(text, level):
    return [line for line in text.splitlines() if line.startswith("[gfxrecon] " + level)]


def check_replay(label, rc, text, shots, frames, fail):
    """Exit status, screenshot count and gfxrecon errors of one replay."""
    if rc != 0:
        fail("%s replay exited %d:\n%s" % (label, rc, th.indent(text, "  %s| " % label)))
    for level in ("FATAL", "ERROR"):
        bad = gfxrecon_lines(text, level)
        if bad:
            fail("%s replay reports %s:\n%s" % (label, level, "\n".join(bad[:20])))
    names = set(os.listdir(shots)) if os.path.isdir(shots) else set()
    want = [shot_name(i) for i in range(1, frames + 1)]
    if names != set(want):
        fail("%s replay wrote %d screenshots, expected %d (%s..%s); got: %s"
             % (label, len(names), frames, want[0], want[-1], " ".join(sorted(names)[:10])))
        return False
    return True


def shot_name(frame):
    return "%s_frame_%d.bmp" % (SHOT_PREFIX, frame)


def check_reference(shots, frames, fail):
    """The native screenshots are pictures, and they change every frame."""
    previous = None
    for i in range(1, frames + 1):
        words, width, height = pixel_words(os.path.join(shots, shot_name(i)))
        if (width, height) != (WIDTH, HEIGHT):
            fail("native frame %d is %dx%d, vkcube ran %dx%d" % (i, width, height, WIDTH, HEIGHT))
        colours = len(set(words))
        if colours < MIN_COLOURS:
            fail("native frame %d has %d colours: no cube drawn?" % (i, colours))
        if previous is not None and words == previous:
            fail("native frames %d and %d are identical: the replay did not animate" % (i - 1, i))
        previous = words
    th.log("native screenshots: %d frames %dx%d, all pictures, each differs from the last"
           % (frames, WIDTH, HEIGHT))


def compare_shots(ref_label, ref, label, got, frames, fail):
    differ = []
    for i in range(1, frames + 1):
        a, b = os.path.join(ref, shot_name(i)), os.path.join(got, shot_name(i))
        with open(a, "rb") as fa, open(b, "rb") as fb:
            if fa.read() != fb.read():
                differ.append(i)
    if differ:
        first = differ[0]
        fail("%s screenshots differ from %s in %d of %d frames (%s); frame %d: %s"
             % (label, ref_label, len(differ), frames, " ".join(map(str, differ[:20])), first,
                describe_difference(os.path.join(ref, shot_name(first)),
                                    os.path.join(got, shot_name(first)))))
    else:
        th.log("%s: all %d screenshots byte-identical to %s (%d bytes each)"
               % (label, frames, ref_label, os.path.getsize(os.path.join(ref, shot_name(1)))))


def new_warnings(text, native_text):
    native = set(gfxrecon_lines(native_text, "WARNING"))
    return [line for line in gfxrecon_lines(text, "WARNING") if line not in native]


# ---------------------------------------------------------------- the test

def native_replays(args, cap, display, workdir, fail):
    """Native xcb replay (the reference) and, where the driver can, headless.

    Returns {wsi: (output text, screenshot dir)} of the native replays that ran."""
    env = th.native_env(args.native_icd, args.validation)
    done = {}
    rc, text, shots = replay(args, "native_xcb", "xcb", with_display(env, display), cap, workdir)
    if not check_replay("native_xcb", rc, text, shots, args.frames, fail):
        raise HarnessError("no native reference: the native xcb replay failed")
    check_reference(shots, args.frames, fail)
    done["xcb"] = (text, shots)
    rc, text, shots = replay(args, "native_headless", "headless", with_display(env, None), cap,
                             workdir)
    if rc != 0 and "VK_EXT_headless_surface, is not supported" in text:
        th.log("native_headless: the native driver has no VK_EXT_headless_surface; "
               "tether's headless replay is compared with the native xcb replay")
    elif check_replay("native_headless", rc, text, shots, args.frames, fail):
        compare_shots("native_xcb", done["xcb"][1], "native_headless", shots, args.frames, fail)
        done["headless"] = (text, shots)
    if args.validation:
        for wsi, (text, _) in done.items():
            bad = th.validation_lines(text)
            if bad:
                fail("validation errors in the NATIVE %s replay:\n" % wsi
                     + "\n".join("  " + line for line in bad[:40]))
    return done


def tether_replay(args, wsi, cap, display, native, workdir, fail):
    """One replay through a fresh tetherd, compared with the native reference."""
    label = "tether_" + wsi
    sdir = os.path.join(workdir, "tetherd." + wsi)
    os.mkdir(sdir)
    server = th.Tetherd(args.tetherd, args.native_icd, sdir, args.transport, args.validation)
    if args.tetherd_log:
        server.env["TETHER_LOG"] = args.tetherd_log
    server.start()
    try:
        env = with_display(th.tether_env(args.icd_manifest, server),
                           display if wsi == "xcb" else None)
        rc, text, shots = replay(args, label, wsi, env, cap, workdir)
        died = not server.alive()
    finally:
        s_rc = server.stop()
    th.log("%s: tetherd stopped, exit status %s" % (label, s_rc))
    if s_rc is not None and -s_rc in CRASH_SIGNALS:
        fail("%s: tetherd crashed (signal %d):\n%s" % (label, -s_rc, server.log_tail()))
    if died:
        fail("%s: tetherd died during the replay (status %s):\n%s"
             % (label, s_rc, server.log_tail()))
    for who, log_text in (("tetherd", server.log_text()), (label + " replay", text)):
        bad = th.sanitizer_lines(log_text)
        if bad:
            fail("sanitizer report in %s:\n%s" % (who, "\n".join(bad[:20])))
    if args.validation:
        bad = th.validation_lines(server.log_text())
        if bad:
            fail("validation errors in the %s tetherd log (%d lines):\n" % (label, len(bad))
                 + "\n".join("  " + line for line in bad[:40]))
    ref_wsi = wsi if wsi in native else "xcb"
    ref_text, ref_shots = native[ref_wsi]
    warn = new_warnings(text, ref_text)
    if warn:
        fail("%s replay warns where the native %s replay did not:\n%s"
             % (label, ref_wsi, "\n".join(warn[:20])))
    if check_replay(label, rc, text, shots, args.frames, fail):
        compare_shots("native_" + ref_wsi, ref_shots, label, shots, args.frames, fail)


def run(args, workdir, fail):
    xvfb = Xvfb(os.path.join(workdir, "xvfb.log"), xvfb=args.xvfb)
    try:
        display = xvfb.start()
        th.log("Xvfb on %s" % display)
        cap = capture(args, display, workdir)
        native = native_replays(args, cap, display, workdir, fail)
        for wsi in args.wsi:
            tether_replay(args, wsi, cap, display, native, workdir, fail)
    finally:
        xvfb.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tetherd", required=True)
    p.add_argument("--icd-manifest", required=True, help="tether ICD manifest JSON")
    p.add_argument("--native-icd", required=True,
                   help="real driver's ICD manifest (TETHER_NATIVE_ICD in the environment wins)")
    p.add_argument("--gfxrecon-replay", default=shutil.which("gfxrecon-replay"))
    p.add_argument("--vkcube", default=shutil.which("vkcube") or "vkcube")
    p.add_argument("--xvfb", default=shutil.which("Xvfb") or "Xvfb")
    p.add_argument("--frames", type=int, default=30, help="vkcube --c, and frames screenshot")
    p.add_argument("--wsi", default="xcb,headless",
                   help="comma-separated tether replays to run: xcb, headless")
    p.add_argument("--transport", choices=("unix", "tcp"), default="unix")
    p.add_argument("--validation", action="store_true",
                   help="validation layer in the native replays and in tetherd; fail on errors")
    p.add_argument("--tetherd-log", metavar="LEVEL",
                   help="TETHER_LOG for tetherd (error|warn|info|debug), for investigating")
    p.add_argument("--timeout", type=int, default=60, help="seconds per program run")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    args.wsi = [w for w in args.wsi.split(",") if w]
    if not args.wsi or any(w not in ("xcb", "headless") for w in args.wsi):
        p.error("--wsi takes xcb and/or headless")
    if args.frames < 2:
        p.error("--frames must be at least 2 (frames must differ from one another)")
    if not args.gfxrecon_replay or not os.path.exists(args.gfxrecon_replay):
        th.log("SKIP: gfxrecon-replay not installed (Debian package gfxreconstruct)")
        return SKIP
    args.native_icd = os.environ.get("TETHER_NATIVE_ICD") or args.native_icd
    for path in (args.tetherd, args.icd_manifest, args.native_icd):
        if not os.path.exists(path):
            th.die("not found: " + path)
    for tool in (args.vkcube, args.xvfb):
        if not shutil.which(tool):
            th.die("not found: %s (vulkan-tools, xvfb: tools/deps.sh)" % tool)
    layer = capture_layer_present()
    if not layer:
        th.die("no manifest of %s in %s (package gfxreconstruct)"
               % (CAPTURE_LAYER, ", ".join(LAYER_DIRS)))
    th.log("capture layer: %s" % layer)

    failures = []

    def fail(msg):
        th.log("FAIL: " + msg)
        failures.append(msg)

    t0 = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="tether-gfxr-")
    try:
        run(args, workdir, fail)
    except (HarnessError, RuntimeError, OSError) as e:
        fail(str(e))
    finally:
        if args.keep or failures:
            th.log("work directory kept: " + workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    what = "vkcube capture, %d frames, replayed natively and through tether (%s, %s)" % (
        args.frames, "+".join(args.wsi), args.transport)
    if failures:
        th.log("%s: FAILED (%d problem%s) in %.1f s" % (what, len(failures),
                                                       "" if len(failures) == 1 else "s",
                                                       time.monotonic() - t0))
        return 1
    th.log("%s: identical screenshots in %.1f s" % (what, time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
