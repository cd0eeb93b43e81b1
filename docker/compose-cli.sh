#!/usr/bin/env bash
# Builds the Docker Compose v2 CLI once from the Go module proxy at a pinned version and caches it.
# No image registry or release download is reachable here, but the Go proxy is; a second run builds
# nothing. The cache lives outside the work tree (shared by clones and worktrees, survives `make clean`).
# Prints the path of the binary on stdout.
set -euo pipefail

version="${COMPOSE_VERSION:-v5.6.0}"
cache="${TICKERFLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tickerflow}"
out="$cache/compose/$version/docker-compose"

if [ -x "$out" ]; then
  echo "$out"
  exit 0
fi
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || {
  echo "error: Go is needed once to build the Compose CLI (apt-get install golang-go)" >&2
  exit 2
}
go=$(command -v go || echo /usr/local/go/bin/go)
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOFLAGS=-mod=mod
echo "compose-cli: building github.com/docker/compose/v5@$version (once, ~2-4 min)" >&2
started=$(date +%s)
dir=$("$go" mod download -json "github.com/docker/compose/v5@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$dir" ] || { echo "error: go mod download gave no module folder" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
(cd "$dir" && "$go" build -trimpath -ldflags "-s -w -X github.com/docker/compose/v5/internal.Version=$version" \
  -o "$out.tmp" ./cmd)
mv "$out.tmp" "$out"
echo "compose-cli: built $out in $(( $(date +%s) - started ))s" >&2
echo "$out"
