#!/usr/bin/env bash
# demo.sh [OILCAST_BIN]: the whole pipeline on SIMULATED data, in ./demo-data (override with
# OILCAST_DEMO_DIR), ending with `oilcast serve` in the foreground (Ctrl-C stops it). Run through
# `make demo`. Safe to re-run: init and import are idempotent, training adds a model version and
# moves the endpoint to it, the backtest and the by-year report add a run each, a new read key
# replaces the previous demo key.
# Settings (environment): OILCAST_DEMO_LISTEN (default 127.0.0.1:8080); OILCAST_DEMO_NO_SERVE=1
# (start the server, check that it answers, stop it and exit instead of serving until Ctrl-C); and,
# to make everything smaller (tests/e2e/demo.sh), OILCAST_DEMO_DAYS, OILCAST_DEMO_EPOCHS and
# OILCAST_DEMO_BACKTEST_ORIGINS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$(dirname "${1:-$root/build/oilcast}")" && pwd)/$(basename "${1:-$root/build/oilcast}")
data=${OILCAST_DEMO_DIR:-$root/demo-data}
export OILCAST_DATA_DIR=$data
days=${OILCAST_DEMO_DAYS:-2610}
origins=${OILCAST_DEMO_BACKTEST_ORIGINS:-500}
epochs_opt=() mlp=mlp
if [[ -n ${OILCAST_DEMO_EPOCHS:-} ]]; then
  epochs_opt=(--epochs "$OILCAST_DEMO_EPOCHS")
  mlp=mlp:epochs=$OILCAST_DEMO_EPOCHS
