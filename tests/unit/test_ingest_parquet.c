/* Unit tests for Parquet in the file source (src/ingest/import_parquet.c over src/lake's reader): every
 * fixture in tests/fixtures/parquet (written by DuckDB and by arrow-rs, with pyarrow's defaults among others; see
 * scripts/make_parquet_fixtures.mjs) imported through oc_import_file with exact dates and values and
 * counted nulls; every date and value type, data pages v1 and v2, dictionary pages, several row
 * groups, the long format; INT96 dates (a forged file: no tool here writes them); the errors: intraday
 * timestamps, null and bad dates, columns that are no dates or numbers, truncated and corrupted files,
 * each naming where, and storing nothing. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "ingest/import.h"
#include "lake/pq_internal.h"

#define FIXTURES OILCAST_SOURCE_DIR "/tests/fixtures/parquet/"

typedef oc_test_datadir_fixture fixture;

/* The 20 rows of the DuckDB and pandas fixtures: weekday i from 2024-01-02, price 70.01 + 0.25 i (the
 * double nearest that decimal), null for i = 5 and 12. */
enum { ROWS = 20 };
static bool row_is_null(int i) { return i == 5 || i == 12; }
static oc_date row_date(int i) {
  oc_date d = oc_date_from_ymd(2024, 1, 2);
  for (int k = 0; k < i; k++) {
    d++;
    while (oc_date_weekday(d) >= 6) d++; /* ISO: 6, 7 = Saturday, Sunday */
  }
  return d;
}
static double row_price(int i) {
  char text[32];
  snprintf(text, sizeof text, "%d.%02d", (7001 + 25 * i) / 100, (7001 + 25 * i) % 100);
  return strtod(text, NULL);
}

static int import(fixture *f, const char *path, oc_import_options *opt, oc_import_report *rep, oc_error *err) {
  opt->path = path;
  return oc_import_file(f->store, opt, rep, err);
}

static oc_series load(fixture *f, const char *name) {
  oc_series s;
  oc_error err;
  if (oc_store_series_load(f->store, name, OC_DATE_INVALID, OC_DATE_INVALID, &s, &err) != 0) fail_msg("%s", err.message);
  return s;
}

static int64_t stored_rows(fixture *f) {
  int64_t n;
  oc_error err;
  assert_int_equal(oc_store_observations_count(f->store, &n, &err), 0);
  return n;
}

/* Imports file's date_col/value_col as series and checks each of the 20 rows: the date, and value(i)
 * (skipped where the value column is null). */
static void expect_rows(fixture *f, const char *file, const char *date_col, const char *value_col, const char *series,
                        bool has_nulls, double (*value)(int)) {
  oc_import_options opt;
  oc_import_options_init(&opt);
  opt.date_col = date_col;
  opt.value_col = value_col;
  opt.series = series;
  oc_import_report rep;
  oc_error err;
  const char *date_name = date_col ? date_col : "(detected)", *value_name = value_col ? value_col : "(detected)";
  if (import(f, file, &opt, &rep, &err) != 0) fail_msg("%s (%s/%s): %s", file, date_name, value_name, err.message);
  assert_string_equal(rep.format, "parquet");
  assert_int_equal(rep.rows_read, ROWS);
  assert_int_equal(rep.rows_missing, has_nulls ? 2 : 0);
  assert_int_equal(rep.rows_inserted, has_nulls ? ROWS - 2 : ROWS);
  assert_int_equal(rep.rows_rejected, 0);
  oc_import_report_free(&rep);
  oc_series s = load(f, series);
  size_t k = 0;
  for (int i = 0; i < ROWS; i++) {
    if (has_nulls && row_is_null(i)) continue;
    assert_true(k < s.n);
    if (s.dates[k] != row_date(i) || s.values[k] != value(i))
      fail_msg("%s %s/%s row %d: got %d %.17g, expected %d %.17g", file, date_name, value_name, i, s.dates[k],
               s.values[k], row_date(i), value(i));
    k++;
  }
  assert_int_equal(k, s.n);
  oc_series_free(&s);
}

