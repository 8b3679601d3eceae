# etl_wti.sh: `oilcast etl` end to end on the real WTI (+ Brent) imported into a store: the report
# (the -36.98 day, the split, the dropped features), the Parquet table and its Hive-style partition,
# the CSV format, and DuckDB (@duckdb/node-api, an independent Parquet reader) reading the table back:
# row count, column names and types, every value and every metadata entry equal what oilcast wrote.
# Also: the non-positive 'fail' policy, an unknown series, a bad option.
source "$(dirname "$0")/lib.sh"
oc_require_test_data

oc init --quiet >/dev/null
oc ingest --quiet --csv-path "$DATA/wti-daily.csv" >/dev/null 2>&1
oc ingest --quiet --csv-path "$DATA/brent-daily.csv" --series BRENT >/dev/null 2>&1

out=$(oc etl --exog BRENT)
assert_contains "$out" "rows: 9821 read, 9820 in the table"
assert_contains "$out" "non-positive prices: 1"
assert_contains "$out" "2020-04-20 -36.98"
assert_contains "$out" "exog BRENT: 9381 same-day, 93 forward-filled, 346 missing"
assert_contains "$out" "split: 8832 training rows (<= 2021-01-20), 981 validation rows"
assert_contains "$out" "dropped bb_middle: |corr| 1.0000 > 0.98 with sma20"
table="$OILCAST_DATA_DIR/processed/training_data.parquet"
part="$OILCAST_DATA_DIR/processed/training/series=WTI/part-0.parquet"
[[ -s "$table" && -s "$part" ]] || fail "etl did not write $table and $part"
cmp "$table" "$part"

# The same table as CSV (+ metadata sidecar), then DuckDB reads the Parquet file and compares.
oc etl --quiet --exog BRENT --format csv --out "$OC_TMP/table.csv" >/dev/null
[[ -s "$OC_TMP/table.csv.meta.json" ]] || fail "no metadata sidecar"
assert_eq "$(head -c 15 "$OC_TMP/table.csv")" "date,close,dow_" "CSV header"

if [[ ! -d "$OILCAST_SOURCE_DIR/node_modules/@duckdb/node-api" ]]; then
  if [[ "${CI:-}" == true ]]; then fail "node_modules missing (run scripts/deps.sh)"; fi
  echo "DuckDB (@duckdb/node-api) not installed: run scripts/deps.sh; skipped" >&2
  exit 77
fi
cat >"$OC_TMP/compare.mjs" <<'JS'
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const [parquet, csv, metaPath, modules] = process.argv.slice(2);
const { DuckDBInstance } = createRequire(modules + '/')('@duckdb/node-api');
const fail = (msg) => { console.error('FAIL: ' + msg); process.exit(1); };
const con = await (await DuckDBInstance.create(':memory:')).connect();
const file = parquet.replaceAll("'", "''");
const types = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowObjectsJson();
const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
const header = lines[0].split(',');
if (types.map((t) => t.column_name).join(',') !== header.join(',')) fail('column names differ');
types.forEach((t, i) => {
  const want = i === 0 ? 'DATE' : 'DOUBLE';
  if (t.column_type !== want) fail(`${t.column_name} is ${t.column_type}, not ${want}`);
});
const rows = (await con.runAndReadAll(
  `SELECT strftime(date, '%Y-%m-%d') AS date, * EXCLUDE (date) FROM read_parquet('${file}')`)).getRows();
if (rows.length !== lines.length - 1) fail(`DuckDB reads ${rows.length} rows, the CSV has ${lines.length - 1}`);
let values = 0;
rows.forEach((row, r) => {
  const cells = lines[r + 1].split(',');
  if (row[0] !== cells[0]) fail(`row ${r}: date ${row[0]} vs ${cells[0]}`);
  for (let c = 1; c < header.length; c++) {
    const want = cells[c] === '' ? null : Number(cells[c]);
    if (!Object.is(row[c], want)) fail(`row ${r} ${header[c]}: DuckDB ${row[c]}, oilcast ${want}`);
    values++;
  }
});
const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
const kv = (await con.runAndReadAll(
  `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${file}')`)).getRowObjectsJson();
const seen = Object.fromEntries(kv.map((e) => [e.k, e.v]));
for (const [k, v] of Object.entries(meta)) if (seen[k] !== v) fail(`metadata ${k} differs`);
console.log(`duckdb: ${rows.length} rows x ${header.length} columns, ${values} values and ` +
            `${Object.keys(meta).length} metadata entries equal`);
JS
out=$(node "$OC_TMP/compare.mjs" "$table" "$OC_TMP/table.csv" "$OC_TMP/table.csv.meta.json" "$OILCAST_SOURCE_DIR/node_modules")
assert_contains "$out" "duckdb: 9820 rows x 52 columns"
echo "$out"

# Policies and errors.
code=0
oc etl --non-positive fail >"$OC_TMP/out" 2>"$OC_TMP/err" || code=$?
assert_eq "$code" 1 "fail policy exit status"
assert_contains "$(cat "$OC_TMP/err")" "2020-04-20"
out=$(oc etl --non-positive clip --normalization robust --out "$OC_TMP/clip.parquet")
assert_contains "$out" "rows: 9821 read, 9821 in the table"
assert_contains "$(oc lake inspect "$OC_TMP/clip.parquet")" '"non_positive":"clip"'
assert_exit 1 oc etl --series NOSUCH
assert_exit 2 oc etl --non-positive maybe
assert_exit 2 oc etl --format xlsx
