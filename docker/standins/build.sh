#!/usr/bin/env bash
# Builds the stand-in base images (see README.md) into the engine at $DOCKER_HOST, each one only
# when the sha256 of its own files (and of the Python stand-in it builds on) differs from the
# label on the image already there. Needs root (debootstrap), the Debian mirror apt uses, and mvn.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${STANDIN_WORK:-$here/../../.run/docker/standins}"
label=org.tickerflow.standin.hash
PYTHON_TAG=python:3.11.14-slim-bookworm
KAFKA_TAG=apache/kafka:4.2.1
NGINX_TAG=nginxinc/nginx-unprivileged:1.29.3-alpine

files_hash() {  # sha256 over the names and contents of a stand-in's files, plus extra text
  (cd "$here/$1" && find . -type f | LC_ALL=C sort | xargs sha256sum; echo "${2:-}") | sha256sum | cut -c1-16
}

current() { docker image inspect -f "{{index .Config.Labels \"$label\"}}" "$1" 2>/dev/null || true; }

mirror() {  # the Debian mirror apt already uses on this machine
  local uri
  uri=$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ \
    2>/dev/null | head -1 | awk '{print $2}')
  echo "${uri:-http://deb.debian.org/debian}"
}

build_python() {
  local hash=$1 root
  command -v debootstrap >/dev/null || { echo "error: debootstrap missing (apt-get install debootstrap)" >&2; exit 2; }
  root=$(mktemp -d "${TMPDIR:-/var/tmp}/tickerflow-rootfs.XXXXXX")
  debootstrap --variant=minbase --include="$(paste -sd, "$here/python/packages.txt")" bookworm "$root" \
    "$(mirror)" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; rm -rf "$root"; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  # Trust what the host trusts beyond Debian's CAs (a TLS-inspecting egress proxy, for one), and
  # make pip use the system store, so that a Dockerfile's `pip install` works here as on the host.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null 2>&1
  fi
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$root/etc/pip.conf"
  tar -C "$root" -c . | docker import --change "LABEL $label=$hash" --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' - "$PYTHON_TAG" >/dev/null
  rm -rf "$root"
}

build_kafka() {
  local hash=$1 context="$work/kafka"
  rm -rf "$context" && mkdir -p "$context" && cp -a "$here/kafka/." "$context/"
  mvn -B -q -Dstyle.color=never -f "$context/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$context/libs" -DincludeScope=runtime >"$work/mvn.log" 2>&1 \
    || { tail -20 "$work/mvn.log" >&2; exit 1; }
  docker build -q --label "$label=$hash" -t "$KAFKA_TAG" "$context" >/dev/null
}

build_nginx() {
  docker build -q --label "$label=$1" -t "$NGINX_TAG" "$here/nginx" >/dev/null
}

ensure() {  # ensure NAME TAG HASH
  local started
  if [ "$(current "$2")" = "$3" ]; then
    echo "stand-in $2: cached ($3)"
    return
  fi
  started=$(date +%s)
  "build_$1" "$3"
  echo "stand-in $2: built in $(( $(date +%s) - started ))s ($3)"
}

mkdir -p "$work"
python_hash=$(files_hash python "$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null | sha256sum)")
ensure python "$PYTHON_TAG" "$python_hash"
ensure kafka "$KAFKA_TAG" "$(files_hash kafka "$python_hash")"
ensure nginx "$NGINX_TAG" "$(files_hash nginx "$python_hash")"