static void test_fixture_layouts(void **state) {
  fixture *f = *state;
  /* DuckDB: Snappy (its default), ZSTD, uncompressed; pandas defaults (TIMESTAMP(NANOS), Snappy,
   * dictionary pages); the same in 3 row groups with data page v2. Columns found by name. */
  const char *files[] = {"duckdb_snappy.parquet", "duckdb_zstd.parquet", "duckdb_uncompressed.parquet",
                         "pandas_default.parquet", "pandas_row_groups.parquet"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char path[512], series[16];
    snprintf(path, sizeof path, FIXTURES "%s", files[i]);
    snprintf(series, sizeof series, "S%zu", i);
    expect_rows(f, path, NULL, NULL, series, true, row_price);
  }
  /* Re-importing changes nothing. */
  oc_import_options opt;
  oc_import_options_init(&opt);
  opt.series = "S0";
  oc_import_report rep;
  oc_error err;
  assert_int_equal(import(f, FIXTURES "duckdb_snappy.parquet", &opt, &rep, &err), 0);
  assert_int_equal(rep.rows_unchanged, ROWS - 2);
  assert_int_equal(rep.rows_inserted, 0);
  oc_import_report_free(&rep);
}

static double row_thousandths(int i) { return 1000 * (7001 + 25 * i) / 100; }
static double row_index(int i) { return i; }
static double row_even(int i) { return i % 2 == 0; }

static void test_every_date_and_value_type(void **state) {
  fixture *f = *state;
  const char *files[] = {FIXTURES "duckdb_types.parquet", FIXTURES "duckdb_types_v2.parquet"};
  /* ts_close is 16:00 on every row: one time of day per file reads as the day. */
  const char *dates[] = {"date", "ts", "ts_close", "ts_ms", "ts_ns", "tstz", "date_text"};
  const struct {
    const char *col;
    bool nulls;
    double (*value)(int);
  } values[] = {{"dec18", true, row_price},  {"dec9", true, row_price},          {"dec38", true, row_price},
                {"flt", true, row_price},    {"dbl", true, row_price},           {"price_text", true, row_price},
                {"int64", true, row_thousandths}, {"int32", false, row_index}, {"flag", false, row_even}};
  int n = 0;
  for (size_t fi = 0; fi < 2; fi++) {
    for (size_t d = 0; d < sizeof dates / sizeof dates[0]; d++) {
      char series[16];
      snprintf(series, sizeof series, "D%d", n++);
      expect_rows(f, files[fi], dates[d], "dbl", series, true, row_price);
    }
    for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
      char series[16];
      snprintf(series, sizeof series, "V%d", n++);
      expect_rows(f, files[fi], "date", values[v].col, series, values[v].nulls, values[v].value);
    }
  }
  /* arrow-rs: DELTA_BYTE_ARRAY dates, BYTE_STREAM_SPLIT doubles, RLE booleans, DELTA_BINARY_PACKED INT64. */
  const char *encodings = FIXTURES "arrow_encodings.parquet";
  expect_rows(f, encodings, "date_text", "price", "E0", true, row_price);
  expect_rows(f, encodings, "date_text", "flag", "E1", false, row_even);
  expect_rows(f, encodings, "date_text", "milli", "E2", true, row_thousandths);
}

