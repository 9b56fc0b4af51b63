#!/usr/bin/env python3
"""tether against the same GPU used locally: the scenes of docs/PERFORMANCE.md's
targets, natively and through tetherd in turn, with the ratios.

Runs, --repeat times each (alternating native and tether so that drift hits
both), on the driver $TETHER_NATIVE_ICD (lavapipe by default):

  - tether_bench_scenes --scene gpu     GPU-bound: frames per second
  - tether_bench_scenes --scene api     API-bound, 10,000 draws: frames per second
  - tether_bench_streaming              64 MB/s of dynamic uploads, uncapped: fps
  - tether_bench_scenes --scene api     start-up (vkCreateInstance to the first
    with a new and then a warm cache    finished frame), cold and warm
  - tether_bench_link --only record     client CPU per recorded call
  - tether_bench_present 2560x1600      frames delivered per second and median
                                        present-to-window latency (tether only)

over a Unix socket, TCP loopback and, as root with iproute2, a veth pair
between two network namespaces limited to --rate per direction with --delay
of added one-way delay (bench/netns_link.sh). Prints one table: each cell is
the median of the runs' figures with their spread (min-max), each ratio
tether's median over native's, and whether the target holds. --write-doc
puts it into docs/PERFORMANCE.md (section of this machine and driver).

    python3 bench/run_scenes.py [--build build] [--repeat 3] [--seconds 5] [--write-doc]
"""
import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_bench as rb  # noqa: E402

# (key, label, unit, target ratio per link, higher is better)
ROWS = [
    ("gpu_fps", "GPU-bound scene, 1080p", "fps", {"tcp": 0.97}, True),
    ("api_fps", "API-bound scene, 10,000 draws", "fps", {"tcp": 0.85, "veth": 0.80}, True),
    ("stream_fps", "streaming 64 MB/s, uncapped", "fps", {"tcp": 0.90}, True),
    ("startup_cold_ms", "start-up to first frame, new cache", "ms", {"tcp": 1.5}, False),
    ("startup_warm_ms", "start-up to first frame, warm cache", "ms", {"tcp": 1.1}, False),
    ("api_cpu_ms", "API-bound: client CPU per frame", "ms", {}, False),
    ("cmd_cpu_ns", "recorded vkCmd* call, client CPU", "ns", {}, False),
    ("present_fps", "2560x1600 frames delivered (uncapped)", "fps", {}, True),
    ("present_latency_ms", "2560x1600 present-to-window, median", "ms", {}, False),
]
ABSOLUTE = {"cmd_cpu_ns": ("<", 100), "present_fps": (">=", 144), "present_latency_ms": ("<", 8)}


def run_out(cmd, env, prefix=(), timeout=900):
    full = list(prefix) + cmd
    print("+ " + " ".join(full), file=sys.stderr, flush=True)
    p = subprocess.run(full, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])
        raise RuntimeError("%s failed with exit status %d" % (cmd[0], p.returncode))
    return p.stdout


def one_round(args, paths, env, prefix, tethered, tmp):
    """Every figure of one link, once: {key: value}, and the scenes' checksums."""
    out, sums = {}, {}
    sec = ["--seconds", "%g" % args.seconds]
    text = run_out([paths["scenes"], "--scene", "gpu"] + sec, env, prefix)
    res, info = rb.parse(text)
    out["gpu_fps"] = res["fps"][0]
    sums["gpu"] = re.search(r"^checksum: (\S+)", text, re.M).group(1)
    text = run_out([paths["scenes"], "--scene", "api"] + sec, env, prefix)
    res, _ = rb.parse(text)
    out["api_fps"], out["api_cpu_ms"] = res["fps"][0], res["client_cpu_per_frame_ms"][0]
    sums["api"] = re.search(r"^checksum: (\S+)", text, re.M).group(1)
    cache = os.path.join(tmp, "scene.cache")
    if os.path.exists(cache):
        os.unlink(cache)
    res, _ = rb.parse(run_out([paths["scenes"], "--scene", "api", "--seconds", "0.5", "--cache", cache], env, prefix))
    out["startup_cold_ms"] = res["startup_to_first_frame_ms"][0]
    res, _ = rb.parse(run_out([paths["scenes"], "--scene", "api", "--seconds", "0.5", "--cache", cache], env, prefix))
    out["startup_warm_ms"] = res["startup_to_first_frame_ms"][0]
    res, _ = rb.parse(run_out([paths["streaming"]] + sec, env, prefix))
    out["stream_fps"] = res["uncapped_fps"][0]
    res, _ = rb.parse(run_out([paths["link"], "--only", "record"], env, prefix))
    out["cmd_cpu_ns"] = max(res["cmd_dispatch_cpu_ns"][0], res["cmd_push_constants_64b_cpu_ns"][0])
    if tethered:
        res, _ = rb.parse(run_out([paths["present"], "--width", "2560", "--height", "1600", "--seconds",
                                   "%g" % args.seconds], env, prefix))
        out["present_fps"] = res["fps_delivered"][0]
        if "latency_us" in res:
            out["present_latency_ms"] = res["latency_us"][0] / 1000
    return out, sums, info


