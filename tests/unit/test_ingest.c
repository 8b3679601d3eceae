/* Unit tests for src/ingest: the CSV tokenizer (quoting, CRLF, BOM, blank lines, every malformed
 * record), strict number parsing and shortest formatting, the import of every format (EIA, FRED,
 * named columns, long format, JSON objects and bare arrays) and every row error, abort/skip,
 * idempotency and updates, lineage, the data directory, and the simulator's determinism. */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/fsutil.h"
#include "core/csv.h"
#include "ingest/import.h"
#include "ingest/row.h"
#include "ingest/simulate.h"
#include "lake/lake.h"
#include "store/datadir.h"

static oc_date D(const char *text) {
  oc_date d;
  assert_int_equal(oc_date_parse(text, strlen(text), &d, NULL), 0);
  return d;
}

/* Tokenizes text and renders records as "a|b|c" lines, bad records as "!LINE:reason". */
static char *tokenize(const char *text, size_t len) {
  oc_csv_reader r;
  oc_csv_init(&r, text, len, ',');
  oc_buf out = {0};
  size_t line;
  const char *reason;
  int st;
  while ((st = oc_csv_next(&r, &line, &reason)) != OC_CSV_END) {
    if (st == OC_CSV_BAD) {
      oc_buf_printf(&out, "!%zu:%s\n", line, reason);
      continue;
    }
    oc_buf_printf(&out, "%zu:", line);
    for (size_t i = 0; i < r.nfields; i++) oc_buf_printf(&out, "%s%.*s", i ? "|" : "", (int)r.fields[i].len, r.fields[i].data);
    oc_buf_putc(&out, '\n');
  }
  oc_csv_free(&r);
  return oc_buf_steal(&out);
}

static void expect_tokens(const char *text, const char *expected) {
  char *got = tokenize(text, strlen(text));
  assert_string_equal(got, expected);
  free(got);
}

static void test_csv_tokenizer(void **state) {
  (void)state;
  expect_tokens("a,b\n1,2\n", "1:a|b\n2:1|2\n");
  expect_tokens("\xEF\xBB\xBF" "a,b\r\n1,2\r\n\r\n\n", "1:a|b\n2:1|2\n");   /* BOM, CRLF, blank tail */
  expect_tokens("a,b\n1,2", "1:a|b\n2:1|2\n");                               /* no final newline */
  expect_tokens("a,b\n\n1,2\n", "1:a|b\n3:1|2\n");                           /* blank line in between */
  expect_tokens("\"x,y\",\"say \"\"hi\"\"\"\n", "1:x,y|say \"hi\"\n");      /* quoting and doubled quotes */
  expect_tokens("\"multi\nline\",2\n3,4\n", "1:multi\nline|2\n3:3|4\n");   /* quoted newline; lines counted */
  /* Doubled quotes in two records: the second reuses the unescape buffer (an assertion failed, fuzz csv). */
  expect_tokens("\"a\"\"b\"\n\"c\"\"d\"\n", "1:a\"b\n2:c\"d\n");
  expect_tokens("a,,\n", "1:a||\n");                                        /* empty fields */
  expect_tokens("\"\",x\r\n", "1:|x\n");
  expect_tokens("a,b\n1,\"2\"x\n3,4\n", "1:a|b\n!2:unexpected character after a closing quote\n3:3|4\n");
  expect_tokens("a,b\n1,2\"\n3,4\n",
                "1:a|b\n!2:quote inside an unquoted field (quote the whole field and double the quote)\n3:3|4\n");
  expect_tokens("a,b\n1,\"2\n3,4\n",
                "1:a|b\n!2:unterminated quoted field (no closing '\"' before the end of the file)\n");
  expect_tokens("", "");
  /* Bounds: a line of 5000 commas, and a 1.1 MiB field, are bad records; the next record is read. */
  oc_buf text = {0};
  oc_buf_puts(&text, "a,b\n1,");
  for (int i = 0; i < 5000; i++) oc_buf_putc(&text, ',');
  oc_buf_puts(&text, "\n3,4\n");
  expect_tokens(text.data, "1:a|b\n!2:more than 4096 fields in one record\n3:3|4\n");
  oc_buf_clear(&text);
  oc_buf_puts(&text, "a,b\n1,\"");
  for (int i = 0; i < (11 << 17); i++) oc_buf_putc(&text, 'x');
  oc_buf_puts(&text, "\"\n3,4\n");
  expect_tokens(text.data, "1:a|b\n!2:record longer than 1 MiB\n3:3|4\n");
  oc_buf_free(&text);
}

