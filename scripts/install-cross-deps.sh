#!/usr/bin/env bash
# Installs what cross-building and emulated testing for arm64 and armhf need,
# on top of scripts/install-deps.sh (the native set), using Debian multiarch.
#
#   scripts/install-cross-deps.sh [arm64] [armhf]     (default: both)
#
# Idempotent: architectures already added and packages already installed are
# skipped, and apt-get runs only when something is missing.
#
# Notes (Debian 12):
# - The `<triplet>-pkg-config` wrapper that the toolchain files point
#   PKG_CONFIG_EXECUTABLE at is shipped by `pkgconf:<arch>` (Multi-Arch: same,
#   the real binary comes from the arch-independent pkgconf-bin).
# - Installing `:arm64`/`:armhf` libraries may upgrade the amd64 copies to the
#   mirror's version: Multi-Arch "same" packages must match across architectures.
# - qemu-user (not -static) is enough: plain `qemu-aarch64 ./bin` finds the
#   multiarch loader in /lib/ld-linux-aarch64.so.1 from libc6:arm64.
# - dpkg-dev provides dpkg-shlibdeps, which CPack uses for Depends.
set -euo pipefail

declare -A triplet=([arm64]=aarch64-linux-gnu [armhf]=arm-linux-gnueabihf)
declare -A compiler=([arm64]=g++-aarch64-linux-gnu [armhf]=g++-arm-linux-gnueabihf)

archs=("$@")
[ ${#archs[@]} -eq 0 ] && archs=(arm64 armhf)

# Libraries needed per target architecture (Multi-Arch: same).
arch_packages=(
  libgrpc++-dev libprotobuf-dev
  libpaho-mqttpp-dev libpaho-mqtt-dev libssl-dev
  libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  libsqlite3-dev
  pkgconf
)
# Host tools and arch-independent headers; one copy serves every target.
host_packages=(
  qemu-user dpkg-dev file
  protobuf-compiler protobuf-compiler-grpc
  nlohmann-json3-dev libcli11-dev
  mosquitto
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

for a in "${archs[@]}"; do
  if [ -z "${triplet[$a]:-}" ]; then
    echo "install-cross-deps: unknown architecture '$a' (use arm64 or armhf)" >&2
    exit 2
  fi
  if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
    echo "install-cross-deps: adding architecture $a"
    "${sudo_cmd[@]}" dpkg --add-architecture "$a"
  fi
done

wanted=("${host_packages[@]}")
for a in "${archs[@]}"; do
  wanted+=("${compiler[$a]}")
  for p in "${arch_packages[@]}"; do wanted+=("$p:$a"); done
done

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-cross-deps: all ${#wanted[@]} packages present for ${archs[*]}"
  exit 0
fi

echo "install-cross-deps: installing ${missing[*]}"
# Always refresh: the lists may predate the foreign architectures.
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

for a in "${archs[@]}"; do
  t=${triplet[$a]}
  for tool in "/usr/bin/$t-g++" "/usr/bin/$t-pkg-config"; do
    [ -x "$tool" ] || { echo "install-cross-deps: $tool missing after install" >&2; exit 1; }
  done
done
echo "install-cross-deps: done for ${archs[*]}"
