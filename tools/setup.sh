#!/usr/bin/env bash
# The main job: install what tether needs, build and install it into
# build/prefix, start tetherd on this machine (its GPU, or lavapipe when there
# is no other) and run a Vulkan program through the tether ICD, which prints
# the remote GPU that did the work.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
cmake --install build --prefix build/prefix >/dev/null
P=$PWD/build/prefix
sock=$(mktemp -u /tmp/tetherd.XXXXXX.sock)
"$P/bin/tetherd" --listen "unix:$sock" 2>build/tetherd.log &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
echo "tetherd serving on unix:$sock (log: build/tetherd.log)"
export VK_DRIVER_FILES=$P/share/vulkan/icd.d/tether_icd.json TETHER_SERVER=unix:$sock
"$P/bin/tether" info
echo "running a 16M-float SAXPY through the tether ICD:"
build/tests/apps/compute_saxpy build/saxpy.out
# A windowed program: vkcube renders on the served GPU and its frames come
# back into its window (this display, or a private Xvfb when there is none).
echo "running vkcube through the tether ICD for 300 frames:"
if [ -n "${DISPLAY:-}" ]; then
	TETHER_LOG=info vkcube --c 300 2>&1 | grep -E "swapchain|error" || true
else
	TETHER_LOG=info xvfb-run -a vkcube --c 300 2>&1 | grep -E "swapchain|error" || true
fi
