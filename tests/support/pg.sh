#!/usr/bin/env bash
# pg.sh: a throwaway PostgreSQL server for tests and benchmarks, no global service needed: initdb into
# a directory, a server on a free loopback port (no Unix socket elsewhere than that directory), stopped
# by its PID file. Debian's postgresql-15 binaries (/usr/lib/postgresql/*/bin, or $OILCAST_PG_BIN).
# PostgreSQL refuses to run as root: as root the cluster belongs to the unprivileged user `nobody`.
# Durability is off (fsync, synchronous_commit): a test server's data dies with its directory.
#   pg.sh start DIR   prints the server's URI prefix "postgresql://oilcast@127.0.0.1:PORT/" (append a
#                     database name); exit 77 when PostgreSQL is not installed (1 under CI=true)
#   pg.sh stop DIR    stops the server started in DIR (fast shutdown; immediate when it lingers)
# Sourced, it defines the same as functions: pg_start DIR (sets PG_URI) and pg_stop DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/ports.sh"

pg_bin_dir() {
  local dir
  if [[ -n "${OILCAST_PG_BIN:-}" ]]; then echo "$OILCAST_PG_BIN"; return 0; fi
  for dir in /usr/lib/postgresql/*/bin; do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then echo "$dir"; return 0; fi
  done
  return 1
}

# Runs a PostgreSQL program as the cluster's owner.
pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
  else
    "$@"
  fi
}

pg_start() {
  local dir=$1 bin port
  if ! bin=$(pg_bin_dir); then
    if [[ "${CI:-}" == true ]]; then
      echo "pg.sh: PostgreSQL is not installed (scripts/deps.sh installs it) and CI=true" >&2
      return 1
    fi
    echo "pg.sh: PostgreSQL is not installed (scripts/deps.sh installs it): skipped" >&2
    return 77
  fi
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    chown nobody:nogroup "$dir"
    chmod o+x "$(dirname "$dir")" # the owner must reach DIR (a mktemp parent is 0700)
  fi
  # The databases sort text by a language's rules (ICU "en"), as a server initialised with a locale does,
  # not by bytes: the store must order its lists as SQLite does (by bytes) whatever the collation.
  pg_as_owner "$bin/initdb" -D "$dir/data" -U oilcast --auth=trust -E UTF8 --no-locale --locale-provider=icu \
    --icu-locale=en -N >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; return 1; }
  # A free port (scripts/ports.sh); one taken after the check fails the start: try another.
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    if pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1; then
      echo "$port" >"$dir/port"
      PG_URI="postgresql://oilcast@127.0.0.1:$port/"
      return 0
    fi
  done
  cat "$dir/server.log" >&2
  return 1
}

pg_stop() {
  local dir=$1 bin
  bin=$(pg_bin_dir) || return 0
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  pg_as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 10 stop >/dev/null 2>&1 ||
    pg_as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  case "${1:-}" in
  start)
    rc=0
    pg_start "${2:?usage: pg.sh start DIR}" || rc=$?
    [[ $rc -eq 0 ]] && echo "$PG_URI"
    exit $rc
    ;;
  stop) pg_stop "${2:?usage: pg.sh stop DIR}" ;;
  *)
    echo "usage: pg.sh start DIR | pg.sh stop DIR" >&2
    exit 2
    ;;
  esac
fi
