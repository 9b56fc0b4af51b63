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

    python3 bench/run_bench.py [--build build] [--write-doc]
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
    """A tetherd on @listen (port 0 = any free port), serving with the native driver."""

    def __init__(self, tetherd, listen, native_icd, log_path):
        env = dict(os.environ, VK_DRIVER_FILES=native_icd)
        env.pop("TETHER_SERVER", None)
        self.log = open(log_path, "w+")
        self.proc = subprocess.Popen([tetherd, "--listen", listen], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
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


def write_doc(path, key, section):
    begin, end = "<!-- run_bench:begin %s -->" % key, "<!-- run_bench:end %s -->" % key
    block = "%s\n%s\n%s\n" % (begin, section.strip(), end)
    text = open(path).read() if os.path.exists(path) else "# tether performance\n\n"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block.rstrip("\n") + text[text.index(end) + len(end):]
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
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    native_icd = os.environ.get("TETHER_NATIVE_ICD", DEFAULT_NATIVE_ICD)
    tether_icd = os.path.join(build, "icd", "tether_icd.json")
    tetherd = os.path.join(build, "server", "tetherd")
    bench_protocol = os.path.join(build, "bench", "tether_bench_protocol")
    bench_link = os.path.join(build, "bench", "tether_bench_link")
    bench_streaming = os.path.join(build, "bench", "tether_bench_streaming")
    if args.streaming_seconds > 0 and not os.path.exists(bench_streaming):
        raise SystemExit("missing %s (build first: ninja -C %s)" % (bench_streaming, build))
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
        key = re.sub(r"[^a-z0-9]+", "-", (mach.split(",")[0] + " " + driver).lower()).strip("-")
        write_doc(args.doc, key, section)


if __name__ == "__main__":
    main()
