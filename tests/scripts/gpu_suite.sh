#!/usr/bin/env bash
# Runs tether's native-vs-remote comparisons against a real GPU driver, from
# an already built tree, without CTest (for a GPU machine that has no build
# tools): every compute program over a Unix socket and TCP loopback with the
# validation layer on the server, vulkaninfo field by field, and the
# reliability checks that need no network namespaces.
#   tests/scripts/gpu_suite.sh BUILD_DIR NATIVE_ICD_JSON
set -uo pipefail
build=$(cd "$1" && pwd)
native=$2
here=$(cd "$(dirname "$0")" && pwd)
py=$(command -v python3)
common=(--tetherd "$build/server/tetherd" --icd-manifest "$build/icd/tether_icd.json" --native-icd "$native")
pass=0
fail=0
run() {
  local name=$1; shift
  if "$@" >"/tmp/gpu_suite.$name.log" 2>&1; then
    pass=$((pass + 1)); echo "PASS $name"
  else
    fail=$((fail + 1)); echo "FAIL $name"; tail -20 "/tmp/gpu_suite.$name.log"
  fi
}
apps=$(cd "$build/tests/apps" && ls compute_* render_* memory_* api_* sync_* 2>/dev/null | grep -v '\.' || true)
for app in $apps; do
  extra=()
  # Programs with more arguments than the output path (as in tests/apps/CMakeLists.txt).
  [ "$app" = api_pipeline_cache_across_runs ] && extra=('{out}.cache')
  for transport in tcp unix; do
    run "${app}_$transport" "$py" "$here/run_compare.py" "${common[@]}" --transport "$transport" \
      --validation -- "$build/tests/apps/$app" '{out}' "${extra[@]}"
  done
done
run vulkaninfo "$py" "$here/compare_vulkaninfo.py" "${common[@]}" --vulkaninfo "$(command -v vulkaninfo)"
# Reliability on the real driver: limits, eight clients with one killed, and
# the GPU memory a killed client held coming back (tests/reliability/).
rel=("$py" "$here/../reliability/reliability.py")
loss=(--loss-client "$build/tests/reliability/link_loss_client")
run reliability_limits "${rel[@]}" limits "${common[@]}" --limits-client "$build/tests/reliability/limits_client"
run reliability_many "${rel[@]}" many "${common[@]}" --apps-dir "$build/tests/apps" "${loss[@]}"
run reliability_gpu_memory "${rel[@]}" gpu-memory "${common[@]}" "${loss[@]}"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
