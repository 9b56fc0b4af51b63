#!/usr/bin/env python3
"""Run tether's benchmarks and print (or record) the figures.

Builds nothing: give it a configured and built tree. It runs
tether_bench_protocol once, then tether_bench_link natively and through a
tetherd listening on a Unix socket and on TCP loopback, and prints one table;
then tether_bench_streaming (64 MB/s of vertex and uniform data through
mapped memory) the same three ways, uncapped and paced at 60 fps, with the
bytes the ICD sent per frame (its session totals, TETHER_LOG=info).
The real driver is $TETHER_NATIVE_ICD (a Vulkan ICD manifest, lavapipe by
default) for both the native run and tetherd, so the ratios compare like with
like on any machine. --write-doc puts the tables into docs/PERFORMANCE.md,
replacing the section of the same machine and driver, or adding one.

Then tether_bench_present (a game-like frame presented to a headless
surface) natively and through tetherd for 3 resolutions x frame codecs
{raw, lz4, zstd, auto} x links {Unix socket, TCP loopback, and, as root with
`ip netns`, a veth pair between two network namespaces rate-limited by tc
(bench/netns_link.sh)}: frames per second delivered, present-to-window
latency and link bytes per frame, from tether's statistics. Its table is a
section of its own in the doc, after the machine's; --present-only runs just
it, --present-seconds 0 skips it.

    python3 bench/run_bench.py [--build build] [--write-doc] [--present-only]
"""
import argparse
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_NATIVE_ICD = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"
RESULT = re.compile(r"^result\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$")
SESSION_TOTALS = re.compile(r"session totals: (\d+) round trips, \d+ queries answered from cache, "
                            r"(\d+) messages, (\d+) bytes sent")

# tether_bench_link figures in table order: key, label.
LINK_ROWS = [
    ("cmd_dispatch_cpu_ns", "vkCmdDispatch, client CPU per call"),
    ("cmd_push_constants_64b_cpu_ns", "vkCmdPushConstants 64 B, client CPU per call"),
    ("set_reset_event_cpu_ns", "vkSetEvent/vkResetEvent (no answer), client CPU per call"),
    ("set_reset_event_wall_ns", "vkSetEvent/vkResetEvent, wall time per call"),
    ("get_event_status_rtt_us", "vkGetEventStatus round trip, median"),
    ("get_event_status_rtt_p99_us", "vkGetEventStatus round trip, p99"),
    ("upload_first_gb_per_s", "first upload into a fresh 64 MiB allocation (one sample)"),
    ("upload_map_write_submit_wait_gb_per_s", "upload 64 MiB: map + write + submit copy + wait + unmap"),
    ("upload_persistent_write_submit_wait_gb_per_s", "upload 64 MiB, persistently mapped: write + submit copy + wait"),
    ("readback_first_gb_per_s", "first readback from a fresh 64 MiB allocation (one sample)"),
    ("readback_fill_wait_read_gb_per_s", "readback 64 MiB: submit fill + wait + read"),
]

# tether_bench_streaming figures in table order: key, label. *_bytes_sent_per_frame
# and *_round_trips_per_frame come from the ICD's session totals (0 natively).
STREAM_ROWS = [
    ("uncapped_fps", "uncapped: frames per second (median of 1 s windows)"),
    ("uncapped_mb_per_s", "uncapped: vertex + uniform data streamed"),
    ("uncapped_bytes_sent_per_frame", "uncapped: bytes sent per frame"),
    ("uncapped_round_trips_per_frame", "uncapped: round trips per frame"),
    ("uncapped_write_ms", "uncapped: CPU writes into mapped memory, per frame"),
    ("uncapped_submit_ms", "uncapped: record + vkQueueSubmit, per frame"),
    ("uncapped_wait_ms", "uncapped: vkWaitForFences + vkResetFences, per frame"),
    ("uncapped_cpu_ms_per_frame", "uncapped: client thread CPU per frame"),
    ("paced_fps", "paced at 60 fps: frames per second"),
    ("paced_missed_slots_pct", "paced at 60 fps: 60 Hz slots missed (no new frame)"),
    ("paced_kept_up", "paced at 60 fps: kept up (1 = yes: at most 2 % missed)"),
    ("paced_bytes_sent_per_frame", "paced at 60 fps: bytes sent per frame"),
    ("paced_cpu_ms_per_frame", "paced at 60 fps: client thread CPU per frame"),
]


