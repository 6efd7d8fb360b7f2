#!/usr/bin/env bash
# Throwaway single-node Ceph RADOS Gateway (real S3) for tests, CI and people.
#
#   scripts/ceph-rgw.sh install               install the Debian packages if missing
#   scripts/ceph-rgw.sh start [STATE_DIR]     start a cluster; print env lines on stdout
#   scripts/ceph-rgw.sh stop STATE_DIR        kill what start recorded, delete STATE_DIR
#   scripts/ceph-rgw.sh run -- CMD [ARGS...]  start, run CMD with the env exported, stop
#
# One monitor + one memstore OSD + radosgw, all on 127.0.0.1 with free ports and
# everything (config, keys, data, sockets, logs) inside STATE_DIR, so several can
# run in parallel and nothing touches /etc/ceph or /var/lib/ceph.
set -euo pipefail

readonly CLUSTER=postbox
readonly ACCESS_KEY=POSTBOXTESTACCESSKEY
readonly SECRET_KEY=postboxTestSecretKey0123456789abcdefghij
readonly REGION=us-east-1 # RGW's default zonegroup accepts it (SigV4 + CreateBucket)
readonly RGW_WAIT_SECONDS=${CEPH_RGW_WAIT_SECONDS:-90}
readonly MEMSTORE_BYTES=$((${CEPH_RGW_MEMSTORE_MIB:-2048} * 1024 * 1024)) # the OSD keeps objects in memory, up to this
readonly MARKER=.postbox-ceph-rgw # proves a directory is ours before we delete it

# Set while start runs, so a failure can clean up what it started.
STATE=""
STATE_IS_TEMP=0

log() { printf 'ceph-rgw: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

ceph_args() { printf '%s\n' --cluster "$CLUSTER" -c "$STATE/ceph.conf"; }

# The ceph CLI waits forever for an unreachable monitor unless told otherwise.
ceph_cli() {
  local args
  mapfile -t args < <(ceph_args)
  ceph "${args[@]}" --connect-timeout 20 "$@"
}

# ---------------------------------------------------------------- install

cmd_install() {
  local bin missing=0
  for bin in radosgw ceph-mon ceph-osd ceph-authtool monmaptool radosgw-admin ceph; do
    command -v "$bin" >/dev/null || missing=1
  done
  if ((missing == 0)); then
    log "ceph packages already installed ($(ceph --version 2>/dev/null | cut -d' ' -f1-3))"
    return 0
  fi
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  log "installing radosgw ceph-mon ceph-osd ceph-common"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq </dev/null >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    radosgw ceph-mon ceph-osd ceph-common </dev/null >&2
}

# ---------------------------------------------------------------- helpers

# Alive and not a zombie (daemons are our children until start exits).
alive() {
  local pid=$1 state
  [[ -r /proc/$pid/stat ]] || return 1
  read -r _ _ state _ <"/proc/$pid/stat" 2>/dev/null || return 1
  [[ $state != Z ]]
}

# Only PIDs whose command line names this state dir: guards against PID reuse.
ours() {
  local pid=$1 dir=$2
  alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/"
}

# N distinct free loopback ports, below the kernel's ephemeral range so outgoing
# client connections cannot grab one between this check and the daemon's bind.
free_ports() {
  python3 - "$1" <<'EOF'
import random, socket, sys
want, ports = int(sys.argv[1]), []
while len(ports) < want:
    port = random.randrange(20000, 32000)
    if port in ports:
        continue
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    ports.append(port)
print(*ports)
EOF
}

# Any HTTP answer at all (even 403) means the gateway is serving.
http_up() {
  python3 - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=3)
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)
EOF
}

# Start a daemon in the foreground (-f) in the background, recording its PID.
spawn() {
  local name=$1
  shift
  local args
  mapfile -t args < <(ceph_args)
  "$@" "${args[@]}" -f </dev/null >>"$STATE/log/$name.out" 2>&1 &
  echo "$!" >>"$STATE/pids"
  log "started $name (pid $!)"
}

