#!/usr/bin/env python3
"""Runs tests/icd/query_repeat through tether and checks, from the ICD's
session totals (TETHER_LOG=info), that repeated physical-device queries were
answered from the ICD's reply cache, not by the server.

  check_query_cache.py --tetherd PATH --icd-manifest PATH --native-icd PATH APP
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import tetherd_harness as th  # noqa: E402

REPEATS, QUESTIONS = 20, 11   # as in query_repeat.c: 10 formats and the features
TOTALS = re.compile(r"session totals: (\d+) round trips, (\d+) queries answered from cache")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tetherd", required=True)
    p.add_argument("--icd-manifest", required=True)
    p.add_argument("--native-icd", required=True)
    p.add_argument("app")
    args = p.parse_args()
    native = os.environ.get("TETHER_NATIVE_ICD") or args.native_icd
    with tempfile.TemporaryDirectory(prefix="tether-cache-") as work:
        server = th.Tetherd(args.tetherd, native, work)
        server.start()
        try:
            env = th.tether_env(args.icd_manifest, server)
            env["TETHER_LOG"] = "info"
            run = subprocess.run([args.app], env=env, capture_output=True, text=True, timeout=120)
        finally:
            server.stop()
    print(run.stdout + run.stderr)
    if run.returncode != 0:
        print("FAIL: query_repeat exited %d" % run.returncode)
        return 1
    m = TOTALS.search(run.stderr)
    if not m:
        print("FAIL: the ICD reported no session totals")
        return 1
    round_trips, hits = int(m.group(1)), int(m.group(2))
    want_hits = (REPEATS - 1) * QUESTIONS
    if hits < want_hits:
        print("FAIL: %d repeated queries answered from cache, expected at least %d" % (hits, want_hits))
        return 1
    # Instance creation and the first answers need round trips; repeats must not.
    if round_trips >= want_hits:
        print("FAIL: %d round trips for %d repeated queries" % (round_trips, want_hits))
        return 1
    print("PASS: %d round trips, %d queries answered from cache" % (round_trips, hits))
    return 0


if __name__ == "__main__":
    sys.exit(main())