/* DECIMAL values become the double nearest the decimal, not (double)unscaled / 10^scale. */
static void test_decimals_exactly(void **state) {
  fixture *f = *state;
  const struct {
    const char *col, *first, *second;
  } cases[] = {{"d18", "12345678.123456789", "-0.000000001"}, {"d38", "70.123456789012345678", "-0.000000001"}};
  for (size_t i = 0; i < 2; i++) {
    oc_import_options opt;
    oc_import_options_init(&opt);
    opt.value_col = cases[i].col;
    opt.series = cases[i].col;
    oc_import_report rep;
    oc_error err;
    /* 12345678.12 is beyond the default price range (ingest/price_range.h): this series takes it. */
    int64_t id;
    assert_int_equal(oc_store_series_ensure(f->store, cases[i].col, "", "historical", &id, &err), 0);
    assert_int_equal(oc_store_series_range_set(f->store, cases[i].col, true, -1e9, 1e9, &err), 0);
    if (import(f, FIXTURES "duckdb_decimal.parquet", &opt, &rep, &err) != 0) fail_msg("%s", err.message);
    oc_import_report_free(&rep);
    oc_series s = load(f, cases[i].col);
    assert_int_equal(s.n, 2);
    assert_true(s.values[0] == strtod(cases[i].first, NULL));
    assert_true(s.values[1] == strtod(cases[i].second, NULL));
    oc_series_free(&s);
  }
  assert_true(strtod("12345678.123456789", NULL) != 12345678123456789.0 / 1e9); /* the case is a real one */
}

static void test_long_format_in_row_groups(void **state) {
  fixture *f = *state;
  oc_import_options opt;
  oc_import_options_init(&opt);
  oc_import_report rep;
  oc_error err;
  if (import(f, FIXTURES "duckdb_long.parquet", &opt, &rep, &err) != 0) fail_msg("%s", err.message);
  assert_string_equal(rep.format, "parquet-long");
  assert_int_equal(rep.rows_read, 4200);
  assert_int_equal(rep.rows_inserted, 4200);
  assert_int_equal(rep.nseries, 2);
  oc_import_report_free(&rep);
  oc_pq_reader r;
  assert_int_equal(oc_pq_reader_open(&r, FIXTURES "duckdb_long.parquet", &err), 0);
  assert_int_equal(r.info.nrow_groups, 3); /* the file really has several row groups */
  oc_pq_reader_close(&r);
  const char *names[] = {"WTI", "BRENT"};
  for (int s = 0; s < 2; s++) {
    oc_series series = load(f, names[s]);
    assert_int_equal(series.n, 2100);
    for (size_t k = 0; k < series.n; k++) {
      assert_int_equal(series.dates[k], oc_date_from_ymd(2000, 1, 1) + (oc_date)k);
      assert_true(series.values[k] == (double)k + (s ? 0.75 : 0.5));
    }
    oc_series_free(&series);
  }
}

/* Imports file expecting a refusal: nothing stored, and the first problem at row `where` saying `says`. */
static void expect_bad_row(fixture *f, const char *file, const char *date_col, size_t where, const char *says) {
  oc_import_options opt;
  oc_import_options_init(&opt);
  opt.date_col = date_col;
  oc_import_report rep;
  oc_error err;
  assert_int_equal(import(f, file, &opt, &rep, &err), -1);
  assert_int_equal(rep.rows_rejected, 1);
  assert_int_equal(rep.problems[0].where, where);
  if (!strstr(rep.problems[0].reason, says)) fail_msg("%s: '%s' lacks '%s'", file, rep.problems[0].reason, says);
  oc_import_report_free(&rep);
  assert_int_equal(stored_rows(f), 0);
}

static void test_bad_rows_are_located(void **state) {
  fixture *f = *state;
  expect_bad_row(f, FIXTURES "duckdb_intraday.parquet", "ts", 2,
                 "row group 0, column 'ts': timestamp 2024-01-02T16:00:00 has another time of day than row 1 "
                 "(09:30:00)");
  expect_bad_row(f, FIXTURES "duckdb_null_date.parquet", NULL, 2, "row group 0, column 'date': null date");
  expect_bad_row(f, FIXTURES "duckdb_bad_text_date.parquet", NULL, 3, "bad date '2024-02-30'");
}

