# pg_helpers.bash: a throwaway PostgreSQL server for an end-to-end test (tests/support/pg.sh), on top of
# lib.sh (sourced, not a test: ctest registers only *.sh).
#   pg_e2e_start [EXIT_FN]   starts the server in $OC_TMP/pg and sets PG_URI (append a database name);
#                            skips the test (exit 77) where PostgreSQL is not installed (pg.sh fails
#                            instead under CI=true). At exit, a running `oilcast serve` ($SERVE_PID) and
#                            then the server are stopped before EXIT_FN (default oc_cleanup), the exit
#                            function the test had, runs.
source "${OILCAST_SOURCE_DIR:-$(dirname "${BASH_SOURCE[0]}")/../..}/tests/support/pg.sh"

pg_e2e_start() {
  local rc=0
  PG_E2E_EXIT_FN=${1:-oc_cleanup}
  pg_start "$OC_TMP/pg" || rc=$?
  [[ $rc -eq 77 ]] && exit 77
  [[ $rc -eq 0 ]] || fail "PostgreSQL did not start"
  trap pg_e2e_exit EXIT
}

# set +e first: under errexit a failing step (or the `(exit $rc)` that hands the test's status on) would
# end the handler there, leaving the server running and $OC_TMP behind (tests/e2e/exit_handlers.sh).
pg_e2e_exit() {
  local rc=$?
  set +e
  [[ -z "${SERVE_PID:-}" ]] || kill "$SERVE_PID" 2>/dev/null
  pg_stop "$OC_TMP/pg"
  (exit $rc)
  "$PG_E2E_EXIT_FN"
}
