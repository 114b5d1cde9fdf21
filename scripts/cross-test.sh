#!/usr/bin/env bash
# Cross-builds the bridge for ARCH and runs its tests through qemu-user:
# unit tests, the mosquitto integration tests (the daemon and the test
# binaries run under the emulator, mosquitto natively) and the .deb test.
#
#   scripts/cross-test.sh aarch64|arm64|armhf [extra ctest args...]
#
# Uses the CMake presets of the same name (build-aarch64/, build-armhf/).
# Installs the multiarch dependencies first if any is missing (needs root
# or sudo); see scripts/install-cross-deps.sh.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in
  aarch64|arm64) preset=aarch64; debarch=arm64; triplet=aarch64-linux-gnu ;;
  armhf|arm)     preset=armhf;   debarch=armhf; triplet=arm-linux-gnueabihf ;;
  *) echo "usage: $0 aarch64|armhf [ctest args...]" >&2; exit 2 ;;
esac
shift

"$root/scripts/install-cross-deps.sh" "$debarch"
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || "$root/scripts/install-deps.sh"

cd "$root"
seconds() { date +%s; }
t0=$(seconds)
cmake --preset "$preset"
t1=$(seconds)
cmake --build --preset "$preset"
t2=$(seconds)

binary=build-$preset/dapr-mqtt-bridge
stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT
"$triplet-strip" -o "$stripped" "$binary"
echo "cross-test: $preset configure $((t1 - t0)) s, build $((t2 - t1)) s;" \
     "stripped dapr-mqtt-bridge $(stat -c %s "$stripped") bytes ($(( $(stat -c %s "$stripped") / 1024 )) KiB)"

# The test preset runs labels unit|integration|packaging with CMAKE_CROSSCOMPILING_EMULATOR.
ctest --preset "$preset" "$@"