/* Imports with the given columns expecting an error (nothing read) whose message contains says. */
static void expect_error(fixture *f, const char *file, const char *date_col, const char *value_col, const char *says) {
  oc_import_options opt;
  oc_import_options_init(&opt);
  opt.date_col = date_col;
  opt.value_col = value_col;
  oc_import_report rep;
  oc_error err;
  assert_int_equal(import(f, file, &opt, &rep, &err), -1);
  if (!strstr(err.message, says)) fail_msg("'%s' lacks '%s'", err.message, says);
  oc_import_report_free(&rep);
  assert_int_equal(stored_rows(f), 0);
}

static void test_columns_that_do_not_fit(void **state) {
  fixture *f = *state;
  const char *types = FIXTURES "duckdb_types.parquet";
  expect_error(f, types, NULL, "nope", "duckdb_types.parquet: no column named 'nope' (columns: 'date', 'dec18'");
  expect_error(f, types, NULL, NULL, "cannot tell which column holds the value");
  expect_error(f, types, "dec38", "dbl", "column 'dec38' is FIXED_LEN_BYTE_ARRAY (logical type DECIMAL), not a date");
  expect_error(f, types, "flag", "dbl", "column 'flag' is BOOLEAN (logical type none), not a date");
  expect_error(f, types, "date", "ts", "column 'ts' is INT64 (logical type TIMESTAMP(MICROS");
}

static char *copy_fixture(fixture *f, const char *name, size_t *len) {
  char *data, path[512];
  oc_error err;
  snprintf(path, sizeof path, FIXTURES "%s", name);
  assert_int_equal(oc_read_file(path, &data, len, &err), 0);
  return data;
}

static void expect_file_error(fixture *f, const char *data, size_t len, const char *says) {
  char *path = oc_path_join(f->dir, "broken.parquet");
  oc_error err;
  assert_int_equal(oc_write_file_atomic(path, data, len, &err), 0);
  expect_error(f, path, NULL, NULL, says);
  free(path);
}

static void test_broken_files_are_located(void **state) {
  fixture *f = *state;
  size_t len;
  char *file = copy_fixture(f, "duckdb_snappy.parquet", &len);
  /* Truncated: the footer's magic is gone. */
  expect_file_error(f, file, len - 1, "broken.parquet: no PAR1 magic at file offset");
  /* Every shorter prefix fails cleanly too. */
  for (size_t cut = 4; cut < len; cut += 7) {
    char *path = oc_path_join(f->dir, "cut.parquet");
    oc_error err;
    assert_int_equal(oc_write_file_atomic(path, file, cut, &err), 0);
    oc_import_options opt;
    oc_import_options_init(&opt);
    oc_import_report rep;
    assert_int_equal(import(f, path, &opt, &rep, &err), -1);
    oc_import_report_free(&rep);
    free(path);
  }
  /* The Snappy length of the Price column's page: the row group, column and byte offset are named. */
  oc_pq_reader r;
  oc_error err;
  assert_int_equal(oc_pq_reader_open_memory(&r, file, len, "x", &err), 0);
  const oc_pq_chunk_info *ch = &r.info.row_groups[0].chunks[1];
  uint64_t page = (uint64_t)ch->data_page_offset;
  if (ch->has_dictionary_page_offset && ch->dictionary_page_offset > 0) page = (uint64_t)ch->dictionary_page_offset;
  oc_pq_reader_close(&r);
  oc_pq_page_header h;
  size_t header_len;
  assert_int_equal(oc_pq_decode_page_header((const uint8_t *)file + page, len - page, page, &h, &header_len, &err), 0);
  char *bad = oc_xmalloc(len);
  memcpy(bad, file, len);
  bad[page + header_len] ^= 0x05;
  char says[160];
  snprintf(says, sizeof says, "broken.parquet: row group 0, column 'Price', file offset %llu: Snappy page",
           (unsigned long long)(page + header_len));
  expect_file_error(f, bad, len, says);
  free(bad);
  free(file);
}

/* A file of one required INT96 column "date" and one required DOUBLE column "price", uncompressed
 * PLAIN, as Spark and Impala wrote timestamps: 2024-01-02 00:00 and 2024-01-03 00:00. */
