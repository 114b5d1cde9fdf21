#!/usr/bin/env bash
# Installs what is needed, builds a release binary, starts a local mosquitto
# on 127.0.0.1:1883 (unless something already listens there) and runs the
# bridge in the foreground. Ctrl-C stops both.
#
#   scripts/run.sh [bridge flags...]      e.g. --log-level debug
#
# The socket lands in $DAPR_COMPONENTS_SOCKETS_FOLDER (default
# /tmp/dapr-components-sockets) as mqtt-bridge.sock: start daprd after this.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"

cd "$root"
cmake --preset release >/dev/null
cmake --build --preset release

run_dir="$root/build-release/run"
mkdir -p "$run_dir/state"
mosquitto_pid=
cleanup() {
  if [ -n "$mosquitto_pid" ]; then kill "$mosquitto_pid" 2>/dev/null || true; wait "$mosquitto_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

if (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  echo "run: a broker already listens on 127.0.0.1:1883; using it"
else
  cat > "$run_dir/mosquitto.conf" <<CONF
listener 1883 127.0.0.1
allow_anonymous true
persistence true
persistence_location $run_dir/
max_queued_messages 100000
CONF
  /usr/sbin/mosquitto -c "$run_dir/mosquitto.conf" > "$run_dir/mosquitto.log" 2>&1 &
  mosquitto_pid=$!
  for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break
    sleep 0.1
  done
  echo "run: mosquitto listening on 127.0.0.1:1883 (log: $run_dir/mosquitto.log)"
fi

export DAPR_COMPONENTS_SOCKETS_FOLDER="${DAPR_COMPONENTS_SOCKETS_FOLDER:-/tmp/dapr-components-sockets}"
echo "run: bridge socket $DAPR_COMPONENTS_SOCKETS_FOLDER/mqtt-bridge.sock; component type pubsub.mqtt-bridge"
"$root/build-release/dapr-mqtt-bridge" --state-dir "$run_dir/state" "$@" &
bridge_pid=$!
trap 'kill -TERM $bridge_pid 2>/dev/null || true' INT TERM
wait "$bridge_pid" || true
wait "$bridge_pid" 2>/dev/null || true
