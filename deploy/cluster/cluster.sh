#!/usr/bin/env bash
# cluster.sh: several oilcast nodes on one machine, as an example of a deployment that uses only
# Debian packages (postgresql, haproxy): one PostgreSQL server, N `oilcast serve` processes on one data
# directory whose store is that server, and haproxy in front of them (haproxy.cfg.in). Everything
# listens on 127.0.0.1 on free ports and lives in DIR; every process is stopped by the PID it recorded.
# README.md explains the pieces and how this maps to several machines.
#   cluster.sh prepare DIR         starts PostgreSQL (unless OILCAST_CLUSTER_STORE names one) and, the
#                                  first time, creates the data directory DIR/data on it (admin key in
#                                  DIR/admin.key): import data, train, write jobs.conf before the nodes
#   cluster.sh start DIR [NODES]   prepare, then NODES nodes (default 3) and haproxy; prints the URL
#   cluster.sh stop DIR            stops haproxy, the nodes and PostgreSQL
#   cluster.sh node-stop DIR I     stops node I (SIGTERM: it drains its requests)
#   cluster.sh node-start DIR I    (re)starts node I on its port (haproxy's checks take it back)
#   cluster.sh url DIR             prints the cluster's URL
# Environment: OILCAST (the binary; default `oilcast` on PATH), OILCAST_CLUSTER_STORE (an existing
# postgresql:// URI to use instead of starting a server), OILCAST_CLUSTER_THROWAWAY=yes (tests and
# benchmarks: a cluster whose data dies with it, so initdb skips its fsyncs and PostgreSQL runs without
# fsync), OILCAST_CLUSTER_SERVE_OPTIONS (extra options of every node, e.g. "--threads 4").
# Exit 1 with a message on the first failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OILCAST=${OILCAST:-oilcast}

throwaway=
[[ ${OILCAST_CLUSTER_THROWAWAY:-} == yes ]] && throwaway=yes

die() {
  echo "cluster.sh: $*" >&2
  exit 1
}

# free_port: a port nothing listens on now, on 127.0.0.1, outside the ephemeral range (the helper the
# tests share; it needs the repository's scripts/ beside deploy/).
source "$here/../../scripts/ports.sh"