fi
listen=${OILCAST_DEMO_LISTEN:-127.0.0.1:8080}
endpoint=oil-market-forecast-endpoint
horizon=7
tmp=$(mktemp -d)
server=
stop_server() {
  # SIGTERM, not SIGINT: a background job of a script starts with SIGINT ignored.
  if [[ -n $server ]] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  server=
}
trap 'stop_server; rm -rf "$tmp"' EXIT
trap 'echo; echo "demo: stopping the server"; stop_server; exit 0' INT TERM
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Fail before the long steps when the address is taken (serve would say so too, but only at the end).
host=${listen%:*} port=${listen##*:}
if [[ $port != 0 ]] && (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
  echo "demo: $listen is already in use; stop what listens there or set OILCAST_DEMO_LISTEN=127.0.0.1:PORT" >&2
  exit 1
fi

step "1. Data directory: $data (the first run prints the admin key once)"
"$bin" init
"$bin" status

step "2. Simulate a market (WTI-SIM and BRENT-SIM: SIMULATED prices, not real data), $days trading days"
"$bin" simulate market --days "$days" --seed 42 --start-date 2015-01-01 --series WTI-SIM,BRENT-SIM \
  --out "$tmp/simulated-market.csv"

step "3. Import it (validated, one transaction; a re-run reports 0 inserted, 0 updated)"
"$bin" ingest --source simulated --csv-path "$tmp/simulated-market.csv"

step "4. What the store holds"
"$bin" series list
"$bin" series show WTI-SIM --last 10

step "5. ETL: WTI-SIM with BRENT-SIM as exogenous series -> processed/training_data.parquet"
"$bin" etl --series WTI-SIM --exog BRENT-SIM --horizon "$horizon" --out processed/training_data.parquet

step "6. Train the reference network and deploy it to the endpoint $endpoint"
"$bin" train --model mlp --data-path processed/training_data.parquet "${epochs_opt[@]}" --deploy --endpoint-name "$endpoint"
"$bin" models list

step "7. A $horizon-day forecast from the endpoint"
"$bin" forecast --endpoint-name "$endpoint" --forecast-days "$horizon"

# The backtest's origins: the last $origins trading days that have $horizon observations after them.
start=$("$bin" series show WTI-SIM --last $((origins + horizon)) --format csv | sed -n 2p | cut -d, -f1)
step "8. Walk-forward backtest from $start against the no-change forecast (relMAE < 1 beats it)"
"$bin" backtest --series WTI-SIM --models "naive,drift,ets,ar,$mlp,ensemble" --start "$start" \
  --horizon "$horizon" --refit-every 20

# The by-year report (the dashboard's Models panel shows it): every year from the third the market
# covers (auto chooses among the kinds on the 250 origins before each refit: it needs that history)
# to the last with two origins. The cheap kinds: a few seconds of CPU on ten years.
first_year=$("$bin" series list --format csv | awk -F, '$1 == "WTI-SIM" {print substr($5, 1, 4)}')
last_origins=$("$bin" series show WTI-SIM --last $((horizon + 2)) --format csv | sed -n 2p | cut -d, -f1)
from_year=$((first_year + 2)) to_year=${last_origins:0:4}
step "9. Robustness by year $from_year..$to_year: the same backtest on each year's origins, stored for the dashboard"
if ((from_year <= to_year)); then
  "$bin" backtest --series WTI-SIM --by-year --from-year "$from_year" --to-year "$to_year" --models naive,ar,ets,auto \
    --horizon "$horizon" --refit-every 20
else
  echo "skipped: $days trading days cover no year after the two the models learn from"
fi

step "10. A read API key for the dashboard and the API (earlier demo read keys are revoked)"
"$bin" apikey list | awk '$2 ~ /^demo-read-/ && $NF == "active" {print $1}' | while read -r id; do
  "$bin" apikey revoke "$id"
done
# Names are never reused: the time to the nanosecond, so two runs in one second differ too.
read_key=$("$bin" apikey create --name "demo-read-$(date -u +%Y%m%dT%H%M%S.%NZ)" --scope read)

step "11. Serve: oilcast serve --listen $listen"
: > "$tmp/serve.out"
"$bin" serve --listen "$listen" --access-log "$data/access.log" > "$tmp/serve.out" &
server=$!
until grep -q 'listening on' "$tmp/serve.out"; do
  kill -0 "$server" 2>/dev/null || { server=; echo "demo: oilcast serve exited (see above)" >&2; exit 1; }
  sleep 0.2
done
url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$tmp/serve.out" | head -1)
url=${url%/}
api() { curl -fsS -H "Authorization: Bearer $read_key" "$@"; }
echo "health: $(curl -fsS "$url/healthz")"
echo "invocation (stored and shown as the dashboard's forecast fan):"
api -X POST "$url/v1/endpoints/$endpoint/invocations" -d "{\"forecast_days\":$horizon}" > "$tmp/invocation.json"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.series} by ${r.endpoint} (variant ${r.variant}, model ${r.model_version}) from ${r.origin}, USD/bbl`);
  console.log("date        price   80% interval      95% interval");
  const f = (x) => x.toFixed(2).padStart(6);
  for (const p of r.points)
    console.log(`${p.date} ${f(p.price)}  ${f(p.lower80)} .. ${f(p.upper80)}  ${f(p.lower95)} .. ${f(p.upper95)}`);
' "$tmp/invocation.json"

step "12. A static copy of the dashboard: $data/dashboard.html (opens offline)"
api "$url/v1/series/WTI-SIM" > "$tmp/history.json"
api "$url/v1/forecasts/latest?series=WTI-SIM" > "$tmp/forecast.json"
"$bin" dashboard --historical-data "$tmp/history.json" --forecast-data "$tmp/forecast.json" \
  --series WTI-SIM --source simulated --out "$data/dashboard.html"

cat <<EOF

  Dashboard  $url/   (opens on WTI-SIM, the forecast series; SIMULATED data)
  Read key   $read_key   (the page asks for it once and keeps it in this browser)
  API        curl -H "Authorization: Bearer $read_key" -X POST \\
               $url/v1/endpoints/$endpoint/invocations -d '{"forecast_days":$horizon}'
  Static     $data/dashboard.html
  Access log $data/access.log

EOF
if [[ ${OILCAST_DEMO_NO_SERVE:-0} == 1 ]]; then
  # grep reads the whole page: with -q it would stop at the first match and curl, still writing a
  # page longer than one read, would fail with "Failed writing body" under pipefail.
  curl -fsS "$url/" | grep '<html' >/dev/null || { echo "demo: $url/ does not serve the dashboard page" >&2; exit 1; }
  echo "demo: OILCAST_DEMO_NO_SERVE=1: the server answered; stopping it"
  stop_server
  exit 0
fi
echo "Serving until Ctrl-C."
wait "$server"
