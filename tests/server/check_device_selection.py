#!/usr/bin/env python3
"""tetherd --device N serves only the N-th GPU of its loader: with N = 0 the
client sees that GPU, with an N past the last GPU it sees none, and a
malformed N is refused at start with a clear message.

  check_device_selection.py --tetherd PATH --tether PATH --icd-manifest PATH --native-icd PATH
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import tetherd_harness as th  # noqa: E402

GPU_RE = re.compile(r"^GPU (\d+): (.+)$", re.M)


def gpus_seen(args, native, device):
    with tempfile.TemporaryDirectory(prefix="tether-dev-") as work:
        server = th.Tetherd(args.tetherd, native, work, extra_args=["--device", device])
        server.start()
        try:
            env = th.tether_env(args.icd_manifest, server)
            run = subprocess.run([args.tether, "info"], env=env, capture_output=True, text=True,
                                 timeout=60)
        finally:
            server.stop()
    print(run.stdout + run.stderr)
    return run.returncode, GPU_RE.findall(run.stdout)


def main():
    p = argparse.ArgumentParser()
    for a in ("--tetherd", "--tether", "--icd-manifest", "--native-icd"):
        p.add_argument(a, required=True)
    args = p.parse_args()
    native = os.environ.get("TETHER_NATIVE_ICD") or args.native_icd
    failures = []

    rc, gpus = gpus_seen(args, native, "0")
    if rc != 0 or len(gpus) != 1:
        failures.append("--device 0: expected one GPU, got %r (exit %d)" % (gpus, rc))
    rc, gpus = gpus_seen(args, native, "9")
    if gpus:
        failures.append("--device 9: expected no GPU, got %r" % (gpus,))
    bad = subprocess.run([args.tetherd, "--device", "x1", "--listen", "127.0.0.1:0"],
                         capture_output=True, text=True, timeout=30)
    if bad.returncode != 2 or "bad --device" not in bad.stderr:
        failures.append("--device x1: expected exit 2 and 'bad --device', got %d %r"
                        % (bad.returncode, bad.stderr))
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("PASS: --device selects one GPU, none past the last, refuses a malformed index")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
