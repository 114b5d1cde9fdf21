#!/usr/bin/env bash
# Builds the .deb of a configured build folder, unpacks it and checks it:
# file name, architecture, a non-empty Depends (from shlibdeps), conffiles,
# the files it installs, a stripped binary, and that the unpacked binary's
# --version prints "dapr-mqtt-bridge <version>", run through qemu-aarch64 or
# qemu-arm for arm64/armhf packages.
#
#   tests/packaging/deb-test.sh [BUILD_DIR]     (default: build-aarch64, i.e. arm64)
#
# A BUILD_DIR that is not configured yet is configured and built with the
# preset of the same suffix (build-aarch64 -> --preset aarch64).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-aarch64}

if [ ! -f "$build/CPackConfig.cmake" ]; then
  preset=$(basename "$build"); preset=${preset#build-}
  echo "deb-test: configuring and building $build with preset $preset"
  (cd "$root" && cmake --preset "$preset" && cmake --build --preset "$preset")
fi
build=$(cd "$build" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "deb-test: FAIL: $*" >&2; exit 1; }

echo "deb-test: cpack in $build"
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 \
  || { cat "$work/cpack.log" >&2; fail "cpack failed"; }
debs=("$work"/out/*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one .deb, got: ${debs[*]}"
deb=${debs[0]}

field() { dpkg-deb -f "$deb" "$1"; }
name=$(field Package); version=$(field Version); arch=$(field Architecture)
expected_name="dapr-mqtt-bridge_${version}_${arch}.deb"
echo "deb-test: $(basename "$deb") ($(stat -c %s "$deb") bytes)"
[ "$name" = dapr-mqtt-bridge ] || fail "Package is '$name'"
[ "$(basename "$deb")" = "$expected_name" ] || fail "file name $(basename "$deb"), expected $expected_name"

case "$arch" in
  arm64) emulator=(qemu-aarch64) ;;
  armhf) emulator=(qemu-arm) ;;
  amd64) emulator=() ;;
  *) fail "unexpected Architecture '$arch'" ;;
esac

depends=$(field Depends)
[ -n "$depends" ] || fail "empty Depends (shlibdeps did not run?)"
echo "deb-test: Depends: $depends"
grep -q 'libc6' <<<"$depends" || fail "Depends lacks libc6"

dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/default/dapr-mqtt-bridge "$work/control/conffiles" || fail "conffiles lacks /etc/default/dapr-mqtt-bridge"

dpkg-deb -x "$deb" "$work/root"
for f in usr/bin/dapr-mqtt-bridge \
         usr/lib/systemd/system/dapr-mqtt-bridge.service \
         etc/default/dapr-mqtt-bridge \
         usr/share/doc/dapr-mqtt-bridge/examples/daprd.service.d/10-dapr-mqtt-bridge.conf; do
  [ -e "$work/root/$f" ] || fail "package lacks /$f"
done
[ -e "$work/root/usr/share/doc/dapr-mqtt-bridge/README.md" ] \
  || echo "deb-test: note: no README.md in the package (none in the source tree at configure time)"

bin=$work/root/usr/bin/dapr-mqtt-bridge
info=$(file -b "$bin")
echo "deb-test: $info"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
if [ "$build_type" != Debug ] && grep -q 'not stripped' <<<"$info"; then
  fail "binary is not stripped ($build_type build)"
fi
echo "deb-test: stripped binary size $(stat -c %s "$bin") bytes ($(( $(stat -c %s "$bin") / 1024 )) KiB) for $arch"

# Plain qemu: it finds the multiarch loader and libraries by itself (no -L).
out=$(timeout 60 "${emulator[@]}" "$bin" --version 2>&1) || fail "--version exited $?: $out"
echo "deb-test: --version: $out"
[ "$out" = "dapr-mqtt-bridge $version" ] || fail "--version printed '$out', expected 'dapr-mqtt-bridge $version'"
echo "deb-test: PASS"
