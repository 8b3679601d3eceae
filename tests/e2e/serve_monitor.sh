#!/usr/bin/env bash
# End-to-end: the operations loop over HTTP. An endpoint's forecast (train --deploy stores one, and an
# invocation another) is scored by `oilcast monitor` once the following prices are imported, and
# GET /v1/endpoints/{name}/performance returns the same rows as `oilcast monitor --format json` and
# /metrics the same figures as gauges; GET
# /v1/jobs lists the jobs of DIR/jobs.conf with their recent runs. Every response is validated against
# docs/openapi.yaml (serve_helpers.bash).
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
oc simulate market --days 620 --seed 21 --series WTI --out "$OC_TMP/all.csv" >/dev/null
head -n 601 "$OC_TMP/all.csv" >"$OC_TMP/first.csv" # the mark line, the header and 599 days
{ head -n 2 "$OC_TMP/all.csv"; tail -n 20 "$OC_TMP/all.csv"; } >"$OC_TMP/later.csv"
oc ingest --data-dir "$dir" --source simulated --csv-path "$OC_TMP/first.csv" --series WTI --quiet >/dev/null
oc train --data-dir "$dir" --quiet --model ar --series WTI --deploy --endpoint-name wti >/dev/null
serve_start "$dir" --threads 2 --access-log off
A=(-H "Authorization: Bearer $admin")
expect_status 200 POST /v1/endpoints/wti/invocations "${A[@]}" -d '{"forecast_days":5}' >/dev/null
empty=$(expect_status 200 GET /v1/endpoints/wti/performance "${A[@]}")
assert_eq "$empty" '{"endpoint":"wti","performance":[]}' "nothing scored yet"

oc ingest --data-dir "$dir" --source simulated --csv-path "$OC_TMP/later.csv" --series WTI --quiet >/dev/null
oc monitor --data-dir "$dir" --endpoint wti --format json >"$OC_TMP/monitor.json"
grep -q '"horizon":5,"window":20,"origins":1' "$OC_TMP/monitor.json" || fail "monitor: $(cat "$OC_TMP/monitor.json")"
perf=$(expect_status 200 GET "/v1/endpoints/wti/performance?windows=20,60" "${A[@]}")
assert_eq "$perf" "{\"endpoint\":\"wti\",\"performance\":$(cat "$OC_TMP/monitor.json")}" "API rows = CLI rows"
metrics=$(expect_status 200 GET /metrics)
assert_contains "$metrics" 'oilcast_forecast_rel_mae{series="WTI",endpoint="wti",variant="v1",model_version="v1",horizon="5",window="20"}'
assert_contains "$metrics" 'oilcast_forecast_scored_origins{series="WTI",endpoint="wti",variant="v1",model_version="v1",horizon="5",window="60"} 1'
expect_status 404 GET /v1/endpoints/nope/performance "${A[@]}" >/dev/null
expect_status 400 GET "/v1/endpoints/wti/performance?windows=0" "${A[@]}" >/dev/null
expect_status 400 GET "/v1/endpoints/wti/performance?windows=20,20" "${A[@]}" >/dev/null # every row twice

printf '[daily]\nevery = trading-day at 22:00 UTC\nstep = monitor --endpoint wti\n' >"$dir/jobs.conf"
oc jobs run daily --data-dir "$dir" >/dev/null
jobs=$(expect_status 200 GET /v1/jobs "${A[@]}")
assert_contains "$jobs" '"job":"daily","schedule":"every trading-day at 22:00 UTC","steps":1,"state":"active","last_status":"ok"'
assert_contains "$jobs" '"trigger":"manual"'
echo "[broken" >"$dir/jobs.conf"
body=$(expect_status 500 GET /v1/jobs "${A[@]}")
assert_contains "$body" "jobs.conf:1:"
echo "serve_monitor: performance and jobs served, validated"
