#!/usr/bin/env bash
# `npm test`: every test. Installs what a fresh machine lacks, starts a throwaway Ceph RGW (a real
# S3) for the conformance suite, then runs types, ESLint, Vitest (unit, integration, conformance) and
# Playwright. POSTBOX_RGW=off skips the real-S3 target (loudly); CI never skips it.
set -euo pipefail
# The AWS SDK warns on every start that its 2027 releases need Node 22: the lock file pins versions that run on Node 20.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
cd "$(dirname "$0")/.."

bash scripts/ensure-test-packages.sh
npx tsc -b
npx eslint --max-warnings 0 .
# One layout for the TypeScript (printWidth 140): `npm run format` writes it.
npx prettier --check --log-level warn "**/*.{ts,tsx}"

rgw_state=""
stop_rgw() { if [ -n "$rgw_state" ]; then bash scripts/ceph-rgw.sh stop "$rgw_state" || true; fi; }
trap stop_rgw EXIT

loud() { printf '\n!!! %s\n\n' "$*" >&2; }

if [ "${POSTBOX_RGW:-on}" = off ] && [ "${CI:-}" != true ]; then
  loud "POSTBOX_RGW=off: the conformance suite will NOT run against a real S3 (Ceph RGW)."
elif command -v radosgw >/dev/null 2>&1; then
  # start prints shell-quoted NAME=value lines: S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, …
  rgw_env=$(bash scripts/ceph-rgw.sh start)
  eval "$rgw_env"
  rgw_state=$CEPH_RGW_STATE_DIR
  # Exported under our own names so nothing else (the app's own settings) picks them up by accident.
  export POSTBOX_RGW_ENDPOINT=$S3_ENDPOINT POSTBOX_RGW_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID POSTBOX_RGW_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
  unset S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY S3_REGION CEPH_RGW_STATE_DIR
else
  loud "Ceph RGW is not installed: the conformance suite will NOT run against a real S3. Run as root (npm test installs it) or: bash scripts/ceph-rgw.sh install"
fi

# A throwaway Redis for the tests that share limits between instances (those that stop Redis start their own).
redis_pid=""
stop_redis() { if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi; }
trap 'stop_redis; stop_rgw' EXIT
redis_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >/dev/null &
redis_pid=$!
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do
  kill -0 "$redis_pid" 2>/dev/null || { loud "redis-server did not start"; exit 1; }
  sleep 0.1
done
export POSTBOX_REDIS_URL="redis://127.0.0.1:$redis_port"

npx vitest run
npx vite build
npx playwright test
