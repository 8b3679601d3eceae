# serve_helpers.bash: shell helpers for the `oilcast serve` end-to-end tests, on top of lib.sh (sourced,
# not a test: ctest registers only *.sh). Starts a real server on a random loopback port (the server
# picks it: no race for a free port) and stops it by pid. Sets SERVE_PID, SERVE_URL, SERVE_LOG (stderr,
# including the access log).
# Every server started here records its responses (OILCAST_EXCHANGE_LOG=$SERVE_EXCHANGES) and a test
# that passes otherwise fails at exit unless each response matches docs/openapi.yaml
# (tests/api/validate_responses.mjs: documented operation and status, content type, JSON schema).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v curl >/dev/null || { echo "curl missing: skipped"; exit 77; }
SERVE_EXCHANGES=$OC_TMP/exchanges.jsonl

# serve_validate_exchanges: validates what the servers of this test answered so far.
serve_validate_exchanges() {
  [[ -n "${SERVE_STARTED:-}" ]] || return 0
  [[ -s "$SERVE_EXCHANGES" ]] || fail "the server recorded no exchanges in \$OILCAST_EXCHANGE_LOG ($SERVE_EXCHANGES)"
  local src=${OILCAST_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
  if ! command -v node >/dev/null || [[ ! -d "$src/node_modules/ajv" ]]; then
    [[ "${CI:-}" == true ]] && fail "node or node_modules/ajv missing (npm ci): responses not validated"
    echo "node or node_modules/ajv missing (npm ci): responses not validated against docs/openapi.yaml" >&2
    return 0
  fi
  node "$src/tests/api/validate_responses.mjs" "$src/docs/openapi.yaml" "$SERVE_EXCHANGES" >"$OC_TMP/validated.txt" ||
    fail "responses that do not match docs/openapi.yaml (above)"
  tail -n 1 "$OC_TMP/validated.txt"
}

serve_exit() {
  local rc=$?
  if ((rc == 0)); then (serve_validate_exchanges) || rc=1; fi
  oc_cleanup
  exit $rc
}
trap serve_exit EXIT

# serve_start DATA_DIR [serve options...]: returns once the server printed its URL.
serve_start() {
  local dir=$1
  shift
  SERVE_STARTED=1
  SERVE_OUT=$(mktemp "$OC_TMP/serve-out.XXXXXX")
  SERVE_LOG=$(mktemp "$OC_TMP/serve-log.XXXXXX")
  OILCAST_EXCHANGE_LOG=$SERVE_EXCHANGES "$OILCAST_BIN" serve --data-dir "$dir" --listen 127.0.0.1:0 "$@" \
    >"$SERVE_OUT" 2>"$SERVE_LOG" &
  SERVE_PID=$!
  oc_kill_later "$SERVE_PID"
  local i
  for ((i = 0; i < 400; i++)); do
    if grep -q 'listening on' "$SERVE_OUT"; then
      SERVE_URL=$(sed -nE 's|.*listening on (http://[^ ]+)/$|\1|p' "$SERVE_OUT")
      return 0
    fi
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$SERVE_LOG" >&2; fail "oilcast serve exited at start"; }
    sleep 0.05
  done
  fail "oilcast serve did not print its URL"
}

# serve_data_simulated DIR SEED CSV: initialises the data directory DIR with 300 days of simulated WTI
# (seed SEED, written to CSV and imported); prints its admin key.
serve_data_simulated() {
  "$OILCAST_BIN" init --data-dir "$1" 2>/dev/null
  "$OILCAST_BIN" simulate market --days 300 --seed "$2" --series WTI --out "$3" >/dev/null 2>&1
  "$OILCAST_BIN" ingest --data-dir "$1" --source historical --csv-path "$3" --series WTI >/dev/null 2>&1
}

# serve_stop: SIGTERM and wait; fails unless the server exits 0.
serve_stop() {
  [[ -n "${SERVE_PID:-}" ]] || return 0
  kill -TERM "$SERVE_PID" 2>/dev/null || true
  local rc=0
  wait "$SERVE_PID" || rc=$?
  SERVE_PID=
  [[ $rc -eq 0 ]] || { cat "$SERVE_LOG" >&2; fail "oilcast serve exited $rc on SIGTERM"; }
}

# http METHOD PATH [curl args...]: prints "STATUS BODY" (body on one line).
http() {
  local method=$1 path=$2
  shift 2
  local body code
  body=$(mktemp "$OC_TMP/body.XXXXXX")
  code=$(curl -sS -o "$body" -w '%{http_code}' -X "$method" "$@" "$SERVE_URL$path" || true)
  printf '%s %s\n' "$code" "$(tr -d '\n' <"$body")"
  rm -f "$body"
}

# expect_status WANT METHOD PATH [curl args...]: runs the request and checks the status; prints the body.
expect_status() {
  local want=$1
  shift
  local out
  out=$(http "$@")
  [[ "${out%% *}" == "$want" ]] || fail "$1 $2: expected $want, got: $out"
  printf '%s\n' "${out#* }"
}

# json_get JSON EXPR: evaluates a Python expression on the parsed document `d`.
json_get() { /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
