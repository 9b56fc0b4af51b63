#!/usr/bin/env bash
# Installs the Debian 12 packages tether builds, runs and tests with.
# Used by tools/setup.sh, tools/test.sh and CI; safe to run again.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
PACKAGES=(
  cmake ninja-build gcc clang python3 pkg-config libssl-dev openssl iproute2
  libvulkan-dev vulkan-tools mesa-vulkan-drivers vulkan-validationlayers
  glslang-tools libcmocka-dev libxxhash-dev liblz4-dev libzstd-dev
  mingw-w64
  libxcb1-dev libxcb-shm0-dev libxcb-present-dev libxcb-randr0-dev libx11-dev libx11-xcb-dev
  libwayland-dev wayland-protocols xvfb x11-apps x11-utils weston xauth
  gfxreconstruct
  libavahi-client-dev avahi-daemon dbus-daemon iproute2
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
