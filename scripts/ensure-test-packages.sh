#!/usr/bin/env bash
# Installs the system packages the test suite needs when they are missing (Debian, as root).
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need these Debian packages: ${missing[*]}. Install them (as root: apt-get install -y ${missing[*]}) and run again." >&2
  exit 1
fi
echo "Installing ${missing[*]} for the browser tests…" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
