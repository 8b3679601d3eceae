// parquet_duckdb.mjs: an independent reader (DuckDB, through @duckdb/node-api) checks a Parquet file
// written by oilcast against the table it should hold.
//
//   node tests/interop/parquet_duckdb.mjs FILE.parquet EXPECTED.csv [--types date=DATE,x=BIGINT,...]
//
// EXPECTED.csv: a header with the column names, then one line per row in file order; an empty cell is
// a null. It can be the CSV oilcast converted (`oilcast lake from-csv`) or `oilcast lake cat FILE`.
// Types default to DATE for the first column and DOUBLE for the others.
// Checks: column names and DuckDB types, the DATE logical type in the Parquet schema, the row count,
// every value (doubles bit-exact, including -0; nulls), and every column chunk's statistics (null
// count, min/max in both the min_value/max_value and the legacy fields) against the expected rows.
// Prints one "ok" line, or the first mismatches and exits 1.
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false, i = 0, fieldQuoted = false;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') { quoted = true; fieldQuoted = true; }
    else if (ch === ',') { row.push(field); field = ''; fieldQuoted = false; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.length > 1 || row[0] !== '' || fieldQuoted) rows.push(row);
      row = []; field = ''; fieldQuoted = false;
    } else field += ch;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

const args = process.argv.slice(2);
if (args.length < 2) {
  console.error('usage: parquet_duckdb.mjs FILE.parquet EXPECTED.csv [--types name=TYPE,...]');
  process.exit(2);
}
const [parquet, expectedPath] = args;
const typeOverrides = {};
const typesAt = args.indexOf('--types');
if (typesAt >= 0) for (const kv of args[typesAt + 1].split(',')) { const [k, v] = kv.split('='); typeOverrides[k] = v; }

const table = parseCsv(readFileSync(expectedPath, 'utf8'));
const names = table[0];
const rows = table.slice(1);
const types = names.map((n, i) => typeOverrides[n] ?? (i === 0 ? 'DATE' : 'DOUBLE'));

const problems = [];
const fail = (msg) => { if (problems.length < 20) problems.push(msg); };
const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;
const ident = (s) => `"${s.replaceAll('"', '""')}"`;

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const query = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
const src = `read_parquet(${sqlString(parquet)}, file_row_number = true)`;

// Schema as DuckDB sees it.
const described = (await query(`DESCRIBE SELECT * EXCLUDE (file_row_number) FROM ${src}`));
if (described.length !== names.length) fail(`DuckDB sees ${described.length} columns, expected ${names.length}`);
described.forEach((d, i) => {
  if (d.column_name !== names[i]) fail(`column ${i}: DuckDB name '${d.column_name}', expected '${names[i]}'`);
  if (d.column_type !== types[i]) fail(`column '${names[i]}': DuckDB type ${d.column_type}, expected ${types[i]}`);
});
const schema = await query(`SELECT name, type, logical_type, converted_type FROM parquet_schema(${sqlString(parquet)})`);
for (const s of schema) {
  const i = names.indexOf(s.name);
  if (i >= 0 && types[i] === 'DATE' && !(String(s.logical_type).includes('Date') && s.converted_type === 'DATE' && s.type === 'INT32'))
    fail(`column '${s.name}': Parquet schema says ${s.type}/${s.logical_type}/${s.converted_type}, expected INT32 DATE`);
}

function report() {
  if (!problems.length) return;
  console.error(`${parquet}: DuckDB disagrees with ${expectedPath}:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
report(); // values cannot be compared without the same columns

// Every value, in file order.
const select = names.map((n, i) => (types[i] === 'DOUBLE' ? ident(n) : `CAST(${ident(n)} AS VARCHAR) AS ${ident(n)}`));
const got = (await conn.runAndReadAll(`SELECT ${select.join(', ')} FROM ${src} ORDER BY file_row_number`)).getRowsJS();
if (got.length !== rows.length) fail(`DuckDB reads ${got.length} rows, expected ${rows.length}`);
const expectedValue = (cell, i) => (cell === '' ? null : types[i] === 'DOUBLE' ? Number(cell) : cell);
for (let r = 0; r < Math.min(got.length, rows.length); r++) {
  for (let i = 0; i < names.length; i++) {
    const want = expectedValue(rows[r][i] ?? '', i);
    const have = got[r][i];
    const same = want === null || have === null ? want === have : types[i] === 'DOUBLE' ? Object.is(want, have) : String(have) === want;
    const show = (v) => (Object.is(v, -0) ? '-0' : String(v));
    if (!same) fail(`row ${r + 1}, column '${names[i]}': DuckDB reads ${show(have)}, expected ${show(want)}`);
  }
}

// Statistics of every column chunk against the expected rows of its row group.
const meta = await query(`SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, stats_null_count,
  stats_min, stats_max, stats_min_value, stats_max_value FROM parquet_metadata(${sqlString(parquet)})
  ORDER BY row_group_id, column_id`);
const groupStart = new Map();
let start = 0;
for (const m of meta) {
  const g = Number(m.row_group_id);
  if (!groupStart.has(g)) { groupStart.set(g, start); start += Number(m.row_group_num_rows); }
}
if (start !== rows.length) fail(`row groups hold ${start} rows, expected ${rows.length}`);
let chunks = 0;
for (const m of meta) {
  chunks++;
  const i = Number(m.column_id), first = groupStart.get(Number(m.row_group_id)), n = Number(m.row_group_num_rows);
  const where = `row group ${m.row_group_id}, column '${names[i]}'`;
  const values = rows.slice(first, first + n).map((row) => expectedValue(row[i] ?? '', i)).filter((v) => v !== null);
  if (Number(m.stats_null_count) !== n - values.length) fail(`${where}: stats null_count ${m.stats_null_count}, expected ${n - values.length}`);
  const finite = values.filter((v) => types[i] !== 'DOUBLE' || !Number.isNaN(v));
  if (finite.length === 0) {
    if (m.stats_min_value !== null || m.stats_max_value !== null) fail(`${where}: min/max statistics for a column without values`);
    continue;
  }
  const cmp = types[i] === 'DOUBLE' ? (a, b) => a - b : (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...finite].sort(cmp);
  const [lo, hi] = [sorted[0], sorted[sorted.length - 1]];
  const equal = (statText, want) => (types[i] === 'DOUBLE' ? Number(statText) === want : statText === want);
  for (const [field, want] of [['stats_min_value', lo], ['stats_max_value', hi], ['stats_min', lo], ['stats_max', hi]])
    if (!equal(m[field], want)) fail(`${where}: ${field} ${m[field]}, expected ${want}`);
}

report();
console.log(`ok: ${parquet}: ${rows.length} rows x ${names.length} columns, ${groupStart.size} row groups, ${chunks} column chunks (values, types, statistics) match`);