def cell(values):
    if not values:
        return "–"
    v = sorted(values)
    med = v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2
    return med, v[0], v[-1]


def fmt_cell(c, unit):
    if c == "–":
        return c
    return "%s (%s–%s)" % (rb.fmt(c[0], unit), rb.fmt(c[1], unit), rb.fmt(c[2], unit))


def verdict(key, ratio, link, targets):
    want = targets.get(link)
    if want is None or ratio is None:
        return ""
    higher = [r for r in ROWS if r[0] == key][0][4]
    ok = ratio >= want if higher else ratio <= want
    return " %s %s %g" % ("✓" if ok else "✗", "≥" if higher else "≤", want)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(rb.ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rate", default="20gbit", help="veth rate per direction (tc units)")
    ap.add_argument("--delay", default="0.05", help="veth one-way added delay in ms (default 0.05 = 50 us)")
    ap.add_argument("--write-doc", action="store_true")
    ap.add_argument("--doc", default=os.path.join(rb.ROOT, "docs", "PERFORMANCE.md"))
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    native_icd = os.environ.get("TETHER_NATIVE_ICD", rb.DEFAULT_NATIVE_ICD)
    paths = {
        "tetherd": os.path.join(build, "server", "tetherd"),
        "icd": os.path.join(build, "icd", "tether_icd.json"),
        "scenes": os.path.join(build, "bench", "tether_bench_scenes"),
        "streaming": os.path.join(build, "bench", "tether_bench_streaming"),
        "link": os.path.join(build, "bench", "tether_bench_link"),
        "present": os.path.join(build, "bench", "tether_bench_present"),
    }
    for p in list(paths.values()) + [native_icd]:
        if not os.path.exists(p):
            raise SystemExit("missing %s (build first: ninja -C %s)" % (p, build))

    tmp = tempfile.mkdtemp(prefix="tether-scenes-")
    links = [("unix", "unix:" + os.path.join(tmp, "tetherd.sock"), (), ()), ("tcp", "127.0.0.1:0", (), ())]
    veth, why_not = None, None
    p = None
    if os.geteuid() == 0 and shutil.which("ip") and shutil.which("tc"):
        p = subprocess.run([rb.NETNS_LINK, "up", "--rate", args.rate, "--delay", args.delay],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0 and "netem" in p.stderr:
            # No sch_netem in this kernel: the rate limit alone, and the table says so.
            print("run_scenes: no netem, the veth link runs without added delay", file=sys.stderr)
            args.delay = "0 (no sch_netem in this kernel)"
            p = subprocess.run([rb.NETNS_LINK, "up", "--rate", args.rate], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        if p.returncode == 0:
            veth = dict(kv.split("=", 1) for kv in p.stdout.split())
            links.append(("veth", veth["SERVER_ADDR"] + ":0", ("ip", "netns", "exec", veth["SERVER_NS"]),
                          ("ip", "netns", "exec", veth["CLIENT_NS"])))
        else:
            why_not = "bench/netns_link.sh up failed: %s" % p.stderr.strip()[-200:]
    else:
        why_not = "needs root and iproute2 (ip, tc)"

    figures = {"native": {}}
    for name, *_ in links:
        figures[name] = {}
    checksums = {}
    info = {}
    native_env = dict(os.environ, VK_DRIVER_FILES=native_icd)
    native_env.pop("TETHER_SERVER", None)
    try:
        for r in range(args.repeat):
            res, sums, info = one_round(args, paths, native_env, (), False, tmp)
            for k, v in res.items():
                figures["native"].setdefault(k, []).append(v)
            checksums.setdefault("native", set()).add(sums["gpu"] + "+" + sums["api"])
            for name, listen, srv_prefix, cli_prefix in links:
                d = rb.Tetherd(paths["tetherd"], listen, native_icd, os.path.join(tmp, "tetherd-%s.log" % name),
                               prefix=srv_prefix)
                try:
                    env = dict(os.environ, VK_DRIVER_FILES=paths["icd"], TETHER_SERVER=d.address)
                    res, sums, _ = one_round(args, paths, env, cli_prefix, True, tmp)
                finally:
                    d.stop()
                for k, v in res.items():
                    figures[name].setdefault(k, []).append(v)
                checksums.setdefault(name, set()).add(sums["gpu"] + "+" + sums["api"])
    finally:
        if veth:
            subprocess.run([rb.NETNS_LINK, "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)

    names = ["native"] + [n for n, *_ in links]
    tethered = [n for n, *_ in links]
    head = "| figure | unit | " + " | ".join(names) + " | " + " | ".join("%s ÷ native" % n for n in tethered) + " |"
    rows = [head, "|" + " --- |" * (2 + len(names) + len(tethered))]
    for key, label, unit, targets, _ in ROWS:
        cells = [cell(figures[n].get(key, [])) for n in names]
        ratios = []
        for n, c in zip(names[1:], cells[1:]):
            base = cells[0]
            if c == "–" or base == "–" or not base[0]:
                ratios.append("–")
                continue
            rt = c[0] / base[0]
            ratios.append("%.3g×%s" % (rt, verdict(key, rt, n, targets)))
        label_abs = label
        if key in ABSOLUTE:
            op, lim = ABSOLUTE[key]
            label_abs += " (target %s %g)" % (op, lim)
        rows.append("| %s | %s | %s | %s |" % (label_abs, unit, " | ".join(fmt_cell(c, unit) for c in cells),
                                               " | ".join(ratios)))
    same = len(set().union(*checksums.values())) == 1 if checksums else False
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    mach = rb.machine()
    driver, device = info.get("driver", "unknown driver"), info.get("device", "unknown device")
    section = "\n".join([
        "### Scenes against native (`bench/run_scenes.py`) — %s" % device,
        "",
        "- date: %s; machine: %s" % (date, mach),
        "- driver (native and behind tetherd): %s" % driver,
        "- %d rounds, each running every figure natively and then through each link; %g s per timed run; "
        "cells: median (min–max) of the rounds; ratios: tether's median over native's, ✓/✗ against the "
        "issue's target" % (args.repeat, args.seconds),
        "- veth: %s" % ("two network namespaces, %s per direction, %s ms added one way "
                        "(`bench/netns_link.sh up --rate %s --delay %s`)" % (args.rate, args.delay, args.rate,
                                                                           args.delay)
                        if veth else "not run: %s" % why_not),
        "- 2560x1600 rows: tether_bench_present over each link (natively there is no window to deliver to)",
        "",
        "\n".join(rows),
        "",
        "Checksums of frame 4242 (GPU+API scenes, read back): %s — %s." % (
            ", ".join("%s %s" % (n, "/".join(sorted(c))) for n, c in checksums.items()),
            "identical" if same else "**MISMATCH**"),
        "",
    ])
    print(section)
    if args.write_doc:
        key = rb.doc_key(mach, driver)
        rb.write_doc(args.doc, key + "-scenes", section, after=key)
    if not same:
        raise SystemExit("checksums differ between native and tether")


if __name__ == "__main__":
    main()
