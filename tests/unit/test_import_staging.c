/* Staged imports (issue 13; store.h's oc_store_stage_ops, ingest/batch.h's opt->stage) on SQLite: the
 * stage ops through store.h (staging takes no write lock and is seen by no other connection; the move
 * applies the conflict rules as they stand at the move, counts, and records one change per series it
 * wrote), and the batch with stage set: another connection writes while the batch reads (and cannot
 * without staging: the guard), a batch that fails or rejects a row leaves nothing and no staged rows
 * for the next batch, and a staged batch reports and stores exactly what the direct one does. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "ingest/batch.h"
#include "store/store.h"

typedef oc_test_datadir_fixture fixture;

static oc_date day(int y, int m, int d) { return oc_date_from_ymd(y, m, d); }

static oc_store *second_connection(fixture *f, double max_wait) {
  oc_error err;
  oc_store *s = oc_store_open(f->store->uri, &err);
  if (!s) fail_msg("%s", err.message);
  oc_store_set_wait(s, &(oc_store_wait){.max_seconds = max_wait, .report_every = 1});
  return s;
}

static int64_t ensure(oc_store *s, const char *name) {
  int64_t id;
  oc_error err;
  if (oc_store_series_ensure(s, name, "USD/bbl", "test", &id, &err) != 0) fail_msg("%s", err.message);
  return id;
}

static void upsert(oc_store *s, int64_t id, oc_date date, double value) {
  oc_upsert_counts c = {0};
  oc_error err;
  oc_observation o = {id, date, value};
  if (oc_store_observations_upsert(s, &o, 1, "test", 1, &c, &err) != 0) fail_msg("%s", err.message);
}

static oc_series load(oc_store *s, const char *name) {
  oc_series out;
  oc_error err;
  if (oc_store_series_load(s, name, OC_DATE_INVALID, OC_DATE_INVALID, &out, &err) != 0) fail_msg("%s", err.message);
  return out;
}

static int64_t stored_rows(oc_store *s) {
  int64_t n;
  oc_error err;
  if (oc_store_observations_count(s, &n, &err) != 0) fail_msg("%s", err.message);
  return n;
}

/* ---- the stage ops --------------------------------------------------------------------------- */

static void test_stage_and_move(void **state) {
  fixture *f = *state;
  oc_store *s = f->store, *other = second_connection(f, 0);
  assert_true(oc_store_stages_observations(s));
  int64_t a = ensure(s, "A");
  upsert(s, a, day(2024, 1, 2), 1);
  upsert(s, a, day(2024, 1, 3), 2);

  /* Staged while another connection holds the write lock: no lock asked for, nothing visible. */
  oc_error err;
  assert_int_equal(oc_store_begin(other, &err), 0);
  const oc_observation staged[] = {{0, day(2024, 1, 4), 3},   /* A: new */
                                   {0, day(2024, 1, 3), 5},   /* A: a revision */
                                   {0, day(2024, 1, 2), 1},   /* A: unchanged */
                                   {1, day(2024, 1, 2), 7},   /* B (created before the move): new */
                                   {0, day(2024, 1, 5), 8}};  /* A: stored by `other` meanwhile, equal */
  assert_int_equal(oc_store_observations_stage(s, staged, 5, &err), 0);
  upsert(other, a, day(2024, 1, 5), 8);
  assert_int_equal(oc_store_commit(other, &err), 0);
  assert_int_equal(stored_rows(other), 3);

  /* Inside an explicit transaction, and a (key, date) staged twice: refused, nothing of the call staged. */
  assert_int_equal(oc_store_begin(s, &err), 0);
  assert_int_equal(oc_store_observations_stage(s, staged, 1, &err), -1);
  assert_non_null(strstr(err.message, "inside a transaction"));
  assert_int_equal(oc_store_rollback(s, &err), 0);
  const oc_observation twice[] = {{1, day(2024, 2, 1), 1}, {0, day(2024, 1, 4), 9}};
  assert_int_equal(oc_store_observations_stage(s, twice, 2, &err), -1);
  assert_non_null(strstr(err.message, "staging observations"));

  int64_t latest;
  assert_int_equal(oc_store_changes_latest(s, &latest, &err), 0);
  assert_int_equal(oc_store_begin(s, &err), 0);
  const int64_t ids[] = {a, ensure(s, "B")};
  oc_upsert_counts c = {0};
  assert_int_equal(oc_store_observations_stage_move(s, ids, 2, "test", 2, &c, &err), 0);
  assert_int_equal(oc_store_commit(s, &err), 0);
  assert_int_equal(c.inserted, 2);
  assert_int_equal(c.updated, 1);
  assert_int_equal(c.unchanged, 2);
  oc_series got = load(other, "A");
  assert_int_equal(got.n, 4);
  const double want[] = {1, 5, 3, 8};
  for (size_t i = 0; i < 4; i++) assert_true(got.values[i] == want[i]);
  oc_series_free(&got);
  assert_int_equal(stored_rows(other), 5);

  /* One observations change for each series the move wrote. */
  oc_change *changes;
  size_t n;
  assert_int_equal(oc_store_changes_after(s, latest, 10, &changes, &n, &err), 0);
  size_t observation_changes = 0;
  for (size_t i = 0; i < n; i++) observation_changes += changes[i].kind == OC_CHANGE_OBSERVATIONS;
  assert_int_equal(observation_changes, 2);
  free(changes);

  /* Staged rows stay until cleared: a move of equal rows changes nothing and records no change. */
  oc_store_observations_stage_clear(s);
  const oc_observation again = {0, day(2024, 1, 4), 3};
  assert_int_equal(oc_store_observations_stage(s, &again, 1, &err), 0);
  assert_int_equal(oc_store_changes_latest(s, &latest, &err), 0);
  c = (oc_upsert_counts){0};
  assert_int_equal(oc_store_observations_stage_move(s, ids, 1, "test", 3, &c, &err), 0);
  assert_int_equal(c.unchanged, 1);
  assert_int_equal(c.inserted + c.updated, 0);
  int64_t after;
  assert_int_equal(oc_store_changes_latest(s, &after, &err), 0);
  assert_int_equal(after, latest);

  /* Keys the move has no series for: refused, nothing written. */
  oc_store_observations_stage_clear(s);
  const oc_observation orphan[] = {{0, day(2024, 3, 1), 1}, {1, day(2024, 3, 1), 1}};
  assert_int_equal(oc_store_observations_stage(s, orphan, 2, &err), 0);
  assert_int_equal(oc_store_observations_stage_move(s, ids, 1, "test", 4, &c, &err), -1);
  assert_non_null(strstr(err.message, "staged for 2 series"));
  oc_store_observations_stage_clear(s);
  assert_int_equal(stored_rows(s), 5);
  oc_store_close(other);
}

