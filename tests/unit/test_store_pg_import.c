/* Unit tests of the PostgreSQL bulk import (observations_upsert in src/store/store_pg_series.c) through
 * store.h, on a throwaway server (tests/support/pg_fixture.h; skipped where PostgreSQL is not installed,
 * failing under CI=true): the two paths a chunk can take (rows later than every stored one COPYed
 * straight into observations; others staged and merged) give exact inserted/updated/unchanged counts
 * and bit-identical values, in one chunk mixing series of both kinds, in any row order; the series key
 * is checked once per series (no per-row foreign key in the schema, migration 20) and an unknown
 * series fails the op with nothing written (a key twice in a chunk is one row); the change feed names the series in the order they first
 * appear. The backend-independent upsert tests are in test_store.c. */
#include <libpq-fe.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/date.h"
#include "pg_fixture.h"
#include "store/store.h"

static char *template; /* the test server's stores, a schema each */

/* A store in a schema of its own, in one database of the test server. */
static oc_store *open_fresh(char **uri_out) {
  char *uri = oc_test_fresh_store_uri(template);
  oc_error err = {0};
  oc_store *s = oc_store_open(uri, &err);
  if (!s) fail_msg("open failed: %s", err.message);
  if (uri_out) *uri_out = uri;
  else free(uri);
  return s;
}

static oc_date D(const char *text) {
  oc_date d;
  assert_int_equal(oc_date_parse(text, strlen(text), &d, NULL), 0);
  return d;
}

static int64_t series(oc_store *s, const char *name) {
  int64_t id;
  oc_error err;
  if (oc_store_series_ensure(s, name, "", "", &id, &err) != 0) fail_msg("%s", err.message);
  return id;
}

static oc_upsert_counts upsert(oc_store *s, const oc_observation *obs, size_t n) {
  oc_upsert_counts c = {0};
  oc_error err;
  if (oc_store_observations_upsert(s, obs, n, "t", 1, &c, &err) != 0) fail_msg("upsert: %s", err.message);
  return c;
}

static void assert_counts(oc_upsert_counts c, int64_t inserted, int64_t updated, int64_t unchanged) {
  assert_int_equal(c.inserted, inserted);
  assert_int_equal(c.updated, updated);
  assert_int_equal(c.unchanged, unchanged);
}

/* The stored values of a series, in date order. */
static oc_series load(oc_store *s, const char *name) {
  oc_series out;
  oc_error err;
  if (oc_store_series_load(s, name, OC_DATE_INVALID, OC_DATE_INVALID, &out, &err) != 0) fail_msg("%s", err.message);
  return out;
}

/* New rows after stored ones, revisions, unchanged rows and a backfill before the first stored date,
 * series interleaved in one chunk: every count exact, every value as given. */
static void test_mixed_chunks_count_exactly(void **state) {
  (void)state;
  oc_store *s = open_fresh(NULL);
  int64_t a = series(s, "A"), b = series(s, "B");
  enum { DAYS = 50 };
  oc_date day0 = D("2001-01-01");
  oc_observation first[2 * DAYS];
  for (int i = 0; i < DAYS; i++) {
    first[2 * i] = (oc_observation){b, day0 + DAYS - 1 - i, 100.0 + i / 3.0}; /* B descending */
    first[2 * i + 1] = (oc_observation){a, day0 + i, 1.0 / (i + 1)};
  }
  assert_counts(upsert(s, first, 2 * DAYS), 2 * DAYS, 0, 0);

  /* Later days for both: nothing can exist yet. */
  oc_observation later[DAYS];
  for (int i = 0; i < DAYS; i++) later[i] = (oc_observation){i % 2 ? a : b, day0 + DAYS + i / 2, -0.5 * i};
  assert_counts(upsert(s, later, DAYS), DAYS, 0, 0);

  /* One chunk: B re-sent (3 revised), A backfilled before its first day, a new series C. */
  int64_t c_id = series(s, "C");
  oc_observation mixed[DAYS + 10 + 5];
  size_t n = 0;
  for (int i = 0; i < DAYS; i++) {
    double value = 100.0 + (DAYS - 1 - i) / 3.0;
    if (i % 20 == 0) value += 1e-9;
    mixed[n++] = (oc_observation){b, day0 + i, value};
    if (i < 10) mixed[n++] = (oc_observation){a, day0 - 1 - i, 7.0 + i};
    if (i < 5) mixed[n++] = (oc_observation){c_id, day0 + i, 3.0};
  }
  assert_counts(upsert(s, mixed, n), 15, 3, DAYS - 3);
  assert_counts(upsert(s, mixed, n), 0, 0, (int64_t)n); /* re-sent: nothing changes */

  oc_series loaded = load(s, "B");
  assert_int_equal(loaded.n, DAYS + DAYS / 2);
  for (int i = 0; i < DAYS; i++) { /* revised ones bit for bit */
    assert_true(loaded.dates[i] == day0 + i);
    assert_true(loaded.values[i] == 100.0 + (DAYS - 1 - i) / 3.0 + (i % 20 == 0 ? 1e-9 : 0));
  }
  oc_series_free(&loaded);
  loaded = load(s, "A");
  assert_int_equal(loaded.n, 10 + DAYS + DAYS / 2);
  assert_true(loaded.dates[0] == day0 - 10 && loaded.values[0] == 16.0);
  assert_true(loaded.values[10] == 1.0 && loaded.values[12] == 1.0 / 3);
  oc_series_free(&loaded);
  int64_t total;
  oc_error err;
  assert_int_equal(oc_store_observations_count(s, &total, &err), 0);
  assert_int_equal(total, 2 * DAYS + DAYS + 15);
  oc_store_close(s);
}

