#!/usr/bin/env python3
"""Compare vulkaninfo run natively with vulkaninfo run through tether.

  compare_vulkaninfo.py --tetherd PATH --icd-manifest PATH --native-icd PATH
                        [--vulkaninfo PATH] [--transport unix|tcp] [--validation]
                        [--allow-missing-gpus] [--keep]

tether's promise is that the client sees the server's GPU as it is: same name,
IDs, limits, sparse properties, features (with every *2 chain), memory heaps and
types, queue families, formats and device extensions. This compares vulkaninfo's
text output (with --show-formats) GPU block by GPU block, line by line. The only
lines left out are those in EXCLUSIONS below, each with the reason it may differ.
Exit 0 only if vulkaninfo exits 0 both ways and every other line matches.
"""
import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tetherd_harness as th  # noqa: E402
import carried  # noqa: E402
from carried import gen_exceptions  # noqa: E402

_EXT_RE = re.compile(r"^\t(VK_\w+)\s+: extension revision")
_API_RE = re.compile(r"^\tapiVersion\s+=\s+(\d+)\.(\d+)\.(\d+)")
_CARRIED = None


def carried_model():
    global _CARRIED
    if _CARRIED is None:
        _CARRIED = carried.Carried()
    return _CARRIED


def extension_rules(n_block, t_block, failures):
    """Rules for one GPU: every extension the server has and tether does not
    offer must be one tether's protocol cannot carry, with its reason; their
    lines and their feature/property sections are then left out."""
    model = carried_model()
    n_exts = set(m.group(1) for m in map(_EXT_RE.match, n_block) if m)
    t_exts = set(m.group(1) for m in map(_EXT_RE.match, t_block) if m)
    icd_own = icd_extensions(n_exts, t_exts)
    for name in sorted(t_exts - n_exts):
        if name in icd_own:
            th.log("offered by the ICD itself: %-30s presentation is the client's (docs/PRESENTATION.md)" % name)
        else:
            failures.append("tether offers %s, which the server's GPU does not have" % name)
    missing = sorted(n_exts - t_exts)
    for name in missing:
        why = model.why_not(name)
        if why is None:
            failures.append("tether carries %s but did not offer it" % name)
        else:
            th.log("not offered: %-45s %s" % (name, why))
    rules = []
    if missing:
        names = "|".join(map(re.escape, missing))
        rules.append(("uncarried-extensions", None, re.compile(r"^\t(%s)\s+:" % names),
                      "extensions tether's protocol cannot carry (reasons logged above)"))
    if icd_own:
        names = "|".join(map(re.escape, sorted(icd_own)))
        rules.append(("icd-extensions", None, re.compile(r"^\t(%s)\s+:" % names),
                      "presentation extensions the ICD implements itself (logged above)"))
    if missing or icd_own:
        rules.append(("extension-count", None, re.compile(r"^Device Extensions: count = \d+$"),
                      "the count differs by exactly the extensions not offered or the ICD's own"))
    # The protocol is built from one vk.xml: a newer server is offered as the
    # newest core version tether carries.
    n_api = next((m for m in map(_API_RE.match, n_block) if m), None)
    t_api = next((m for m in map(_API_RE.match, t_block) if m), None)
    if n_api and t_api and (int(n_api.group(1)), int(n_api.group(2))) > (1, 3):
        want = "1.3.%d" % model.reg.header_version
        got = "%s.%s.%s" % t_api.groups()
        if got != want:
            failures.append("server has Vulkan %s.%s: tether should offer %s, offers %s"
                            % (n_api.group(1), n_api.group(2), want, got))
        th.log("apiVersion: server %s.%s.%s offered as %s (newest core version carried)"
               % (n_api.groups() + (got,)))
        rules.append(("api-version", None, _API_RE, "server newer than the carried core version"))
    return [(n, s, l, w) for n, s, l, w in rules]


def icd_extensions(n_exts, t_exts):
    """Device extensions tether offers though the server lacks them: the
    presentation extensions the ICD implements on the client."""
    return (t_exts - n_exts) & set(gen_exceptions.ICD_WSI_EXTENSIONS)


def uncarried_structs(n_block, t_block):
    """Names of structs (feature/property sections, also nested in queue
    families) that belong to extensions the server has and tether does not
    offer, or that tether's ICD offers on its own."""
    model = carried_model()
    n_exts = set(m.group(1) for m in map(_EXT_RE.match, n_block) if m)
    t_exts = set(m.group(1) for m in map(_EXT_RE.match, t_block) if m)
    differ = (n_exts - t_exts) | icd_extensions(n_exts, t_exts)
    return set(s for s, e in model.struct_ext.items() if e in differ)


