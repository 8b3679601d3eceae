#!/usr/bin/env bash
# e2e train_auto: `oilcast train --model auto --deploy` on a short simulated series (every model on the
# same validation origins, the comparison printed and kept in the card), then `oilcast forecast
# --endpoint-name` and `--model vN` answered by the registered forecaster, `forecast --batch` by it,
# `models list|show` with the kind and the comparison, a fixed `--model ets`, and a tampered
# forecaster.json refused.
set -euo pipefail
bin=${OILCAST_BIN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
d=$tmp/d
fail() { echo "FAIL: $*" >&2; exit 1; }
"$bin" init --data-dir "$d" --quiet >/dev/null
"$bin" simulate market --days 900 --seed 5 --series SIM --out "$tmp/sim.csv" --quiet
"$bin" ingest --data-dir "$d" --quiet --source simulated --csv-path "$tmp/sim.csv" --series SIM >/dev/null
"$bin" train --data-dir "$d" --quiet --model auto --series SIM --validation-origins 20 --threads 2 --deploy \
  --endpoint-name auto-ep > "$tmp/train.txt"
for m in naive drift mean ets ar mlp ensemble; do
  grep -q "^$m " "$tmp/train.txt" || fail "comparison lacks $m: $(cat "$tmp/train.txt")"
done
chosen=$(awk '/<- chosen/ {print $1}' "$tmp/train.txt")
[[ -n $chosen ]] || fail "no model chosen: $(cat "$tmp/train.txt")"
grep -q "^trained v1: $chosen on SIM" "$tmp/train.txt" || fail "winner not registered as v1: $(cat "$tmp/train.txt")"
grep -q "deployed .*auto-ep -> v1" "$tmp/train.txt" || fail "not deployed"
# the default validation is two blocks ("years"): each model's relMAE per block, its worst and median
grep -Eq "^by year +[0-9]{4} +[0-9]{4} +worst +median$" "$tmp/train.txt" || fail "no per-year comparison: $(cat "$tmp/train.txt")"
grep -q "^chosen by: lowest validation relMAE in the worst of 2 years" "$tmp/train.txt" || fail "no criterion printed"
[[ -f "$d/models/artifacts/v1/forecaster.json" ]] || fail "no forecaster.json"

"$bin" models list --data-dir "$d" --format csv > "$tmp/list.csv"
grep -q "^v1,deployed,SIM,.*,$chosen\$" "$tmp/list.csv" || fail "models list: $(cat "$tmp/list.csv")"
"$bin" models show v1 --data-dir "$d" --format json > "$tmp/show.json"
grep -q "\"chosen\": \"$chosen\"" "$tmp/show.json" || fail "card lacks the comparison"
grep -q '"validation_years"' "$tmp/show.json" || fail "card lacks the per-year blocks"
[[ $(grep -c '"rel_mae"' "$tmp/show.json") -ge 7 ]] || fail "card lacks a candidate"
"$bin" models show v1 --data-dir "$d" > "$tmp/show.txt"
grep -q "^kind           $chosen" "$tmp/show.txt" || fail "models show: $(cat "$tmp/show.txt")"

"$bin" forecast --data-dir "$d" --endpoint-name auto-ep --format csv > "$tmp/f.csv"
[[ $(head -1 "$tmp/f.csv") == "date,price,lower80,upper80,lower95,upper95,model" ]] || fail "forecast header"
# 80% and 95% intervals around every price, for a network version as for every other kind
awk -F, 'NR > 1 && !($5 <= $3 && $3 <= $2 && $2 <= $4 && $4 <= $6 && $5 < $6) {bad = 1} END {exit bad}' "$tmp/f.csv" ||
  fail "forecast intervals: $(cat "$tmp/f.csv")"
[[ $(wc -l < "$tmp/f.csv") -eq 8 ]] || fail "expected 7 forecast rows: $(cat "$tmp/f.csv")"
grep -q ",v1\$" "$tmp/f.csv" || fail "forecast not by v1"
"$bin" forecast --data-dir "$d" --model v1 --format csv > "$tmp/f2.csv"
cmp "$tmp/f.csv" "$tmp/f2.csv" || fail "--model v1 and the endpoint disagree"

# Batch predictions by the forecaster version: at the last stored date, the version's own forecast;
# an earlier origin is fitted on the history up to it.
last=$(tail -1 "$tmp/sim.csv" | cut -d, -f1)
earlier=$(tail -101 "$tmp/sim.csv" | head -1 | cut -d, -f1)
printf 'series,origin\nSIM,%s\nSIM,%s\n' "$last" "$earlier" > "$tmp/batch-in.csv"
"$bin" forecast --data-dir "$d" --quiet --endpoint-name auto-ep --batch "$tmp/batch-in.csv" --out "$tmp/batch.csv"
/usr/bin/python3 - "$tmp/batch.csv" "$tmp/f.csv" "$last" "$earlier" <<'PY' || fail "batch output: $(cat "$tmp/batch.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
own = list(csv.DictReader(open(sys.argv[2])))
assert len(rows) == 14 and {r["model"] for r in rows} == {"v1"}, rows
assert [r["origin"] for r in rows] == [sys.argv[3]] * 7 + [sys.argv[4]] * 7, rows
for r, o in zip(rows[:7], own):
    assert r["date"] == o["date"] and abs(float(r["price"]) - float(o["price"])) < 1e-6, (r, o)
for r in rows:
    assert float(r["lower95"]) <= float(r["lower80"]) <= float(r["price"]) <= float(r["upper80"]) <= float(r["upper95"]), r
PY

"$bin" train --data-dir "$d" --quiet --model ets --series SIM > "$tmp/ets.txt"
grep -q "^trained v2: ets on SIM" "$tmp/ets.txt" || fail "--model ets: $(cat "$tmp/ets.txt")"
"$bin" forecast --data-dir "$d" --model v2 --forecast-days 3 --format json > "$tmp/ets.json"
grep -q '"model":"v2"' "$tmp/ets.json" || fail "--model v2: $(cat "$tmp/ets.json")"

# Tampering: one changed byte in the saved state is refused.
printf ' ' | dd of="$d/models/artifacts/v1/forecaster.json" bs=1 seek=3 conv=notrunc status=none
if "$bin" forecast --data-dir "$d" --endpoint-name auto-ep 2> "$tmp/err.txt"; then fail "tampered model used"; fi
grep -q "forecaster.json.*was modified" "$tmp/err.txt" || fail "tamper message: $(cat "$tmp/err.txt")"
echo "e2e train_auto: ok"
