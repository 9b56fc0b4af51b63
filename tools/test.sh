#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds tether, runs every
# CTest test (real Vulkan programs natively and through tether on lavapipe,
# with the Khronos validation layer on the server), runs the wire-format and
# transport tests again under AddressSanitizer and UndefinedBehaviorSanitizer,
# and cross-builds the Windows ICD.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
jobs=$(nproc)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

# Sanitizers: everything the server decodes, and the sessions themselves.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTETHER_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=0 ctest --test-dir build-asan --output-on-failure -j "$jobs" -L sanitize

.ci/build-windows.sh
