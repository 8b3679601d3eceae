#!/usr/bin/env bash
# End-to-end: alerts with the real binary. A series whose prices stopped years ago is stale; the rule
# SeriesStale of DIR/alerts.json fires at the first `oilcast alerts evaluate`, and a webhook receiver
# (tests/api/webhook_sink.mjs) that answers 503 first gets the firing payload again after the backoff;
# evaluating again sends nothing (one alert per fingerprint, told once); once the rule no longer holds,
# the scheduled job step (`oilcast jobs run alerts`, a child process as every step) resolves it and
# the receiver gets the resolved payload. `alerts list|history`, GET /v1/alerts (?fingerprint=, the
# payload's generatorURL, that alert alone), GET /v1/monitor/health and /metrics show it; every
# payload and response is validated against docs/openapi.yaml (the webhook alertNotification) with ajv.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"
src=${OILCAST_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! command -v node >/dev/null; then
  [[ "${CI:-}" == true ]] && fail "node missing"
  echo "node missing: skipped"
  exit 77
fi

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
oc simulate market --days 300 --seed 5 --series WTI --start-date 2020-01-02 --out "$OC_TMP/wti.csv" >/dev/null
oc ingest --data-dir "$dir" --source simulated --csv-path "$OC_TMP/wti.csv" --series WTI --quiet >/dev/null

node "$src/tests/api/webhook_sink.mjs" "$OC_TMP/port" "$SERVE_EXCHANGES" 1 &
oc_kill_later $!
for ((i = 0; i < 200; i++)); do [[ -s "$OC_TMP/port" ]] && break; sleep 0.05; done
port=$(cat "$OC_TMP/port")
rules() { # rules THRESHOLD: the staleness rule with that threshold
  cat >"$dir/alerts.json" <<JSON
{"external_url": "http://oilcast.test",
 "webhooks": [{"name": "ops", "url": "http://127.0.0.1:$port/hook", "retries": 2, "backoff": "50ms"}],
 "rules": [{"alert": "SeriesStale", "metric": "oilcast_series_staleness_trading_days", "above": $1, "for": "0s",
            "severity": "critical", "annotations": {"summary": "{{ \$labels.series }} is {{ \$value }} trading days behind"}}]}
JSON
}
rules 2
assert_contains "$(oc alerts check --data-dir "$dir")" "1 rule(s), 1 webhook(s), all valid" "alerts check"
out=$(oc alerts evaluate --data-dir "$dir")
assert_contains "$out" "0 pending, 1 firing, 1 state change(s), 1 notification(s) sent" "evaluate fires"
hooks() { grep -c '"webhook"' "$SERVE_EXCHANGES"; }
assert_eq "$(hooks)" 2 "the 503 and the retry"
grep '"webhook"' "$SERVE_EXCHANGES" | sed -n 1p | grep -q '"status":503' || fail "the first POST was not the 503"
first=$(grep '"webhook"' "$SERVE_EXCHANGES" | sed -n 1p | sed -E 's/.*"body"://')
second=$(grep '"webhook"' "$SERVE_EXCHANGES" | sed -n 2p | sed -E 's/.*"body"://')
assert_eq "$first" "$second" "the retry sends the same payload"
assert_contains "$second" '\"status\":\"firing\"'
assert_contains "$second" '\"version\":\"4\"'
assert_contains "$second" 'WTI is '
oc alerts evaluate --data-dir "$dir" >/dev/null
assert_eq "$(hooks)" 2 "a firing alert is told once"
assert_contains "$(oc alerts list --data-dir "$dir" --state firing)" "SeriesStale"

serve_start "$dir" --threads 2 --access-log off --scheduler off
A=(-H "Authorization: Bearer $admin")
alerts=$(expect_status 200 GET "/v1/alerts?state=firing" "${A[@]}")
assert_contains "$alerts" '"rule":"SeriesStale","state":"firing"'
health=$(expect_status 200 GET /v1/monitor/health "${A[@]}")
assert_contains "$health" '"series":"WTI","last_date":'
expect_status 400 GET "/v1/alerts?state=sleeping" "${A[@]}" >/dev/null
# a payload's generatorURL (/v1/alerts?fingerprint=FP) answers that alert alone
fp=$(/usr/bin/python3 -c 'import json, sys; print(json.loads(sys.argv[1])["alerts"][0]["fingerprint"])' "$alerts")
assert_contains "$second" "\\\"generatorURL\\\":\\\"http://oilcast.test/v1/alerts?fingerprint=$fp\\\""
assert_contains "$(expect_status 200 GET "/v1/alerts?fingerprint=$fp" "${A[@]}")" "\"fingerprint\":\"$fp\""
assert_eq "$(expect_status 200 GET "/v1/alerts?fingerprint=0123456789abcdef" "${A[@]}")" '{"alerts":[]}' "another fingerprint"
expect_status 400 GET "/v1/alerts?fingerprint=WTI" "${A[@]}" >/dev/null
metrics=$(expect_status 200 GET /metrics)
assert_contains "$metrics" 'oilcast_alerts{state="firing"} 1'
assert_contains "$metrics" 'oilcast_series_staleness_trading_days{series="WTI"}'

rules 100000 # no longer holds: the job step resolves it
printf '[alerts]\nevery = 5m\nstep = monitor\nstep = alerts evaluate\n' >"$dir/jobs.conf"
oc jobs check --data-dir "$dir" >/dev/null
oc jobs run alerts --data-dir "$dir" >/dev/null
assert_eq "$(hooks)" 3 "the resolved payload"
last=$(grep '"webhook"' "$SERVE_EXCHANGES" | tail -n 1)
assert_contains "$last" '\"status\":\"resolved\"'
assert_contains "$last" '"status":200'
history=$(oc alerts history --data-dir "$dir" --format json)
assert_contains "$history" '"state":"resolved"'
assert_contains "$history" '"state":"firing"'
metrics=$(expect_status 200 GET /metrics)
assert_contains "$metrics" 'oilcast_alerts{state="resolved"} 1'
echo "alerts_webhook: fired, retried, told once, resolved by the job step; payloads validated"