def parse(output):
    """Returns ({key: (median, min, max, unit)}, {"device": .., "driver": ..})."""
    results, info = {}, {}
    for line in output.splitlines():
        m = RESULT.match(line)
        if m:
            results[m.group(1)] = (float(m.group(2)), float(m.group(3)), float(m.group(4)), m.group(5))
        elif line.startswith("device: ") or line.startswith("driver: "):
            key, _, value = line.partition(": ")
            info[key] = value.strip()
    return results, info


def run(cmd, env=None, timeout=900):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit("%s failed with exit status %d" % (cmd[0], p.returncode))
    return p.stdout


class Tetherd:
    """A tetherd on @listen (port 0 = any free port), serving with the native driver;
    @prefix runs it through another command (ip netns exec NS), @env_extra adds
    to its environment (TETHER_CODEC). TCP runs are plaintext (--insecure), as
    these tables were measured before TLS existed; what TLS costs on the bulk
    path is bench/bench_tls.c's (docs/PERFORMANCE.md)."""

    def __init__(self, tetherd, listen, native_icd, log_path, prefix=(), env_extra=None):
        env = dict(os.environ, VK_DRIVER_FILES=native_icd, **(env_extra or {}))
        env.pop("TETHER_SERVER", None)
        self.log = open(log_path, "w+")
        state = log_path + ".state"
        self.proc = subprocess.Popen(list(prefix) + [tetherd, "--listen", listen, "--insecure", "--state-dir", state],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        m = None
        while not m and self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            with open(log_path) as f:
                m = re.search(r"listening on (\S+)", f.read())
        if not m:
            self.stop()
            with open(log_path) as f:
                raise SystemExit("tetherd --listen %s did not start:\n%s" % (listen, f.read()))
        self.address = m.group(1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def machine():
    model, cpus = platform.processor() or "unknown", os.cpu_count()
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name":
                model = value.strip()
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            mem = ", %.0f GiB RAM" % (kib / 1048576)
    except (OSError, ValueError, IndexError):
        pass
    return "%s, %d logical CPUs%s, Linux %s" % (model, cpus, mem, platform.release())


def fmt(v, unit):
    if unit in ("cmd/s",):
        return "%.3g M" % (v / 1e6)
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.3g" % v


def protocol_table(res):
    rows = ["| figure | median | min – max | unit |", "| --- | ---: | ---: | --- |"]
    for key, (med, lo, hi, unit) in res.items():
        u = "M cmd/s" if unit == "cmd/s" else unit
        f = (lambda v: "%.3g" % (v / 1e6)) if unit == "cmd/s" else (lambda v: "%.3g" % v)
        rows.append("| `%s` | %s | %s – %s | %s |" % (key, f(med), f(lo), f(hi), u))
    return "\n".join(rows)


def ratio(x):
    return ("%.0f×" if x >= 100 else "%.2g×") % x


def link_table(runs, rows_wanted=LINK_ROWS):
    names = list(runs)
    native = runs.get("native", {})
    head = "| figure | unit | " + " | ".join(names)
    sep = "| --- | --- | " + " | ".join("---:" for _ in names)
    for n in names:
        if n != "native":
            head += " | %s ÷ native" % n
            sep += " | ---:"
    rows = [head + " |", sep + " |"]
    for key, label in rows_wanted:
        unit = next((r[key][3] for r in runs.values() if key in r), None)
        if unit is None:
            continue
        cells = []
        for n in names:
            r = runs[n].get(key)
            if not r:
                cells.append("–")
            elif r[1] == r[2]:
                cells.append(fmt(r[0], unit))
            else:
                cells.append("%s (%s–%s)" % (fmt(r[0], unit), fmt(r[1], unit), fmt(r[2], unit)))
        for n in names:
            if n == "native":
                continue
            r, b = runs[n].get(key), native.get(key)
            cells.append(ratio(r[0] / b[0]) if r and b and b[0] else "–")
        rows.append("| %s | %s | %s |" % (label, unit, " | ".join(cells)))
    return "\n".join(rows)


def run_streaming(bench, mode_args, env, tethered):
    """One tether_bench_streaming run: (results, info, checksum). Through tether
    the ICD's session totals (stderr) give bytes sent and round trips per frame."""
    env = dict(env)
    if tethered:
        env["TETHER_LOG"] = "info"
    cmd = [bench] + mode_args
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit("%s failed with exit status %d" % (bench, p.returncode))
    results, info = parse(p.stdout)
    frames = re.search(r"^frames submitted: (\d+)", p.stdout, re.M)
    checksum = re.search(r"^checksum: (\S+)", p.stdout, re.M)
    totals = SESSION_TOTALS.search(p.stderr)
    if not frames or not checksum or (tethered and not totals):
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit("%s: no frame count, checksum or ICD session totals in its output" % bench)
    mode = "paced" if "--fps" in mode_args else "uncapped"
    sent = int(totals.group(3)) / int(frames.group(1)) if tethered else 0.0
    trips = int(totals.group(1)) / int(frames.group(1)) if tethered else 0.0
    results[mode + "_bytes_sent_per_frame"] = (sent, sent, sent, "B")
    results[mode + "_round_trips_per_frame"] = (trips, trips, trips, "count")
    return results, info, checksum.group(1)


def streaming_section(runs, checksums, seconds):
    names = list(runs)
    ref = checksums[names[0]]
    same = all(c == ref for c in checksums.values())
    lines = [
        "### Streaming 64 MB/s through mapped memory (`tether_bench_streaming`)",
        "",
        "A 1280x720 scene whose CPU writes 1.07 MB of vertices and a 256 B uniform block into a "
        "persistently mapped HOST_COHERENT ring every frame (64 MB/s at 60 fps), 2 frames in flight; "
        "one run of %g s per cell, uncapped and paced at `--fps 60`. fps: median (min–max) of the "
        "1-second windows; phase times: median (min–max) over frames; bytes sent and round trips "
        "per frame: the ICD's session totals over every frame submitted (set-up included). "
        "\"÷ native\" is tether's median over the native one." % seconds,
        "",
        link_table(runs, STREAM_ROWS),
        "",
        "Checksum of the check frame (frame %s, read back): %s — %s." % (
            "12345", ", ".join("%s `%s`" % (n, c) for n, c in checksums.items()),
            "identical" if same else "**MISMATCH**"),
        "",
    ]
    if not same:
        print("WARNING: tether_bench_streaming checksums differ: %s" % checksums, file=sys.stderr)
    return "\n".join(lines)


# tether_bench_present: the resolutions, the codecs tetherd is forced to
# (TETHER_CODEC; "auto" lets it choose per frame from the link's measured
# rate) and the veth link's rate per direction.
PRESENT_RESOLUTIONS = [(1920, 1080), (2560, 1600), (3840, 2160)]
PRESENT_CODECS = ["raw", "lz4", "zstd", "auto"]
NETNS_LINK = os.path.join(ROOT, "bench", "netns_link.sh")
PRESENT_LINE = re.compile(r"^present: \S+ surface=(\S+) frames=(\d+)", re.M)


def run_present(bench, args, env, prefix=(), timeout=180):
    """One tether_bench_present run: (results, info, error); info has the
    device, the driver and the surface. A run that fails or hangs is a cell
    of the table, not the end of the section."""
    cmd = list(prefix) + [bench] + args
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace") + (e.stderr or b"").decode("utf-8", "replace")
        sys.stderr.write(out[-4000:])
        return {}, {}, "hung: killed after %d s" % timeout
    results, info = parse(p.stdout)
    m = PRESENT_LINE.search(p.stdout)
    if p.returncode != 0 or not m or "fps_delivered" not in results:
        sys.stderr.write(p.stdout[-4000:] + p.stderr[-4000:])
        return results, info, "exit status %d" % p.returncode if p.returncode else "no result line"
    info["surface"] = m.group(1)
    results["frames"] = (float(m.group(2)),) * 3 + ("frames",)
    return results, info, None


def netns_link_up(rate):
    """Sets up bench/netns_link.sh's link: ({SERVER_NS: .., ..}, None) or (None, why not)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None, "not running as root (network namespaces and tc need it)"
    for tool in ("ip", "tc"):
        if not shutil.which(tool):
            return None, "no `%s` (iproute2)" % tool
    p = subprocess.run([NETNS_LINK, "up", "--rate", rate], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        return None, "bench/netns_link.sh up failed: %s" % (p.stderr.strip().splitlines() or ["?"])[-1]
    return dict(kv.split("=", 1) for kv in p.stdout.split()), None


def present_cell(v, scale=1.0):
    if not v:
        return "–"
    return "%d" % v[0] if v[3] == "frames" else fmt(v[0] * scale, v[3])


def present_table(cells):
    rows = ["| resolution | codec | link | frames | fps delivered | latency median | latency p99 "
            "| link bytes per frame | raw ÷ link | link rate |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for (w, h), codec, link, res, err in cells:
        if err:
            rows.append("| %dx%d | %s | %s | **%s** | | | | | | |" % (w, h, codec, link, err))
            continue
        g = res.get
        rows.append("| %dx%d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            w, h, codec, link, present_cell(g("frames")), present_cell(g("fps_delivered")),
            present_cell(g("latency_us"), 1e-3) + (" ms" if g("latency_us") else ""),
            present_cell(g("latency_p99_us"), 1e-3) + (" ms" if g("latency_p99_us") else ""),
            present_cell(g("link_bytes_per_frame"), 1e-6) + (" MB" if g("link_bytes_per_frame") else ""),
            present_cell(g("compression_ratio")) + ("×" if g("compression_ratio") else ""),
            present_cell(g("link_mb_per_s")) + (" MB/s" if g("link_mb_per_s") else "")))
    return "\n".join(rows)


def presentation(args, native_icd, tether_icd, tetherd, bench):
    """tether_bench_present natively, then through tetherd per link, codec and
    resolution: (markdown section, the native run's device and driver)."""
    cells, info, veth, why_not = present_runs(args, native_icd, tether_icd, tetherd, bench)
    return present_section(args, native_icd, cells, info, veth, why_not), info


def present_runs(args, native_icd, tether_icd, tetherd, bench):
    """The runs of the presentation section: (cells, native info, the veth
    link or None, why not)."""
    common = ["--seconds", "%g" % args.present_seconds, "--warmup", str(args.present_warmup),
              "--mode", "immediate"]
    timeout = int(120 + 20 * args.present_seconds)
    cells, info = [], {}
    env = dict(os.environ, VK_DRIVER_FILES=native_icd)
    env.pop("TETHER_SERVER", None)
    for w, h in PRESENT_RESOLUTIONS:
        res, run_info, err = run_present(bench, common + ["--width", str(w), "--height", str(h)], env,
                                         timeout=timeout)
        info = info or run_info
        link = "native" + (", render only" if run_info.get("surface") == "offscreen" else "")
        cells.append(((w, h), "–", link, res, err))

    tmp = tempfile.mkdtemp(prefix="tether-present-")
    links = [("unix", "unix:" + os.path.join(tmp, "tetherd.sock"), (), ()),
             ("tcp loopback", "127.0.0.1:0", (), ())]
    veth, why_not = netns_link_up(args.present_rate)
    if veth:
        links.append(("veth %s" % veth["RATE"], veth["SERVER_ADDR"] + ":0",
                      ("ip", "netns", "exec", veth["SERVER_NS"]), ("ip", "netns", "exec", veth["CLIENT_NS"])))
    else:
        print("presentation: veth runs skipped: %s" % why_not, file=sys.stderr, flush=True)
    try:
        for link, listen, server_prefix, client_prefix in links:
            for codec in PRESENT_CODECS:
                log = os.path.join(tmp, "tetherd-%s-%s.log" % (link.split()[0], codec))
                try:
                    d = Tetherd(tetherd, listen, native_icd, log, prefix=server_prefix,
                                env_extra={"TETHER_CODEC": codec})
                except SystemExit as e:
                    print(e, file=sys.stderr)
                    cells += [((w, h), codec, link, {}, "tetherd did not start") for w, h in PRESENT_RESOLUTIONS]
                    continue
                env = dict(os.environ, VK_DRIVER_FILES=tether_icd, TETHER_SERVER=d.address)
                env.pop("TETHER_CODEC", None)
                for w, h in PRESENT_RESOLUTIONS:
                    if d.proc.poll() is not None:
                        cells.append(((w, h), codec, link, {}, "tetherd had exited (status %d)" % d.proc.returncode))
                        continue
                    res, _, err = run_present(bench, common + ["--width", str(w), "--height", str(h)], env,
                                              prefix=client_prefix, timeout=timeout)
                    if d.proc.poll() is not None:
                        err = "tetherd exited with status %d" % d.proc.returncode
                    if err:
                        with open(log) as f:
                            sys.stderr.write("tetherd log (%s, %s):\n%s\n" % (link, codec, f.read()[-4000:]))
                    cells.append(((w, h), codec, link, res, err))
                d.stop()
    finally:
        if veth:
            subprocess.run([NETNS_LINK, "down"])
        shutil.rmtree(tmp, ignore_errors=True)
    # Per resolution: native, then each link's codecs.
    order = [name for name, _, _, _ in links]
    cells.sort(key=lambda c: (c[0][0] * c[0][1], order.index(c[2]) if c[2] in order else -1,
                              PRESENT_CODECS.index(c[1]) if c[1] in PRESENT_CODECS else -1))
    failed = [c for c in cells if c[4]]
    if failed:
        print("WARNING: %d tether_bench_present runs failed (see above)" % len(failed), file=sys.stderr)
    return cells, info, veth, why_not


def present_section(args, native_icd, cells, info, veth, why_not):
    native_surface = "rendered offscreen (the driver has no VK_EXT_headless_surface): its fps is the render " \
        "rate, the ceiling of any presentation" if any(c[2].endswith("render only") for c in cells) else \
        "presented to its own headless surface: fps is presents per second, up to the GPU going idle"
    lines = [
        "## Presentation (`tether_bench_present`) — %s — %s" % (info.get("device", "unknown device"),
                                                                  machine().split(",")[0]),
        "",
        "- date: %s" % datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "- machine: %s" % machine(),
        "- driver (native and behind tetherd): %s, manifest `%s`" % (info.get("driver", "unknown driver"),
                                                                    native_icd),
        "- command: `python3 bench/run_bench.py --build build --write-doc%s`" % (
            " --present-only" if args.present_only else ""),
        "",
        "A game-like frame (sky with clouds, a textured ground scrolling towards the camera, 7 lit "
        "spheres, a HUD; `bench/shaders/present.*`) rendered and presented to a VK_EXT_headless_surface "
        "swapchain, present mode IMMEDIATE, 3 images, 2 frames in flight, as fast as frames come back: "
        "%g s per cell after %d warm-up frames, client and tetherd on this machine, tetherd forced to one "
        "codec with TETHER_CODEC (auto: it chooses per frame from the link's measured rate). "
        "fps delivered: frames shown in the client's window per second, until the last one is shown. "
        "Latency: vkQueuePresentKHR to the pixels in the window, over the frames shown in the timed run "
        "(`latencyLastUs` of vkGetSwapchainStatisticsTETHER, sampled as frames are shown). Link bytes "
        "per frame: frame bytes received, headers included; raw ÷ link is the compression ratio "
        "(BGRA8: %s). The native run %s." % (
            args.present_seconds, args.present_warmup,
            ", ".join("%dx%d = %.1f MB" % (w, h, w * h * 4 / 1e6) for w, h in PRESENT_RESOLUTIONS),
            native_surface),
        "",
        "veth: %s" % ("two network namespaces joined by a veth pair, each direction limited to %s by tc "
                      "%s (`bench/netns_link.sh up --rate %s`); tetherd in one, the client in the other."
                      % (veth["RATE"], veth["QDISC"], args.present_rate) if veth else "not run: %s." % why_not),
        "",
        present_table(cells),
        "",
    ]
    return "\n".join(lines)


def doc_key(mach, driver):
    """The doc block of this machine's CPU model and driver."""
    return re.sub(r"[^a-z0-9]+", "-", (mach.split(",")[0] + " " + driver).lower()).strip("-")


def write_doc(path, key, section, after=None):
    """Replaces the block of @key in the doc, or adds it: after the block of
    @after when there is one, else at the end."""
    begin, end = "<!-- run_bench:begin %s -->" % key, "<!-- run_bench:end %s -->" % key
    block = "%s\n%s\n%s\n" % (begin, section.strip(), end)
    text = open(path).read() if os.path.exists(path) else "# tether performance\n\n"
    after_end = "<!-- run_bench:end %s -->" % after if after else None
    if begin in text and end in text:
        text = text[: text.index(begin)] + block.rstrip("\n") + text[text.index(end) + len(end):]
    elif after_end and after_end in text:
        at = text.index(after_end) + len(after_end)
        text = text[:at] + "\n\n" + block.rstrip("\n") + text[at:]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    with open(path, "w") as f:
        f.write(text)
    print("updated %s (section %s)" % (path, key), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build directory (default: build)")
    ap.add_argument("--write-doc", action="store_true", help="record the figures in docs/PERFORMANCE.md")
    ap.add_argument("--doc", default=os.path.join(ROOT, "docs", "PERFORMANCE.md"))
    ap.add_argument("--only", help="tether_bench_link tests to run (record,event,rtt,upload,readback)")
    ap.add_argument("--streaming-seconds", type=float, default=5,
                    help="seconds per tether_bench_streaming run (default 5; 0 skips it)")
    ap.add_argument("--present-seconds", type=float, default=3,
                    help="seconds per tether_bench_present run (default 3; 0 skips the presentation section)")
    ap.add_argument("--present-warmup", type=int, default=2,
                    help="warm-up frames before each timed tether_bench_present run (default 2)")
    ap.add_argument("--present-rate", default="20gbit",
                    help="rate of the veth link per direction, as tc writes it (default 20gbit)")
    ap.add_argument("--present-only", action="store_true", help="run only the presentation section")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    native_icd = os.environ.get("TETHER_NATIVE_ICD", DEFAULT_NATIVE_ICD)
    tether_icd = os.path.join(build, "icd", "tether_icd.json")
    tetherd = os.path.join(build, "server", "tetherd")
    bench_protocol = os.path.join(build, "bench", "tether_bench_protocol")
    bench_link = os.path.join(build, "bench", "tether_bench_link")
    bench_streaming = os.path.join(build, "bench", "tether_bench_streaming")
    bench_present = os.path.join(build, "bench", "tether_bench_present")
    if args.present_only:
        args.streaming_seconds = 0
        args.present_seconds = args.present_seconds or 3
    if args.streaming_seconds > 0 and not os.path.exists(bench_streaming):
        raise SystemExit("missing %s (build first: ninja -C %s)" % (bench_streaming, build))
    if args.present_seconds > 0 and not os.path.exists(bench_present):
        raise SystemExit("missing %s (build first: ninja -C %s)" % (bench_present, build))
    if args.present_only:
        for f in (native_icd, tether_icd, tetherd):
            if not os.path.exists(f):
                raise SystemExit("missing %s (build first: ninja -C %s)" % (f, build))
        section, info = presentation(args, native_icd, tether_icd, tetherd, bench_present)
        print(section)
        if args.write_doc:
            key = doc_key(machine(), info.get("driver", "unknown driver"))
            write_doc(args.doc, key + "-present", section, after=key)
        return
    for f in (native_icd, tether_icd, tetherd, bench_protocol, bench_link):
        if not os.path.exists(f):
            raise SystemExit("missing %s (build first: ninja -C %s)" % (f, build))
    link_args = ["--only", args.only] if args.only else []

    protocol, _ = parse(run([bench_protocol]))
    runs, info = {}, {}
    env = dict(os.environ, VK_DRIVER_FILES=native_icd)
    env.pop("TETHER_SERVER", None)
    runs["native"], info = parse(run([bench_link] + link_args, env=env))
    streaming, checksums = {}, {}
    stream_modes = (["--seconds", "%g" % args.streaming_seconds],
                    ["--seconds", "%g" % args.streaming_seconds, "--fps", "60"])

    def stream(name, env, tethered):
        streaming[name] = {}
        for mode_args in stream_modes:
            res, _, checksum = run_streaming(bench_streaming, mode_args, env, tethered)
            streaming[name].update(res)
            if checksums.setdefault(name, checksum) != checksum:
                checksums[name] = "%s/%s" % (checksums[name], checksum)

    if args.streaming_seconds > 0:
        stream("native", env, False)

    tmp = tempfile.mkdtemp(prefix="tether-bench-")
    servers = []
    try:
        for name, listen in (("unix", "unix:" + os.path.join(tmp, "tetherd.sock")), ("tcp", "127.0.0.1:0")):
            d = Tetherd(tetherd, listen, native_icd, os.path.join(tmp, "tetherd-%s.log" % name))
            servers.append(d)
            env = dict(os.environ, VK_DRIVER_FILES=tether_icd, TETHER_SERVER=d.address)
            runs["tether " + name], _ = parse(run([bench_link] + link_args, env=env))
            if args.streaming_seconds > 0:
                stream("tether " + name, env, True)
            d.stop()
    finally:
        for d in servers:
            d.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    driver = info.get("driver", "unknown driver")
    device = info.get("device", "unknown device")
    mach = machine()
    section = "\n".join([
        "## %s — %s" % (device, mach.split(",")[0]),
        "",
        "- date: %s" % date,
        "- machine: %s" % mach,
        "- driver (native and behind tetherd): %s, device %s, manifest `%s`" % (driver, device, native_icd),
        "- command: `python3 bench/run_bench.py --build build --write-doc`",
        "",
        "### Wire format alone (`tether_bench_protocol`, median of 9 runs)",
        "",
        protocol_table(protocol),
        "",
        "### Through the ICD and tetherd (`tether_bench_link`)",
        "",
        "Median (min–max) of 7 runs of 10⁶ calls for the per-call figures, of 20000 calls for "
        "the round trip, of 9 transfers for bulk data. \"÷ native\" is tether's median over the native one.",
        "",
        link_table(runs),
        "",
    ] + ([streaming_section(streaming, checksums, args.streaming_seconds)] if streaming else []))
    print(section)
    if args.write_doc:
        write_doc(args.doc, doc_key(mach, driver), section)
    if args.present_seconds > 0:
        present, _ = presentation(args, native_icd, tether_icd, tetherd, bench_present)
        print(present)
        if args.write_doc:
            write_doc(args.doc, doc_key(mach, driver) + "-present", present, after=doc_key(mach, driver))


if __name__ == "__main__":
    main()