/* The series key is checked once per series, not by a per-row trigger: the schema has no foreign key
 * on observations, and an observation of an unknown series still fails the op (its message naming the
 * id), leaving nothing of the chunk, whichever path the chunk would have taken. */
static void test_series_key_checked_per_series(void **state) {
  (void)state;
  char *uri;
  oc_store *s = open_fresh(&uri);
  PGconn *raw = PQconnectdb(uri);
  assert_int_equal(PQstatus(raw), CONNECTION_OK);
  PGresult *r = PQexec(raw, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'observations'::regclass AND contype = 'f'");
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  assert_string_equal(PQgetvalue(r, 0, 0), "0");
  PQclear(r);
  PQfinish(raw);

  int64_t a = series(s, "A");
  oc_observation obs[] = {{a, D("2020-01-02"), 1}, {a + 7, D("2020-01-03"), 2}, {a, D("2020-01-03"), 3}};
  oc_upsert_counts c = {0};
  oc_error err;
  assert_int_equal(oc_store_observations_upsert(s, obs, 3, "t", 1, &c, &err), -1);
  assert_non_null(strstr(err.message, "FOREIGN KEY"));
  char id[32];
  snprintf(id, sizeof id, "series id %lld", (long long)(a + 7));
  assert_non_null(strstr(err.message, id));
  obs[1].series_id = a;
  obs[1].date = D("2020-01-01");
  assert_counts(upsert(s, obs, 3), 3, 0, 0);
  obs[1].series_id = a + 7; /* now on the merge path: rows of A exist */
  assert_int_equal(oc_store_observations_upsert(s, obs, 3, "t", 1, &c, &err), -1);
  assert_non_null(strstr(err.message, "FOREIGN KEY"));
  int64_t total;
  assert_int_equal(oc_store_observations_count(s, &total, &err), 0);
  assert_int_equal(total, 3);
  /* A key twice in one chunk of a new series (the batch never sends that) is one row, as it always was. */
  int64_t b = series(s, "B");
  oc_observation twice[] = {{b, D("2020-01-02"), 5}, {b, D("2020-01-02"), 5}};
  assert_counts(upsert(s, twice, 2), 1, 0, 1);
  oc_store_close(s);
  free(uri);
}

/* The change feed names a chunk's series once each, in the order they first appear in it. */
static void test_changes_name_series_in_order_of_appearance(void **state) {
  (void)state;
  oc_store *s = open_fresh(NULL);
  int64_t a = series(s, "A"), b = series(s, "B"), z = series(s, "Z");
  oc_error err;
  int64_t before;
  assert_int_equal(oc_store_changes_latest(s, &before, &err), 0);
  oc_observation obs[] = {{z, D("2020-01-02"), 1}, {a, D("2020-01-02"), 1}, {z, D("2020-01-03"), 1},
                          {b, D("2020-01-02"), 1}, {a, D("2020-01-01"), 1}};
  assert_counts(upsert(s, obs, 5), 5, 0, 0);
  oc_change *changes;
  size_t n;
  assert_int_equal(oc_store_changes_after(s, before, 10, &changes, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_string_equal(changes[0].subject, "Z");
  assert_string_equal(changes[1].subject, "A");
  assert_string_equal(changes[2].subject, "B");
  free(changes);
  oc_store_close(s);
}

int main(void) {
  template = oc_test_pg_store_template("oilcast_pg_import");
  if (!template) return 77;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mixed_chunks_count_exactly),
      cmocka_unit_test(test_series_key_checked_per_series),
      cmocka_unit_test(test_changes_name_series_in_order_of_appearance),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  free(template);
  return failed;
}
