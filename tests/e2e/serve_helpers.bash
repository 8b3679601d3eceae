# serve_helpers.bash: shell helpers for the `oilcast serve` end-to-end tests (sourced, not a test:
# ctest registers only *.sh). Starts a real server on a random loopback port and stops it by pid.
# Needs: OILCAST_BIN, curl. Sets SERVE_PID, SERVE_URL, SERVE_LOG (stderr incl. access log).

serve_fail() { echo "FAIL: $*" >&2; exit 1; }

# serve_start DATA_DIR [serve options...]: returns once the server printed its URL.
serve_start() {
  local dir=$1
  shift
  SERVE_OUT=$(mktemp "${TMPDIR:-/tmp}/oc-serve-out.XXXXXX")
  SERVE_LOG=$(mktemp "${TMPDIR:-/tmp}/oc-serve-log.XXXXXX")
  "$OILCAST_BIN" serve --data-dir "$dir" --listen 127.0.0.1:0 "$@" >"$SERVE_OUT" 2>"$SERVE_LOG" &
  SERVE_PID=$!
  local i
  for ((i = 0; i < 400; i++)); do
    if grep -q 'listening on' "$SERVE_OUT"; then
      SERVE_URL=$(sed -nE 's|.*listening on (http://[^ ]+)/$|\1|p' "$SERVE_OUT")
      return 0
    fi
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$SERVE_LOG" >&2; serve_fail "oilcast serve exited at start"; }
    sleep 0.05
  done
  serve_fail "oilcast serve did not print its URL"
}

# serve_stop: SIGTERM and wait; fails unless the server exits 0.
serve_stop() {
  [[ -n "${SERVE_PID:-}" ]] || return 0
  kill -TERM "$SERVE_PID" 2>/dev/null || true
  local rc=0
  wait "$SERVE_PID" || rc=$?
  SERVE_PID=
  [[ $rc -eq 0 ]] || { cat "$SERVE_LOG" >&2; serve_fail "oilcast serve exited $rc on SIGTERM"; }
}

serve_cleanup() {
  if [[ -n "${SERVE_PID:-}" ]]; then kill -KILL "$SERVE_PID" 2>/dev/null || true; fi
  rm -f "${SERVE_OUT:-}" "${SERVE_LOG:-}"
}

# http METHOD PATH [curl args...]: prints "STATUS BODY" (body on one line).
http() {
  local method=$1 path=$2
  shift 2
  local body code
  body=$(mktemp "${TMPDIR:-/tmp}/oc-serve-body.XXXXXX")
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
  [[ "${out%% *}" == "$want" ]] || serve_fail "$1 $2: expected $want, got: $out"
  printf '%s\n' "${out#* }"
}

# json_get JSON EXPR: evaluates a Python expression on the parsed document `d`.
json_get() { /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
