# ingest_parquet.sh: `oilcast ingest` on Parquet files other tools wrote (tests/fixtures/parquet, made by
# scripts/make_parquet_fixtures.mjs): pandas' defaults (Snappy, dictionary pages, TIMESTAMP(NANOS), NaN
# as null) read exactly with the nulls counted as missing and the file kept as lineage; a DuckDB DECIMAL
# with nanosecond dates; DuckDB's long format in several row groups; intraday timestamps refused naming
# the row, group and column with nothing written; a truncated file refused naming the offset.
source "$(dirname "$0")/lib.sh"
FIX=$(cd "$(dirname "$0")/../fixtures/parquet" && pwd)
oc init --quiet

out=$(oc ingest --csv-path "$FIX/pandas_default.parquet" 2>"$OC_TMP/err")
assert_contains "$out" "20 rows read (parquet, 1 series): 18 inserted, 0 updated, 0 unchanged, 0 rejected, 2 missing"
sha=$(sha256sum "$FIX/pandas_default.parquet" | cut -d' ' -f1)
cmp "$FIX/pandas_default.parquet" "$OILCAST_DATA_DIR"/raw/historical_data/*/"$sha.parquet" || fail "no lineage copy"
shown=$(oc series show WTI --format csv)
assert_eq "$(head -n 4 <<<"$shown")" "date,value
2024-01-02,70.01
2024-01-03,70.26
2024-01-04,70.51" "first rows"
assert_eq "$(grep -c '^2024-' <<<"$shown")" 18 "rows stored (the two nulls are not)"
assert_contains "$shown" "2024-01-08,71.01
2024-01-10,71.51" # 2024-01-09 was null
out=$(oc ingest --csv-path "$FIX/pandas_default.parquet" 2>/dev/null)
assert_contains "$out" "0 inserted, 0 updated, 18 unchanged"

out=$(oc ingest --csv-path "$FIX/duckdb_types_v2.parquet" --date-col ts_ns --value-col dec38 --series DEC 2>/dev/null)
assert_contains "$out" "18 inserted"
assert_eq "$(oc series show DEC --last 1 --format csv | tail -n 1)" "2024-01-29,74.76"

out=$(oc ingest --csv-path "$FIX/duckdb_long.parquet" 2>/dev/null)
assert_contains "$out" "4200 rows read (parquet-long, 2 series): 4200 inserted"
assert_eq "$(oc series show BRENT --last 1 --format csv | tail -n 1)" "2005-09-30,2099.75"

before=$(oc series list --format csv)
assert_exit 1 oc ingest --csv-path "$FIX/duckdb_intraday.parquet" --date-col ts
err=$(oc ingest --csv-path "$FIX/duckdb_intraday.parquet" --date-col ts 2>&1 || true)
assert_contains "$err" "duckdb_intraday.parquet:2: row group 0, column 'ts': timestamp 2024-01-02T16:00:00 has another time of day than row 1 (09:30:00)"
assert_eq "$(oc series list --format csv)" "$before" "a refused file writes nothing"

head -c 1000 "$FIX/pandas_default.parquet" >"$OC_TMP/cut.parquet"
err=$(oc ingest --csv-path "$OC_TMP/cut.parquet" 2>&1 || true)
assert_contains "$err" "cut.parquet: no PAR1 magic at file offset 996"
assert_exit 1 oc ingest --csv-path "$OC_TMP/cut.parquet"
assert_exit 1 oc ingest --csv-path "$FIX/duckdb_types.parquet" --date-col flag --value-col dbl
assert_eq "$(oc series list --format csv)" "$before" "refused files write nothing"
# `lake cat` and `lake inspect` show other writers' types as DuckDB reads them: timestamps of every unit
# in ISO 8601, decimals with their scale, a FLOAT in its shortest form (they printed raw nanoseconds,
# unscaled integers, the bytes of a FIXED_LEN_BYTE_ARRAY and 70.01000213623047).
assert_eq "$(oc lake cat "$FIX/duckdb_types.parquet" --limit 1 | tail -n 1)" \
  "2024-01-02,70.010,70.01,70.0100,70.01,70.01,1,70010,0,2024-01-02T00:00:00.000000,2024-01-02T16:00:00.000000,\
2024-01-02T00:00:00.000,2024-01-02T00:00:00.000000000,2024-01-02,70.01,2024-01-02T00:00:00.000000Z" "lake cat types"
assert_eq "$(oc lake cat "$FIX/duckdb_decimal.parquet" --format json)" '[
{"date":"2024-01-02","d18":12345678.123456789,"d38":70.123456789012345678},
{"date":"2024-01-03","d18":-0.000000001,"d38":-0.000000001000000000}
]' "lake cat decimals"
assert_eq "$(oc lake cat "$FIX/pandas_default.parquet" --limit 1 --format json)" '[
{"Date":"2024-01-02T00:00:00.000000000","Price":70.01}
]' "lake cat pandas"
inspect=$(oc lake inspect "$FIX/duckdb_types.parquet")
# a timestamp says UTC only when adjusted to UTC (DuckDB's TIMESTAMP is not, its TIMESTAMPTZ is)
assert_contains "$inspect" "  ts                       INT64      TIMESTAMP(MICROS)      optional" "TIMESTAMP"
assert_contains "$inspect" "  tstz                     INT64      TIMESTAMP(MICROS,UTC)  optional" "TIMESTAMPTZ"
assert_contains "$inspect" "nulls=2 min=70.0100 max=74.7600" "DECIMAL(38,4) statistics"
assert_contains "$inspect" "min=2024-01-02T00:00:00.000000000 max=2024-01-29T00:00:00.000000000" "NANOS statistics"
echo "ingest_parquet: ok"
