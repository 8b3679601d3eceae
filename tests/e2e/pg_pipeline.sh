#!/usr/bin/env bash
# e2e pg_pipeline: the whole pipeline on a PostgreSQL store (a throwaway server on loopback started by
# tests/support/pg.sh): a data directory whose oilcast.conf says `store = postgresql://...`, `init`
# (its admin key in PostgreSQL), an import, `etl`, `train --deploy`, and `oilcast serve` answering the
# endpoint's invocation from the stored history with what `oilcast forecast` computes; its forecast
# scored once prices follow, at every horizon though a 1-day forecast came after it; a key revoked
# by another process is refused by the running server within 1 s (the LISTEN/NOTIFY change feed); and
# the rows are in PostgreSQL, not in a SQLite file; a job's failing streak is counted there;
# `oilcast migrate` copies the store to SQLite and back, verified row for row. Skipped only where PostgreSQL is not installed
# (fails under CI=true).
set -euo pipefail
source "$(dirname "$0")/serve_helpers.bash"
source "$(dirname "$0")/pg_helpers.bash"
pg_e2e_start serve_exit

dir=$OC_TMP/data
mkdir -p "$dir"
echo "store = ${PG_URI}oilcast" >"$dir/oilcast.conf"
admin=$("$OILCAST_BIN" init --data-dir "$dir" 2>/dev/null)
[[ -n $admin ]] || fail "init printed no admin key"
[[ ! -e "$dir/oilcast.db" ]] || fail "a SQLite file was created beside a PostgreSQL store"
oc simulate market --days 400 --seed 11 --series SIM --out "$OC_TMP/sim.csv" --quiet
out=$(oc ingest --data-dir "$dir" --source simulated --csv-path "$OC_TMP/sim.csv" --series SIM 2>&1)
assert_contains "$out" "inserted" "ingest into PostgreSQL"
# re-importing the same file changes nothing
out=$(oc ingest --data-dir "$dir" --source simulated --csv-path "$OC_TMP/sim.csv" --series SIM 2>&1)
assert_contains "$out" "0 inserted" "re-import"
oc etl --data-dir "$dir" --quiet --series SIM --horizon 5 >/dev/null
[[ -s "$dir/processed/training_data.parquet" ]] || fail "etl wrote no training table"
out=$(oc train --data-dir "$dir" --quiet --model ar --series SIM --deploy --endpoint-name pg-ep)
assert_contains "$out" "trained v1: ar on SIM" "train --model ar"
oc forecast --data-dir "$dir" --model v1 --forecast-days 5 --format json >"$OC_TMP/local.json"
rows=$(psql -At "${PG_URI}oilcast" -c "SELECT count(*) FROM observations")
lines=$(grep -c "^[0-9]" "$OC_TMP/sim.csv")
assert_eq "$rows" "$lines" "observations in PostgreSQL"

serve_start "$dir" --threads 2 --access-log off
A=(-H "Authorization: Bearer $admin")
body=$(expect_status 200 POST /v1/endpoints/pg-ep/invocations "${A[@]}" -d '{"forecast_days":5}')
/usr/bin/python3 - "$body" "$OC_TMP/local.json" <<'EOF' || fail "the server's forecast differs from oilcast forecast"
import json, sys
d, local = json.loads(sys.argv[1]), json.load(open(sys.argv[2]))
assert d["model_version"] == "v1" and d["history"] == "stored", d
assert len(d["points"]) == 5, d
for p, q in zip(d["points"], local["forecast"]):
    assert p["date"] == q["date"] and abs(p["price"] - q["price"]) <= 1e-9 * q["price"], (p, q)
EOF
# the forecast the server made is stored in PostgreSQL
[[ $(psql -At "${PG_URI}oilcast" -c "SELECT count(*) FROM forecasts") -ge 1 ]] || fail "no stored forecast"

