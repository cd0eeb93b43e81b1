#!/usr/bin/env bash
# Installs the system packages the tests drive for real (Chromium, kcat, nginx) when missing.
# Needs root (or passwordless sudo) for apt-get; otherwise it names what is missing and fails.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v kcat >/dev/null 2>&1 || need+=(kcat)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v envsubst >/dev/null 2>&1 || need+=(gettext-base)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)

if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present (chromium, kcat, nginx, envsubst, java, mvn)"
  exit 0
fi

echo "system packages: installing ${need[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
  echo "error: missing ${need[*]} and not root: install them with apt-get (Debian/Ubuntu)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "system packages: installed ${need[*]}"