# A free port that no process of the cluster in DIR was given: the nodes start side by side, so none
# of them listens yet when the next one's port is chosen.
cluster_port() {
  local dir=$1 port
  for _ in 1 2 3 4 5; do
    port=$(free_port) || die "no free port on 127.0.0.1"
    cat "$dir"/*.port "$dir/pg/port" 2>/dev/null | grep -qx "$port" || { echo "$port"; return 0; }
  done
  die "no free port on 127.0.0.1 that the cluster does not use already"
}

# Debian's PostgreSQL binaries (postgresql-15: /usr/lib/postgresql/15/bin).
pg_bin() {
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    [[ -x $bin/pg_ctl ]] && { echo "$bin"; return 0; }
  done
  die "PostgreSQL is not installed (apt-get install postgresql)"
}

# PostgreSQL refuses to run as root: as root its files and processes belong to `nobody`.
as_pg_owner() {
  if [[ $(id -u) -eq 0 ]]; then setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; else "$@"; fi
}

start_postgres() {
  local dir=$1 bin port
  bin=$(pg_bin)
  [[ -f $dir/pg/data/postmaster.pid ]] && return 0 # running (prepared before)
  if [[ ! -d $dir/pg/data ]]; then
    mkdir -p "$dir/pg"
    if [[ $(id -u) -eq 0 ]]; then
      chown nobody:nogroup "$dir/pg"
      # nobody must reach DIR/pg: open the folders on the way that others cannot enter (a mktemp is 0700)
      local up=$dir
      while [[ $up != / ]] && ! setpriv --reuid=nobody --regid=nogroup --clear-groups -- test -x "$dir/pg"; do
        chmod o+x "$up"
        up=$(dirname "$up")
      done
    fi
    as_pg_owner "$bin/initdb" ${throwaway:+-N} -D "$dir/pg/data" -U oilcast --auth=trust -E UTF8 --no-locale >"$dir/pg/initdb.log" 2>&1 ||
      die "initdb failed: $(cat "$dir/pg/initdb.log")"
  fi
  port=$(cat "$dir/pg/port" 2>/dev/null || cluster_port "$dir")
  # -k: the Unix socket stays in DIR; -h: TCP on loopback only
  as_pg_owner "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 30 \
    -o "-h 127.0.0.1 -p $port -k $dir/pg ${throwaway:+-c fsync=off -c synchronous_commit=off -c full_page_writes=off}" start >/dev/null ||
    die "PostgreSQL did not start: $(tail -5 "$dir/pg/server.log")"
  echo "$port" >"$dir/pg/port"
  echo "postgresql://oilcast@127.0.0.1:$port/oilcast" >"$dir/store.uri"
}

stop_postgres() {
  local dir=$1
  [[ -f $dir/pg/data/postmaster.pid ]] || return 0
  as_pg_owner "$(pg_bin)/pg_ctl" -D "$dir/pg/data" -m fast -w -t 20 stop >/dev/null
}

# The data directory the nodes share (its files, e.g. model artifacts, beside the PostgreSQL store).
init_data() {
  local dir=$1
  [[ -f $dir/data/oilcast.conf ]] && return 0
  mkdir -p "$dir/data"
  echo "store = $(cat "$dir/store.uri")" >"$dir/data/oilcast.conf"
  (umask 077 && "$OILCAST" init --quiet --data-dir "$dir/data" >"$dir/admin.key") || die "oilcast init failed"
}

# Starts node I in the background (node_wait waits until it listens: nodes start side by side).
node_launch() {
  local dir=$1 i=$2 port
  [[ -f $dir/node$i.pid ]] && kill -0 "$(cat "$dir/node$i.pid")" 2>/dev/null && die "node $i is running already"
  port=$(cat "$dir/node$i.port" 2>/dev/null || cluster_port "$dir")
  echo "$port" >"$dir/node$i.port"
  # shellcheck disable=SC2086 # the extra options are words
  "$OILCAST" serve --data-dir "$dir/data" --listen "127.0.0.1:$port" --access-log "$dir/node$i.access.log" \
    ${OILCAST_CLUSTER_SERVE_OPTIONS:-} >"$dir/node$i.out" 2>>"$dir/node$i.log" &
  echo $! >"$dir/node$i.pid"
}

node_wait() {
  local dir=$1 i=$2 pid
  pid=$(cat "$dir/node$i.pid")
  for _ in $(seq 1 300); do
    grep -q 'listening on' "$dir/node$i.out" && return 0
    kill -0 "$pid" 2>/dev/null || die "node $i exited at start: $(tail -5 "$dir/node$i.log")"
    sleep 0.05
  done
  die "node $i did not start listening in 15 s"
}

# Stops the processes of the PID files (SIGTERM to all, then SIGKILL to any left after 15 s) and
# removes the files.
stop_pid_files() {
  local file pids=()
  for file in "$@"; do
    [[ -f $file ]] || continue
    kill -TERM "$(cat "$file")" 2>/dev/null && pids+=("$(cat "$file")")
    rm -f "$file"
  done
  for _ in $(seq 1 150); do
    ((${#pids[@]})) && kill -0 "${pids[@]}" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

start_haproxy() {
  local dir=$1 nodes=$2 port servers="" i
  command -v haproxy >/dev/null || die "haproxy is not installed (apt-get install haproxy)"
  port=$(cat "$dir/haproxy.port" 2>/dev/null || cluster_port "$dir")
  echo "$port" >"$dir/haproxy.port"
  for ((i = 1; i <= nodes; i++)); do servers+="    server node$i 127.0.0.1:$(cat "$dir/node$i.port") check"$'\n'; done
  sed -e "s|@LISTEN@|127.0.0.1:$port|" "$here/haproxy.cfg.in" | awk -v s="$servers" '/^@SERVERS@$/ {printf "%s", s; next} 1' \
    >"$dir/haproxy.cfg"
  haproxy -c -q -f "$dir/haproxy.cfg" || die "haproxy refuses $dir/haproxy.cfg"
  haproxy -D -p "$dir/haproxy.pid" -f "$dir/haproxy.cfg" 2>"$dir/haproxy.log" || die "haproxy did not start"
  echo "http://127.0.0.1:$port" >"$dir/url"
}

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || die "usage: cluster.sh prepare|start|stop|node-start|node-stop|url DIR [NODES|I]"
prepare() {
  local dir=$1
  if [[ -n ${OILCAST_CLUSTER_STORE:-} ]]; then echo "$OILCAST_CLUSTER_STORE" >"$dir/store.uri"; else start_postgres "$dir"; fi
  init_data "$dir"
}

case $cmd in
prepare)
  mkdir -p "$dir"
  prepare "$(cd "$dir" && pwd)"
  ;;
start)
  nodes=${3:-3}
  [[ $nodes =~ ^[1-9][0-9]?$ ]] || die "NODES must be 1..99, not '$nodes'"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  prepare "$dir"
  for ((i = 1; i <= nodes; i++)); do node_launch "$dir" "$i"; done
  for ((i = 1; i <= nodes; i++)); do node_wait "$dir" "$i"; done
  echo "$nodes" >"$dir/nodes"
  start_haproxy "$dir" "$nodes"
  echo "cluster: $(cat "$dir/url")/ ($nodes nodes on $(cat "$dir/store.uri"); admin key in $dir/admin.key)"
  ;;
stop)
  stop_pid_files "$dir/haproxy.pid"
  stop_pid_files "$dir"/node*.pid
  stop_postgres "$dir"
  ;;
node-start)
  dir=$(cd "$dir" && pwd)
  node_launch "$dir" "${3:?node number}"
  node_wait "$dir" "$3"
  ;;
node-stop) stop_pid_files "$dir/node${3:?node number}.pid" ;;
url) cat "$dir/url" ;;
*) die "unknown command '$cmd' (prepare, start, stop, node-start, node-stop, url)" ;;
esac
