#!/usr/bin/env bash
# The dashboard's operations views in chromium against a real `oilcast serve` on a simulated series
# (tests/browser/operations.test.js does the browser part): the Jobs panel shows each job of
# DIR/jobs.conf with its schedule, state, last run and next time (a failed run with its error and, on
# demand, the failing step's output), stops polling while the page is hidden and looks again when it
# is shown; the Models panel says nothing is scored yet until a job runs `oilcast monitor` after the
# prices that followed an `ar` endpoint's forecasts, then shows the live relMAE and coverage per
# variant, horizon and window beside the backtest's, SIMULATED named, and charts the rolling relMAE
# and coverage over the scored origins (forecasts stored day by day before the server starts) and the
# retraining decisions (a promotion by hand); the Alerts tab shows a firing and a resolved alert as GET
# /v1/alerts gives them, the firing count on the tab; no overflow at 390 px.
set -euo pipefail
source "$OILCAST_SOURCE_DIR/tests/browser/lib.sh"
need_browser
make_work
series=WTI-SIM

"$bin" init --data-dir "$dir" >/dev/null 2>&1
reader=$("$bin" apikey create --data-dir "$dir" --name dashboard --scope read)
"$bin" simulate market --quiet --days 620 --seed 21 --series "$series" --out "$work/all.csv"
head -n 595 "$work/all.csv" >"$work/first.csv" # the mark line, the header and 593 days
{ head -n 2 "$work/all.csv"; tail -n 20 "$work/all.csv"; } >"$work/later.csv"
"$bin" ingest --data-dir "$dir" --source simulated --csv-path "$work/first.csv" --series "$series" --quiet >/dev/null
"$bin" backtest --data-dir "$dir" --series "$series" --models naive,ar --threads 2 >/dev/null
"$bin" train --data-dir "$dir" --quiet --model ar --series "$series" --deploy --endpoint-name wti >/dev/null
# A second version promoted by hand: a retraining decision for the Models panel's table (before the
# forecasts below, so nothing is scored by it).
"$bin" train --data-dir "$dir" --quiet --model ar --series "$series" >/dev/null
"$bin" retrain --data-dir "$dir" --endpoint wti --promote v2 --reason "chosen by hand for the dashboard test" >/dev/null
# Days 594..599 one at a time, each followed by a stored forecast of the endpoint: scored origins
# for the Models panel's chart over time.
for line in $(seq 596 601); do
  { head -n 2 "$work/all.csv"; sed -n "${line}p" "$work/all.csv"; } >"$work/day.csv"
  "$bin" ingest --data-dir "$dir" --source simulated --csv-path "$work/day.csv" --series "$series" --quiet >/dev/null
  "$bin" forecast --data-dir "$dir" --endpoint-name wti --forecast-days 5 --format csv >/dev/null
done

# One more simulated day after all of them, for a job whose import the page sees as a live event.
last=$(tail -n 1 "$work/all.csv" | cut -d, -f1)
{ head -n 2 "$work/all.csv"; echo "$(date -u -d "$last + 3 days" +%F),61.5"; } >"$work/extra.csv"

# daily-score is the daily chain (the prices that followed, then scoring) and extra-day imports one
# more day, both run by the test itself; nightly-fetch fails (its file does not exist); weekly-retrain
# is paused.
cat >"$dir/jobs.conf" <<JOBS
[daily-score]
every = trading-day at 22:00 UTC
step = ingest --source simulated --csv-path "$work/later.csv" --series $series --quiet
step = monitor --endpoint wti

[nightly-fetch]
every = day at 03:00 UTC
step = ingest --source historical --csv-path "$work/missing/wti-daily.csv" --series $series

[extra-day]
every = monday at 04:00 UTC
step = ingest --source simulated --csv-path "$work/extra.csv" --series $series --quiet

[weekly-retrain]
every = friday at 23:00 UTC
step = train --model ar --series $series --deploy --endpoint-name wti
JOBS
"$bin" jobs check --data-dir "$dir" >/dev/null

# Alerts for the Alerts tab: one that keeps firing, one that fired and was resolved (its rule removed).
rule() { echo "{\"alert\": \"$1\", \"metric\": \"oilcast_series_staleness_trading_days\", \"above\": -1, \"severity\": \"$2\"}"; }
echo "{\"rules\": [$(rule SeriesWatched info), $(rule BrieflyWatched warning)]}" >"$dir/alerts.json"
"$bin" alerts evaluate --data-dir "$dir" >/dev/null
echo "{\"rules\": [$(rule SeriesWatched info)]}" >"$dir/alerts.json"
"$bin" alerts evaluate --data-dir "$dir" >/dev/null
if "$bin" jobs run nightly-fetch --data-dir "$dir" >/dev/null 2>&1; then echo "nightly-fetch should have failed"; exit 1; fi
"$bin" jobs pause weekly-retrain --data-dir "$dir" >/dev/null

cat >"$work/start-server.sh" <<START
export OILCAST_EXCHANGE_LOG="$work/exchanges.jsonl"
exec "$bin" serve --data-dir "$dir" --listen "127.0.0.1:\$1" --threads 2 --access-log off \
  --web-dir "$src/web" --vendor-dir "$src/node_modules/plotly.js-dist-min" "\${@:2}"
START
cat >"$work/run-job.sh" <<RUN
exec "$bin" jobs run "\$1" --data-dir "$dir" >/dev/null
RUN
log_dir=${OILCAST_BUILD_DIR:-$work}/artifacts/browser
mkdir -p "$log_dir"
node "$src/tests/browser/operations.test.js" "$work/start-server.sh" "$reader" "$series" wti "$work/run-job.sh" 2>&1 |
  tee "$log_dir/operations.log"
# Every response the page and the test received (the performance history among them) against
# docs/openapi.yaml, as the serve_* tests check theirs.
node "$src/tests/api/validate_responses.mjs" "$src/docs/openapi.yaml" "$work/exchanges.jsonl" | tail -n 1
