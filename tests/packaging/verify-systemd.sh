#!/usr/bin/env bash
# Checks the shipped systemd files offline (PID 1 need not be systemd):
#   1. `systemd-analyze verify` on the bridge unit and on a stand-in daprd.service
#      carrying our drop-in example; any output on stderr, even a warning such
#      as an unknown key, fails the check (verify itself only fails on errors).
#   2. The default environment file parses as shell and sets BRIDGE_ARGS.
#   3. `systemd-analyze security --offline=true` exposure, which must be <= 2.0.
#
#   tests/packaging/verify-systemd.sh [BRIDGE_BINARY]
#
# BRIDGE_BINARY replaces /usr/bin/dapr-mqtt-bridge in ExecStart= when that is
# not installed, because verify requires the command to exist and be executable.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)/systemd
binary=${1:-}
max_exposure=2.0

if ! command -v systemd-analyze >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "verify-systemd: installing systemd for systemd-analyze"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd
  else
    echo "verify-systemd: systemd-analyze missing (apt-get install systemd)" >&2
    exit 1
  fi
fi
echo "verify-systemd: $(systemd-analyze --version | head -1)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

exec_start=/usr/bin/dapr-mqtt-bridge
if [ ! -x "$exec_start" ]; then
  if [ -n "$binary" ] && [ -x "$binary" ]; then
    exec_start=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
  else
    exec_start=/bin/true  # only the unit's syntax and semantics are checked
  fi
fi
sed "s|^ExecStart=/usr/bin/dapr-mqtt-bridge|ExecStart=$exec_start|" \
  "$src/dapr-mqtt-bridge.service" >"$work/dapr-mqtt-bridge.service"
grep -q "^ExecStart=$exec_start " "$work/dapr-mqtt-bridge.service"

# A minimal daprd.service so that the drop-in is loaded and its BindsTo=/After=
# resolve. verify adds the units' own directory to the search path, drop-ins included.
printf '[Unit]\nDescription=stand-in daprd\n[Service]\nExecStart=/bin/true\n' >"$work/daprd.service"
mkdir "$work/daprd.service.d"
cp "$src/daprd.service.d/10-dapr-mqtt-bridge.conf" "$work/daprd.service.d/"

status=0
(cd "$work" && systemd-analyze verify dapr-mqtt-bridge.service daprd.service) >"$work/out" 2>"$work/err" || status=$?
cat "$work/out"
if [ "$status" -ne 0 ] || [ -s "$work/err" ]; then
  echo "verify-systemd: FAIL: systemd-analyze verify exited $status with:" >&2
  cat "$work/err" >&2
  exit 1
fi
echo "verify-systemd: verify clean (unit + daprd drop-in, ExecStart=$exec_start)"

args=$(env -i sh -c 'set -e; . "$1"; printf %s "$BRIDGE_ARGS"' sh "$src/dapr-mqtt-bridge.default")
if [ -z "$args" ]; then
  echo "verify-systemd: FAIL: dapr-mqtt-bridge.default sets no BRIDGE_ARGS" >&2
  exit 1
fi
echo "verify-systemd: default BRIDGE_ARGS=$args"

systemd-analyze security --offline=true "$work/dapr-mqtt-bridge.service" >"$work/security" 2>&1 || true
exposure_line=$(grep -E 'Overall exposure level' "$work/security" || true)
if [ -z "$exposure_line" ]; then
  echo "verify-systemd: FAIL: no exposure level from systemd-analyze security:" >&2
  cat "$work/security" >&2
  exit 1
fi
grep -E '^✗' "$work/security" || true
echo "verify-systemd: $exposure_line"
exposure=$(sed -E 's/.*: ([0-9.]+) .*/\1/' <<<"$exposure_line")
if ! awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }'; then
  echo "verify-systemd: FAIL: exposure $exposure above $max_exposure" >&2
  exit 1
fi
echo "verify-systemd: PASS"
