#!/usr/bin/env bash
# dashboard_years.sh: the by-year robustness report stored, served and shown (issue 18 item 4) with
# the real binary and server on a simulated series: `backtest --by-year --no-save` stores nothing (GET
# /v1/backtests/years answers 404), a report stored while the dashboard is open appears on its Models
# panel through the live backtest event (the series has no window backtest: the by-year report's
# own change is the event), with the figures the route serves, which are what --format
# json printed (tests/browser/years.test.js does the browser part); every response matches
# docs/openapi.yaml.
source "$(dirname "$0")/serve_helpers.bash"
source "$OILCAST_SOURCE_DIR/tests/browser/lib.sh"
need_browser
series=WTI-SIM
oc init >/dev/null 2>&1
reader=$(oc apikey create --name dashboard --scope read)
oc simulate market --quiet --days 780 --seed 5 --start-date 2021-01-04 --series "$series" --out "$OC_TMP/prices.csv"
oc ingest --source simulated --csv-path "$OC_TMP/prices.csv" --series "$series" --quiet >/dev/null
by_year=(backtest --series "$series" --by-year --from-year 2022 --to-year 2023 --models naive,ar,ets,drift --threads 2 --quiet)
oc "${by_year[@]}" --no-save --format csv >"$OC_TMP/unsaved.csv"
assert_eq "$(head -n 1 "$OC_TMP/unsaved.csv" | cut -d, -f1-3)" "year,model,horizon" "the CSV header"

serve_start "$OILCAST_DATA_DIR" --threads 2 --access-log off --scheduler off \
  --web-dir "$src/web" --vendor-dir "$src/node_modules/plotly.js-dist-min"
status=$(curl -s -o "$OC_TMP/none.json" -w '%{http_code}' -H "Authorization: Bearer $reader" "$SERVE_URL/v1/backtests/years?series=$series")
assert_eq "$status" 404 "GET /v1/backtests/years after --no-save"
assert_contains "$(cat "$OC_TMP/none.json")" "oilcast backtest --series $series --by-year" "the 404 names the command"

printf 'exec %q %s --format json --out %q\n' "$OILCAST_BIN" "${by_year[*]}" "$OC_TMP/printed.json" >"$OC_TMP/run.sh"
log_dir=${OILCAST_BUILD_DIR:-$OC_TMP}/artifacts/browser
mkdir -p "$log_dir"
node "$src/tests/browser/years.test.js" "$SERVE_URL" "$reader" "$series" "$OC_TMP/run.sh" "$OC_TMP/printed.json" 2>&1 |
  tee "$log_dir/years.log"
[[ ${PIPESTATUS[0]} == 0 ]] || fail "the browser test failed"
serve_stop
