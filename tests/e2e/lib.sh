# lib.sh: shared helpers for the end-to-end tests (source it; it is not a test itself).
#   oc ARGS...                run the oilcast binary under test ($OILCAST_BIN)
#   $OC_TMP                   a scratch directory removed at exit; OILCAST_DATA_DIR points inside it
#   oc_require_test_data      sets $DATA to the shared EIA data, or skips (exit 77; fails when CI=true)
#   oc_wti_prices "$OILCAST_BIN" DATA_DIR SCRATCH   $PRICES: the real WTI file, or without it a simulated
#                             stand-in (tests/support/prices.sh), for a test that needs any price series
#   assert_eq A B MSG | assert_contains TEXT NEEDLE MSG | assert_exit CODE CMD... | fail MSG
#   free_port                 prints a free TCP port on 127.0.0.1 (scripts/ports.sh)
#   oc_kill_later PID         kills PID (if still running) when the test exits. Start background
#                             processes as "$OILCAST_BIN" ... & (not oc ... &) so that $! is oilcast itself
set -euo pipefail

OILCAST_BIN=${OILCAST_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/oilcast}
OC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/oilcast-e2e-XXXXXX")
export OILCAST_DATA_DIR="$OC_TMP/data"
OC_KILL_PIDS=()

oc_cleanup() {
  local pid
  for pid in "${OC_KILL_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${OC_KILL_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$OC_TMP"
}
trap oc_cleanup EXIT

oc() { "$OILCAST_BIN" "$@"; }

source "$(dirname "${BASH_SOURCE[0]}")/../support/prices.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/ports.sh"

oc_kill_later() { OC_KILL_PIDS+=("$1"); }

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

oc_require_test_data() {
  DATA=${OILCAST_TEST_DATA:-${OILCAST_SOURCE_DIR:-.}/../shared/data}
  if [[ ! -r "$DATA/wti-daily.csv" ]]; then
    if [[ "${CI:-}" == true ]]; then fail "test data not found at $DATA (OILCAST_TEST_DATA) and CI=true"; fi
    echo "test data not found at $DATA (set OILCAST_TEST_DATA): skipped" >&2
    exit 77
  fi
}

assert_eq() {
  [[ "$1" == "$2" ]] || fail "${3:-values differ}: expected [$2], got [$1]"
}

assert_contains() {
  [[ "$1" == *"$2"* ]] || fail "${3:-missing text}: [$2] not found in [$1]"
}

# assert_exit CODE CMD...: runs CMD, requires its exit status to be CODE.
assert_exit() {
  local want=$1 got=0
  shift
  "$@" || got=$?
  [[ $got == "$want" ]] || fail "exit status $got, expected $want: $*"
}
