#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs the Debian packages,
# builds with warnings as errors, and runs every test.
#
#   scripts/test.sh                 everything (what CI runs)
#   scripts/test.sh native          native unit + integration + packaging only
#   scripts/test.sh cross           ARM cross builds, tests under qemu only
#
# Stages print their wall time so that the 40-minute CI budget stays visible.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
what=${1:-all}
jobs=$(nproc)
stage() { printf '\n=== %s (%s) ===\n' "$1" "$(date -u +%H:%M:%S)"; }
started=$(date +%s)

stage "install dependencies"
scripts/install-deps.sh

if [ "$what" = all ] || [ "$what" = native ]; then
  stage "native build (ci preset, -Werror)"
  cmake --preset ci
  cmake --build --preset ci -j "$jobs"
  stage "native tests"
  ctest --test-dir build-ci --output-on-failure -j "$jobs" --timeout 300
fi

if [ "$what" = all ] || [ "$what" = cross ]; then
  for arch in aarch64 armhf; do
    stage "cross build and emulated tests: $arch"
    scripts/cross-test.sh "$arch" --output-on-failure -j "$jobs"
  done
fi

echo
echo "test.sh: all stages passed in $(( $(date +%s) - started )) s"
