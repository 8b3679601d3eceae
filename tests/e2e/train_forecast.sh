#!/usr/bin/env bash
# e2e train_forecast: the reference guide's pipeline on the WTI data: import, `oilcast etl`,
# `oilcast train --deploy` (twice with one seed: bit-identical tensors and interval calibration),
# `oilcast models list|show`, the safetensors file read by an independent Python json+struct reader
# (tests/fixtures/read_safetensors.py) against model.json, `oilcast forecast` from the store, from a
# JSON history and in batch, and the errors for a too-short history, too many days and a tampered model.
# Nothing here depends on real prices: without the shared data it runs on a simulated stand-in
# ending 2024-12-31 (tests/support/prices.sh).
set -euo pipefail
bin=${OILCAST_BIN:?}
src=${OILCAST_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$src/tests/support/prices.sh"
oc_wti_prices "$bin" "${OILCAST_TEST_DATA:-$src/../shared/data}" "$tmp"
d=$tmp/d
fail() { echo "FAIL: $*" >&2; exit 1; }
# `oilcast etl` comes from the ETL work; until it is in this build there is no table to train on.
"$bin" etl --help >/dev/null 2>&1 || exit 77
"$bin" init --data-dir "$d" --quiet >/dev/null
"$bin" ingest --data-dir "$d" --quiet --source historical --csv-path "$PRICES" --series WTI >/dev/null
"$bin" etl --data-dir "$d" --quiet --series WTI --horizon 7 >/dev/null
epochs=8
[[ "${OILCAST_SANITIZED:-0}" == 1 ]] && epochs=3
# --bag 1: one network a version (a bag's determinism is unit_train_bag's; networks are slow under TSan)
"$bin" train --data-dir "$d" --model mlp --bag 1 --epochs $epochs --seed 7 --deploy > "$tmp/train1.txt"
grep -q "trained v1" "$tmp/train1.txt" || fail "first version is not v1: $(cat "$tmp/train1.txt")"
grep -q "no-change forecast on the same rows" "$tmp/train1.txt" || fail "report lacks the naive comparison"
# the 7 rows before the end of training whose 7 horizons reach into the validation window, in neither set
grep -q "^purged rows       7 (dated up to " "$tmp/train1.txt" || fail "report lacks the purged rows: $(cat "$tmp/train1.txt")"
grep -q "deployed .*oil-market-forecast-endpoint -> v1" "$tmp/train1.txt" || fail "not deployed"
"$bin" train --data-dir "$d" --model mlp --bag 1 --epochs $epochs --seed 7 > "$tmp/train2.txt"
grep -q "trained v2" "$tmp/train2.txt" || fail "second version is not v2"
cmp "$d/models/artifacts/v1/model.safetensors" "$d/models/artifacts/v2/model.safetensors" ||
  fail "same data, options and seed gave different tensors"
# the interval calibration is stored with the version, identical for identical trainings
calibration() { sed -n '/^  "calibration": {/,/^  }/p' "$d/models/artifacts/$1/model.json"; }
[[ -n "$(calibration v1)" ]] || fail "model.json has no calibration: $(cat "$d/models/artifacts/v1/model.json")"
[[ "$(calibration v1)" == "$(calibration v2)" ]] || fail "same data, options and seed gave different calibrations"

"$bin" models list --data-dir "$d" --format csv > "$tmp/list.csv"
grep -q '^v1,deployed,WTI,' "$tmp/list.csv" || fail "v1 not deployed in: $(cat "$tmp/list.csv")"
grep -q '^v2,registered,WTI,' "$tmp/list.csv" || fail "v2 not registered in: $(cat "$tmp/list.csv")"
"$bin" models show v2 --data-dir "$d" > "$tmp/show.txt"
grep -q "^version        v2 (registered)" "$tmp/show.txt" || fail "models show v2: $(cat "$tmp/show.txt")"
grep -q "^intervals      split-conformal on [0-9]* out-of-sample origins" "$tmp/show.txt" ||
  fail "models show v2 intervals: $(cat "$tmp/show.txt")"
"$bin" models show v2 --data-dir "$d" --format json > "$tmp/show.json"
grep -q '"format": "oilcast-model/1"' "$tmp/show.json" || fail "models show --format json"
if [[ -x /usr/bin/python3 ]]; then
  /usr/bin/python3 "$src/tests/fixtures/read_safetensors.py" "$d/models/artifacts/v1" || fail "Python reader"
fi

"$bin" forecast --data-dir "$d" --format csv > "$tmp/f.csv"
[[ $(head -1 "$tmp/f.csv") == "date,price,lower80,upper80,lower95,upper95,model" ]] || fail "forecast header"
# 80% and 95% intervals around every price, for a network version as for every other kind
awk -F, 'NR > 1 && !($5 <= $3 && $3 <= $2 && $2 <= $4 && $4 <= $6 && $5 < $6) {bad = 1} END {exit bad}' "$tmp/f.csv" ||
  fail "forecast intervals: $(cat "$tmp/f.csv")"
[[ $(wc -l < "$tmp/f.csv") -eq 8 ]] || fail "expected 7 forecast rows: $(cat "$tmp/f.csv")"
first=$(sed -n 2p "$tmp/f.csv")
[[ $first == 2025-01-02,*,v1 ]] || fail "first forecast day after 2024-12-31 should be 2025-01-02 (01-01 a holiday): $first"
"$bin" forecast --data-dir "$d" --model v2 --forecast-days 3 --format json > "$tmp/f.json"
grep -q '"model":"v2"' "$tmp/f.json" || fail "--model v2: $(cat "$tmp/f.json")"

# A JSON history: the last 300 stored prices as {date, price}, plus a current price.
"$bin" series show WTI --data-dir "$d" --last 300 --format csv | tail -n +2 |
  awk -F, 'BEGIN {printf "["} {printf "%s{\"date\":\"%s\",\"price\":%s}", (NR > 1 ? "," : ""), $1, $2} END {print "]"}' > "$tmp/h.json"
"$bin" forecast --data-dir "$d" --historical-prices "$tmp/h.json" --current-price 70.50 --forecast-days 2 > "$tmp/h.txt"
grep -q "last price 70.50" "$tmp/h.txt" || fail "current price not used: $(cat "$tmp/h.txt")"
grep -q "^2025-01-03 " "$tmp/h.txt" || fail "current price is 2025-01-02, first forecast 2025-01-03: $(cat "$tmp/h.txt")"
echo '[70, 71, 72]' > "$tmp/short.json"
if "$bin" forecast --data-dir "$d" --historical-prices "$tmp/short.json" 2> "$tmp/err.txt"; then fail "short history accepted"; fi
grep -q "history too short.*need at least" "$tmp/err.txt" || fail "short history message: $(cat "$tmp/err.txt")"
set +e
"$bin" forecast --data-dir "$d" --forecast-days 8 2> "$tmp/err.txt"
rc=$?
set -e
[[ $rc -eq 2 ]] && grep -q "horizon H = 7" "$tmp/err.txt" || fail "8 days with H = 7: rc $rc, $(cat "$tmp/err.txt")"

# Batch predictions by the network: at 2024-12-31 the forecast above, with calibrated bounds.
printf 'series,origin\nWTI,2024-12-31\nWTI,2023-06-30\n' > "$tmp/batch-in.csv"
"$bin" forecast --data-dir "$d" --quiet --batch "$tmp/batch-in.csv" --out "$tmp/batch.csv"
/usr/bin/python3 - "$tmp/batch.csv" "$tmp/f.csv" <<'PY' || fail "batch output: $(cat "$tmp/batch.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
own = list(csv.DictReader(open(sys.argv[2])))
assert len(rows) == 14 and {r["model"] for r in rows} == {"v1"}, rows
for r, o in zip(rows[:7], own):
    assert r["date"] == o["date"] and abs(float(r["price"]) - float(o["price"])) < 1e-5 * float(o["price"]), (r, o)
for r in rows:
    assert float(r["lower95"]) < float(r["lower80"]) < float(r["price"]) < float(r["upper80"]) < float(r["upper95"]), r
PY

# Tampering: one flipped byte in the tensors is refused.
printf '\x01' | dd of="$d/models/artifacts/v1/model.safetensors" bs=1 seek=200 conv=notrunc status=none
if "$bin" forecast --data-dir "$d" 2> "$tmp/err.txt"; then fail "tampered model used"; fi
grep -q "were modified" "$tmp/err.txt" || fail "tamper message: $(cat "$tmp/err.txt")"
echo "e2e train_forecast: ok"
