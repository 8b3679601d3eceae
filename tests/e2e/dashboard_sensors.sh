#!/usr/bin/env bash
# dashboard_sensors.sh: the dashboard's Live panel sensor charts in chromium against a real
# `oilcast serve --stream` on a real mosquitto (issue 15): published readings are charted live from
# the SSE stream and a silence (the stream's clock moved by the test through OILCAST_CLOCK) is marked
# on the chart (tests/browser/sensors.test.js does the browser part).
source "$(dirname "$0")/serve_helpers.bash"
source "$(dirname "$0")/stream_helpers.bash"
source "$OILCAST_SOURCE_DIR/tests/browser/lib.sh"
need_browser
stream_broker_up
oc init >/dev/null 2>&1
reader=$(oc apikey create --name dashboard --scope read)
oc device add tank-1 --type tank_level --site test --unit m --min 0 --max 30 --interval 60 --quiet >/dev/null
clock=$OC_TMP/clock
echo 2026-06-01T12:00:30Z >"$clock"
OILCAST_CLOCK=file:$clock serve_start "$OILCAST_DATA_DIR" --threads 2 --access-log off --scheduler off \
  --stream "mqtt://127.0.0.1:$PORT" --web-dir "$src/web" --vendor-dir "$src/node_modules/plotly.js-dist-min"
for _ in $(seq 1 400); do grep -q 'sensor stream subscribed' "$SERVE_LOG" && break; sleep 0.05; done
grep -q 'sensor stream subscribed' "$SERVE_LOG" || { cat "$SERVE_LOG" >&2; fail "the server's sensor stream did not subscribe in 20 s"; }
cat >"$OC_TMP/publish.sh" <<PUBLISH
exec mosquitto_pub -p $PORT -q 1 -t oil/sensors/tank-1/level \
  -m "{\"device\":\"tank-1\",\"event_time\":\"\$2\",\"seq\":\$1,\"measurements\":{\"level\":{\"value\":\$3,\"unit\":\"m\"}}}"
PUBLISH
log_dir=${OILCAST_BUILD_DIR:-$OC_TMP}/artifacts/browser
mkdir -p "$log_dir"
browser_rc=0
node "$src/tests/browser/sensors.test.js" "$SERVE_URL" "$reader" "$OC_TMP/publish.sh" "$clock" 2>&1 |
  tee "$log_dir/sensors.log" || browser_rc=$?
if ((browser_rc != 0)); then
  echo "--- the server's log:" >&2
  tail -n 40 "$SERVE_LOG" >&2
  echo "--- the broker's log:" >&2
  tail -n 20 "$OC_TMP/broker/mosquitto.log" >&2
  fail "the browser test failed"
fi
serve_stop
