#!/usr/bin/env bash
# e2e: `oilcast backtest` on a simulated series in a fresh data directory: CSV columns exactly as the
# dashboard expects, JSON shape, the run stored in the store, --out, and usage/runtime errors.
set -euo pipefail
bin="${OILCAST_BIN:?}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
dd="$tmp/data"
"$bin" init --data-dir "$dd" >/dev/null
"$bin" simulate market --days 700 --seed 7 --series WTI --out "$tmp/sim.csv" >/dev/null
"$bin" ingest --data-dir "$dd" --source simulated --csv-path "$tmp/sim.csv" --series WTI >/dev/null 2>&1

fail() { echo "FAIL: $*" >&2; exit 1; }

csv="$("$bin" backtest --data-dir "$dd" --quiet --series WTI --models naive,ar,ets --horizon 3 --refit-every 25 \
  --start 2002-01-01 --end 2002-06-30 --format csv)"
header="$(head -1 <<<"$csv")"
[[ "$header" == "model,horizon,origins,mae,rmse,mape,mase,rel_mae,direction_hit,coverage80,coverage95,width80,winkler80,dm_pvalue" ]] ||
  fail "CSV header: $header"
[[ "$(wc -l <<<"$csv")" -eq 10 ]] || fail "expected 9 rows (3 models x 3 horizons): $csv"
grep -q '^naive,1,[0-9]*,.*,1,0.5,' <<<"$csv" || fail "naive row: $(sed -n 2p <<<"$csv")"

"$bin" backtest --data-dir "$dd" --quiet --models naive,drift --horizon 2 --format json --out "$tmp/bt.json"
grep -q '"rows"' "$tmp/bt.json" || fail "JSON output has no rows"
grep -q '"created_at"' "$tmp/bt.json" || fail "JSON output has no created_at"

runs="$(sqlite3 "$dd/oilcast.db" 'select count(*) from backtests where series = "WTI"')"
[[ "$runs" == 2 ]] || fail "expected 2 stored runs, found $runs"
"$bin" backtest --data-dir "$dd" --quiet --models naive --horizon 1 --no-save --format table | grep -q relMAE || fail "table output"
[[ "$(sqlite3 "$dd/oilcast.db" 'select count(*) from backtests')" == 2 ]] || fail "--no-save stored a run"

set +e
"$bin" backtest --data-dir "$dd" --models arima >/dev/null 2>"$tmp/err"; rc=$?
[[ $rc -eq 2 ]] && grep -q "unknown model 'arima'" "$tmp/err" || fail "unknown model: rc $rc, $(cat "$tmp/err")"
"$bin" backtest --data-dir "$dd" --horizon 0 >/dev/null 2>&1; rc=$?
[[ $rc -eq 2 ]] || fail "--horizon 0 should be a usage error, rc $rc"
"$bin" backtest --data-dir "$dd" --series NOPE >/dev/null 2>"$tmp/err"; rc=$?
[[ $rc -eq 1 ]] && grep -q NOPE "$tmp/err" || fail "unknown series: rc $rc"
echo "backtest e2e ok"
