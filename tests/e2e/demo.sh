#!/usr/bin/env bash
# e2e demo: scripts/demo.sh (what `make demo` runs) end to end on a small simulated market, twice in one
# data directory. First with OILCAST_DEMO_NO_SERVE=1: every step runs, the server answers /healthz, the
# dashboard page and an invocation with the printed read key, then stops. Then again (the re-run must
# work: new model version, endpoint moved to it, new read key) serving in the foreground until SIGTERM,
# as Ctrl-C stops it: the printed key and curl example work against it, and the script exits 0.
source "$(dirname "$0")/lib.sh"
src=${OILCAST_SOURCE_DIR:?}
if [[ ! -f "$src/node_modules/plotly.js-dist-min/plotly.min.js" ]] || ! command -v node >/dev/null || ! command -v curl >/dev/null; then
  [[ "${CI:-}" == true ]] && fail "node_modules, node or curl missing (run scripts/deps.sh)"
  echo "node_modules, node or curl missing: skipped" >&2
  exit 77
fi
export OILCAST_DEMO_DIR=$OC_TMP/demo OILCAST_DEMO_DAYS=700 OILCAST_DEMO_EPOCHS=20 OILCAST_DEMO_BACKTEST_ORIGINS=30
port=$(free_port)
export OILCAST_DEMO_LISTEN=127.0.0.1:$port
url=http://127.0.0.1:$port

OILCAST_DEMO_NO_SERVE=1 bash "$src/scripts/demo.sh" "$OILCAST_BIN" > "$OC_TMP/run1.txt" 2>&1 ||
  fail "demo (OILCAST_DEMO_NO_SERVE=1) failed: $(tail -20 "$OC_TMP/run1.txt")"
out=$(cat "$OC_TMP/run1.txt")
assert_contains "$out" "1400 inserted" "import"
assert_contains "$out" "wrote $OILCAST_DEMO_DIR/processed/training_data.parquet" "ETL"
assert_contains "$out" "trained v1" "training"
assert_contains "$out" "deployed          endpoint oil-market-forecast-endpoint -> v1" "deploy"
assert_contains "$out" "WTI-SIM forecast by model v1" "forecast table"
assert_contains "$out" "30 origins" "backtest origins"
assert_contains "$out" "Backtest WTI-SIM by year 2017..2017" "the by-year report"
for model in naive drift ets ar mlp ensemble; do
  grep -q "^$model[ :]" "$OC_TMP/run1.txt" || fail "backtest table lacks $model"
done
assert_contains "$out" 'health: {"status":"ok"}' "healthz"
assert_contains "$out" "WTI-SIM by oil-market-forecast-endpoint (variant v1, model v1)" "invocation"
assert_contains "$out" "Dashboard  $url/" "dashboard URL"
assert_contains "$out" "the server answered; stopping it" "NO_SERVE mode"
grep -q 'plotly' "$OILCAST_DEMO_DIR/dashboard.html" || fail "static dashboard not written"
grep -q '"source":"simulated"' "$OILCAST_DEMO_DIR/dashboard.html" || fail "static dashboard does not say its series is simulated"
curl -fsS -m 2 "$url/healthz" >/dev/null 2>&1 && fail "the server still answers after NO_SERVE mode"

# The re-run, serving in the foreground (background here so the test can talk to it).
bash "$src/scripts/demo.sh" "$OILCAST_BIN" > "$OC_TMP/run2.txt" 2>&1 &
demo=$!
oc_kill_later $demo
for _ in $(seq 1 600); do
  grep -q "Serving until Ctrl-C" "$OC_TMP/run2.txt" && break
  kill -0 $demo 2>/dev/null || fail "re-run exited: $(tail -20 "$OC_TMP/run2.txt")"
  sleep 0.2
done
out=$(cat "$OC_TMP/run2.txt")
assert_contains "$out" "0 inserted, 0 updated" "re-import"
assert_contains "$out" "trained v2" "re-run training"
assert_contains "$out" "endpoint oil-market-forecast-endpoint -> v2" "re-run deploy"
key=$(sed -n 's/^  Read key   \([^ ]*\) .*/\1/p' "$OC_TMP/run2.txt")
[[ $key == ock_* ]] || fail "no read key printed: $out"
[[ $(curl -fsS "$url/healthz") == *ok* ]] || fail "healthz while serving"
curl -fsS "$url/" | grep '<html' >/dev/null || fail "dashboard page not served at /"
inv=$(curl -fsS -H "Authorization: Bearer $key" -X POST "$url/v1/endpoints/oil-market-forecast-endpoint/invocations" \
  -d '{"forecast_days":7}')
assert_contains "$inv" '"model_version":"v2"' "invocation with the printed key"
[[ $(grep -o '"lower80"' <<<"$inv" | wc -l) -eq 7 ]] || fail "7 forecast days with bounds: $inv"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" -X PUT \
  "$url/v1/endpoints/oil-market-forecast-endpoint" -d '{}')
assert_eq "$status" 403 "a read key cannot change an endpoint"
kill -TERM $demo
rc=0
wait $demo || rc=$?
assert_eq "$rc" 0 "demo exit status after SIGTERM"
curl -fsS -m 2 "$url/healthz" >/dev/null 2>&1 && fail "the server still answers after the demo stopped"
echo "e2e demo: ok"
