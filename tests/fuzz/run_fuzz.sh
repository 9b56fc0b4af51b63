#!/usr/bin/env bash
# Longer fuzz runs than CTest's bounded ones: each target for SECONDS, as many
# at once as there are cores, from the committed seeds plus what earlier runs
# of this build found. Prints, per target, what docs/RELIABILITY.md records.
#   tests/fuzz/run_fuzz.sh BUILD_DIR SECONDS [TARGET...]
# BUILD_DIR is configured with -DCMAKE_C_COMPILER=clang -DTETHER_FUZZ=ON;
# TARGETs default to all of commands structs handshake memsync frame_decode
# session.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
  exit 2
fi
src=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
seconds=$2
shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(commands structs handshake memsync frame_decode session)

cmake --build "$build" --target tether_fuzz >/dev/null
out=$build/tests/fuzz
mkdir -p "$out/artifacts" "$out/logs"
export TETHER_LOG=${TETHER_LOG:-off}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
  local t=$1
  local dict=()
  [ -f "$src/corpus/$t.dict" ] && dict=(-dict="$src/corpus/$t.dict")
  mkdir -p "$out/corpus/$t"
  "$out/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "${dict[@]}" \
    -artifact_prefix="$out/artifacts/$t-" "$out/corpus/$t" "$src/corpus/$t" >"$out/logs/$t.log" 2>&1
}

pids=()
status=0
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do
    wait -n || status=1
  done
  run_one "$t" &
  pids+=($!)
done
for p in "${pids[@]}"; do
  wait "$p" || status=1
done

for t in "${targets[@]}"; do
  log=$out/logs/$t.log
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz_$t: ${runs:-?} runs, ${rate:-?} exec/s, $(echo "$last" | grep -oE 'cov: [0-9]+ ft: [0-9]+')"
  if grep -qE '^==[0-9]+==ERROR|^SUMMARY|deadly signal|runtime error' "$log"; then
    echo "  FOUND A BUG: see $log and $out/artifacts/"
    status=1
  fi
done
exit $status
