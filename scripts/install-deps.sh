#!/usr/bin/env bash
# Installs the Debian 12 packages that building, running and testing need.
# Idempotent: apt-get skips what is already installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkgconf git ca-certificates
  protobuf-compiler protobuf-compiler-grpc libgrpc++-dev libprotobuf-dev grpc-proto
  libpaho-mqttpp-dev libpaho-mqtt-dev libssl-dev
  libspdlog-dev libcli11-dev nlohmann-json3-dev libsqlite3-dev
  libgtest-dev libgmock-dev
  mosquitto mosquitto-clients
  curl procps
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