def drop_struct_blocks(lines, names):
    """Remove each "<indent>Name:" section (its underline and deeper lines)."""
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        head = line.strip()
        if (head.endswith(":") and head[:-1] in names and i + 1 < len(lines)
                and _UNDERLINE_RE.match(lines[i + 1].strip())):
            depth = len(line) - len(line.lstrip("\t"))
            i += 2
            while i < len(lines) and (not lines[i].strip()
                                      or len(lines[i]) - len(lines[i].lstrip("\t")) > depth):
                if not lines[i].strip() and i + 1 < len(lines) and lines[i + 1].strip() and \
                        len(lines[i + 1]) - len(lines[i + 1].lstrip("\t")) <= depth:
                    break
                i += 1
            continue
        out.append(line)
        i += 1
    return out


def normalize(lines):
    """Extension lists are padded to their longest name: compare without
    padding; runs of blank lines left by removed sections count as one."""
    out = []
    for line in lines:
        line = re.sub(r"\s+: extension revision", " : extension revision", line)
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    return out

# (name, section regex or None for any, line regex, why it may differ).
# "section" is the nearest header line above (one underlined by ==== or ----).
EXCLUSIONS = [
    ("loader-version", None, r"^Vulkan Instance Version:",
     "version of the client's loader, not of the server's driver"),
    ("instance-extensions", r"^Instance Extensions: count", r"",
     "instance extensions come from the client's loader and the tether ICD"),
    ("layers", r"^Layers: count", r"",
     "layer manifests installed on the client"),
    ("gpu-index", None, r"^GPU\d+:$",
     "tetherd may expose a subset of the server's GPUs; blocks are paired by deviceName"),
    ("memory-budget", None, r"^\s+(budget|usage)\s+=",
     "VK_EXT_memory_budget values are live and change with every allocation"),
    ("device-group-present", r"^Device Groups:",
     r"^(\tPresent Capabilities|\t\t.+\(ID: \d+\):$|\t\t\tCan present images|\t\t\t\t.+\(ID: \d+\)$"
     r"|\t\tPresent modes: count|\t\t\tDEVICE_GROUP_PRESENT_MODE_)",
     "device-group present capabilities need a surface: natively the X11/driver WSI, through tether the ICD"),
]

_GPU_RE = re.compile(r"^GPU(\d+):$")
_UNDERLINE_RE = re.compile(r"^(=+|-+)$")
_NAME_RE = re.compile(r"^\s*deviceName\s+=\s+(.*)$")
_COMPILED = [(name, re.compile(sec) if sec else None, re.compile(line), why)
             for name, sec, line, why in EXCLUSIONS]


def filter_lines(lines, counts, rules=_COMPILED):
    """Drop excluded lines; tally them per rule in counts."""
    kept = []
    section = ""
    for i, line in enumerate(lines):
        if line.strip() and i + 1 < len(lines) and _UNDERLINE_RE.match(lines[i + 1]):
            section = line
        rule = None
        for name, sec_re, line_re, _ in rules:
            if (sec_re is None or sec_re.search(section)) and line_re.search(line):
                rule = name
                break
        if rule:
            counts[rule] = counts.get(rule, 0) + 1
        else:
            kept.append(line)
    return kept


def split_gpus(text):
    """Return (instance part lines, [(deviceName, GPU block lines), ...])."""
    lines = [line.rstrip() for line in text.splitlines()]
    instance, gpus, cur = [], [], None
    for line in lines:
        if _GPU_RE.match(line):
            cur = []
            gpus.append(cur)
        (instance if cur is None else cur).append(line)
    named = []
    for block in gpus:
        name = next((m.group(1) for m in map(_NAME_RE.match, block) if m), None)
        named.append((name, block))
    return instance, named


def diff(a, b, label):
    return list(difflib.unified_diff(a, b, "native " + label, "tether " + label,
                                     lineterm="", n=2))


def compare_outputs(native_text, tether_text, allow_missing_gpus):
    """Return a list of failure messages (empty when the outputs agree)."""
    failures = []
    counts, t_counts = {}, {}
    n_inst, n_gpus = split_gpus(native_text)
    t_inst, t_gpus = split_gpus(tether_text)
    if not t_gpus:
        return ["tether's vulkaninfo shows no GPU"]

    used = set()
    pairs = []
    for t_name, t_block in t_gpus:
        match = next((i for i, (n_name, _) in enumerate(n_gpus)
                      if n_name == t_name and i not in used), None)
        if match is None:
            failures.append("tether shows GPU %r that the native driver does not" % t_name)
            continue
        used.add(match)
        pairs.append((n_gpus[match], (t_name, t_block)))
    missing = [n_gpus[i][0] for i in range(len(n_gpus)) if i not in used]
    if missing and not allow_missing_gpus:
        failures.append("native GPUs missing through tether: %s" % ", ".join(map(repr, missing)))

    for (n_name, n_block), (_, t_block) in pairs:
        rules = _COMPILED + extension_rules(n_block, t_block, failures)
        structs = uncarried_structs(n_block, t_block)
        d = diff(normalize(filter_lines(drop_struct_blocks(n_block, structs), counts, rules)),
                 normalize(filter_lines(drop_struct_blocks(t_block, structs), t_counts, rules)),
                 repr(n_name))
        if d:
            failures.append("GPU %r differs:\n%s" % (n_name, "\n".join(d)))
        else:
            th.log("GPU %r: %d lines identical" % (n_name, len(n_block)))

    # The instance part (title, Device Groups, headers) must match apart from
    # the exclusions. Device groups name every GPU, so with a subset of the
    # GPUs they cannot match and are left out.
    rules = _COMPILED
    if missing:
        rules = rules + [("device-groups", re.compile(r"^Device Groups:"), re.compile(""),
                          "tether shows a subset of the GPUs")]
        th.log("Device Groups not compared: tether shows a subset of the GPUs")
    d = diff(filter_lines(n_inst, counts, rules), filter_lines(t_inst, t_counts, rules),
             "instance part")
    if d:
        failures.append("instance part differs:\n" + "\n".join(d))

    for name, _, _, why in EXCLUSIONS:
        th.log("excluded %-20s native %4d / tether %4d lines: %s"
               % (name, counts.get(name, 0), t_counts.get(name, 0), why))
    return failures