show_logs() {
  local f
  for f in "$STATE"/log/*; do
    [[ -s $f ]] || continue
    printf '\n==> %s (last 25 lines) <==\n' "$f" >&2
    tail -n 25 "$f" >&2
  done
}

# ---------------------------------------------------------------- stop

cmd_stop() {
  local dir=${1:-}
  [[ -n $dir ]] || die "usage: $0 stop STATE_DIR"
  if [[ ! -d $dir ]]; then
    log "$dir does not exist; nothing to stop"
    return 0
  fi
  dir=$(cd "$dir" && pwd -P)
  [[ -e $dir/$MARKER ]] || die "$dir was not made by $0 (no $MARKER); refusing to touch it"
  stop_pids "$dir"
  rm -rf -- "$dir"
  log "stopped and removed $dir"
}

# Newest first (rgw, osd, mon): each exits in well under a second while the
# monitor is still up, but takes seconds when they all lose it at once.
stop_pids() {
  local dir=$1 pid pids=()
  [[ -f $dir/pids ]] || return 0
  while read -r pid; do
    [[ $pid =~ ^[0-9]+$ ]] && ours "$pid" "$dir" && pids=("$pid" "${pids[@]}")
  done <"$dir/pids"
  ((${#pids[@]})) || return 0
  log "stopping pids ${pids[*]}"
  for pid in "${pids[@]}"; do terminate "$pid"; done
}

# TERM, up to 10 s to exit, then KILL.
terminate() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    log "pid $pid ignored TERM for 10s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Reaps it when it is our own child (run mode); harmless otherwise.
  wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- start

# A state dir whose recorded daemons are all still up, with its env written.
already_running() {
  local dir=$1
  [[ -n $dir && -e $dir/$MARKER && -s $dir/env ]] && all_alive "$(cd "$dir" && pwd -P)"
}

# Use a fresh temp dir, an empty/new one, or a dead leftover of ours.
prepare_state_dir() {
  local dir=$1
  if [[ -z $dir ]]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/postbox-ceph-rgw.XXXXXX")
    STATE_IS_TEMP=1
  else
    mkdir -p -- "$dir"
    dir=$(cd "$dir" && pwd -P)
    if [[ -e $dir/$MARKER ]]; then
      log "cleaning leftovers of an earlier run in $dir"
      stop_pids "$dir"
      find "$dir" -mindepth 1 -delete
    elif [[ -n $(ls -A -- "$dir") ]]; then
      die "$dir is not empty and was not made by $0"
    fi
  fi
  STATE=$dir
  mkdir -p "$STATE"/{log,run,crash,mon,osd,rgw}
  touch "$STATE/$MARKER" "$STATE/pids"
}

all_alive() {
  local pid n=0
  [[ -f $1/pids ]] || return 1
  while read -r pid; do
    ours "$pid" "$1" || return 1
    n=$((n + 1))
  done <"$1/pids"
  ((n == 3))
}

write_conf() {
  local mon_v1=$1 mon_v2=$2 rgw_port=$3 fsid=$4
  cat >"$STATE/ceph.conf" <<EOF
[global]
fsid = $fsid
mon initial members = a
mon host = [v2:127.0.0.1:$mon_v2,v1:127.0.0.1:$mon_v1]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
run dir = $STATE/run
crash dir = $STATE/crash
log file = $STATE/log/\$cluster-\$name.log
mon cluster log file = $STATE/log/\$cluster.log
osd pool default size = 1
osd pool default min size = 1
# RGW makes ~7 pools; the pacific default of 32 PGs each would exceed mon_max_pg_per_osd.
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false

[mon]
mon data = $STATE/mon/\$cluster-\$id

[osd]
osd data = $STATE/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES

[client.admin]
keyring = $STATE/admin.keyring

[client.rgw.a]
keyring = $STATE/rgw.keyring
rgw data = $STATE/rgw
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
# A lifecycle "day" lasts this many seconds, and the lifecycle thread runs as often: tests prove
# expiration and abort rules (server/conformance/lifecycle-rgw.test.ts). Buckets without rules are not affected.
rgw lc debug interval = 4
EOF
}

start_mon() {
  local mon_v1=$1 mon_v2=$2 fsid=$3 args
  mapfile -t args < <(ceph_args)
  ceph-authtool --create-keyring "$STATE/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$STATE/admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
  ceph-authtool "$STATE/mon.keyring" --import-keyring "$STATE/admin.keyring" >/dev/null
  monmaptool --create --clobber --enable-all-features --fsid "$fsid" \
    --addv a "[v2:127.0.0.1:$mon_v2,v1:127.0.0.1:$mon_v1]" "$STATE/monmap" >/dev/null
  ceph-mon "${args[@]}" --mkfs -i a --monmap "$STATE/monmap" --keyring "$STATE/mon.keyring" \
    >>"$STATE/log/mkfs.out" 2>&1
  spawn mon.a ceph-mon -i a
}

start_osd() {
  local uuid id data args
  mapfile -t args < <(ceph_args)
  uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
  id=$(ceph_cli osd new "$uuid" 2>>"$STATE/log/cli.err")
  data="$STATE/osd/$CLUSTER-$id"
  mkdir -p "$data"
  # mkfs authenticates as the OSD, so its key must exist in the monitor first.
  ceph_cli auth get-or-create "osd.$id" mon 'allow profile osd' mgr 'allow profile osd' \
    osd 'allow *' -o "$data/keyring" 2>>"$STATE/log/cli.err"
  ceph-osd "${args[@]}" -i "$id" --mkfs --osd-uuid "$uuid" --keyring "$data/keyring" \
    >>"$STATE/log/mkfs.out" 2>&1
  spawn "osd.$id" ceph-osd -i "$id"
}

start_rgw() {
  ceph_cli auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' mgr 'allow rw' \
    -o "$STATE/rgw.keyring" 2>>"$STATE/log/cli.err"
  spawn rgw.a radosgw -n client.rgw.a
}

wait_for_rgw() {
  local url=$1 deadline=$((SECONDS + RGW_WAIT_SECONDS)) pid
  log "waiting up to ${RGW_WAIT_SECONDS}s for RGW at $url"
  until http_up "$url"; do
    while read -r pid; do
      alive "$pid" || die "daemon pid $pid exited during startup"
    done <"$STATE/pids"
    ((SECONDS < deadline)) || die "RGW did not answer on $url within ${RGW_WAIT_SECONDS}s"
    sleep 1
  done
}

create_user() {
  local args
  mapfile -t args < <(ceph_args)
  radosgw-admin "${args[@]}" user create --uid=postbox-test --display-name="Postbox test" \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" \
    >>"$STATE/log/radosgw-admin.out" 2>&1
}

write_env() {
  local rgw_port=$1
  {
    printf 'S3_ENDPOINT=%q\n' "http://127.0.0.1:$rgw_port"
    printf 'AWS_ACCESS_KEY_ID=%q\n' "$ACCESS_KEY"
    printf 'AWS_SECRET_ACCESS_KEY=%q\n' "$SECRET_KEY"
    printf 'S3_REGION=%q\n' "$REGION"
    printf 'CEPH_RGW_STATE_DIR=%q\n' "$STATE"
  } >"$STATE/env.tmp"
  mv "$STATE/env.tmp" "$STATE/env"
}

on_start_failure() {
  local rc=$?
  ((rc == 0)) && return 0
  [[ -n $STATE && -d $STATE ]] || return 0
  log "start failed (exit $rc); logs from $STATE:"
  show_logs
  stop_pids "$STATE"
  if ((STATE_IS_TEMP)); then rm -rf -- "$STATE"; fi
}

# Starts a cluster and leaves STATE pointing at it; prints nothing on stdout.
start_cluster() {
  local dir=$1 mon_v1 mon_v2 rgw_port fsid t0=$SECONDS
  command -v radosgw >/dev/null || die "radosgw not found; run: $0 install"
  if already_running "$dir"; then
    STATE=$(cd "$dir" && pwd -P)
    log "cluster already running in $STATE"
    return 0
  fi
  trap on_start_failure EXIT
  prepare_state_dir "$dir"
  read -r mon_v1 mon_v2 rgw_port < <(free_ports 3)
  fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
  log "state dir $STATE; mon ports $mon_v1/$mon_v2, rgw port $rgw_port"
  write_conf "$mon_v1" "$mon_v2" "$rgw_port" "$fsid"
  start_mon "$mon_v1" "$mon_v2" "$fsid"
  start_osd
  start_rgw
  wait_for_rgw "http://127.0.0.1:$rgw_port/"
  create_user
  write_env "$rgw_port"
  trap - EXIT
  log "ready in $((SECONDS - t0))s"
}

cmd_start() {
  start_cluster "${1:-}"
  cat "$STATE/env"
}

# ---------------------------------------------------------------- run

cmd_run() {
  if [[ ${1:-} == -- ]]; then shift; fi
  (($#)) || die "usage: $0 run -- CMD [ARGS...]"
  start_cluster ""
  local dir=$STATE
  # shellcheck disable=SC2064 # expand dir now
  trap "cmd_stop $(printf %q "$dir")" EXIT
  set -a
  # shellcheck source=/dev/null
  . "$dir/env"
  set +a
  sed 's/^/ceph-rgw: /' "$dir/env" >&2
  local rc=0
  run_child "$@" || rc=$?
  exit "$rc"
}

# Run CMD as a child we wait for, rather than in the foreground, so a TERM sent
# to this script alone (timeout, CI) is handled now: passed on to CMD, then the
# EXIT trap stops the cluster. `<&0` keeps stdin, which `&` would replace.
run_child() {
  local child rc
  "$@" <&0 &
  child=$!
  # shellcheck disable=SC2064 # expand child now
  trap "kill -TERM $child 2>/dev/null || true" INT TERM
  while :; do
    wait "$child" && rc=0 || rc=$?
    # wait also returns when a trapped signal arrives; go on until CMD is gone.
    kill -0 "$child" 2>/dev/null || break
  done
  return "$rc"
}

main() {
  # Turn signals into an ordinary exit so the EXIT traps clean up.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local sub=${1:-}
  shift || true
  case $sub in
    install) cmd_install "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    run) cmd_run "$@" ;;
    *)
      sed -n '2,7s/^# \{0,1\}//p' "$0" >&2
      exit 2
      ;;
  esac
}

main "$@"