static void test_parse_number(void **state) {
  (void)state;
  struct {
    const char *text;
    double value;
  } good[] = {{"71.23", 71.23},   {"-36.98", -36.98}, {"+5", 5},        {"0", 0},       {".5", 0.5},
              {"5.", 5},          {"1e3", 1000},      {"2.5E-2", 0.025}, {"007.10", 7.1},
              {"123456789012345678901234", 123456789012345678901234.0},  {"0.1000000000000000055511151231257827", 0.1}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    double v;
    const char *reason = NULL;
    assert_int_equal(oc_parse_number(good[i].text, strlen(good[i].text), &v, &reason), 0);
    assert_true(v == good[i].value);
    assert_true(v == strtod(good[i].text, NULL)); /* correctly rounded, like strtod */
  }
  const char *bad[] = {"", " 1", "1 ", "1,5", "abc", "nan", "inf", "0x10", "1e", "1e+", "--1", ".", "1e400", "-", "1.2.3",
                       "1e-400", "-2.5e-330"}; /* the last two would be stored as 0 */
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    double v;
    const char *reason = NULL;
    assert_int_equal(oc_parse_number(bad[i], strlen(bad[i]), &v, &reason), -1);
    assert_non_null(reason);
  }
  double tiny;
  const char *why = NULL;
  assert_int_equal(oc_parse_number("1e-400", 6, &tiny, &why), -1);
  assert_string_equal(why, "number too small to store (it would be stored as 0)");
  assert_int_equal(oc_parse_number("0e-400", 6, &tiny, &why), 0); /* zero is zero */
  assert_true(tiny == 0);
  assert_int_equal(oc_parse_number("4.9406564584124654e-324", 23, &tiny, &why), 0); /* the least subnormal */
  assert_true(tiny == 4.9406564584124654e-324);
  char buf[OC_NUMBER_STRLEN];
  assert_string_equal(oc_format_number(71.23, buf), "71.23");
  assert_string_equal(oc_format_number(-36.98, buf), "-36.98");
  assert_string_equal(oc_format_number(0.1 + 0.2, buf), "0.30000000000000004");
  double third = 1.0 / 3.0, back;
  const char *reason;
  oc_format_number(third, buf);
  assert_int_equal(oc_parse_number(buf, strlen(buf), &back, &reason), 0);
  assert_true(back == third);
}

/* oc_format_number's arithmetic path (a short exact decimal found without printf) must write what the
 * definition writes: the first of %.15g, %.16g, %.17g that reads back as the value. Checked on prices
 * with 0..8 decimals (the path's common case), integers, random bit patterns (every kind of double),
 * and the neighbours of the path's bounds 1e-4 and 1e15. */
static char *format_by_definition(double value, char *buf) {
  for (int precision = 15; precision <= 17; precision++) {
    snprintf(buf, OC_NUMBER_STRLEN, "%.*g", precision, value);
    if (strtod(buf, NULL) == value) break;
  }
  return buf;
}

static void assert_formats_by_definition(double value) {
  char got[OC_NUMBER_STRLEN], want[OC_NUMBER_STRLEN];
  oc_format_number(value, got);
  format_by_definition(value, want);
  if (strcmp(got, want) != 0) fail_msg("%a: oc_format_number wrote %s, the definition %s", value, got, want);
}

static void test_format_number_as_defined(void **state) {
  (void)state;
  uint64_t x = 0x9E3779B97F4A7C15u;
  for (int i = 0; i < 200000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
    double bits;
    memcpy(&bits, &x, sizeof bits);
    assert_formats_by_definition(bits);
    const int decimals = (int)(x % 9);
    double price = (double)((x >> 8) % 100000000000000u) / pow(10.0, decimals);
    assert_formats_by_definition((x >> 63) ? -price : price);
    assert_formats_by_definition((double)(int64_t)(x >> 12));
  }
  const double edges[] = {1e-4, 1e15, 1e-5, 0.1, 999999999999999.0, 123456789012345.6, 5e-324, 1.7976931348623157e308};
  for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
    assert_formats_by_definition(edges[i]);
    assert_formats_by_definition(nextafter(edges[i], 0));
    assert_formats_by_definition(nextafter(edges[i], INFINITY));
    assert_formats_by_definition(-edges[i]);
  }
  char buf[OC_NUMBER_STRLEN];
  assert_string_equal(oc_format_number(0.000123, buf), "0.000123");
  assert_string_equal(oc_format_number(-0.0, buf), "-0");
  assert_string_equal(oc_format_number(0.0, buf), "0");
  assert_string_equal(oc_format_number(1e15, buf), "1e+15");
  assert_string_equal(oc_format_number(100, buf), "100");
}

