#!/usr/bin/env bash
# End-to-end: the reference guide's daily pipeline with no person running commands, over several
# SIMULATED trading days. `oilcast serve` runs the real schedule, `every = trading-day at 22:00 UTC`,
# on a clock the test moves (OILCAST_CLOCK=file:PATH, schedule/clock.h); its steps fetch WTI from the
# EIA API (tests/support/mock_market, which publishes one more day each trading day), rebuild the ETL
# table, forecast with the deployed endpoint (stored) and score earlier forecasts. The week:
#   Fri 22:00  a scheduled run; the API the dashboard draws from shows Friday and a forecast from it;
#   Sat, Sun   no run (not trading days);
#   Mon 22:00  a scheduled run: Monday's price, a forecast from Monday, Friday's forecast scored;
#   Tue, Wed   the scheduler sees no time pass (down); Thu 23:30: ONE catch-up run for Thursday's
#              slot (not one per missed day), which fetches Tue..Thu at once.
source "$(dirname "$0")/ingest_market_helpers.bash"
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
A=(-H "Authorization: Bearer $admin")
prices_csv "$OC_TMP/all.csv" 500
upto() { awk -F, -v d="$1" 'NR == 1 || $1 <= d' "$OC_TMP/all.csv" >"$2"; } # the market as published by day $1
fri=2001-06-08 mon=2001-06-11 thu=2001-06-14 # a week without a holiday
upto $fri "$OC_TMP/fri.csv"
upto $mon "$OC_TMP/mon.csv"
upto $thu "$OC_TMP/thu.csv"
clock=$OC_TMP/clock
at() { echo "$1" >"$clock.new" && mv "$clock.new" "$clock"; } # moves simulated time
at "${fri}T21:00:00Z"
export OILCAST_CLOCK=file:$clock

mock_start "$OC_TMP/fri.csv"
oc ingest --data-dir "$dir" --source market --provider eia --series WTI --api-key "$OC_KEY" --base-url "$MOCK_URL/ok" \
  --quiet >/dev/null
oc train --data-dir "$dir" --quiet --model ets --series WTI --deploy --endpoint-name wti >/dev/null
sqlite3 "$dir/oilcast.db" "DELETE FROM observations WHERE date = '$fri'" # Friday is published at 22:00

jobs_for() { # jobs_for MOCK_URL: the daily job fetching from that market
  cat >"$dir/jobs.conf.new" <<CONF
[daily]
every = trading-day at 22:00 UTC
step = ingest --source market --provider eia --series WTI --api-key $OC_KEY --base-url $1/ok --quiet
step = etl --series WTI --horizon 3 --quiet
step = forecast --endpoint-name wti --quiet
step = monitor --quiet
CONF
  mv "$dir/jobs.conf.new" "$dir/jobs.conf"
}
jobs_for "$MOCK_URL"
serve_start "$dir" --threads 2 --access-log off
grep -q "SIMULATED time" "$SERVE_LOG" || fail "the scheduler does not say its clock is simulated: $(cat "$SERVE_LOG")"

runs() { sqlite3 "$dir/oilcast.db" "SELECT trigger || ' ' || datetime(slot, 'unixepoch') || ' ' || status FROM job_runs ORDER BY id"; }
# wait_until WHAT COMMAND...: polls COMMAND (20 s at most) until it succeeds.
wait_until() {
  local what=$1
  shift
  for _ in $(seq 1 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "$what: never happened; runs: $(runs | tr '\n' ';') log: $(tail -5 "$SERVE_LOG")"
}
api_has() { expect_status 200 GET "$1" "${A[@]}" | grep -Eq "$2"; }
runs_are() { [[ "$(runs | tr '\n' ';')" == "$1" ]]; }
seen() { [[ "$(sqlite3 "$dir/oilcast.db" "SELECT count(*) FROM job_state WHERE job = 'daily'")" == 1 ]]; }
wait_until "the scheduler sees the job before 22:00" seen

at "${fri}T22:00:05Z"
wait_until "Friday's scheduled run" runs_are "schedule $fri 22:00:00 ok;"
api_has "/v1/series/WTI?from=$fri" "\"date\":\"$fri\"" || fail "the API does not show Friday"
api_has "/v1/forecasts/latest?series=WTI" "\"origin\":\"$fri\"" || fail "no forecast from Friday"

at "2001-06-09T22:00:05Z"
at "2001-06-10T22:00:05Z"
sleep 0.5 # five polls of the clock
runs_are "schedule $fri 22:00:00 ok;" || fail "a run on a weekend: $(runs)"

mock_start "$OC_TMP/mon.csv" # the market publishes Monday
jobs_for "$MOCK_URL"
at "${mon}T22:00:05Z"
wait_until "Monday's scheduled run" runs_are "schedule $fri 22:00:00 ok;schedule $mon 22:00:00 ok;"
api_has "/v1/series/WTI?from=$mon" "\"date\":\"$mon\"" || fail "the API does not show Monday"
api_has "/v1/forecasts/latest?series=WTI" "\"origin\":\"$mon\"" || fail "no forecast from Monday"
api_has /v1/endpoints/wti/performance '"horizon":1,"window":20,"origins":1' || fail "Friday's forecast not scored"

mock_start "$OC_TMP/thu.csv" # Tuesday to Thursday published while the scheduler saw no time pass
jobs_for "$MOCK_URL"
at "${thu}T23:30:00Z"
wait_until "Thursday's catch-up run" runs_are \
  "schedule $fri 22:00:00 ok;schedule $mon 22:00:00 ok;catch-up $thu 22:00:00 ok;"
api_has "/v1/series/WTI?from=2001-06-12" "\"date\":\"2001-06-12\".*\"date\":\"$thu\"" || fail "Tue..Thu not fetched"
api_has "/v1/forecasts/latest?series=WTI" "\"origin\":\"$thu\"" || fail "no forecast from Thursday"
api_has /v1/jobs '"last_status":"ok"' || fail "GET /v1/jobs does not show the last run"
serve_stop
echo "daily chain on simulated days: Fri and Mon on schedule, the weekend skipped, Thu caught up once"
