#!/usr/bin/env bash
# e2e train_auto_mlp: `oilcast train --model auto` where the network wins. The series is a SYNTHETIC
# sawtooth in log price (up 0.4% a business day for 24 days, down the sum on the 25th, plus 0.2%
# noise): its crashes are predictable from the price's position against its moving averages (features
# the network sees), but not by the statistical models (ar looks back at most 10 returns). The winner
# is trained on the ETL table and registered as a network version: the comparison names mlp with the
# lowest relMAE, the card's `selection` keeps it, `models list|show` show it, the endpoint serves it
# over HTTP (model mlp, version v1, as `oilcast forecast` computes it) and `forecast --batch` uses it.
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"

dir=$OC_TMP/data
"$OILCAST_BIN" init --data-dir "$dir" --quiet >/dev/null
reader=$("$OILCAST_BIN" apikey create --data-dir "$dir" --name reader --scope read)
/usr/bin/python3 - >"$OC_TMP/saw.csv" <<'PY'
import datetime, math, random
rng, day, x = random.Random(2), datetime.date(2015, 1, 5), 0.0
print("date,value")
for i in range(1000):
    print(f"{day.isoformat()},{60 * math.exp(x):.4f}")
    x += (0.004 if (i + 1) % 25 else -0.004 * 24) + rng.gauss(0, 0.002)
    day += datetime.timedelta(days=1)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
PY
oc ingest --data-dir "$dir" --quiet --source simulated --csv-path "$OC_TMP/saw.csv" --series SAW >/dev/null
oc etl --data-dir "$dir" --quiet --series SAW >/dev/null
# One validation block and one network (the years rule is e2e_train_auto's, bagging unit_train_bag's):
# the ThreadSanitizer build runs networks slowly.
oc train --data-dir "$dir" --quiet --model auto --series SAW --validation-origins 20 --validation-years 1 --bag 1 \
  --threads 2 --epochs 30 --deploy \
  --endpoint-name saw-ep >"$OC_TMP/train.txt"
out=$(cat "$OC_TMP/train.txt")
[[ $(awk '/<- chosen/ {print $1}' "$OC_TMP/train.txt") == mlp ]] || fail "the network should win: $out"
assert_contains "$out" "trained v1 on processed/training_data.parquet" "network trained on the ETL table"
assert_contains "$out" "deployed          endpoint saw-ep -> v1" "deploy"
[[ -f "$dir/models/artifacts/v1/model.safetensors" && ! -e "$dir/models/artifacts/v1/forecaster.json" ]] ||
  fail "v1 is not a network version: $(ls "$dir/models/artifacts/v1")"

oc models list --data-dir "$dir" --format csv >"$OC_TMP/list.csv"
grep -q '^v1,deployed,SAW,.*,mlp$' "$OC_TMP/list.csv" || fail "models list: $(cat "$OC_TMP/list.csv")"
oc models show v1 --data-dir "$dir" --format json >"$OC_TMP/card.json"
/usr/bin/python3 - "$OC_TMP/card.json" <<'PY' || fail "card: $(cat "$OC_TMP/card.json")"
import json, sys
card = json.load(open(sys.argv[1]))
assert card["format"] == "oilcast-model/1" and card["series"] == "SAW", card
sel = card["selection"]
assert sel["chosen"] == "mlp" and "relMAE" in sel["criterion"], sel
rel = {c["model"]: c["rel_mae"] for c in sel["candidates"]}
assert sorted(rel) == sorted(["naive", "drift", "mean", "ets", "ar", "mlp", "ensemble"]), rel
assert all(rel["mlp"] < r for m, r in rel.items() if m != "mlp"), rel
assert sel["validation"]["origins"] == 20 and sel["validation"]["horizon"] == 7, sel["validation"].keys()
PY
show=$(oc models show v1 --data-dir "$dir")
assert_contains "$show" "version        v1 (deployed)" "models show"
assert_contains "$show" "chosen by      lowest validation relMAE" "models show: the comparison"
[[ $(grep -c '^  [a-z]* *relMAE' <<<"$show") -eq 7 ]] || fail "models show lists 7 candidates: $show"

oc forecast --data-dir "$dir" --endpoint-name saw-ep --format json >"$OC_TMP/local.json"
serve_start "$dir" --threads 2 --access-log off
body=$(curl -fsS -D "$OC_TMP/headers.txt" -H "Authorization: Bearer $reader" -X POST \
  "$SERVE_URL/v1/endpoints/saw-ep/invocations" -d '{}')
grep -qi '^X-Oilcast-Model-Version: v1' "$OC_TMP/headers.txt" || fail "header: $(cat "$OC_TMP/headers.txt")"
/usr/bin/python3 - "$body" "$OC_TMP/local.json" <<'PY' || fail "invocation: $body"
import json, sys
d, local = json.loads(sys.argv[1]), json.load(open(sys.argv[2]))
assert d["model_version"] == "v1" and d["model"] == "mlp" and d["series"] == "SAW", d
assert d["origin"] == local["as_of"] and len(d["points"]) == 7, (d, local)
for p, q in zip(d["points"], local["forecast"]):
    assert p["date"] == q["date"] and abs(p["price"] - q["price"]) <= 1e-5 * q["price"], (p, q)
    assert p["lower95"] < p["lower80"] < p["price"] < p["upper80"] < p["upper95"], p
PY
models=$(expect_status 200 GET /v1/models -H "Authorization: Bearer $reader")
[[ $(json_get "$models" '[(m["kind"], m["endpoints"][0]["endpoint"]) for m in d["models"] if m["version"] == "v1"]') == \
  "[('mlp', 'saw-ep')]" ]] || fail "/v1/models: $models"
serve_stop

printf 'series,origin\nSAW,%s\n' "$(json_get "$body" 'd["origin"]')" >"$OC_TMP/batch-in.csv"
oc forecast --data-dir "$dir" --quiet --endpoint-name saw-ep --batch "$OC_TMP/batch-in.csv" --out "$OC_TMP/batch.csv"
[[ $(cut -d, -f6 "$OC_TMP/batch.csv" | tail -n +2 | paste -sd' ') == \
  "$(json_get "$body" '" ".join(repr(p["price"]) for p in d["points"])')" ]] || fail "batch: $(cat "$OC_TMP/batch.csv")"
echo "e2e train_auto_mlp: ok"