static void test_row_validator(void **state) {
  (void)state;
  struct {
    const char *date, *value;
    bool fred;
    oc_row_status want;
    const char *reason;
  } cases[] = {
      {"2020-04-20", "-36.98", false, OC_ROW_OK, NULL},
      {"2024-01-02", ".", true, OC_ROW_MISSING, NULL},
      {"2024-01-02", "", true, OC_ROW_MISSING, NULL},
      {"2024-01-02", ".", false, OC_ROW_BAD, "bad value '.': not a number"},
      {"2024-01-02", "", false, OC_ROW_BAD, "bad value '': empty value"},
      {"2024-02-30", "1", false, OC_ROW_BAD, "bad date '2024-02-30': day does not exist in that month"},
      {"2024-1-2", "1", false, OC_ROW_BAD, "bad date '2024-1-2': expected a date as YYYY-MM-DD"},
      {"2024-01-02", "1e999", false, OC_ROW_BAD, "bad value '1e999': number out of range"},
      {"2024-01-02", "NaN", true, OC_ROW_BAD, "bad value 'NaN': not a number"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    oc_date d;
    double v;
    char reason[160] = "";
    oc_row_status st = oc_row_validate(cases[i].date, strlen(cases[i].date), cases[i].value, strlen(cases[i].value),
                                       cases[i].fred, &d, &v, reason, sizeof reason);
    assert_int_equal(st, cases[i].want);
    if (cases[i].reason) assert_string_equal(reason, cases[i].reason);
  }
  oc_date d;
  double v;
  char reason[160];
  assert_int_equal(oc_row_validate("2020-04-20", 10, "-36.98", 6, false, &d, &v, reason, sizeof reason), OC_ROW_OK);
  assert_int_equal(d, D("2020-04-20"));
  assert_true(v == -36.98);
}

/* ---- imports ------------------------------------------------------------------------------------- */

typedef oc_test_datadir_fixture fixture;

/* Writes text to a file named name and imports it with opt (path filled in). Returns the rc. */
static int import_text(fixture *f, const char *name, const char *text, oc_import_options *opt, oc_import_report *rep,
                       oc_error *err) {
  char *path = oc_test_write_file(f->dir, name, text);
  opt->path = path;
  int rc = oc_import_file(f->store, opt, rep, err);
  opt->path = NULL;
  free(path);
  return rc;
}

static oc_series load(fixture *f, const char *name) {
  oc_series s;
  oc_error err;
  if (oc_store_series_load(f->store, name, OC_DATE_INVALID, OC_DATE_INVALID, &s, &err) != 0) fail_msg("%s", err.message);
  return s;
}

/* The store holds no series (an import that failed created none). */
static void assert_no_series(fixture *f) {
  oc_series_info *list = NULL;
  size_t n = 1;
  oc_error err;
  assert_int_equal(oc_store_series_list(f->store, &list, &n, &err), 0);
  assert_int_equal(n, 0);
  oc_series_info_list_free(list, n);
}

static void test_import_formats(void **state) {
  fixture *f = *state;
  oc_import_options opt;
  oc_import_report rep;
  oc_error err;

  oc_import_options_init(&opt);
  assert_int_equal(import_text(f, "eia.csv", "Date,Price\n2024-01-03,72.7\n2024-01-02,70.38\n", &opt, &rep, &err), 0);
  assert_string_equal(rep.format, "eia");
  assert_int_equal(rep.rows_inserted, 2);
  oc_import_report_free(&rep);
  oc_series s = load(f, "WTI");
  assert_int_equal(s.n, 2);
  assert_int_equal(s.dates[0], D("2024-01-02")); /* unsorted input is fine */
  assert_true(s.values[0] == 70.38);
  oc_series_free(&s);

  opt.series = "FRED";
  assert_int_equal(import_text(f, "fred.csv", "DATE,DCOILWTICO\r\n2024-01-01,.\r\n2024-01-02,70.38\r\n2024-01-03,\r\n",
                               &opt, &rep, &err), 0);
  assert_string_equal(rep.format, "fred");
  assert_int_equal(rep.rows_inserted, 1);
  assert_int_equal(rep.rows_missing, 2);
  oc_import_report_free(&rep);
  assert_int_equal(import_text(f, "fred2.csv", "observation_date,DCOILWTICO\n2024-01-04,71.1\n", &opt, &rep, &err), 0);
  assert_string_equal(rep.format, "fred");
  oc_import_report_free(&rep);
  s = load(f, "FRED");
  assert_int_equal(s.n, 2);
  oc_series_free(&s);
  /* FRED's download of a graph of several series: one column each, the same missing markers (they
   * were bad rows once the file had more than two columns) */
  opt.series = "FRED-BRENT";
  opt.value_col = "DCOILBRENTEU";
  assert_int_equal(import_text(f, "fredgraph.csv",
                               "observation_date,DCOILWTICO,DCOILBRENTEU\n2024-01-01,.,.\n2024-01-02,70.38,75.89\n"
                               "2024-01-03,72.7,\n",
                               &opt, &rep, &err), 0);
  assert_string_equal(rep.format, "fred");
  assert_int_equal(rep.rows_inserted, 1);
  assert_int_equal(rep.rows_missing, 2);
  oc_import_report_free(&rep);
  opt.value_col = NULL;

  opt.series = "NAMED";
  opt.date_col = "when";
  opt.value_col = "settle";
  assert_int_equal(import_text(f, "named.csv", "\xEF\xBB\xBFid,when,settle,volume\n1,2024-01-02,\"70.5\",9\n\n\n", &opt,
                               &rep, &err), 0);
  assert_string_equal(rep.format, "csv");
  assert_int_equal(rep.rows_inserted, 1);
  oc_import_report_free(&rep);
  assert_int_equal(import_text(f, "named2.csv", "id,date,settle\n1,2024-01-02,70.5\n", &opt, &rep, &err), -1);
  assert_non_null(strstr(err.message, "no column named 'when'"));
  oc_import_report_free(&rep);
  opt.date_col = opt.value_col = NULL;
  assert_int_equal(import_text(f, "ambiguous.csv", "date,a,b\n2024-01-02,1,2\n", &opt, &rep, &err), -1);
  assert_non_null(strstr(err.message, "--value-col"));
  oc_import_report_free(&rep);

  oc_import_options_init(&opt);
  assert_int_equal(import_text(f, "long.csv", "date,series,value\n2024-01-02,AA,1\n2024-01-02,BB,2\n2024-01-03,AA,3\n",
                               &opt, &rep, &err), 0);
  assert_string_equal(rep.format, "csv-long");
  assert_int_equal(rep.nseries, 2);
  oc_import_report_free(&rep);
  s = load(f, "AA");
  assert_int_equal(s.n, 2);
  oc_series_free(&s);

  opt.series = "JSON";
  assert_int_equal(import_text(f, "prices.json",
                               "[{\"date\": \"2024-01-02\", \"price\": 70.5},\n {\"date\": \"2024-01-03\", \"price\": \"71\"},\n"
                               " {\"date\": \"2024-01-04\", \"value\": null}]",
                               &opt, &rep, &err), 0);
  assert_string_equal(rep.format, "json-objects");
  assert_int_equal(rep.rows_inserted, 2);
  assert_int_equal(rep.rows_missing, 1);
  oc_import_report_free(&rep);
  opt.series = "BARE";
  assert_int_equal(import_text(f, "bare.json", "[70.5, 71, 72]", &opt, &rep, &err), -1);
  assert_non_null(strstr(err.message, "--start-date"));
  oc_import_report_free(&rep);
  opt.start_date = D("2024-01-06"); /* a Saturday: the first price is Monday's */
  assert_int_equal(import_text(f, "bare.json", "\xEF\xBB\xBF[70.5, 71, 72]\r\n", &opt, &rep, &err), 0);
  assert_string_equal(rep.format, "json-numbers");
  oc_import_report_free(&rep);
  s = load(f, "BARE");
  assert_int_equal(s.n, 3);
  assert_int_equal(s.dates[0], D("2024-01-08"));
  assert_int_equal(s.dates[2], D("2024-01-10"));
  oc_series_free(&s);
  opt.series = "JSONBAD";
  assert_int_equal(import_text(f, "bad.json",
                               "[\n{\"date\": \"2024-01-02\", \"price\": 1},\n"
                               "{\"date\": \"2024-02-31\", \"price\": 2},\n"
                               "{\"date\": \"2024-01-05\"},\n"
                               "{\"date\": \"2024-01-08\", \"price\": [3]}, 7\n]",
                               &opt, &rep, &err), -1);
  assert_int_equal(rep.rows_rejected, 4);
  assert_int_equal(rep.problems[0].where, 3);
  assert_non_null(strstr(rep.problems[0].reason, "bad date '2024-02-31'"));
  assert_int_equal(rep.problems[1].where, 4);
  assert_non_null(strstr(rep.problems[1].reason, "missing \"price\""));
  assert_int_equal(rep.problems[2].where, 5);
  assert_non_null(strstr(rep.problems[2].reason, "not a number"));
  assert_int_equal(rep.problems[3].where, 5);
  assert_non_null(strstr(rep.problems[3].reason, "expected an object"));
  oc_import_report_free(&rep);
  assert_int_equal(import_text(f, "broken.json", "[1,\n2,,]", &opt, &rep, &err), -1);
  assert_non_null(strstr(err.message, "broken.json:2:"));
  oc_import_report_free(&rep);
}

static void test_import_row_errors_abort_and_skip(void **state) {
  fixture *f = *state;
  oc_import_options opt;
  oc_import_report rep;
  oc_error err;
  oc_import_options_init(&opt);
  const char *text = "Date,Price\n"
                     "2024-01-02,70.5\n"    /* 2 ok */
                     "2024-02-30,71\n"      /* 3 no such day */
                     "01/04/2024,71\n"      /* 4 not ISO */
                     "2024-01-05,abc\n"     /* 5 not a number */
                     "2024-01-08,inf\n"     /* 6 not finite */
                     "2024-01-09,\n"        /* 7 empty value (not FRED) */
                     "2024-01-02,70.6\n"    /* 8 duplicate date */
                     "2024-01-10,1,2\n"     /* 9 field count */
                     "2024-01-11,\"7\"2\n"  /* 10 malformed quoting */
                     "2024-01-12,-1.5\n";   /* 11 ok, negative */
  int64_t before;
  assert_int_equal(oc_store_observations_count(f->store, &before, &err), 0);
  assert_int_equal(import_text(f, "bad.csv", text, &opt, &rep, &err), -1);
  assert_false(rep.written);
  assert_int_equal(rep.rows_read, 10);
  assert_int_equal(rep.rows_rejected, 8);
  assert_int_equal(rep.nproblems, 8);
  size_t lines[] = {3, 4, 5, 6, 7, 8, 9, 10};
  const char *words[] = {"day does not exist", "YYYY-MM-DD", "not a number", "not a number", "empty value",
                         "duplicate date 2024-01-02", "expected 2 fields", "closing quote"};
  for (size_t i = 0; i < 8; i++) {
    assert_int_equal(rep.problems[i].where, lines[i]);
    if (!strstr(rep.problems[i].reason, words[i])) fail_msg("line %zu: '%s' lacks '%s'", lines[i], rep.problems[i].reason, words[i]);
  }
  assert_non_null(strstr(err.message, "nothing written"));
  oc_import_report_free(&rep);
  int64_t after;
  assert_int_equal(oc_store_observations_count(f->store, &after, &err), 0);
  assert_int_equal(after, before);

  opt.on_error = OC_ON_ERROR_SKIP;
  assert_int_equal(import_text(f, "bad.csv", text, &opt, &rep, &err), 0);
  assert_true(rep.written);
  assert_int_equal(rep.rows_inserted, 2);
  assert_int_equal(rep.rows_rejected, 8);
  assert_int_equal(rep.negative_values, 1);
  assert_int_equal(rep.nnegatives, 1);
  assert_int_equal(rep.negatives[0].where, 11);
  assert_true(rep.negatives[0].value == -1.5);
  oc_import_report_free(&rep);

  /* More bad rows than are listed: the rest are counted. */
  oc_buf many = {0};
  oc_buf_puts(&many, "Date,Price\n");
  for (int i = 0; i < 30; i++) oc_buf_puts(&many, "bad,1\n");
  opt.on_error = OC_ON_ERROR_ABORT;
  assert_int_equal(import_text(f, "many.csv", many.data, &opt, &rep, &err), -1);
  assert_int_equal(rep.rows_rejected, 30);
  assert_int_equal(rep.nproblems, OC_INGEST_LISTED);
  oc_import_report_free(&rep);
  oc_buf_free(&many);
  assert_int_equal(import_text(f, "empty.csv", "", &opt, &rep, &err), -1);
  assert_non_null(strstr(err.message, "empty file"));
  oc_import_report_free(&rep);
}

/* A CSV with its header and no data row (blank lines aside) is refused like an empty file, whatever
 * --on-error says: an error naming the file and its header line, and nothing stored (no series, no
 * ingest run, no change). It once imported "0 rows", exited 0 and recorded a run; an empty JSON
 * array and a Parquet file of no rows still did, with a raw copy. */
static void test_import_csv_header_only(void **state) {
  fixture *f = *state;
  oc_import_options opt;
  oc_import_report rep;
  oc_error err;
  oc_import_options_init(&opt);
  opt.series = "WTI";
  int64_t changes_before, changes_after;
  assert_int_equal(oc_store_changes_latest(f->store, &changes_before, &err), 0);
  /* a chosen column's name given twice (the first one was read, silently): which is meant cannot be told */
  const char *twice[][2] = {{"Date,Price,Price\n2024-01-02,1,2\n", "columns 2 and 3 are both named 'Price'"},
                            {"Date,Price, date \n2024-01-02,1,x\n", "columns 1 and 3 are both named 'Date'"}};
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(import_text(f, "twice.csv", twice[i][0], &opt, &rep, &err), -1);
    if (!strstr(err.message, "twice.csv:1: ") || !strstr(err.message, twice[i][1])) fail_msg("%s", err.message);
    assert_false(rep.written);
    oc_import_report_free(&rep);
  }
  const char *texts[] = {"Date,Price\n", "Date,Price", "Date,Price\n\n\n"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    opt.on_error = i == 2 ? OC_ON_ERROR_SKIP : OC_ON_ERROR_ABORT;
    assert_int_equal(import_text(f, "header.csv", texts[i], &opt, &rep, &err), -1);
    assert_non_null(strstr(err.message, "header.csv:1: a header and no data rows"));
    assert_false(rep.written);
    oc_import_report_free(&rep);
  }
  /* the same for the other formats: an empty JSON array, a Parquet file of no rows (its schema alone) */
  assert_int_equal(import_text(f, "empty.json", " [ ]\n", &opt, &rep, &err), -1);
  assert_non_null(strstr(err.message, "empty.json:1: an empty array: nothing to import"));
  assert_false(rep.written);
  oc_import_report_free(&rep);
  oc_frame empty;
  oc_frame_init(&empty, 0);
  oc_frame_add_column(&empty, "price");
  char *parquet = oc_path_join(f->dir, "empty.parquet");
  if (oc_lake_write_frame(parquet, &empty, NULL, &err) != 0) fail_msg("%s", err.message);
  oc_frame_free(&empty);
  opt.path = parquet;
  assert_int_equal(oc_import_file(f->store, &opt, &rep, &err), -1);
  assert_non_null(strstr(err.message, "empty.parquet: no rows (0 row groups): nothing to import"));
  assert_false(rep.written);
  oc_import_report_free(&rep);
  free(parquet);
  assert_no_series(f);
  assert_int_equal(oc_store_changes_latest(f->store, &changes_after, &err), 0);
  assert_int_equal(changes_after, changes_before);
}

