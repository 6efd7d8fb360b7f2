#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing (as root):
# Chromium for the browser tests, Ceph RGW for the real-S3 conformance suite (unless POSTBOX_RGW=off),
# redis-server for the two-instance tests (limits shared through Redis).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  command -v chromium >/dev/null 2>&1 || { echo "The browser tests need Debian's chromium: apt-get install -y chromium (as root)." >&2; exit 1; }
  command -v redis-server >/dev/null 2>&1 || { echo "The two-instance tests need Debian's redis-server: apt-get install -y redis-server (as root)." >&2; exit 1; }
  exit 0
fi

if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing chromium for the browser tests…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq chromium </dev/null >/dev/null
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "Installing redis-server for the two-instance tests…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq redis-server </dev/null >/dev/null
fi

if [ "${POSTBOX_RGW:-on}" != off ] || [ "${CI:-}" = true ]; then
  bash scripts/ceph-rgw.sh install
fi