/* ---- the staged batch -------------------------------------------------------------------------- */

typedef struct rows_source {
  size_t nseries, days;      /* rows: every series on each of `days` days, day after day (long format) */
  double shift;              /* added to every value */
  size_t break_at;           /* > 0: the source fails after this many rows */
  size_t bad_at;             /* > 0: this row has a non-finite value */
  oc_store *writer;          /* non-NULL: writes one row of series writer_series through it halfway */
  int64_t writer_series;
  int writer_rc;
  oc_error writer_err;
} rows_source;

static int read_rows(void *source, oc_ingest_sink *sink, oc_error *err) {
  rows_source *r = source;
  size_t row = 0;
  for (size_t d = 0; d < r->days; d++) {
    for (size_t k = 0; k < r->nseries; k++) {
      row++;
      if (r->break_at && row > r->break_at) return oc_error_set(err, "the source broke off");
      if (r->writer && row == r->nseries * r->days / 2) {
        oc_upsert_counts c = {0};
        oc_observation o = {r->writer_series, day(2024, 1, 2), (double)d};
        r->writer_rc = oc_store_observations_upsert(r->writer, &o, 1, "test", 1, &c, &r->writer_err);
      }
      char name[16];
      snprintf(name, sizeof name, "S%zu", k);
      double value = row == r->bad_at ? INFINITY : 50 + (double)((d * 7 + k * 13) % 101) / 4 + r->shift;
      if (oc_ingest_add(sink, row, name, strlen(name), day(1990, 1, 1) + (oc_date)d, value) != 0) return -1;
    }
  }
  return 0;
}

static int run(oc_store *store, rows_source *src, bool stage, oc_ingest_report *rep, oc_error *err) {
  oc_ingest_batch_options opt = {.read = read_rows, .source = src, .source_kind = "test", .origin = "rows",
                                 .unit = "USD/bbl", .on_error = OC_ON_ERROR_ABORT, .stage = stage,
                                 .chunk_rows = 1000};
  return oc_ingest_batch(store, &opt, rep, err);
}

/* The bug it guards: an import held the write lock while it read, so no other connection could write
 * (the API answered 503 for a whole long import). */