/* A UTF-16 file (Excel's "Unicode text", Windows PowerShell's redirection) is named as such, not
 * "cannot tell which column holds the date (columns: '\xff\xfeD', ''); name it with --date-col",
 * which no option fixes; without its byte order mark, by the NUL bytes of its header. */
static void test_import_utf16_named(void **state) {
  fixture *f = *state;
  oc_import_options opt;
  oc_import_report rep;
  oc_error err;
  oc_import_options_init(&opt);
  static const char utf16[] = "\xff\xfe" "D\0a\0t\0e\0,\0P\0r\0i\0c\0e\0\n\0" "2\0" "0\0" "2\0" "4\0-\0";
  const struct {
    const char *name;
    size_t skip;
    const char *says;
  } cases[] = {{"u16.csv", 0, "u16.csv: UTF-16 text (byte order mark FF FE)"},
               {"u16.json", 0, "u16.json: UTF-16 text (byte order mark FF FE)"},
               {"u16-nobom.csv", 2, "u16-nobom.csv:1: the header holds a NUL byte"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *path = oc_path_join(f->dir, cases[i].name);
    if (oc_write_file_atomic(path, utf16 + cases[i].skip, sizeof utf16 - 1 - cases[i].skip, &err) != 0)
      fail_msg("%s", err.message);
    opt.path = path;
    assert_int_equal(oc_import_file(f->store, &opt, &rep, &err), -1);
    if (!strstr(err.message, cases[i].says)) fail_msg("%s: %s", cases[i].name, err.message);
    assert_non_null(strstr(err.message, "UTF-8"));
    assert_false(rep.written);
    oc_import_report_free(&rep);
    free(path);
  }
}

/* The duplicate check's date bitmap grows both ways: far-apart, unsorted dates are all seen. */
/* A JSON object naming a key twice is refused (the API refuses it too), with its position. */
static void test_import_json_repeated_key(void **state) {
  fixture *f = *state;
  oc_import_options opt;
  oc_import_report rep;
  oc_error err;
  oc_import_options_init(&opt);
  int64_t before, after;
  assert_int_equal(oc_store_observations_count(f->store, &before, &err), 0);
  assert_int_equal(import_text(f, "dup.json", "[{\"date\":\"2024-01-02\",\"price\":70,\"price\":71}]", &opt, &rep, &err), -1);
  assert_non_null(strstr(err.message, "dup.json:1:"));
  assert_non_null(strstr(err.message, "duplicate object key"));
  oc_import_report_free(&rep);
  assert_int_equal(oc_store_observations_count(f->store, &after, &err), 0);
  assert_int_equal(after, before);
}

static void test_import_duplicates_far_apart(void **state) {
  fixture *f = *state;
  oc_import_options opt;
  oc_import_report rep;
  oc_error err;
  oc_import_options_init(&opt);
  opt.on_error = OC_ON_ERROR_SKIP;
  assert_int_equal(import_text(f, "far.csv",
                               "Date,Price\n2024-01-02,1\n1801-06-01,2\n2399-12-31,3\n1801-06-01,4\n0001-01-01,5\n"
                               "9999-12-31,6\n2399-12-31,7\n2024-01-02,8\n2024-01-03,9\n",
                               &opt, &rep, &err), 0);
  assert_int_equal(rep.rows_inserted, 6);
  assert_int_equal(rep.rows_rejected, 3);
  assert_int_equal(rep.problems[0].where, 5);
  assert_int_equal(rep.problems[1].where, 8);
  assert_int_equal(rep.problems[2].where, 9);
  oc_import_report_free(&rep);
  oc_series s = load(f, "WTI");
  assert_int_equal(s.n, 6);
  assert_int_equal(s.dates[0], D("0001-01-01"));
  assert_int_equal(s.dates[5], D("9999-12-31"));
  oc_series_free(&s);
}

static void test_import_idempotent_updates_and_lineage(void **state) {
  fixture *f = *state;
  oc_import_options opt;
  oc_import_report rep;
  oc_error err;
  oc_import_options_init(&opt);
  char *raw = oc_path_join(f->dir, "raw/historical_data");
  opt.raw_dir = raw;
  const char *v1 = "Date,Price\n2024-01-02,70.5\n2024-01-03,71\n";
  assert_int_equal(import_text(f, "wti.csv", v1, &opt, &rep, &err), 0);
  assert_int_equal(rep.rows_inserted, 2);
  char expected_sha[OC_SHA256_HEX_LEN];
  oc_sha256_hex(v1, strlen(v1), expected_sha);
  assert_string_equal(rep.sha256, expected_sha);
  assert_non_null(strstr(rep.raw_path, expected_sha));
  assert_non_null(strstr(rep.raw_path, ".csv"));
  char *kept;
  size_t len;
  assert_int_equal(oc_read_file(rep.raw_path, &kept, &len, &err), 0);
  assert_string_equal(kept, v1);
  free(kept);
  int64_t first_run = rep.run_id;
  oc_import_report_free(&rep);

  assert_int_equal(import_text(f, "wti.csv", v1, &opt, &rep, &err), 0);
  assert_int_equal(rep.rows_inserted, 0);
  assert_int_equal(rep.rows_updated, 0);
  assert_int_equal(rep.rows_unchanged, 2);
  assert_int_equal(rep.run_id, first_run + 1);
  oc_import_report_free(&rep);

  assert_int_equal(import_text(f, "wti.csv", "Date,Price\n2024-01-02,70.5\n2024-01-03,71.25\n2024-01-04,72\n", &opt, &rep,
                               &err), 0);
  assert_int_equal(rep.rows_inserted, 1);
  assert_int_equal(rep.rows_updated, 1);
  assert_int_equal(rep.rows_unchanged, 1);
  oc_import_report_free(&rep);
  oc_series s = load(f, "WTI");
  assert_true(s.values[1] == 71.25);
  oc_series_free(&s);
  free(raw);
}

/* Another process cuts short (or extends) a file while it is imported. The "other process" acts from
 * inside the import, when the reader asks the store for the first row's series: the file was open and
 * its header read. The file was once mapped, and its rows past the cut killed the import with SIGBUS;
 * now it is an error naming the file, and nothing is stored (no series, no run, no raw copy). */
static const oc_store_ops *store_ops;
static const char *writer_path; /* the file the other process changes */
static bool writer_appends;     /* it appends a row (else it truncates the file to 100 bytes) */

static int range_get_while_written(oc_store *store, const char *name, bool *set, double *min, double *max,
                                   oc_error *err) {
  if (writer_path) {
    FILE *out = fopen(writer_path, writer_appends ? "a" : "r+");
    assert_non_null(out);
    if (writer_appends) fputs("2099-01-02,1\n", out);
    else assert_int_equal(ftruncate(fileno(out), 100), 0);
    fclose(out);
    writer_path = NULL;
  }
  return store_ops->series_range_get(store, name, set, min, max, err);
}

static void test_import_file_changed_while_read(void **state) {
  fixture *f = *state;
  oc_import_options opt;
  oc_import_report rep;
  oc_error err;
  oc_import_options_init(&opt);
  char *raw = oc_path_join(f->dir, "raw/historical_data");
  opt.raw_dir = raw;
  oc_buf text = {0};
  oc_buf_puts(&text, "Date,Price\n");
  for (oc_date d = D("2000-01-03"); text.len < 64 * 1024; d = oc_calendar_next_trading_day(d)) {
    char day[OC_DATE_STRLEN];
    oc_buf_printf(&text, "%s,%d.25\n", oc_date_format(d, day), 20 + (int)(d % 50));
  }
  oc_store_ops watched = *f->store->ops;
  watched.series_range_get = range_get_while_written;
  store_ops = f->store->ops;
  const char *said[] = {"cut.csv: shrank while it was read (", "cut.csv: changed while it was read ("};
  for (int appends = 0; appends < 2; appends++) {
    char *path = oc_test_write_file(f->dir, "cut.csv", text.data);
    writer_path = path;
    writer_appends = appends;
    opt.path = path;
    f->store->ops = &watched;
    int rc = oc_import_file(f->store, &opt, &rep, &err);
    f->store->ops = store_ops;
    assert_int_equal(rc, -1);
    if (!strstr(err.message, said[appends]) || !strstr(err.message, "nothing written")) fail_msg("%s", err.message);
    assert_false(rep.written);
    if (*rep.raw_path) assert_false(oc_path_exists(rep.raw_path));
    oc_import_report_free(&rep);
    free(path);
  }
  assert_no_series(f);
  oc_buf_free(&text);
  free(raw);
}

static void test_datadir(void **state) {
  fixture *f = *state;
  oc_error err;
  bool created = true;
  assert_int_equal(oc_datadir_init(f->dir, &created, &err), 0); /* idempotent */
  assert_false(created);
  for (const char *const *d = oc_datadir_folders; *d; d++) {
    char *p = oc_path_join(f->dir, *d);
    assert_true(oc_is_dir(p));
    free(p);
  }
  char *other = oc_path_join(f->dir, "not-initialised");
  oc_store *s;
  assert_int_equal(oc_datadir_open(other, &s, &err), -1);
  assert_non_null(strstr(err.message, "not an oilcast data directory"));
  assert_non_null(strstr(err.message, "oilcast init --data-dir"));
  free(other);
  char *conf_path = oc_test_write_file(f->dir, "x.conf", "# comment\n\nstore = sqlite:other.db\nname=a = b\n");
  oc_conf conf;
  assert_int_equal(oc_conf_read(conf_path, &conf, &err), 0);
  assert_string_equal(oc_conf_get(&conf, "store"), "sqlite:other.db");
  assert_string_equal(oc_conf_get(&conf, "name"), "a = b");
  assert_null(oc_conf_get(&conf, "missing"));
  static const char *const known[] = {"store", "name", NULL};
  assert_int_equal(oc_conf_check_keys(&conf, conf_path, known, &err), 0);
  oc_conf_free(&conf);
  free(conf_path);
  /* a misspelt key in a data directory's oilcast.conf: the file, its line, the key and the known keys */
  char *typo_dir = oc_path_join(f->dir, "typo");
  assert_int_equal(oc_datadir_init(typo_dir, &created, &err), 0);
  free(oc_test_write_file(typo_dir, OC_DATADIR_CONF, "# mine\nstroe = sqlite:other.db\n"));
  assert_int_equal(oc_datadir_open(typo_dir, &s, &err), -1);
  assert_non_null(strstr(err.message, OC_DATADIR_CONF ":2: unknown key 'stroe' (known: store, eia_api_key, fred_api_key, alphavantage_api_key, "
                                      "stream.broker, ")); /* the [stream] section's keys follow (issue 15) */
  free(typo_dir);
  conf_path = oc_test_write_file(f->dir, "bad.conf", "store = x\njunk\n");
  assert_int_equal(oc_conf_read(conf_path, &conf, &err), -1);
  assert_non_null(strstr(err.message, "bad.conf:2"));
  free(conf_path);
}

/* The simulator marks its files and the importer records them as simulated whatever source imports
 * them; the mark line counts in the lines a problem names. */
static void test_simulated_file_recorded_as_simulated(void **state) {
  fixture *f = *state;
  oc_error err;
  char *path = oc_path_join(f->dir, "sim.csv");
  const char *const names[] = {"SIMWTI"};
  oc_simulate_options sim = {.seed = 7, .days = 30, .start = D("2024-01-01"), .names = names, .nseries = 1};
  if (oc_simulate_market_csv(&sim, path, &err) != 0) fail_msg("%s", err.message);
  oc_import_options opt;
  oc_import_options_init(&opt); /* source_kind "historical" */
  opt.path = path;
  opt.series = "SIMWTI";
  oc_import_report rep;
  if (oc_import_file(f->store, &opt, &rep, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(rep.rows_inserted, 30);
  oc_import_report_free(&rep);
  oc_series_info *list;
  size_t n;
  if (oc_store_series_list(f->store, &list, &n, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(n, 1);
  assert_string_equal(list[0].source, "simulated");
  oc_series_info_list_free(list, n);
  free(path);
  /* a bad row after the mark is named by its line in the file */
  opt.series = "OTHER";
  assert_int_equal(import_text(f, "marked.csv", OC_SIMULATE_MARK " (seed 1)\ndate,value\n2024-01-02,70\nnope,71\n", &opt,
                               &rep, &err), -1);
  assert_int_equal(rep.nproblems, 1);
  assert_int_equal(rep.problems[0].where, 4);
  oc_import_report_free(&rep);
}

/* Simulated prices never land in a series of real ones: the simulator's one-series file names no
 * series, so imported without --series it would overwrite the stored WTI history. Refused as a
 * whole, naming the series and the way out; real prices are untouched. */
static void test_simulated_file_refused_into_real_series(void **state) {
  fixture *f = *state;
  oc_import_options opt;
  oc_import_report rep;
  oc_error err;
  oc_import_options_init(&opt);
  assert_int_equal(import_text(f, "wti.csv", "Date,Price\n2024-01-02,70.5\n2024-01-03,71\n", &opt, &rep, &err), 0);
  oc_import_report_free(&rep);
  const char *sim = OC_SIMULATE_MARK " (seed 1)\ndate,value\n2024-01-02,34.01\n2024-01-04,35\n";
  assert_int_equal(import_text(f, "sim.csv", sim, &opt, &rep, &err), -1); /* default series: WTI */
  assert_non_null(strstr(err.message, "sim.csv:3: series 'WTI' holds historical prices"));
  assert_non_null(strstr(err.message, "--series"));
  assert_false(rep.written);
  oc_import_report_free(&rep);
  oc_series s = load(f, "WTI");
  assert_int_equal(s.n, 2);
  assert_true(s.values[0] == 70.5);
  oc_series_free(&s);
  opt.series = "WTI-SIM"; /* a series of its own, and again into it: fine */
  for (int i = 0; i < 2; i++) {
    if (import_text(f, "sim.csv", sim, &opt, &rep, &err) != 0) fail_msg("%s", err.message);
    oc_import_report_free(&rep);
  }
}

/* A simulation whose trading days run past 9999-12-31 is refused before anything is written: it
 * wrote rows dated "invalid", a file its own import refuses. */
static void test_simulator_refuses_dates_past_9999(void **state) {
  fixture *f = *state;
  oc_error err;
  char *path = oc_path_join(f->dir, "far.csv");
  const char *const names[] = {"FAR"};
  oc_simulate_options sim = {.seed = 7, .days = 300, .start = D("9999-01-01"), .names = names, .nseries = 1};
  assert_int_equal(oc_simulate_market_csv(&sim, path, &err), -1);
  if (!strstr(err.message, "300 trading days from 9999-01-01 run past 9999-12-31 (at most 25")) fail_msg("%s", err.message);
  assert_false(oc_path_exists(path));
  sim.days = 250;
  if (oc_simulate_market_csv(&sim, path, &err) != 0) fail_msg("%s", err.message);
  free(path);
}

static void test_simulator(void **state) {
  (void)state;
  enum { N = 25000 };
  oc_date *d1 = oc_xmalloc(N * sizeof *d1), *d2 = oc_xmalloc(N * sizeof *d2);
  double *v1 = oc_xmalloc(N * sizeof *v1), *v2 = oc_xmalloc(N * sizeof *v2);
  oc_simulate_series(7, 0, D("2000-01-01"), N, d1, v1);
  oc_simulate_series(7, 0, D("2000-01-01"), N, d2, v2);
  assert_memory_equal(d1, d2, N * sizeof *d1);
  assert_memory_equal(v1, v2, N * sizeof *v1);
  assert_int_equal(d1[0], D("2000-01-03")); /* first trading day */
  double lo = INFINITY, hi = -INFINITY, sum_sq = 0;
  for (size_t i = 0; i < N; i++) {
    assert_true(oc_calendar_is_trading_day(d1[i]));
    if (i) assert_true(d1[i] > d1[i - 1]);
    lo = fmin(lo, v1[i]);
    hi = fmax(hi, v1[i]);
    if (i) sum_sq += pow(log(v1[i] / v1[i - 1]), 2);
  }
  assert_true(lo >= 10 && hi <= 200);
  double daily_vol = sqrt(sum_sq / (N - 1));
  assert_true(daily_vol > 0.01 && daily_vol < 0.04); /* oil-like: 1..4% a day */
  oc_simulate_series(7, 1, D("2000-01-01"), N, d2, v2);
  assert_true(memcmp(v1, v2, N * sizeof *v1) != 0); /* another index, another market */
  free(d1), free(d2), free(v1), free(v2);
}

/* Each test on a fresh data directory. */
#define ON_DATADIR(test) cmocka_unit_test_setup_teardown(test, oc_test_datadir_setup, oc_test_datadir_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_csv_tokenizer),
      cmocka_unit_test(test_parse_number),
      cmocka_unit_test(test_format_number_as_defined),
      cmocka_unit_test(test_row_validator),
      ON_DATADIR(test_import_formats),
      ON_DATADIR(test_import_row_errors_abort_and_skip),
      ON_DATADIR(test_import_duplicates_far_apart),
      ON_DATADIR(test_import_json_repeated_key),
      ON_DATADIR(test_import_csv_header_only),
      ON_DATADIR(test_import_idempotent_updates_and_lineage),
      ON_DATADIR(test_import_file_changed_while_read),
      ON_DATADIR(test_datadir),
      ON_DATADIR(test_import_utf16_named),
      ON_DATADIR(test_simulated_file_recorded_as_simulated),
      ON_DATADIR(test_simulated_file_refused_into_real_series),
      cmocka_unit_test(test_simulator),
      ON_DATADIR(test_simulator_refuses_dates_past_9999),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