def run_vulkaninfo(label, vulkaninfo, env, workdir):
    # No DISPLAY/WAYLAND_DISPLAY: surface sections depend on the client's
    # window system, which tether presents by its own path.
    for var in ("DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(var, None)
    cmd = [vulkaninfo, "--show-formats"]
    out_path = os.path.join(workdir, "vulkaninfo.%s.txt" % label)
    err_path = os.path.join(workdir, "vulkaninfo.%s.err" % label)
    th.log("%s run: %s" % (label, " ".join(cmd)))
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        try:
            rc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err, timeout=120).returncode
        except subprocess.TimeoutExpired:
            rc = -9
    with open(out_path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    with open(err_path, "rb") as f:
        err_text = f.read().decode("utf-8", "replace")
    th.log("%s run: exit %d, %d lines" % (label, rc, len(text.splitlines())))
    return rc, text, err_text


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tetherd", required=True)
    p.add_argument("--icd-manifest", required=True, help="tether ICD manifest JSON")
    p.add_argument("--native-icd", required=True,
                   help="real driver's ICD manifest JSON (TETHER_NATIVE_ICD in the environment wins, "
                        "so a built tree can be tested against another machine's GPU)")
    p.add_argument("--vulkaninfo", default=shutil.which("vulkaninfo") or "vulkaninfo")
    p.add_argument("--transport", choices=("unix", "tcp"), default="unix")
    p.add_argument("--validation", action="store_true",
                   help="validation layer in tetherd; fail on its errors")
    p.add_argument("--allow-missing-gpus", action="store_true",
                   help="pass when tetherd exposes only some of the native GPUs")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    args.native_icd = os.environ.get("TETHER_NATIVE_ICD") or args.native_icd
    for path in (args.tetherd, args.icd_manifest, args.native_icd, args.vulkaninfo):
        if not os.path.exists(path):
            th.die("not found: " + path)

    workdir = tempfile.mkdtemp(prefix="tether-vi-")
    failures = []
    try:
        n_rc, n_text, n_err = run_vulkaninfo("native", args.vulkaninfo,
                                             th.native_env(args.native_icd), workdir)
        if n_rc != 0:
            failures.append("native vulkaninfo exited %d:\n%s" % (n_rc, th.indent(n_err, "  ")))
        server = th.Tetherd(args.tetherd, args.native_icd, workdir, args.transport,
                            args.validation)
        try:
            server.start()
            t_rc, t_text, t_err = run_vulkaninfo(
                "tether", args.vulkaninfo, th.tether_env(args.icd_manifest, server),
                workdir)
            if not server.alive():
                failures.append("tetherd died during vulkaninfo:\n" + server.log_tail())
        except RuntimeError as e:
            failures.append(str(e))
            t_rc = None
        finally:
            server.stop()
        if t_rc is not None and t_rc != 0:
            failures.append("vulkaninfo through tether exited %d:\n%s"
                            % (t_rc, th.indent(t_err, "  ")))
        if n_rc == 0 and t_rc == 0:
            failures += compare_outputs(n_text, t_text, args.allow_missing_gpus)
        if args.validation:
            bad = th.validation_lines(server.log_text())
            if bad:
                failures.append("validation errors in the tetherd log:\n"
                                + "\n".join("  " + line for line in bad[:40]))
    finally:
        if args.keep:
            th.log("work directory kept: " + workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    for f in failures:
        th.log("FAIL: " + f)
    if failures:
        th.log("vulkaninfo: FAILED (%d problem%s)" % (len(failures),
                                                     "" if len(failures) == 1 else "s"))
        return 1
    th.log("vulkaninfo: native and tether (%s) agree" % args.transport)
    return 0


if __name__ == "__main__":
    sys.exit(main())
