/* Unit tests for the ingest-run listing of the store (store.h, ingest_runs_after) and the series an
 * import records with its run (ingest/import.h): runs after an id in order, the newest id, the series
 * list bounded per run, a failed record that leaves nothing behind, and a CSV import's series. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "ingest/import.h"
#include "store/store.h"

typedef struct fixture {
  char *dir;
  oc_store *store;
} fixture;

static int setup(void **state) {
  fixture *f = oc_xcalloc(1, sizeof *f);
  f->dir = oc_test_tmpdir("ingest_runs");
  oc_buf uri = {0};
  char *db = oc_path_join(f->dir, "oilcast.db");
  oc_buf_printf(&uri, "sqlite:%s", db);
  free(db);
  oc_error err;
  f->store = oc_store_open(uri.data, &err);
  oc_buf_free(&uri);
  if (!f->store) fail_msg("open: %s", err.message);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  oc_store_close(f->store);
  oc_test_rmtree(f->dir);
  free(f->dir);
  free(f);
  return 0;
}

static oc_date D(const char *text) {
  oc_date d;
  assert_int_equal(oc_date_parse(text, strlen(text), &d, NULL), 0);
  return d;
}

static int64_t record(oc_store *s, const char *status, int64_t inserted, const oc_ingest_run_series *series,
                      size_t nseries) {
  oc_ingest_run run = {.source_kind = "historical", .path = "p.csv", .sha256 = "abc", .status = status,
                       .rows_inserted = inserted, .rows_updated = 1, .nseries = nseries, .series = series};
  oc_error err;
  if (oc_store_ingest_run_record(s, &run, &err) != 0) fail_msg("record: %s", err.message);
  return run.id;
}

static void test_lists_runs_after_an_id(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_ingest_run_info *runs = NULL;
  size_t n = 0;
  int64_t newest = -1;
  assert_int_equal(oc_store_ingest_runs_after(f->store, 0, 10, 4, &runs, &n, &newest, &err), 0);
  assert_int_equal(n, 0);
  assert_int_equal(newest, 0);

  oc_ingest_run_series two[] = {{.name = "WTI", .rows = 3, .last_date = D("2025-01-03"), .last_value = 71.5},
                                {.name = "BRENT", .rows = 2, .last_date = D("2025-01-02"), .last_value = 75.25}};
  int64_t first = record(f->store, "ok", 5, two, 2);
  int64_t second = record(f->store, "rejected", 0, NULL, 0);
  int64_t third = record(f->store, "ok", 1, two, 1);

  assert_int_equal(oc_store_ingest_runs_after(f->store, 0, 0, 4, &runs, &n, &newest, &err), 0);
  assert_int_equal(n, 0);
  assert_int_equal(newest, third);

  assert_int_equal(oc_store_ingest_runs_after(f->store, 0, 10, 4, &runs, &n, &newest, &err), 0);
  assert_int_equal(n, 3);
  assert_int_equal(runs[0].id, first);
  assert_string_equal(runs[0].status, "ok");
  assert_string_equal(runs[0].source_kind, "historical");
  assert_int_equal(runs[0].rows_inserted, 5);
  assert_int_equal(runs[0].rows_updated, 1);
  assert_int_equal(runs[0].nseries, 2);
  assert_int_equal(runs[0].listed, 2);
  assert_string_equal(runs[0].series[0].name, "BRENT"); /* by name */
  assert_int_equal(runs[0].series[0].rows, 2);
  assert_int_equal(runs[0].series[0].last_date, D("2025-01-02"));
  assert_true(runs[0].series[0].last_value == 75.25);
  assert_string_equal(runs[0].series[1].name, "WTI");
  assert_int_equal(runs[1].id, second);
  assert_string_equal(runs[1].status, "rejected");
  assert_int_equal(runs[1].nseries, 0);
  assert_null(runs[1].series);
  assert_int_equal(runs[2].nseries, 1);
  oc_ingest_run_info_list_free(runs, n);

  /* after an id, at most max_runs, at most max_series listed (nseries still counts them all) */
  assert_int_equal(oc_store_ingest_runs_after(f->store, first - 1, 1, 1, &runs, &n, &newest, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(runs[0].id, first);
  assert_int_equal(runs[0].nseries, 2);
  assert_int_equal(runs[0].listed, 1);
  assert_string_equal(runs[0].series[0].name, "BRENT");
  oc_ingest_run_info_list_free(runs, n);
  assert_int_equal(oc_store_ingest_runs_after(f->store, third, 10, 4, &runs, &n, &newest, &err), 0);
  assert_int_equal(n, 0);
}

static void test_failed_record_leaves_nothing(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_ingest_run_series twice[] = {{.name = "WTI", .rows = 1, .last_date = D("2025-01-03"), .last_value = 1},
                                  {.name = "WTI", .rows = 1, .last_date = D("2025-01-03"), .last_value = 1}};
  oc_ingest_run run = {.source_kind = "historical", .path = "p", .sha256 = "s", .status = "ok", .nseries = 2,
                       .series = twice};
  assert_int_equal(oc_store_ingest_run_record(f->store, &run, &err), -1);
  assert_non_null(strstr(err.message, "series of an ingest run"));
  oc_ingest_run_info *runs = NULL;
  size_t n = 0;
  int64_t newest = -1;
  assert_int_equal(oc_store_ingest_runs_after(f->store, 0, 10, 4, &runs, &n, &newest, &err), 0);
  assert_int_equal(n, 0);
  assert_int_equal(newest, 0);
}

static void test_import_records_its_series(void **state) {
  fixture *f = *state;
  char *csv = oc_test_write_file(f->dir, "long.csv",
                                 "date,series,value\n"
                                 "2025-01-03,WTI,72.5\n2025-01-02,WTI,71.25\n2025-01-02,BRENT,75\n");
  oc_import_options opt;
  oc_import_options_init(&opt);
  opt.path = csv;
  opt.series_col = "series";
  oc_import_report rep;
  oc_error err;
  if (oc_import_file(f->store, &opt, &rep, &err) != 0) fail_msg("import: %s", err.message);
  oc_ingest_run_info *runs = NULL;
  size_t n = 0;
  int64_t newest = -1;
  assert_int_equal(oc_store_ingest_runs_after(f->store, 0, 10, 8, &runs, &n, &newest, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(runs[0].id, rep.run_id);
  assert_int_equal(runs[0].rows_inserted, 3);
  assert_int_equal(runs[0].nseries, 2);
  assert_string_equal(runs[0].series[0].name, "BRENT");
  assert_int_equal(runs[0].series[0].rows, 1);
  assert_string_equal(runs[0].series[1].name, "WTI");
  assert_int_equal(runs[0].series[1].rows, 2);
  assert_int_equal(runs[0].series[1].last_date, D("2025-01-03")); /* the latest date, not the last row */
  assert_true(runs[0].series[1].last_value == 72.5);
  oc_ingest_run_info_list_free(runs, n);
  oc_import_report_free(&rep);
  free(csv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_lists_runs_after_an_id, setup, teardown),
      cmocka_unit_test_setup_teardown(test_failed_record_leaves_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_records_its_series, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
