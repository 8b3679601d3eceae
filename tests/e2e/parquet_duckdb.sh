#!/usr/bin/env bash
# e2e: Parquet files written by oilcast, read by an independent reader (DuckDB via @duckdb/node-api,
# tests/interop/parquet_duckdb.mjs): a synthetic table with awkward doubles (-0, subnormal, 1e300,
# 17-digit values), a column with nulls and an all-null column, for both codecs, in one and in several
# row groups; then the WTI series. For each file DuckDB must see the same names, types (DATE, DOUBLE),
# row count, values (bit-exact) and statistics as the CSV it came from, and the same as
# `oilcast lake cat` prints. Skips (77) without node_modules unless CI=true; without the shared data
# the WTI part reads a simulated stand-in.
source "$(dirname "$0")/lib.sh"

src="${OILCAST_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
check="$src/tests/interop/parquet_duckdb.mjs"
if ! command -v node >/dev/null || [[ ! -d "$src/node_modules/@duckdb/node-api" ]]; then
  [[ "${CI:-}" == true ]] && fail "node or node_modules/@duckdb/node-api missing and CI=true (run scripts/deps.sh)"
  echo "node_modules/@duckdb/node-api not installed (bash scripts/deps.sh): skipped" >&2
  exit 77
fi

# Synthetic table: calendar days from 1999-12-30, three columns of doubles.
awk 'function ymd(z,   era, doe, yoe, y, doy, mp, d, m) {
       z += 719468; era = int((z >= 0 ? z : z - 146096) / 146097); doe = z - era * 146097
       yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
       y = yoe + era * 400; doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
       mp = int((5 * doy + 2) / 153); d = doy - int((153 * mp + 2) / 5) + 1; m = mp < 10 ? mp + 3 : mp - 9
       return sprintf("%04d-%02d-%02d", y + (m <= 2), m, d) }
     BEGIN { print "date,price,spread_brent-wti,all_missing"
       for (i = 0; i < 2500; i++) {
         p = sprintf("%.17g", 60 + 25 * sin(i / 37) + i / 7)
         if (i == 3) p = "-36.98"; if (i == 4) p = "-0"; if (i == 5) p = "4.9406564584124654e-324"; if (i == 6) p = "1e300"
         s = (i % 5 == 2) ? "" : sprintf("%.17g", cos(i) / 3)
         printf "%s,%s,%s,\n", ymd(10955 + i), p, s } }' \
  >"$OC_TMP/synthetic.csv"

roundtrip() { # roundtrip CSV PARQUET OPTIONS...: convert, then DuckDB vs the CSV and vs `lake cat`
  local csv=$1 pq=$2
  shift 2
  oc lake from-csv "$csv" "$pq" --quiet "$@" || fail "from-csv $csv $*"
  node "$check" "$pq" "$csv" || fail "DuckDB vs $csv ($*)"
  oc lake cat "$pq" >"$pq.cat.csv" || fail "lake cat $pq"
  node "$check" "$pq" "$pq.cat.csv" >/dev/null || fail "DuckDB vs oilcast lake cat ($*)"
}

roundtrip "$OC_TMP/synthetic.csv" "$OC_TMP/zstd.parquet" --codec zstd
roundtrip "$OC_TMP/synthetic.csv" "$OC_TMP/plain.parquet" --codec none
roundtrip "$OC_TMP/synthetic.csv" "$OC_TMP/groups.parquet" --codec zstd --rows-per-group 700
roundtrip "$OC_TMP/synthetic.csv" "$OC_TMP/groups-plain.parquet" --codec none --rows-per-group 997
assert_contains "$(oc lake inspect "$OC_TMP/groups.parquet")" "rows: 2500 in 4 row group(s)" "row groups"

# A long daily series as the ETL would store it: the real WTI (its -36.98 included), or without the
# shared data a simulated stand-in (what DuckDB must read back does not depend on the prices; the
# synthetic table above holds -36.98 and the awkward doubles).
oc_wti_prices "$OILCAST_BIN" "${OILCAST_TEST_DATA:-$src/../shared/data}" "$OC_TMP"
sed '1s/^[^,]*,/date,/' "$PRICES" >"$OC_TMP/wti.csv"
roundtrip "$OC_TMP/wti.csv" "$OC_TMP/wti.parquet"
roundtrip "$OC_TMP/wti.csv" "$OC_TMP/wti-groups.parquet" --codec none --rows-per-group 4096
echo "parquet_duckdb e2e ok"
