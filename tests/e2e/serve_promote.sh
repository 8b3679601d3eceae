#!/usr/bin/env bash
# End-to-end: retraining and promotion through the real binary and server. An Alertmanager v4 webhook
# POSTed to /v1/admin/alerts (admin scope only) leaves a retraining trigger for the alert's endpoint;
# the `retrain` step of a job (jobs.conf) acts on it: a challenger trained with the champion's
# configuration, deployed in shadow; a second trigger is refused while it is evaluated. GET
# /v1/endpoints/{name}/decisions returns the same records as `oilcast decisions --format json`.
# Every response is validated against docs/openapi.yaml (serve_helpers.bash).
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
reader=$(oc apikey create --data-dir "$dir" --name reader --scope read)
oc simulate market --days 320 --seed 11 --series WTI --regime-change 250:0.006:-0.006 --out "$OC_TMP/all.csv" >/dev/null
oc ingest --data-dir "$dir" --source simulated --csv-path "$OC_TMP/all.csv" --series WTI --quiet >/dev/null
oc train --data-dir "$dir" --quiet --model ar:max_p=0:window=20 --series WTI --deploy --endpoint-name wti >/dev/null
serve_start "$dir" --threads 2 --access-log off
A=(-H "Authorization: Bearer $admin")
alert='{"version":"4","status":"firing","receiver":"oilcast","groupKey":"{}:{alertname=\"RelMaeHigh\"}",
 "groupLabels":{"alertname":"RelMaeHigh"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am:9093",
 "alerts":[{"status":"firing","labels":{"alertname":"RelMaeHigh","action":"retrain","endpoint":"wti"},
 "annotations":{"summary":"relMAE 1.3 over 10 origins"},"startsAt":"2025-03-04T22:00:00Z",
 "endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"5f1c0e"},
 {"status":"firing","labels":{"alertname":"Stale","endpoint":"wti"},"annotations":{},"startsAt":"2025-03-04T22:00:00Z",
 "endsAt":"0001-01-01T00:00:00Z","fingerprint":"77aa01"}]}'
expect_status 401 POST /v1/admin/alerts -d "$alert" >/dev/null
expect_status 403 POST /v1/admin/alerts -H "Authorization: Bearer $reader" -d "$alert" >/dev/null
got=$(expect_status 202 POST /v1/admin/alerts "${A[@]}" -d "$alert")
assert_eq "$got" '{"accepted":[{"endpoint":"wti","alertname":"RelMaeHigh","fingerprint":"5f1c0e"}],"ignored":[{"index":1,"fingerprint":"77aa01","reason":"no label action=\"retrain\""}]}' "webhook"
expect_status 422 POST /v1/admin/alerts "${A[@]}" -d '{"version":"3","alerts":[]}' >/dev/null
expect_status 400 POST /v1/admin/alerts "${A[@]}" -d '{"version":' >/dev/null

printf '[promote-wti]\nevery = trading-day at 22:30 UTC\nstep = retrain --endpoint wti --horizon 5\n' >"$dir/jobs.conf"
oc jobs check --data-dir "$dir" >/dev/null
oc jobs run promote-wti --data-dir "$dir" >/dev/null
oc retrain --data-dir "$dir" --endpoint wti --trigger manual >"$OC_TMP/refused.txt"
assert_contains "$(cat "$OC_TMP/refused.txt")" "not retrained: challenger v2 is under evaluation"
oc decisions --data-dir "$dir" --endpoint wti --format json >"$OC_TMP/decisions.json"
got=$(expect_status 200 GET /v1/endpoints/wti/decisions "${A[@]}")
assert_eq "$got" "{\"endpoint\":\"wti\",\"decisions\":$(cat "$OC_TMP/decisions.json")}" "API records = CLI records"
actions=$(json_get "$got" '",".join(x["action"] + ":" + x["trigger"] for x in d["decisions"])')
assert_eq "$actions" "refusal:manual,deploy:alert,training:alert,trigger:alert" "decisions"
assert_eq "$(json_get "$got" 'd["decisions"][1]["figures"]["mode"]')" "shadow" "deployed in shadow"
# the shadow challenger is not served: the endpoint still answers with v1 alone
endpoint=$(expect_status 200 GET /v1/endpoints/wti "${A[@]}")
assert_contains "$endpoint" '"model_version":"v1"'
[[ "$endpoint" != *'"v2"'* ]] || fail "the shadow challenger is served: $endpoint"
expect_status 200 GET "/v1/endpoints/wti/decisions?last=1" "${A[@]}" >/dev/null
expect_status 400 GET "/v1/endpoints/wti/decisions?last=0" "${A[@]}" >/dev/null
expect_status 404 GET /v1/endpoints/nope/decisions "${A[@]}" >/dev/null
echo "serve_promote: webhook trigger, retrain step, refusal and decisions served, validated"
