#!/usr/bin/env bash
# e2e serve_forecaster: a registered forecaster version (not a network) served by the real `oilcast
# serve` on loopback. `train --model ar --deploy` on a simulated series; the endpoint's invocation from
# the stored history answers what `oilcast forecast --model v1` answers (points, 80%/95% intervals,
# X-Oilcast-Model-Version: v1, model "ar"); a given history is a fresh fit, as `forecast
# --historical-prices` computes it; /v1/forecasts/latest keeps the answer; an endpoint created by PUT
# on "v1" serves it too; /v1/models lists v1 with its kind, status and both endpoints.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
reader=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name reader --scope read)
oc simulate market --days 600 --seed 3 --series SIM --out "$OC_TMP/sim.csv" --quiet
oc ingest --data-dir "$dir" --quiet --source simulated --csv-path "$OC_TMP/sim.csv" --series SIM >/dev/null
out=$(oc train --data-dir "$dir" --quiet --model ar --series SIM --deploy --endpoint-name ar-ep)
assert_contains "$out" "trained v1: ar on SIM" "train --model ar"
oc forecast --data-dir "$dir" --model v1 --forecast-days 5 --format json >"$OC_TMP/local.json"
# The last 250 stored prices as a given history.
tail -250 "$OC_TMP/sim.csv" | cut -d, -f2 | paste -sd, | sed 's/^/[/; s/$/]/' >"$OC_TMP/given.json"
oc forecast --data-dir "$dir" --model v1 --historical-prices "$OC_TMP/given.json" --forecast-days 3 \
  --format json >"$OC_TMP/local-given.json"

serve_start "$dir" --threads 2 --access-log off
A=(-H "Authorization: Bearer $admin")
R=(-H "Authorization: Bearer $reader")

# invoke NAME BODY: the answer's body; its headers in $OC_TMP/headers.txt.
invoke() {
  curl -fsS -D "$OC_TMP/headers.txt" "${R[@]}" -X POST "$SERVE_URL/v1/endpoints/$1/invocations" -d "$2"
}
check() { /usr/bin/python3 - "$@" <<<"$CHECK" || fail "$1"; }

stored=$(invoke ar-ep '{"forecast_days":5}')
grep -qi '^X-Oilcast-Model-Version: v1' "$OC_TMP/headers.txt" || fail "header: $(cat "$OC_TMP/headers.txt")"
CHECK='
import json, sys
d, local = json.loads(sys.argv[2]), json.load(open(sys.argv[3]))
assert d["model_version"] == "v1" and d["model"] == "ar" and d["history"] == "stored", d
assert d["series"] == "SIM" and d["origin"] == local["as_of"] == sys.argv[4], (d, local)
assert len(d["points"]) == 5 and abs(d["last_price"] - local["last_price"]) < 1e-9, d
for p, q in zip(d["points"], local["forecast"]):
    assert p["date"] == q["date"] and abs(p["price"] - q["price"]) <= 1e-9 * q["price"], (p, q)
    assert p["lower95"] < p["lower80"] < p["price"] < p["upper80"] < p["upper95"], p
'
check "stored invocation" "$stored" "$OC_TMP/local.json" "$(tail -1 "$OC_TMP/sim.csv" | cut -d, -f1)"

given=$(invoke ar-ep "{\"historical_prices\":$(cat "$OC_TMP/given.json"),\"forecast_days\":3}")
CHECK='
import json, sys
d, local = json.loads(sys.argv[2]), json.load(open(sys.argv[3]))
assert d["history"] == "given" and d["model_version"] == "v1" and len(d["points"]) == 3, d
for p, q in zip(d["points"], local["forecast"]):
    assert abs(p["price"] - q["price"]) <= 1e-9 * q["price"], (p, q)
    assert p["lower95"] < p["lower80"] < p["price"] < p["upper80"] < p["upper95"], p
'
check "given invocation" "$given" "$OC_TMP/local-given.json"

latest=$(expect_status 200 GET "/v1/forecasts/latest?series=SIM" "${R[@]}")
CHECK='
import json, sys
d, s = json.loads(sys.argv[2]), json.loads(sys.argv[3])
assert d["model_version"] == "v1" and d["origin"] == s["origin"], d
assert [p["price"] for p in d["points"]] == [p["price"] for p in s["points"]], (d, s)
'
check "latest forecast" "$latest" "$stored"

# An endpoint pointed at the registered version through the API.
put=$(expect_status 201 PUT /v1/endpoints/by-put "${A[@]}" -d '{"variants":[{"name":"only","model_version":"v1"}]}')
[[ $(json_get "$put" 'd["series"]') == SIM ]] || fail "PUT on v1 should serve its series: $put"
# Replacing an existing endpoint is 200 and names no new location.
again=$(curl -sS -D - -o /dev/null -X PUT "${A[@]}" -d '{"variants":[{"name":"only","model_version":"v1"}]}' \
  "$SERVE_URL/v1/endpoints/by-put" | tr -d '\r')
grep -q '^HTTP/1.1 200' <<<"$again" && ! grep -qi '^Location:' <<<"$again" || fail "PUT replacing by-put: $again"
again=$(invoke by-put '{"forecast_days":5}')
grep -qi '^X-Oilcast-Model-Version: v1' "$OC_TMP/headers.txt" || fail "by-put header"
[[ $(json_get "$again" '[p["price"] for p in d["points"]]') == "$(json_get "$stored" '[p["price"] for p in d["points"]]')" ]] ||
  fail "by-put and ar-ep disagree: $again / $stored"

models=$(expect_status 200 GET /v1/models "${R[@]}")
CHECK='
import json, sys
d = json.loads(sys.argv[2])
v1 = [m for m in d["models"] if m["version"] == "v1"]
assert len(v1) == 1, d
m = v1[0]
assert m["kind"] == "ar" and m["series"] == "SIM" and m["status"] == "deployed", m
assert sorted(e["endpoint"] for e in m["endpoints"]) == ["ar-ep", "by-put"], m
assert m["load_seconds"] >= 0 and set(m["metrics"]) == {"val_loss", "val_mae", "naive_mae"}, m
'
check "/v1/models" "$models"
serve_stop
echo "e2e serve_forecaster: ok"
