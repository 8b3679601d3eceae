#!/usr/bin/env bash
# e2e serve_follows_store: a running `oilcast serve` follows what OTHER processes commit to its store,
# through the store's change feed, each change within 1 s of the other process returning:
# - an API key made by `oilcast apikey create` works on its very first request (no retry), and one
#   revoked by `oilcast apikey revoke` is refused;
# - `oilcast train --deploy` creates an endpoint, then moves it to a new version;
# - a second server on the same data directory changes endpoint weights, promotes, rolls back, and
#   creates an endpoint serving a forecaster spec (no registered version): the first server serves each.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
oc simulate market --days 400 --seed 5 --series SIM --out "$OC_TMP/sim.csv" --quiet
oc ingest --data-dir "$dir" --quiet --source simulated --csv-path "$OC_TMP/sim.csv" --series SIM >/dev/null
oc train --data-dir "$dir" --quiet --model naive --series SIM >/dev/null # v1, not deployed yet
A=(-H "Authorization: Bearer $admin")

serve_start "$dir" --threads 2 --access-log off
first_url=$SERVE_URL first_pid=$SERVE_PID first_log=$SERVE_LOG

# within_1s WHAT CMD...: CMD (run against the first server) succeeds within 1 s of now; prints the delay.
within_1s() {
  local what=$1 start ms
  shift
  start=$(date +%s%N)
  while :; do
    ms=$((($(date +%s%N) - start) / 1000000))
    if SERVE_URL=$first_url "$@" >/dev/null 2>&1; then
      echo "serve_follows_store: $what seen by the running server after $ms ms"
      return 0
    fi
    ((ms <= 1000)) || { cat "$first_log" >&2; fail "$what: not seen by the running server within 1 s"; }
    sleep 0.02
  done
}

# endpoint_is NAME PYTHON-EXPR: GET /v1/endpoints has NAME and EXPR holds for it (as `e`).
endpoint_is() {
  local body
  body=$(expect_status 200 GET /v1/endpoints "${A[@]}")
  [[ $(json_get "$body" "[e for e in d['endpoints'] if e['name'] == '$1'] and all($2 for e in d['endpoints'] if e['name'] == '$1')") == True ]]
}

# invoked_version NAME VERSION: an invocation of the endpoint is answered by VERSION.
invoked_version() {
  local body
  body=$(expect_status 200 POST "/v1/endpoints/$1/invocations" "${A[@]}" -d '{"forecast_days":2}')
  [[ $(json_get "$body" 'd["model_version"]') == "$2" ]]
}

# --- API keys: created (first request), revoked ---
key=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name latecomer --scope read)
body=$(expect_status 200 GET /v1/models -H "Authorization: Bearer $key")
echo "serve_follows_store: a key created by another process worked on its first request"
"$OILCAST_BIN" apikey revoke --data-dir "$dir" latecomer 2>/dev/null
key_refused() { [[ $(http GET /v1/models -H "Authorization: Bearer $key") == 401* ]]; }
within_1s "a key revoked by another process" key_refused

# --- train --deploy: a new endpoint, then a new version on it ---
oc train --data-dir "$dir" --quiet --model drift --series SIM --deploy --endpoint-name live >/dev/null # v2
within_1s "train --deploy (new endpoint live on v2)" invoked_version live v2
oc train --data-dir "$dir" --quiet --model ar --series SIM --deploy --endpoint-name live >/dev/null # v3
within_1s "train --deploy (live moved to v3)" invoked_version live v3

# --- a second server: weights, promotion, rollback, a forecaster-spec endpoint ---
serve_start "$dir" --threads 1 --access-log off
expect_status 201 PUT /v1/endpoints/ab "${A[@]}" \
  -d '{"variants":[{"name":"control","model_version":"v1","weight":0.5},{"name":"challenger","model_version":"v3","weight":0.5}]}' >/dev/null
within_1s "an endpoint created on another server" endpoint_is ab '[v["weight"] for v in e["variants"]] == [0.5, 0.5]'
expect_status 200 PUT /v1/endpoints/ab "${A[@]}" \
  -d '{"variants":[{"name":"control","model_version":"v1","weight":0.9},{"name":"challenger","model_version":"v3","weight":0.1}]}' >/dev/null
within_1s "a weight change on another server" endpoint_is ab '[v["weight"] for v in e["variants"]] == [0.9, 0.1]'
expect_status 200 PUT /v1/endpoints/ab "${A[@]}" -d '{"variants":[{"name":"primary","model_version":"v3","weight":1}]}' >/dev/null
within_1s "a promotion on another server" invoked_version ab v3
expect_status 200 POST /v1/endpoints/ab/rollback "${A[@]}" >/dev/null
within_1s "a rollback on another server" endpoint_is ab '[v["weight"] for v in e["variants"]] == [0.9, 0.1] and e["previous_configs"] == 1'
expect_status 201 PUT /v1/endpoints/spec "${A[@]}" -d '{"series":"SIM","variants":[{"name":"a","model_version":"naive"}]}' >/dev/null
within_1s "a forecaster-spec endpoint created on another server" invoked_version spec naive
serve_stop

# The first server still answers, and stops cleanly.
SERVE_PID=$first_pid SERVE_URL=$first_url SERVE_LOG=$first_log
expect_status 200 GET /readyz >/dev/null
serve_stop
echo "serve_follows_store: ok"
