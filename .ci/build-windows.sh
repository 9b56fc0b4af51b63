#!/usr/bin/env bash
# Cross-builds the client ICD for Windows (Debian's mingw-w64) into build-win
# and checks what the Vulkan loader needs of it: the three vk_icd* exports,
# a manifest beside the DLL, and no mingw runtime DLL a Windows machine lacks.
# Usage: .ci/build-windows.sh [BUILD_DIR]   (default: build-win in the repo root)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build-win}
objdump=x86_64-w64-mingw32-objdump
exports_wanted=(vk_icdGetInstanceProcAddr vk_icdNegotiateLoaderICDInterfaceVersion
		vk_icdGetPhysicalDeviceProcAddr)
# Shipped with mingw, not with Windows: the DLL must link them statically.
runtime_dlls_forbidden=(libwinpthread-1.dll libgcc_s_seh-1.dll libssp-0.dll)

fail() { echo "build-windows: $*" >&2; exit 1; }

cmake -S "$root" -B "$build" -G Ninja \
	-DCMAKE_TOOLCHAIN_FILE="$root/cmake/mingw-w64-x86_64.cmake" -DTETHER_ICD_ONLY=ON
ninja -C "$build" tether_icd

dll=$build/icd/tether_icd.dll
[[ -f $dll ]] || fail "$dll was not built"
pe=$("$objdump" -p "$dll")

# The export name table: lines "[   0] name" after "[Ordinal/Name Pointer] Table".
exports=$(sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' <<<"$pe" | awk 'NF >= 3 {print $NF}')
for sym in "${exports_wanted[@]}"; do
	grep -qxF "$sym" <<<"$exports" || fail "$dll does not export $sym (exports: ${exports//$'\n'/ })"
done

imports=$(awk '/DLL Name:/ {print tolower($3)}' <<<"$pe")
for lib in "${runtime_dlls_forbidden[@]}"; do
	! grep -qxF "$lib" <<<"$imports" || fail "$dll needs $lib, which Windows does not ship"
done

manifest=$build/icd/tether_icd.json
[[ -f $manifest ]] || fail "$manifest was not generated"
path=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["ICD"]["library_path"])' "$manifest") \
	|| fail "$manifest is not valid JSON"
[[ $path == '.\tether_icd.dll' ]] || fail "$manifest: library_path is '$path', want '.\\tether_icd.dll'"

echo "build-windows: $dll exports ${exports_wanted[*]}; imports: $(echo $imports)"
