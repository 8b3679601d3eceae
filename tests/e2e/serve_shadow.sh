#!/usr/bin/env bash
# End-to-end: a shadow challenger is forecast beside every invocation. `oilcast retrain` deploys v2 in
# shadow beside the champion v1 while the server runs; the server follows the decision and from then
# on each POST /v1/endpoints/wti/invocations answers exactly as the champion alone does, and the store
# holds the challenger's forecast of that request beside the champion's (same origin, variant
# "shadow"). Once the prices that followed arrive, `oilcast monitor` scores both on the same origins
# and the promotion rule pairs them (decided on 2 paired origins here). A challenger that cannot be
# loaded never fails an invocation: it is counted in /metrics. Responses are validated against
# docs/openapi.yaml (serve_helpers.bash).
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
A=(-H "Authorization: Bearer $admin")
db() { sqlite3 "$dir/oilcast.db" "$1"; }
invoke() { expect_status 200 POST /v1/endpoints/wti/invocations "${A[@]}" -H "X-Request-Id: $1" -d '{"forecast_days":5}'; }
# without_times JSON: the answer without its created_at (the rest must be equal)
without_times() { json_get "$1" 'json.dumps({k: v for k, v in d.items() if k != "created_at"}, sort_keys=True)'; }

oc simulate market --days 330 --seed 11 --series WTI --out "$OC_TMP/all.csv" >/dev/null
head -n 302 "$OC_TMP/all.csv" >"$OC_TMP/first.csv" # the mark line, the header and 300 days
{ head -n 2 "$OC_TMP/all.csv"; sed -n 303p "$OC_TMP/all.csv"; } >"$OC_TMP/day301.csv"
{ head -n 2 "$OC_TMP/all.csv"; tail -n +304 "$OC_TMP/all.csv"; } >"$OC_TMP/later.csv"
oc ingest --data-dir "$dir" --source simulated --csv-path "$OC_TMP/first.csv" --series WTI --quiet >/dev/null
oc train --data-dir "$dir" --quiet --model ar:max_p=0:window=20 --series WTI --deploy --endpoint-name wti >/dev/null
serve_start "$dir" --threads 2 --access-log off

# the challenger, deployed in shadow (the loop forecasts the first origin with it, as every forecast of
# the endpoint now does), followed by the running server
oc retrain --data-dir "$dir" --endpoint wti --trigger manual --horizon 1 >"$OC_TMP/retrain.txt"
assert_contains "$(cat "$OC_TMP/retrain.txt")" "challenger v2 under evaluation; 0 point(s) scored, 2 forecast(s) stored"
oc ingest --data-dir "$dir" --source simulated --csv-path "$OC_TMP/day301.csv" --series WTI --quiet >/dev/null
origin=$(sed -n 303p "$OC_TMP/all.csv" | cut -d, -f1)
for ((i = 0; i < 100; i++)); do # the server reloads within a second: its answer's origin and shadow show it
  answer=$(invoke "shadow-e2e-$i")
  made=$(db "SELECT count(*) FROM forecasts WHERE request_id = 'shadow-e2e-$i' AND variant = 'shadow'")
  [[ "$(json_get "$answer" 'd["origin"]')" == "$origin" && $made == 1 ]] && break
  sleep 0.1
done
((i < 100)) || fail "no shadow forecast beside the invocations at $origin: $(tail -n 5 "$SERVE_LOG")"
request=shadow-e2e-$i

# the answer is the champion's alone, exactly as the champion would give it
assert_eq "$(json_get "$answer" 'd["model_version"] + " " + d["variant"]')" "v1 v1" "the champion answers"
[[ "$answer" != *'"shadow"'* && "$answer" != *'"v2"'* ]] || fail "the shadow reached the caller: $answer"
oc forecast --data-dir "$dir" --model v1 --forecast-days 5 --format json >"$OC_TMP/alone.json"
assert_eq "$(json_get "$(cat "$OC_TMP/alone.json")" 'json.dumps([p["price"] for p in d["forecast"]])')" \
  "$(json_get "$answer" 'json.dumps([p["price"] for p in d["points"]])')" "the answer = v1's forecast alone"
again=$(invoke "shadow-e2e-again")
assert_eq "$(without_times "$again")" "$(without_times "$answer")" "the same request, the same answer"

# the store holds both forecasts at the origin, the same horizon, the challenger in shadow: the
# challenger's of that request (made == 1 above), and the champion's, stored by the first invocation at
# this origin. The server follows the new prices and the shadow challenger as two changes, so that may
# be an earlier request of the loop, and a forecast stored recently is not stored again.
rows=$(db "SELECT variant || ' ' || model_version || ' ' || origin || ' ' || horizon || ' ' || history
           FROM forecasts WHERE endpoint = 'wti' AND origin = '$origin' ORDER BY variant")
assert_eq "$rows" "shadow v2 $origin 5 stored
v1 v1 $origin 5 stored" "stored by the invocation"

# the prices that followed: both scored on the same origins; the promotion rule pairs them
oc ingest --data-dir "$dir" --source simulated --csv-path "$OC_TMP/later.csv" --series WTI --quiet >/dev/null
oc monitor --data-dir "$dir" --endpoint wti --windows 20 --format json >"$OC_TMP/monitor.json"
scored=$(json_get "$(cat "$OC_TMP/monitor.json")" \
  '" ".join(sorted("%s/%s/h%d:%d" % (r["variant"], r["model_version"], r["horizon"], r["origins"]) for r in d if r["horizon"] == 1))')
assert_eq "$scored" "shadow/v2/h1:2 v1/v1/h1:2" "both scored on the same 2 origins"
oc retrain --data-dir "$dir" --endpoint wti --horizon 1 --min-origins 2 --max-origins 2 >/dev/null
decision=$(oc decisions --data-dir "$dir" --endpoint wti --format json)
assert_eq "$(json_get "$decision" 'd[0]["action"] in ("promote", "refusal") and d[0]["figures"]["paired_origins"]')" \
  "2" "the promotion rule decided on the 2 paired origins"

# a challenger that cannot be loaded: the invocation is answered, the failure counted
printf '{"variants":[{"name":"v1","model_version":"v1","weight":1}]}' >"$OC_TMP/v1.json"
db "UPDATE endpoint_challengers SET challenger = 99, mode = 'shadow' WHERE endpoint = 'wti'"
expect_status 200 PUT /v1/endpoints/wti "${A[@]}" -d @"$OC_TMP/v1.json" >/dev/null # rebuilt: v99 is looked for
answer=$(invoke "shadow-e2e-broken")
assert_eq "$(json_get "$answer" 'd["model_version"]')" "v1" "answered without the challenger"
metrics=$(expect_status 200 GET /metrics)
assert_contains "$metrics" 'oilcast_shadow_forecasts_total{endpoint="wti",model_version="v2",outcome="made"}'
assert_contains "$metrics" 'oilcast_shadow_forecasts_total{endpoint="wti",model_version="v99",outcome="unavailable"} 1'
echo "serve_shadow: the champion answers, the shadow is stored beside it, scored on the same origins, paired"
