#!/usr/bin/env bash
# Build the project's own daprd (tests/daprd, a Go module requiring the released
# github.com/dapr/dapr module) into build-daprd/daprd at the repository root.
#
# Always calls `go build`: Go's build cache makes a warm rebuild cheap, and an
# up-to-date binary is not relinked. Go's module and build caches stay in their
# default places (GOMODCACHE, GOCACHE). Only the Go module proxy is needed.
#
# Usage: scripts/build-daprd.sh            -> prints the binary's path on stdout
# Env:   GO=/path/to/go  (default: go on PATH, else /usr/local/go/bin/go)
#        DAPRD_BUILD_DIR (default: <repo>/build-daprd)
#
# If the proxy refuses a module the build needs, this script fails loudly,
# naming the module, the version and the exact error, and exits non-zero.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/tests/daprd"
out_dir="${DAPRD_BUILD_DIR:-$root/build-daprd}"
out="$out_dir/daprd"

go="${GO:-}"
if [[ -z "$go" ]]; then
  if command -v go >/dev/null 2>&1; then go="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then go=/usr/local/go/bin/go
  else
    echo "build-daprd: ERROR: no Go toolchain found (set GO=/path/to/go); tests/daprd needs go >= $(awk '$1=="go"{print $2}' "$src/go.mod")" >&2
    exit 1
  fi
fi

# The Dapr version is the one tests/daprd/go.mod requires; stamp it into
# buildinfo so that `daprd --version` reports it (upstream does the same via -X).
dapr_version="$(awk '$1=="require" && $2=="github.com/dapr/dapr" {print $3} $1=="github.com/dapr/dapr" {print $2}' "$src/go.mod" | head -n1)"
if [[ -z "$dapr_version" ]]; then
  echo "build-daprd: ERROR: cannot find the github.com/dapr/dapr requirement in $src/go.mod" >&2
  exit 1
fi

mkdir -p "$out_dir"
log="$out_dir/build.log"

ldflags="-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=${dapr_version#v} -X github.com/dapr/dapr/pkg/buildinfo.gitversion=${dapr_version}"

echo "build-daprd: building dapr ${dapr_version} daprd with $("$go" version) -> $out" >&2
start=$(date +%s.%N)
set +e
(cd "$src" && exec "$go" build -mod=readonly -buildvcs=false -trimpath -ldflags="$ldflags" -o "$out" .) >"$log" 2>&1
rc=$?
set -e
end=$(date +%s.%N)

# Print "module / version / error" for every download the Go module proxy (or
# the checksum database) refused, as Go reports them:
#   <module>@<version>: reading <url>: <status>
#   <TAB>server response: <text>
report_refusals() {
  local found=1 line mod rest ver err resp
  while IFS= read -r line; do
    found=0
    mod="${line%%@*}"; rest="${line#*@}"; ver="${rest%%:*}"; err="${rest#*: }"
    resp="$(grep -h -F -A1 -- "$line" "$@" | grep -m1 'server response:' | sed 's/^[[:space:]]*//' || true)"
    echo "build-daprd:   module:  $mod"
    echo "build-daprd:   version: $ver"
    echo "build-daprd:   error:   $err${resp:+ ($resp)}"
  done < <(grep -hoE '[^ 	:]+@v[^ :]+: (reading|verifying) [^ ]+: .*' "$@" | sort -u)
  return $found
}

if [[ $rc -ne 0 ]]; then
  {
    echo "================================================================"
    echo "build-daprd: ERROR: go build of tests/daprd (dapr ${dapr_version}) failed (exit $rc)."
    echo "build-daprd: go output ($log):"
    sed 's/^/  | /' "$log"
    logs=("$log")
    if grep -qE 'missing go.sum entry|updates to go.mod needed' "$log"; then
      # go.mod/go.sum cannot be complete when a needed module cannot be
      # downloaded. Resolve the graph in a scratch copy (never touching the
      # committed go.mod/go.sum) to surface the underlying download error.
      diag="$out_dir/diagnose"
      rm -rf "$diag" && mkdir -p "$diag"
      cp "$src"/go.mod "$src"/*.go "$diag"/ && { cp "$src"/go.sum "$diag"/ 2>/dev/null || true; }
      (cd "$diag" && exec "$go" mod tidy) >"$out_dir/diagnose.log" 2>&1 || true
      logs+=("$out_dir/diagnose.log")
      echo "build-daprd: 'go mod tidy' in a scratch copy ($out_dir/diagnose.log):"
      { grep -v '^go: downloading' "$out_dir/diagnose.log" | head -n 40 | sed 's/^/  | /'; } || true
    fi
    if refusals="$(report_refusals "${logs[@]}")"; then
      echo "build-daprd: the Go module proxy REFUSED a module this build needs:"
      echo "$refusals"
      echo "build-daprd: pick a github.com/dapr/dapr version whose whole module graph the proxy serves (see tests/daprd/README.md)."
    fi
    echo "================================================================"
  } >&2
  exit "$rc"
fi

# Report downloads (cold module cache) as a count, anything else go printed verbatim.
downloads=$(grep -c '^go: downloading' "$log" || true)
if [[ "$downloads" -gt 0 ]]; then
  echo "build-daprd: downloaded $downloads modules from the Go module proxy" >&2
fi
{ grep -v '^go: downloading' "$log" | sed 's/^/build-daprd: /' >&2; } || true
echo "build-daprd: ok in $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}') s: daprd --version = $("$out" --version)" >&2
echo "$out"
