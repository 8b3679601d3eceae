// make_parquet_fixtures.mjs: writes the Parquet files in tests/fixtures/parquet/ that `oilcast ingest`
// is tested on (tests/unit/test_ingest_parquet.c, tests/e2e/ingest_parquet.sh), the way other tools
// write them, so the tests need no node at run time:
//   - DuckDB (@duckdb/node-api), default settings and variations: Snappy (DuckDB's default), ZSTD,
//     uncompressed; DECIMAL(18,3), DECIMAL(9,2), DECIMAL(38,4), FLOAT, BOOLEAN, TIMESTAMP, TIMESTAMPTZ,
//     TIMESTAMP_MS, TIMESTAMP_NS, DATE and VARCHAR dates; NULLs; several row groups; dictionary-encoded
//     strings; PARQUET_VERSION V2 (data page v2, DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT,
//     DELTA_LENGTH_BYTE_ARRAY, RLE_DICTIONARY).
//   - "pandas defaults": Debian 12 has pandas but not pyarrow, so pandas cannot write Parquet here.
//     parquet-wasm is arrow-rs, the Rust sibling of the C++ Arrow library pyarrow wraps; it is given
//     what `df.to_parquet(path)` gives pyarrow for a DataFrame of datetime64[ns] dates and float64 prices
//     with NaN (TIMESTAMP(NANOS, not UTC), DOUBLE, NaN written as null, the "pandas" schema metadata) and
//     pyarrow's defaults (Snappy, dictionary encoding on, data page v1, row groups of up to 1Mi rows).
// Every fixture's values are chosen so the tests can state them exactly (see the comments).
// Run from the repository root after `npm ci`: node scripts/make_parquet_fixtures.mjs
import { mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import pq from 'parquet-wasm';

const dir = 'tests/fixtures/parquet';
mkdirSync(dir, { recursive: true });
const out = (name) => `${dir}/${name}`;

const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
const run = (sql) => conn.run(sql);
const copy = async (select, name, options = '') => {
  if (existsSync(out(name))) rmSync(out(name));
  await run(`COPY (${select}) TO '${out(name)}' (FORMAT parquet${options ? ', ' + options : ''})`);
};

// 20 weekdays from 2024-01-02 (a Tuesday); price_i = 70.01 + 0.25 i as a DOUBLE (the double nearest that
// decimal), i = 0..19, null for i = 5 and 12.
await run(`CREATE TABLE prices AS
  SELECT i, d::DATE AS d, CASE WHEN i IN (5, 12) THEN NULL ELSE (7001 + 25 * i) / 100.0 END::DOUBLE AS p
  FROM (SELECT row_number() OVER (ORDER BY d) - 1 AS i, d
        FROM range(DATE '2024-01-02', DATE '2024-02-05', INTERVAL 1 DAY) t(d)
        WHERE dayofweek(d) BETWEEN 1 AND 5) WHERE i < 20`);
// The same 20 rows as DATE "Date" + DOUBLE "Price" (one row group: DuckDB cuts row groups at 2048 rows at
// the least; the several-row-group files are duckdb_long.parquet and pandas_row_groups.parquet).
for (const [codec, name] of [['snappy', 'duckdb_snappy.parquet'], ['zstd', 'duckdb_zstd.parquet'],
                             ['uncompressed', 'duckdb_uncompressed.parquet']])
  await copy(`SELECT d AS "Date", p AS "Price" FROM prices ORDER BY i`, name, `COMPRESSION ${codec}`);

// Every type, one column each, same 20 dates. price in each numeric type: the row's p (nulls as in p).
const typed = `SELECT d AS date,
    p::DECIMAL(18,3) AS dec18, p::DECIMAL(9,2) AS dec9, p::DECIMAL(38,4) AS dec38,
    p::FLOAT AS flt, p AS dbl, (i % 2 = 0) AS flag, (p * 1000)::BIGINT AS int64, i::INTEGER AS int32,
    d::TIMESTAMP AS ts, d::TIMESTAMP + INTERVAL 16 HOUR AS ts_close, (d::TIMESTAMP)::TIMESTAMP_MS AS ts_ms,
    (d::TIMESTAMP)::TIMESTAMP_NS AS ts_ns, strftime(d, '%Y-%m-%d') AS date_text,
    CAST(p AS VARCHAR) AS price_text, timezone('UTC', d::TIMESTAMP) AS tstz
  FROM prices ORDER BY i`;
await run(`SET TimeZone = 'UTC'`);
await copy(typed, 'duckdb_types.parquet');
await copy(typed, 'duckdb_types_v2.parquet',
  'PARQUET_VERSION V2, ROW_GROUP_SIZE 8');

// Long format, several row groups: series (dictionary-encoded strings) WTI and BRENT on 2100 days from
// 2000-01-01 (every day), value = day index k (0..2099) + 0.5 for WTI and k + 0.75 for BRENT, as
// DECIMAL(9,2); 4200 rows in row groups of 2048, 2048 and 104 rows.
await copy(`SELECT s AS series, DATE '2000-01-01' + k::INTEGER AS date,
    (k + CASE WHEN s = 'WTI' THEN 0.5 ELSE 0.75 END)::DECIMAL(9,2) AS value
  FROM range(2100) t(k), (VALUES ('WTI'), ('BRENT')) v(s) ORDER BY k, s DESC`, 'duckdb_long.parquet',
  'COMPRESSION zstd, ROW_GROUP_SIZE 2048');

// Intraday: two timestamps on 2024-01-02 (09:30 and 16:00), one on 2024-01-03 (09:30).
await copy(`SELECT * FROM (VALUES (TIMESTAMP '2024-01-02 09:30:00', 70.5), (TIMESTAMP '2024-01-02 16:00:00', 71.0),
  (TIMESTAMP '2024-01-03 09:30:00', 71.5)) t(ts, price)`, 'duckdb_intraday.parquet');

// A null date (row 2) and a bad date text (row 3).
await copy(`SELECT * FROM (VALUES (DATE '2024-01-02', 70.5), (NULL, 71.0), (DATE '2024-01-04', 71.5)) t(date, price)`,
  'duckdb_null_date.parquet');
await copy(`SELECT * FROM (VALUES ('2024-01-02', 70.5), ('2024-01-03', 71.0), ('2024-02-30', 71.5)) t(date, price)`,
  'duckdb_bad_text_date.parquet');

// Decimals whose double is not (double)unscaled / 10^scale: 12345678.123456789 as DECIMAL(18,9) (that
// division gives 12345678.123456787), and -0.000000001 and 70.123456789012345678 as DECIMAL(38,18).
await copy(`SELECT * FROM (VALUES
    (DATE '2024-01-02', 12345678.123456789::DECIMAL(18,9), 70.123456789012345678::DECIMAL(38,18)),
    (DATE '2024-01-03', -0.000000001::DECIMAL(18,9), -0.000000001::DECIMAL(38,18))) t(date, d18, d38)`,
  'duckdb_decimal.parquet');

conn.closeSync?.();

// pandas defaults (see the header): Date = the 20 dates as datetime64[ns], Price = p with NaN for the nulls.
const rows = (await (await db.connect()).runAndReadAll(`SELECT epoch_ms(d::TIMESTAMP)::DOUBLE AS ms, p FROM prices ORDER BY i`)).getRowObjectsJS();
const dates = arrow.vectorFromArray(rows.map((r) => r.ms), new arrow.TimestampNanosecond()); // Arrow JS takes ms, stores ns
const price = arrow.vectorFromArray(rows.map((r) => (r.p === null ? null : Number(r.p))), new arrow.Float64());
const table = new arrow.Table({ Date: dates, Price: price });
const pandasMeta = JSON.stringify({
  index_columns: [{ kind: 'range', name: null, start: 0, stop: rows.length, step: 1 }],
  column_indexes: [{ name: null, field_name: null, pandas_type: 'unicode', numpy_type: 'object', metadata: { encoding: 'UTF-8' } }],
  columns: [
    { name: 'Date', field_name: 'Date', pandas_type: 'datetime', numpy_type: 'datetime64[ns]', metadata: null },
    { name: 'Price', field_name: 'Price', pandas_type: 'float64', numpy_type: 'float64', metadata: null },
  ],
  creator: { library: 'pyarrow', version: '14.0.2' }, pandas_version: '1.5.3',
});
const props = new pq.WriterPropertiesBuilder()
  .setCompression(pq.Compression.SNAPPY)
  .setDictionaryEnabled(true)
  .setWriterVersion(pq.WriterVersion.V1)
  .setMaxRowGroupSize(1024 * 1024)
  .setKeyValueMetadata(new Map([['pandas', pandasMeta]]))
  .build();
const ipc = () => pq.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
writeFileSync(out('pandas_default.parquet'), pq.writeParquet(ipc(), props));
// The same rows in row groups of 8 rows (8, 8, 4), with data page v2 (pyarrow's data_page_version="2.0").
const small = new pq.WriterPropertiesBuilder()
  .setCompression(pq.Compression.SNAPPY)
  .setDictionaryEnabled(true)
  .setWriterVersion(pq.WriterVersion.V2)
  .setMaxRowGroupSize(8)
  .build();
writeFileSync(out('pandas_row_groups.parquet'), pq.writeParquet(ipc(), small));

// The encodings neither file above uses, one column each (arrow-rs, data page v2, no dictionary): date
// strings as DELTA_BYTE_ARRAY, prices as BYTE_STREAM_SPLIT, flag (i even) as RLE booleans, thousandths
// of the price as DELTA_BINARY_PACKED; same 20 rows, nulls as in Price (flag has none).
const text = rows.map((r) => new Date(r.ms).toISOString().slice(0, 10));
const encoded = new arrow.Table({
  date_text: arrow.vectorFromArray(text, new arrow.Utf8()),
  price: price,
  flag: arrow.vectorFromArray(rows.map((_, i) => i % 2 === 0), new arrow.Bool()),
  milli: arrow.vectorFromArray(rows.map((r) => (r.p === null ? null : BigInt(Math.round(r.p * 1000)))), new arrow.Int64()),
});
const encodings = new pq.WriterPropertiesBuilder()
  .setCompression(pq.Compression.SNAPPY)
  .setDictionaryEnabled(false)
  .setWriterVersion(pq.WriterVersion.V2)
  .setColumnEncoding('date_text', pq.Encoding.DELTA_BYTE_ARRAY)
  .setColumnEncoding('price', pq.Encoding.BYTE_STREAM_SPLIT)
  .setColumnEncoding('milli', pq.Encoding.DELTA_BINARY_PACKED)
  .build();
writeFileSync(out('arrow_encodings.parquet'),
  pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(encoded, 'stream')), encodings));
console.log(`wrote the fixtures in ${dir}`);