# scored in PostgreSQL once its dates have prices; a newer 1-day forecast from the same origin does
# not hide the 5-day one at horizons 2..5 (performance, its history, the promotion rule's errors)
expect_status 200 POST /v1/endpoints/pg-ep/invocations "${A[@]}" -d '{"forecast_days":1}' >/dev/null
/usr/bin/python3 - "$body" >"$OC_TMP/later.csv" <<'EOF'
import json, sys
print("date,value")
for p in json.loads(sys.argv[1])["points"]:
    print(f'{p["date"]},{p["price"]}')
EOF
oc ingest --data-dir "$dir" --source simulated --csv-path "$OC_TMP/later.csv" --series SIM >/dev/null 2>&1
oc monitor --data-dir "$dir" --format json >/dev/null 2>&1
oc forecast --data-dir "$dir" --model v1 --forecast-days 5 --format json >"$OC_TMP/local.json" # from the prices now
oc retrain --data-dir "$dir" --endpoint pg-ep --horizon 5 >/dev/null # the rule's errors: one origin, no decision
perf=$(expect_status 200 GET "/v1/endpoints/pg-ep/performance?history=true" "${A[@]}")
/usr/bin/python3 - "$perf" <<'EOF' || fail "the 5-day forecast is not scored at every horizon in PostgreSQL"
import json, sys
d = json.loads(sys.argv[1])
rows = {(r["horizon"], r["window"]): r["origins"] for r in d["performance"]}
assert all(rows.get((h, 20)) == 1 for h in range(1, 6)), rows
assert sorted(l["horizon"] for l in d["history"] if l["window"] == 20) == [1, 2, 3, 4, 5], d["history"]
EOF

# another process revokes a key: the running server refuses it within 1 s
key=$(oc apikey create --data-dir "$dir" --name temp --scope read)
expect_status 200 GET /v1/endpoints -H "Authorization: Bearer $key" >/dev/null
oc apikey revoke --data-dir "$dir" temp >/dev/null
start=$(date +%s%N)
while :; do
  ms=$((($(date +%s%N) - start) / 1000000))
  [[ $(http GET /v1/endpoints -H "Authorization: Bearer $key") == 401* ]] && break
  ((ms <= 1000)) || fail "a key revoked by another process still works after 1 s"
  sleep 0.02
done
echo "pg_pipeline: a revocation by another process refused by the running server after $ms ms"
serve_stop

# a job's failing streak, counted in PostgreSQL (monitor health, the JobFailing figure)
printf '[failing]\nevery = 1h\nstep = series show NOPE\n' >"$dir/jobs.conf"
assert_exit 1 oc jobs run --data-dir "$dir" failing >/dev/null 2>&1
assert_exit 1 oc jobs run --data-dir "$dir" failing >/dev/null 2>&1
oc monitor health --data-dir "$dir" --format json | python3 -c '
import json, sys
jobs = json.load(sys.stdin)["jobs"]
assert jobs == [{"job": "failing", "consecutive_failures": 2}], jobs
' || fail "monitor health on PostgreSQL: not 2 failures of job failing"

# oilcast migrate: PostgreSQL -> SQLite -> PostgreSQL, verified row for row; the SQLite copy is a
# working store (the same forecast from it); a store holding data is not copied into
out=$(oc migrate --from "${PG_URI}oilcast" --to "sqlite:$OC_TMP/copy.db")
assert_contains "$out" "verified row for row" "migrate to SQLite"
out=$(oc migrate --from "sqlite:$OC_TMP/copy.db" --to "${PG_URI}oilcast_back")
assert_contains "$out" "verified row for row" "migrate back to PostgreSQL"
echo "store = sqlite:$OC_TMP/copy.db" >"$dir/oilcast.conf"
oc forecast --data-dir "$dir" --model v1 --forecast-days 5 --format json >"$OC_TMP/copy.json"
cmp "$OC_TMP/local.json" "$OC_TMP/copy.json" || fail "the SQLite copy forecasts differently"
assert_exit 1 oc migrate --from "sqlite:$OC_TMP/copy.db" --to "${PG_URI}oilcast" 2>/dev/null
assert_exit 2 oc migrate --from "sqlite:$OC_TMP/copy.db" 2>/dev/null