static void test_others_write_while_a_staged_batch_reads(void **state) {
  fixture *f = *state;
  oc_store *other = second_connection(f, 0);
  oc_ingest_report rep;
  oc_error err;
  int64_t series = ensure(other, "OTHER");
  rows_source src = {.nseries = 3, .days = 100, .writer = other, .writer_series = series};
  assert_int_equal(run(f->store, &src, true, &rep, &err), 0);
  if (src.writer_rc != 0) fail_msg("a write during a staged batch: %s", src.writer_err.message);
  assert_int_equal(rep.rows_inserted, 300);
  oc_ingest_report_free(&rep);

  rows_source direct = {.nseries = 3, .days = 100, .shift = 1, .writer = other, .writer_series = series};
  assert_int_equal(run(f->store, &direct, false, &rep, &err), 0);
  assert_int_equal(direct.writer_rc, -1); /* unstaged, the batch holds the write lock as it reads */
  assert_int_equal(direct.writer_err.kind, OC_ERROR_BUSY);
  oc_ingest_report_free(&rep);
  oc_store_close(other);
}

static void test_failed_staged_batch_leaves_nothing(void **state) {
  fixture *f = *state;
  oc_ingest_report rep;
  oc_error err;
  rows_source broken = {.nseries = 2, .days = 5000, .break_at = 9000};
  assert_int_equal(run(f->store, &broken, true, &rep, &err), -1);
  assert_string_equal(err.message, "the source broke off");
  oc_ingest_report_free(&rep);
  rows_source rejected = {.nseries = 2, .days = 5000, .bad_at = 9000};
  assert_int_equal(run(f->store, &rejected, true, &rep, &err), -1);
  assert_int_equal(rep.rows_rejected, 1);
  assert_int_equal(rep.rows_inserted, 0);
  oc_ingest_report_free(&rep);
  assert_int_equal(stored_rows(f->store), 0);
  oc_series_info info;
  bool found = true;
  assert_int_equal(oc_store_series_get(f->store, "S0", &info, &found, &err), 0);
  assert_false(found);

  /* The next batch on the connection finds no staged rows of those two (S0 would get 5000 rows). */
  rows_source small = {.nseries = 1, .days = 10};
  assert_int_equal(run(f->store, &small, true, &rep, &err), 0);
  assert_int_equal(rep.rows_inserted, 10);
  assert_int_equal(stored_rows(f->store), 10);
  oc_ingest_report_free(&rep);
}

/* A staged batch and a direct one, each on its own store, report and store the same: a first import
 * of 15,000 interleaved rows (15 write chunks of 1,000, written while the next is read), then a
 * re-import with revisions. */
static void test_staged_and_direct_batches_agree(void **state) {
  fixture *f = *state;
  oc_store *direct;
  char *direct_dir = oc_test_datadir("direct", &direct);
  const double shifts[] = {0, 0.25};
  for (size_t pass = 0; pass < 2; pass++) {
    rows_source src = {.nseries = 3, .days = pass ? 6000 : 5000, .shift = shifts[pass]};
    oc_ingest_report staged_rep, direct_rep;
    oc_error err;
    if (run(f->store, &src, true, &staged_rep, &err) != 0) fail_msg("staged: %s", err.message);
    if (run(direct, &src, false, &direct_rep, &err) != 0) fail_msg("direct: %s", err.message);
    assert_int_equal(staged_rep.rows_read, direct_rep.rows_read);
    assert_int_equal(staged_rep.rows_inserted, direct_rep.rows_inserted);
    assert_int_equal(staged_rep.rows_updated, direct_rep.rows_updated);
    assert_int_equal(staged_rep.rows_unchanged, direct_rep.rows_unchanged);
    assert_int_equal(staged_rep.nseries, direct_rep.nseries);
    assert_int_equal(staged_rep.rows_inserted, pass ? 3000 : 15000);
    oc_ingest_report_free(&staged_rep);
    oc_ingest_report_free(&direct_rep);
  }
  for (size_t k = 0; k < 3; k++) {
    char name[16];
    snprintf(name, sizeof name, "S%zu", k);
    oc_series a = load(f->store, name), b = load(direct, name);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.dates, b.dates, a.n * sizeof *a.dates);
    assert_memory_equal(a.values, b.values, a.n * sizeof *a.values);
    oc_series_free(&a);
    oc_series_free(&b);
  }
  oc_store_close(direct);
  oc_test_rmtree(direct_dir);
  free(direct_dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_stage_and_move, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_others_write_while_a_staged_batch_reads, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_failed_staged_batch_leaves_nothing, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_staged_and_direct_batches_agree, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
