#!/usr/bin/env bash
# End-to-end: the reference guide's daily pipeline with no person running commands. `oilcast serve`
# runs a job (every second here; every trading day at 22:00 UTC in use) whose steps fetch WTI from the
# EIA API (tests/support/mock_market), rebuild the ETL table, forecast with the deployed endpoint
# (stored) and score earlier forecasts. When the market publishes a new day, the API the dashboard
# draws from shows it: the series' last day, a forecast from that day, and the previous forecast scored.
source "$(dirname "$0")/ingest_market_helpers.bash"
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
A=(-H "Authorization: Bearer $admin")
prices_csv "$OC_TMP/day1.csv" 400
prices_csv "$OC_TMP/day2.csv" 401
last1=$(tail -1 "$OC_TMP/day1.csv" | cut -d, -f1)
last2=$(tail -1 "$OC_TMP/day2.csv" | cut -d, -f1)
mock_start "$OC_TMP/day1.csv"
oc ingest --data-dir "$dir" --source market --provider eia --series WTI --api-key "$OC_KEY" --base-url "$MOCK_URL/ok" \
  --quiet >/dev/null
oc train --data-dir "$dir" --quiet --model ar --series WTI --deploy --endpoint-name wti >/dev/null

jobs_for() { # jobs_for MOCK_URL: the daily job fetching from that market
  cat >"$dir/jobs.conf.new" <<CONF
[daily]
every = 1s
step = ingest --source market --provider eia --series WTI --api-key $OC_KEY --base-url $1/ok --quiet
step = etl --series WTI --horizon 3 --quiet
step = forecast --endpoint-name wti --quiet
step = monitor --quiet
CONF
  mv "$dir/jobs.conf.new" "$dir/jobs.conf"
}
jobs_for "$MOCK_URL"
serve_start "$dir" --threads 2 --access-log off

# wait_for WHAT PATH REGEX: polls GET PATH (20 s at most) until its body matches REGEX (grep -E).
wait_for() {
  local body
  for _ in $(seq 1 200); do
    body=$(expect_status 200 GET "$2" "${A[@]}")
    grep -Eq "$3" <<<"$body" && return 0
    sleep 0.1
  done
  fail "$1: $2 never matched [$3]: $body"
}
ok_run='"trigger":"schedule","slot":"[^"]*","status":"ok"'
wait_for "a scheduled run of the four steps" /v1/jobs "$ok_run"
wait_for "the day-1 forecast" "/v1/forecasts/latest?series=WTI" "\"origin\":\"$last1\""

mock_start "$OC_TMP/day2.csv" # the market publishes a new day
jobs_for "$MOCK_URL"
wait_for "the new day" "/v1/series/WTI?from=$last2" "\"date\":\"$last2\""
wait_for "the forecast from the new day" "/v1/forecasts/latest?series=WTI" "\"origin\":\"$last2\""
wait_for "the day-1 forecast scored" "/v1/endpoints/wti/performance" '"horizon":1,"window":20,"origins":1'
serve_stop
echo "daily chain: fetched, rebuilt, forecast and scored by the server's scheduler, day after day"
