#!/usr/bin/env bash
# e2e exit_handlers: a test that fails still cleans up everything it started. The EXIT handlers of the
# e2e scripts run under the script's errexit; one failing command in a handler (the `(exit $rc)` that
# hands the test's status to the next handler, a kill of a process already gone) used to end it there,
# leaving servers running and the scratch directory behind. Each case makes a test fail and checks
# that its exit status is kept, the processes it started are gone and its scratch directory removed:
# - pg_helpers.bash's pg_e2e_exit (PostgreSQL stubbed out: the case needs no server);
# - cluster.sh's cluster_exit, the deploy script replaced by one whose `prepare` fails (skipped where
#   haproxy or PostgreSQL is missing, as cluster.sh skips itself then);
# - import_staging.sh's handler, its big import failing at once (oilcast behind a wrapper whose
#   `simulate` writes nothing), so that the handler's kill -CONT meets a process already gone.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e=$(cd "$(dirname "$0")" && pwd)

# left_behind TMP: fails when the scratch directory the child test made in TMP is still there.
left_behind() {
  [[ -z "$(ls -A "$1")" ]] || fail "the failed test left its scratch directory: $(ls -A "$1")"
}
# gone PID WHAT: fails when PID still runs (a test's process its exit handler should have stopped).
gone() {
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  kill "$1"
  fail "$2 (pid $1) still runs after the failed test's exit"
}

# --- pg_helpers.bash: a failure after pg_e2e_start, with a server that does not stop cleanly ---
mkdir -p "$OC_TMP/pg-tmp"
cat >"$OC_TMP/pg_case.sh" <<EOF
source "$e2e/lib.sh"
source "$e2e/pg_helpers.bash"
pg_start() { PG_URI=postgresql://stub/; }
pg_stop() { return 1; }
pg_e2e_start
sleep 60 >/dev/null 2>&1 &
echo \$! >"$OC_TMP/pg_case.pid"
oc_kill_later \$!
exit 3
EOF
rc=0
TMPDIR=$OC_TMP/pg-tmp bash "$OC_TMP/pg_case.sh" >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 3 "the exit status of a failed PostgreSQL test"
gone "$(cat "$OC_TMP/pg_case.pid")" "a process of the PostgreSQL test"
left_behind "$OC_TMP/pg-tmp"

# --- cluster.sh: the cluster fails to prepare ---
if command -v haproxy >/dev/null && compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  mkdir -p "$OC_TMP/cluster-tmp" "$OC_TMP/fake-root/deploy/cluster"
  cat >"$OC_TMP/fake-root/deploy/cluster/cluster.sh" <<EOF
#!/usr/bin/env bash
echo "\$1" >>"$OC_TMP/cluster-calls"
[[ \$1 == stop ]]
EOF
  chmod +x "$OC_TMP/fake-root/deploy/cluster/cluster.sh"
  rc=0
  TMPDIR=$OC_TMP/cluster-tmp OILCAST_SOURCE_DIR=$OC_TMP/fake-root bash "$e2e/cluster.sh" >/dev/null 2>&1 || rc=$?
  assert_eq "$rc" 1 "the exit status of a failed cluster test"
  assert_eq "$(cat "$OC_TMP/cluster-calls")" $'prepare\nstop' "what the failed cluster test asked of the deploy script"
  left_behind "$OC_TMP/cluster-tmp"
else
  echo "haproxy or PostgreSQL missing: cluster.sh's handler not checked"
fi

# --- import_staging.sh: its server started, the big import fails ---
if command -v sqlite3 >/dev/null; then
  mkdir -p "$OC_TMP/import-tmp"
  cat >"$OC_TMP/oilcast" <<EOF
#!/usr/bin/env bash
echo "\$\$ \$1" >>"$OC_TMP/import-calls"
[[ \$1 == simulate ]] && exit 0
exec "$OILCAST_BIN" "\$@"
EOF
  chmod +x "$OC_TMP/oilcast"
  rc=0
  TMPDIR=$OC_TMP/import-tmp OILCAST_BIN=$OC_TMP/oilcast bash "$e2e/import_staging.sh" >/dev/null 2>&1 || rc=$?
  assert_eq "$rc" 1 "the exit status of a failed import_staging test"
  server=$(awk '$2 == "serve" { print $1 }' "$OC_TMP/import-calls")
  [[ -n $server ]] || fail "the import_staging test started no server: $(cat "$OC_TMP/import-calls")"
  gone "$server" "the server of the import_staging test"
  left_behind "$OC_TMP/import-tmp"
else
  echo "sqlite3 missing: import_staging.sh's handler not checked"
fi
echo "failed tests keep their exit status, stop what they started and remove their scratch directory"