static void test_int96_dates(void **state) {
  fixture *f = *state;
  const int32_t julian_2024_01_02 = 2440588 + oc_date_from_ymd(2024, 1, 2);
  oc_buf chunk = {0}, footer = {0}, file = {0};
  uint64_t offsets[2];
  for (int c = 0; c < 2; c++) {
    oc_buf values = {0};
    for (int i = 0; i < 2; i++) {
      if (c == 0) {
        int64_t nanos_of_day = 0;
        int32_t julian = julian_2024_01_02 + i;
        oc_buf_append(&values, &nanos_of_day, 8);
        oc_buf_append(&values, &julian, 4);
      } else {
        double price = 70.5 + i;
        oc_buf_append(&values, &price, 8);
      }
    }
    oc_pq_page_header h = {.type = OC_PQ_PAGE_DATA, .uncompressed_size = (int32_t)values.len,
                           .compressed_size = (int32_t)values.len, .has_data_header = true, .num_values = 2,
                           .encoding = OC_PQ_ENC_PLAIN, .def_encoding = OC_PQ_ENC_RLE, .rep_encoding = OC_PQ_ENC_RLE};
    offsets[c] = 4 + chunk.len;
    oc_pq_encode_page_header(&h, &chunk);
    oc_buf_append(&chunk, values.data, values.len);
    oc_buf_free(&values);
  }
  oc_pq_column_info cols[2] = {{.name = "date", .type = (oc_pq_type)OC_PQ_PHYSICAL_INT96},
                               {.name = "price", .type = OC_PQ_DOUBLE}};
  int32_t encodings[] = {OC_PQ_ENC_PLAIN};
  oc_pq_chunk_info chunks[2];
  for (int c = 0; c < 2; c++) {
    uint64_t end = c ? 4 + chunk.len : offsets[1];
    chunks[c] = (oc_pq_chunk_info){.num_values = 2, .total_uncompressed_size = (int64_t)(end - offsets[c]),
                                   .total_compressed_size = (int64_t)(end - offsets[c]),
                                   .data_page_offset = (int64_t)offsets[c], .nencodings = 1, .encodings = encodings};
  }
  oc_pq_row_group_info rg = {.num_rows = 2, .total_byte_size = (int64_t)chunk.len, .chunks = chunks};
  oc_pq_file_info info = {.version = 1, .num_rows = 2, .ncols = 2, .cols = cols, .nrow_groups = 1, .row_groups = &rg};
  oc_pq_encode_file_meta(&info, &footer);
  uint32_t footer_len = (uint32_t)footer.len;
  oc_buf_append(&file, "PAR1", 4);
  oc_buf_append(&file, chunk.data, chunk.len);
  oc_buf_append(&file, footer.data, footer.len);
  oc_buf_append(&file, &footer_len, 4);
  oc_buf_append(&file, "PAR1", 4);
  char *path = oc_path_join(f->dir, "int96.parquet");
  oc_error err;
  assert_int_equal(oc_write_file_atomic(path, file.data, file.len, &err), 0);
  oc_import_options opt;
  oc_import_options_init(&opt);
  oc_import_report rep;
  if (import(f, path, &opt, &rep, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(rep.rows_inserted, 2);
  oc_import_report_free(&rep);
  oc_series s = load(f, "WTI");
  assert_int_equal(s.n, 2);
  assert_int_equal(s.dates[0], oc_date_from_ymd(2024, 1, 2));
  assert_int_equal(s.dates[1], oc_date_from_ymd(2024, 1, 3));
  assert_true(s.values[0] == 70.5 && s.values[1] == 71.5);
  oc_series_free(&s);
  free(path);
  oc_buf_free(&chunk);
  oc_buf_free(&footer);
  oc_buf_free(&file);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_fixture_layouts, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_every_date_and_value_type, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_decimals_exactly, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_long_format_in_row_groups, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_bad_rows_are_located, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_columns_that_do_not_fit, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_broken_files_are_located, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_int96_dates, oc_test_datadir_setup, oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
