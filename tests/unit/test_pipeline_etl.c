/* Unit tests for src/pipeline/etl: oc_pipeline_etl on a fresh data directory holding simulated WTI
 * and Brent (ingest/simulate.h): the Parquet table and its Hive-style partition are byte for byte what
 * oc_etl_build + the lake write for the same stored series, the CSV format and a relative --out land
 * inside the data directory, bad options and inputs fail with a clear message and write nothing
 * (an old table stays as it was), and a process killed at random instants while rewriting the table
 * leaves each file the old or the new table, never a torn one. */
#include "testutil.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/rng.h"
#include "features/etl.h"
#include "ingest/simulate.h"
#include "lake/lake.h"
#include "pipeline/etl.h"
#include "store/datadir.h"

enum { DAYS = 700 };

typedef struct fixture {
  char *dir; /* an initialised data directory */
  oc_store *store;
} fixture;

/* Stores DAYS simulated trading days as series `name` (market `index` of seed 7); when
 * negative_at > 0 that day's price becomes -1 (what the non-positive policies are about). */
static void store_simulated(oc_store *store, const char *name, size_t index, size_t negative_at) {
  oc_series s;
  oc_series_init(&s, name, DAYS);
  oc_simulate_series(7, index, oc_date_from_ymd(2021, 1, 4), DAYS, s.dates, s.values);
  if (negative_at) s.values[negative_at] = -1;
  oc_test_store_series(store, &s);
  oc_series_free(&s);
}

static int setup(void **state) {
  fixture *fx = oc_xcalloc(1, sizeof *fx);
  fx->dir = oc_test_tmpdir("pipeline-etl");
  oc_error err;
  bool created;
  if (oc_datadir_init(fx->dir, &created, &err) != 0 || oc_datadir_open(fx->dir, &fx->store, &err) != 0)
    fail_msg("%s", err.message);
  store_simulated(fx->store, "WTI", 0, 0);
  store_simulated(fx->store, "BRENT", 1, 0);
  store_simulated(fx->store, "NEG", 2, 300);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture *fx = *state;
  oc_store_close(fx->store);
  oc_test_rmtree(fx->dir);
  free(fx->dir);
  free(fx);
  return 0;
}

static char *file_text(const char *path, size_t *len) {
  char *data;
  oc_error err;
  if (oc_read_file(path, &data, len, &err) != 0) fail_msg("%s", err.message);
  return data;
}

static void assert_same_file(const char *a, const char *b) {
  size_t na, nb;
  char *da = file_text(a, &na), *db = file_text(b, &nb);
  assert_int_equal(na, nb);
  assert_memory_equal(da, db, na);
  free(da);
  free(db);
}

static char *in_dir(const fixture *fx, const char *relative) { return oc_path_join(fx->dir, relative); }

/* What the step should write for series WTI (+ BRENT) under opt->etl, built and written here with the
 * lower-level functions to `path`; returns the frame's row count. */
static size_t write_expected(const fixture *fx, const oc_etl_options *etl, bool with_brent, const char *path) {
  oc_series wti, brent;
  oc_frame frame;
  oc_error err;
  if (oc_store_series_load(fx->store, "WTI", OC_DATE_INVALID, OC_DATE_INVALID, &wti, &err) != 0 ||
      oc_store_series_load(fx->store, "BRENT", OC_DATE_INVALID, OC_DATE_INVALID, &brent, &err) != 0 ||
      oc_etl_build(&wti, &brent, with_brent ? 1 : 0, etl, &frame, NULL, &err) != 0 ||
      oc_lake_write_frame(path, &frame, NULL, &err) != 0)
    fail_msg("%s", err.message);
  size_t rows = frame.nrows;
  oc_frame_free(&frame);
  oc_series_free(&wti);
  oc_series_free(&brent);
  return rows;
}

