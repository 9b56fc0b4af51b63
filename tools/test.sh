#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds tether, runs every
# CTest test (real Vulkan programs natively and through tether on lavapipe,
# with the Khronos validation layer on the server), runs them again under
# AddressSanitizer and UndefinedBehaviorSanitizer, fuzzes every decoder for a
# bounded time, and cross-builds the Windows ICD.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
jobs=$(nproc)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

# Sanitizers: everything the server decodes, and the sessions themselves.
# Leak detection is off for the clients (the Vulkan loader and drivers they
# load leave memory at exit) and on for tetherd and every session process:
# the test harnesses turn it on for tetherd (tests/tetherd_leak_env.h,
# tests/scripts/tetherd_harness.py) and fail on any report in its log.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTETHER_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=0 ctest --test-dir build-asan --output-on-failure -j "$jobs" -L sanitize

# Fuzzing: every decoder tetherd runs on client bytes, 30 s per target
# (tests/fuzz/, docs/RELIABILITY.md).
cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTETHER_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$jobs" --target tether_fuzz
ctest --test-dir build-fuzz --output-on-failure -j "$jobs" -L fuzz

.ci/build-windows.sh