static void test_parquet_outputs_equal_the_library(void **state) {
  fixture *fx = *state;
  oc_pipeline_etl_options opt;
  oc_pipeline_etl_options_default(&opt);
  opt.exog = "BRENT";
  opt.etl.horizon = 5;
  oc_pipeline_etl_result r;
  oc_error err;
  if (oc_pipeline_etl(fx->dir, fx->store, &opt, &r, &err) != 0) fail_msg("%s", err.message);

  char *table = in_dir(fx, "processed/training_data.parquet");
  char *partition = in_dir(fx, "processed/training/series=WTI/part-0.parquet");
  char *expected = in_dir(fx, "expected.parquet");
  assert_string_equal(r.table_path, table);
  assert_string_equal(r.partition_path, partition);
  size_t rows = write_expected(fx, &opt.etl, true, expected);
  assert_same_file(table, expected);
  assert_same_file(partition, expected);
  assert_int_equal(r.rows, rows);
  assert_int_equal(r.rows, DAYS);
  assert_int_equal(r.report.rows_in, DAYS);
  assert_int_equal(r.report.nexog, 1);
  assert_string_equal(r.report.exog[0].name, "BRENT");
  oc_frame back;
  if (oc_lake_read_frame(table, &back, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(r.columns, back.ncols);
  assert_string_equal(oc_frame_get_meta(&back, "oilcast.horizon"), "5");
  oc_frame_free(&back);
  oc_pipeline_etl_result_free(&r);
  free(table);
  free(partition);
  free(expected);
}

/* --out writes that table and nothing else: the data directory's partition, what the next default run
 * and the lake's readers see, stays as the last default run left it, whatever options --out had. */
static void test_csv_and_relative_out(void **state) {
  fixture *fx = *state;
  oc_pipeline_etl_options opt;
  oc_pipeline_etl_options_default(&opt);
  opt.format = OC_PIPELINE_ETL_CSV;
  oc_pipeline_etl_result r;
  oc_error err;
  if (oc_pipeline_etl(fx->dir, fx->store, &opt, &r, &err) != 0) fail_msg("%s", err.message);
  /* the partition is Parquet whatever the table's format, and holds the same rows */
  oc_frame back;
  if (oc_lake_read_frame(r.partition_path, &back, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(back.nrows, r.rows);
  oc_frame_free(&back);
  char *partition = oc_xstrdup(r.partition_path), *before, *after;
  size_t before_len, after_len;
  if (oc_read_file(partition, &before, &before_len, &err) != 0) fail_msg("%s", err.message);
  oc_pipeline_etl_result_free(&r);

  opt.out = "tables/wti.csv";
  opt.etl.horizon = 3;
  if (oc_pipeline_etl(fx->dir, fx->store, &opt, &r, &err) != 0) fail_msg("%s", err.message);
  char *csv = in_dir(fx, "tables/wti.csv");
  char *meta = in_dir(fx, "tables/wti.csv.meta.json");
  assert_string_equal(r.table_path, csv);
  assert_null(r.partition_path);
  assert_true(oc_path_exists(meta));
  if (oc_lake_read_frame_csv(csv, &back, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(back.nrows, r.rows);
  assert_int_equal(back.ncols, r.columns);
  oc_frame_free(&back);
  if (oc_read_file(partition, &after, &after_len, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(after_len, before_len);
  assert_memory_equal(after, before, before_len);
  oc_pipeline_etl_result_free(&r);
  free(csv);
  free(meta);
  free(partition);
  free(before);
  free(after);
}

/* Every failure: -1, the message names the culprit, the result is empty, and no file is written. */
static void test_bad_options_write_nothing(void **state) {
  fixture *fx = *state;
  char *table = in_dir(fx, "processed/training_data.parquet");
  char *custom = in_dir(fx, "custom.parquet");
  struct {
    const char *series, *exog, *out;
    int horizon;
    oc_nonpos_policy nonpositive;
    int format;
    const char *expect;
    int rc; /* the option's fault (OC_PIPELINE_BAD_OPTION) or the data's (-1) */
  } cases[] = {
      {"NOSUCH", NULL, NULL, 7, OC_NONPOS_DROP, OC_PIPELINE_ETL_PARQUET, "NOSUCH", -1},
      {"WTI", "BRENT,NOPE", NULL, 7, OC_NONPOS_DROP, OC_PIPELINE_ETL_PARQUET, "exogenous series NOPE", -1},
      /* an exogenous series named twice, or the target itself: twin (or constant) spread columns */
      {"WTI", "BRENT,BRENT", NULL, 7, OC_NONPOS_DROP, OC_PIPELINE_ETL_PARQUET, "names BRENT twice", OC_PIPELINE_BAD_OPTION},
      {"WTI", "BRENT,WTI", NULL, 7, OC_NONPOS_DROP, OC_PIPELINE_ETL_PARQUET, "WTI is the target", OC_PIPELINE_BAD_OPTION},
      {"WTI", NULL, "custom.parquet", 0, OC_NONPOS_DROP, OC_PIPELINE_ETL_PARQUET, "horizon 0", OC_PIPELINE_BAD_OPTION},
      {"NEG", NULL, "custom.parquet", 7, OC_NONPOS_FAIL, OC_PIPELINE_ETL_PARQUET, "not positive", -1},
      {"WTI", NULL, "", 7, OC_NONPOS_DROP, OC_PIPELINE_ETL_PARQUET, "output path is empty", OC_PIPELINE_BAD_OPTION},
      {"WTI", NULL, "custom.parquet", 7, OC_NONPOS_DROP, 9, "unknown table format 9", OC_PIPELINE_BAD_OPTION},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    oc_pipeline_etl_options opt;
    oc_pipeline_etl_options_default(&opt);
    opt.series = cases[i].series;
    opt.exog = cases[i].exog;
    opt.out = cases[i].out;
    opt.etl.horizon = cases[i].horizon;
    opt.etl.nonpositive = cases[i].nonpositive;
    opt.format = (oc_pipeline_etl_format)cases[i].format;
    oc_pipeline_etl_result r;
    oc_error err = {0};
    assert_int_equal(oc_pipeline_etl(fx->dir, fx->store, &opt, &r, &err), cases[i].rc);
    if (!strstr(err.message, cases[i].expect)) fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].expect);
    assert_null(r.table_path);
    assert_null(r.partition_path);
    assert_false(oc_path_exists(table));
    assert_false(oc_path_exists(custom));
  }
  /* what `oilcast init` made and nothing more: processed/training stays empty */
  char *wti_partition = in_dir(fx, "processed/training/series=WTI");
  char *neg_partition = in_dir(fx, "processed/training/series=NEG");
  assert_false(oc_path_exists(wti_partition));
  assert_false(oc_path_exists(neg_partition));
  free(wti_partition);
  free(neg_partition);
  free(table);
  free(custom);
}

/* A failed run leaves the previous table untouched. */
static void test_failure_keeps_the_old_table(void **state) {
  fixture *fx = *state;
  oc_pipeline_etl_options opt;
  oc_pipeline_etl_options_default(&opt);
  opt.series = "NEG";
  opt.out = "neg.parquet";
  oc_pipeline_etl_result r;
  oc_error err;
  if (oc_pipeline_etl(fx->dir, fx->store, &opt, &r, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(r.report.nonpositive, 1);
  size_t old_len;
  char *old = file_text(r.table_path, &old_len);
  oc_pipeline_etl_result_free(&r);
  opt.etl.nonpositive = OC_NONPOS_FAIL;
  opt.etl.horizon = 3;
  assert_int_equal(oc_pipeline_etl(fx->dir, fx->store, &opt, &r, &err), -1);
  char *path = in_dir(fx, "neg.parquet");
  size_t now_len;
  char *now = file_text(path, &now_len);
  assert_int_equal(now_len, old_len);
  assert_memory_equal(now, old, old_len);
  free(now);
  free(old);
  free(path);
}

/* Rewrites the default table forever in a child process, alternating horizons 5 and 3, with a store
 * connection of its own (a SQLite connection must not cross a fork). */
static void rewrite_until_killed(const char *dir) {
  oc_store *store;
  oc_error err;
  if (oc_datadir_open(dir, &store, &err) != 0) _exit(2);
  for (int i = 0; i < 100000; i++) {
    oc_pipeline_etl_options opt;
    oc_pipeline_etl_options_default(&opt);
    opt.etl.horizon = i % 2 ? 3 : 5;
    oc_pipeline_etl_result r;
    if (oc_pipeline_etl(dir, store, &opt, &r, &err) != 0) _exit(3);
    oc_pipeline_etl_result_free(&r);
  }
  _exit(0);
}

static bool same_bytes(const char *path, const char *data, size_t len) {
  size_t n;
  char *got = file_text(path, &n);
  bool same = n == len && memcmp(got, data, n) == 0;
  free(got);
  return same;
}

static void test_kill_leaves_old_or_new(void **state) {
  fixture *fx = *state;
  char *expected3 = in_dir(fx, "h3.parquet"), *expected5 = in_dir(fx, "h5.parquet");
  oc_etl_options etl;
  oc_etl_options_default(&etl);
  etl.horizon = 3;
  write_expected(fx, &etl, false, expected3);
  etl.horizon = 5;
  write_expected(fx, &etl, false, expected5);
  size_t len3, len5;
  char *h3 = file_text(expected3, &len3), *h5 = file_text(expected5, &len5);
  char *table = in_dir(fx, "processed/training_data.parquet");
  char *partition = in_dir(fx, "processed/training/series=WTI/part-0.parquet");
  oc_pipeline_etl_options opt;
  oc_pipeline_etl_options_default(&opt);
  opt.etl.horizon = 3;
  oc_pipeline_etl_result r;
  oc_error err;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (oc_pipeline_etl(fx->dir, fx->store, &opt, &r, &err) != 0) fail_msg("%s", err.message);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  oc_pipeline_etl_result_free(&r);
  double run_ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);

  oc_rng rng;
  oc_rng_seed(&rng, 42);
  size_t saw_new = 0;
  for (int round = 0; round < 25; round++) {
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) rewrite_until_killed(fx->dir);
    /* kill it somewhere in its first three rewrites (the sanitizer build runs slower: scale by a run) */
    double ns = oc_rng_uniform(&rng) * 3 * run_ns;
    struct timespec pause = {(time_t)(ns / 1e9), (long)fmod(ns, 1e9)};
    nanosleep(&pause, NULL);
    kill(child, SIGKILL);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    for (int f = 0; f < 2; f++) {
      const char *path = f ? partition : table;
      bool is3 = same_bytes(path, h3, len3), is5 = same_bytes(path, h5, len5);
      if (!is3 && !is5) fail_msg("round %d: %s is neither the old nor the new table", round, path);
      saw_new += is5;
    }
  }
  assert_true(saw_new > 0); /* the child did get to replace the files */
  free(h3);
  free(h5);
  free(expected3);
  free(expected5);
  free(table);
  free(partition);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_parquet_outputs_equal_the_library, setup, teardown),
      cmocka_unit_test_setup_teardown(test_csv_and_relative_out, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_options_write_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_failure_keeps_the_old_table, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kill_leaves_old_or_new, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
