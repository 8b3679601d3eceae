/* Unit tests for src/store through the public interface (store.h): opening, series, idempotent upserts
 * with insert/update/unchanged counts, explicit transactions and atomic ops, the ingest-run log with the
 * series each run touched (as an import records them) and its listing, and the change feed (ids that
 * grow, nothing recorded by a rollback, a wait woken by another process's commit, a wait that times
 * out). The same suite runs for every backend of the table of URI schemes (oc_store_backends()): on a
 * scratch store under a temporary directory, or for a backend with no file (a server) on
 * $OILCAST_TEST_STORE_<SCHEME>, a URI template whose "%s" becomes a fresh name per test (the backend's
 * tests are skipped when it is unset). The SQLite backend's own tests (migrations, built with raw
 * SQLite, which only tests may do) follow. */
#include "testutil.h"

#include <assert.h>
#include <ctype.h>
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/csv.h"
#include "core/fsutil.h"
#include "core/progress.h"
#include "ingest/import.h"
#include "pg_fixture.h"
#include "store/store.h"
#include "store/store_pg.h"

typedef struct fixture {
  char *dir;
  char *db; /* the SQLite database file; NULL for other backends */
  char *uri;
} fixture;

/* The backend the running group tests, and its URI template when it has no scratch file. */
static const oc_store_backend *backend_under_test;
static const char *uri_template;

static int setup(void **state) {
  fixture *f = oc_xcalloc(1, sizeof *f);
  f->dir = oc_test_tmpdir("store");
  f->uri = backend_under_test->scratch_uri ? backend_under_test->scratch_uri(f->dir)
                                           : oc_test_fresh_store_uri(uri_template);
  if (strcmp(backend_under_test->scheme, "sqlite") == 0) f->db = oc_path_join(f->dir, "oilcast.db");
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  oc_test_rmtree(f->dir);
  free(f->dir);
  free(f->db);
  free(f->uri);
  free(f);
  return 0;
}

static oc_store *open_ok(const fixture *f) {
  oc_error err = {0};
  oc_store *s = oc_store_open(f->uri, &err);
  if (!s) fail_msg("open failed: %s", err.message);
  return s;
}

static oc_date D(const char *text) {
  oc_date d;
  assert_int_equal(oc_date_parse(text, strlen(text), &d, NULL), 0);
  return d;
}

/* Runs SQL on the database file directly (to build old or broken schemas). */
static void raw_exec(const char *db, const char *sql) {
  sqlite3 *h;
  assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
  char *msg = NULL;
  if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("raw sql failed: %s", msg);
  sqlite3_close(h);
}

static int raw_int(const char *db, const char *sql) {
  sqlite3 *h;
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

/* Runs SQL on the store's database directly (to build an old schema). */
static PGconn *raw_pg_connect(const char *uri) {
  PGconn *c = PQconnectdb(uri);
  if (PQstatus(c) != CONNECTION_OK) fail_msg("raw connect failed: %s", PQerrorMessage(c));
  return c;
}

static void raw_pg_exec(const char *uri, const char *sql) {
  PGconn *c = raw_pg_connect(uri);
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) fail_msg("raw sql failed: %s", PQresultErrorMessage(r));
  PQclear(r);
  PQfinish(c);
}

static void test_open_fresh_and_reopen(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  int version = -1;
  assert_int_equal(oc_store_schema_version(s, &version, &err), 0);
  assert_int_equal(version, oc_store_latest_schema_version(backend_under_test->scheme));
  assert_string_equal(s->ops->backend, backend_under_test->scheme);
  oc_store_close(s);
  s = open_ok(f); /* reopening migrates nothing and keeps the version */
  assert_int_equal(oc_store_schema_version(s, &version, &err), 0);
  assert_int_equal(version, oc_store_latest_schema_version(backend_under_test->scheme));
  oc_store_close(s);
  if (!f->db) return;
  assert_int_equal(raw_int(f->db, "SELECT count(*) FROM schema_migrations"), version);
  assert_int_equal(raw_int(f->db, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
}

static void test_open_rejects_unknown_uris(void **state) {
  (void)state;
  oc_error err = {0};
  /* a server that does not answer: the URI (without its password) and what failed */
  assert_null(oc_store_open("postgresql://oilcast:secret@127.0.0.1:1/oilcast", &err));
  assert_non_null(strstr(err.message, "postgresql://oilcast:***@127.0.0.1:1/oilcast: connecting"));
  assert_null(strstr(err.message, "secret"));
  assert_null(oc_store_open("mysql:x", &err));
  assert_null(oc_store_open("sqlite:", &err));
  assert_non_null(strstr(err.message, "no database file"));
  assert_null(oc_store_open("sqlite:/nonexistent-dir/x/oilcast.db", &err));
  assert_non_null(strstr(err.message, "/nonexistent-dir/x/oilcast.db"));
}

static void test_series_ensure_and_list(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  int64_t wti = 0, wti2 = 0, brent = 0;
  assert_int_equal(oc_store_series_ensure(s, "WTI", "USD/bbl", "historical", &wti, &err), 0);
  assert_int_equal(oc_store_series_ensure(s, "WTI", "ignored", "ignored", &wti2, &err), 0);
  assert_int_equal(wti, wti2);
  assert_int_equal(oc_store_series_ensure(s, "BRENT", "USD/bbl", "historical", &brent, &err), 0);
  assert_int_not_equal(wti, brent);
  assert_int_equal(oc_store_series_ensure(s, "bad name", "", "", &wti2, &err), -1);
  assert_non_null(strstr(err.message, "bad name"));
  assert_int_equal(oc_store_series_ensure(s, "", "", "", &wti2, &err), -1);

  oc_observation obs[] = {{wti, D("2024-01-03"), 72.5}, {wti, D("2024-01-02"), 70.25}, {brent, D("2024-01-02"), 75}};
  oc_upsert_counts counts = {0};
  assert_int_equal(oc_store_observations_upsert(s, obs, 3, "historical", 1700000000, &counts, &err), 0);
  oc_series_info *list;
  size_t n;
  assert_int_equal(oc_store_series_list(s, &list, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(list[0].name, "BRENT"); /* ordered by name */
  assert_string_equal(list[1].name, "WTI");
  assert_string_equal(list[1].unit, "USD/bbl");
  assert_string_equal(list[1].source, "historical");
  assert_int_equal(list[1].count, 2);
  assert_int_equal(list[1].first, D("2024-01-02"));
  assert_int_equal(list[1].last, D("2024-01-03"));
  oc_series_info_list_free(list, n);

  int64_t empty_id;
  assert_int_equal(oc_store_series_ensure(s, "EMPTY", "", "", &empty_id, &err), 0);
  oc_series_info info;
  bool found;
  assert_int_equal(oc_store_series_get(s, "EMPTY", &info, &found, &err), 0);
  assert_true(found);
  assert_int_equal(info.count, 0);
  assert_int_equal(info.first, OC_DATE_INVALID);
  oc_series_info_free(&info);
  assert_int_equal(oc_store_series_get(s, "NOPE", &info, &found, &err), 0);
  assert_false(found);
  oc_store_close(s);
}

static void test_upsert_counts_and_load(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  int64_t id;
  assert_int_equal(oc_store_series_ensure(s, "WTI", "USD/bbl", "historical", &id, &err), 0);
  oc_observation obs[] = {{id, D("2020-04-17"), 18.27}, {id, D("2020-04-20"), -36.98}, {id, D("2020-04-21"), 8.91}};
  oc_upsert_counts c = {0};
  assert_int_equal(oc_store_observations_upsert(s, obs, 3, "historical", 1, &c, &err), 0);
  assert_int_equal(c.inserted, 3);
  assert_int_equal(c.updated, 0);
  /* The same batch again changes nothing. */
  c = (oc_upsert_counts){0};
  assert_int_equal(oc_store_observations_upsert(s, obs, 3, "historical", 2, &c, &err), 0);
  assert_int_equal(c.inserted, 0);
  assert_int_equal(c.updated, 0);
  assert_int_equal(c.unchanged, 3);
  if (f->db) assert_int_equal(raw_int(f->db, "SELECT count(*) FROM observations WHERE ingested_at = 2"), 0);
  /* A revision is an update; a new date an insert. */
  oc_observation revised[] = {{id, D("2020-04-21"), 8.86}, {id, D("2020-04-22"), 13.64}};
  c = (oc_upsert_counts){0};
  assert_int_equal(oc_store_observations_upsert(s, revised, 2, "revision", 3, &c, &err), 0);
  assert_int_equal(c.inserted, 1);
  assert_int_equal(c.updated, 1);
  assert_int_equal(c.unchanged, 0);

  oc_series series;
  assert_int_equal(oc_store_series_load(s, "WTI", OC_DATE_INVALID, OC_DATE_INVALID, &series, &err), 0);
  assert_int_equal(series.n, 4);
  assert_string_equal(series.name, "WTI");
  assert_int_equal(series.dates[1], D("2020-04-20"));
  assert_true(series.values[1] == -36.98);
  assert_true(series.values[2] == 8.86);
  oc_series_free(&series);
  assert_int_equal(oc_store_series_load(s, "WTI", D("2020-04-20"), D("2020-04-21"), &series, &err), 0);
  assert_int_equal(series.n, 2);
  assert_int_equal(series.dates[0], D("2020-04-20"));
  oc_series_free(&series);
  assert_int_equal(oc_store_series_load(s, "WTI", D("2021-01-01"), OC_DATE_INVALID, &series, &err), 0);
  assert_int_equal(series.n, 0);
  oc_series_free(&series);
  assert_int_equal(oc_store_series_load(s, "GOLD", OC_DATE_INVALID, OC_DATE_INVALID, &series, &err), -1);
  assert_non_null(strstr(err.message, "GOLD"));
  int64_t total;
  assert_int_equal(oc_store_observations_count(s, &total, &err), 0);
  assert_int_equal(total, 4);
  oc_store_close(s);
}

/* Large batches take the multi-row insert path: counts stay exact with inserts, updates and
 * unchanged rows mixed inside one chunk. */
static void test_upsert_large_batches(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  int64_t a, b;
  assert_int_equal(oc_store_series_ensure(s, "A", "", "", &a, &err), 0);
  assert_int_equal(oc_store_series_ensure(s, "B", "", "", &b, &err), 0);
  enum { N = 200 };
  oc_observation obs[N + 5];
  for (int i = 0; i < N; i++) obs[i] = (oc_observation){i % 2 ? a : b, D("2000-01-03") + i / 2, 50.0 + i * 0.25};
  oc_upsert_counts c = {0};
  assert_int_equal(oc_store_observations_upsert(s, obs, N, "t", 1, &c, &err), 0);
  assert_int_equal(c.inserted, N);
  assert_int_equal(c.updated + c.unchanged, 0);
  for (int i = 0; i < N; i += 20) obs[i].value += 1; /* 10 revisions spread over the chunks */
  for (int i = 0; i < 5; i++) obs[N + i] = (oc_observation){a, D("2010-01-01") + i, 1.0 + i}; /* 5 new */
  c = (oc_upsert_counts){0};
  assert_int_equal(oc_store_observations_upsert(s, obs, N + 5, "t", 2, &c, &err), 0);
  assert_int_equal(c.inserted, 5);
  assert_int_equal(c.updated, 10);
  assert_int_equal(c.unchanged, N - 10);
  int64_t total;
  assert_int_equal(oc_store_observations_count(s, &total, &err), 0);
  assert_int_equal(total, N + 5);
  oc_series series;
  assert_int_equal(oc_store_series_load(s, "B", OC_DATE_INVALID, OC_DATE_INVALID, &series, &err), 0);
  assert_int_equal(series.n, N / 2);
  assert_true(series.values[0] == 51.0);  /* obs[0] revised */
  assert_true(series.values[1] == 50.5);  /* obs[2] unchanged */
  oc_series_free(&series);
  /* A bad row inside a chunk fails the whole batch and writes nothing of it. */
  obs[70].series_id = b + 1000;
  c = (oc_upsert_counts){0};
  for (int i = 0; i < N; i++) obs[i].date += 5000;
  assert_int_equal(oc_store_observations_upsert(s, obs, N, "t", 3, &c, &err), -1);
  assert_int_equal(oc_store_observations_count(s, &total, &err), 0);
  assert_int_equal(total, N + 5);
  oc_store_close(s);
}

static void test_transactions_and_atomic_ops(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  int64_t id, total;
  assert_int_equal(oc_store_series_ensure(s, "WTI", "", "", &id, &err), 0);
  oc_observation obs[] = {{id, D("2024-01-02"), 70}, {id, D("2024-01-03"), 71}};
  oc_upsert_counts c = {0};

  /* Rolled back: nothing stays. */
  assert_int_equal(oc_store_begin(s, &err), 0);
  assert_int_equal(oc_store_begin(s, &err), -1); /* no nesting */
  assert_int_equal(oc_store_observations_upsert(s, obs, 2, "t", 1, &c, &err), 0);
  assert_int_equal(oc_store_rollback(s, &err), 0);
  assert_int_equal(oc_store_observations_count(s, &total, &err), 0);
  assert_int_equal(total, 0);

  /* A failing op outside a transaction writes nothing (the unknown series breaks the foreign key). */
  oc_observation mixed[] = {{id, D("2024-01-02"), 70}, {id + 100, D("2024-01-03"), 71}};
  assert_int_equal(oc_store_observations_upsert(s, mixed, 2, "t", 1, &c, &err), -1);
  assert_non_null(strstr(err.message, "FOREIGN KEY"));
  assert_int_equal(oc_store_observations_count(s, &total, &err), 0);
  assert_int_equal(total, 0);

  /* Inside a transaction, a failing op is undone alone and the transaction carries on. */
  assert_int_equal(oc_store_begin(s, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, obs, 1, "t", 1, &c, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, mixed, 2, "t", 1, &c, &err), -1);
  assert_int_equal(oc_store_commit(s, &err), 0);
  assert_int_equal(oc_store_observations_count(s, &total, &err), 0 /* rc */);
  assert_int_equal(total, 1);
  assert_int_equal(oc_store_commit(s, &err), -1); /* nothing open */
  assert_int_equal(oc_store_rollback(s, &err), -1);

  /* A second connection does not see uncommitted rows (WAL readers see the last commit). */
  assert_int_equal(oc_store_begin(s, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, obs, 2, "t", 1, &c, &err), 0);
  oc_store *reader = open_ok(f);
  assert_int_equal(oc_store_observations_count(reader, &total, &err), 0);
  assert_int_equal(total, 1);
  oc_store_close(s); /* closing with an open transaction rolls it back */
  assert_int_equal(oc_store_observations_count(reader, &total, &err), 0);
  assert_int_equal(total, 1);
  oc_store_close(reader);
}

/* A store of f with the series A and B (ids *a and *b). */
static oc_store *open_with_two_series(const fixture *f, int64_t *a, int64_t *b) {
  oc_error err;
  oc_store *s = open_ok(f);
  assert_int_equal(oc_store_series_ensure(s, "A", "", "", a, &err), 0);
  assert_int_equal(oc_store_series_ensure(s, "B", "", "", b, &err), 0);
  return s;
}

/* n rows of two series, interleaved, on consecutive days from first (the shape of a long-format
 * import chunk). */
static oc_observation *two_series_rows(int64_t a, int64_t b, oc_date first, size_t n, double base) {
  oc_observation *obs = oc_xcalloc(n, sizeof *obs);
  for (size_t i = 0; i < n; i++) obs[i] = (oc_observation){i % 2 ? b : a, first + (oc_date)(i / 2), base + (double)i};
  return obs;
}

/* An import of large chunks in one transaction into an empty store (the PostgreSQL backend loads it
 * without the table's key, built at commit): appended chunks, a failing one undone alone, a revision
 * of loaded rows and a new series after it, all counted as always; the key is there afterwards. */
static void test_bulk_load_in_a_transaction(void **state) {
  fixture *f = *state;
  oc_error err;
  int64_t a, b, c3, total;
  oc_store *s = open_with_two_series(f, &a, &b);
  enum { N = 40000 };
  const oc_date d0 = D("1900-01-01");
  oc_observation *first = two_series_rows(a, b, d0, N, 0), *second = two_series_rows(a, b, d0 + N / 2, N, N);
  oc_upsert_counts c = {0};
  assert_int_equal(oc_store_begin(s, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, first, N, "t", 1, &c, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, second, N, "t", 1, &c, &err), 0);
  assert_int_equal(c.inserted, 2 * N);
  /* a chunk naming an unknown series fails alone */
  oc_observation stray[] = {{a, d0 + N, 1}, {b + 100, d0 + N, 2}};
  assert_int_equal(oc_store_observations_upsert(s, stray, 2, "t", 1, &c, &err), -1);
  assert_non_null(strstr(err.message, "FOREIGN KEY"));
  /* revisions of loaded days (one unchanged) and new days */
  oc_observation revised[] = {{a, d0, -1}, {b, d0 + 7, -2}, {a, d0 + N / 2 - 1, -3}, {b, d0, 1}, {a, d0 + N, 5},
                              {b, d0 + N, 6}};
  c = (oc_upsert_counts){0};
  assert_int_equal(oc_store_observations_upsert(s, revised, 6, "t", 2, &c, &err), 0);
  assert_int_equal(c.inserted, 2);
  assert_int_equal(c.updated, 3);
  assert_int_equal(c.unchanged, 1);
  /* a large chunk after them, with a series the load had not seen */
  assert_int_equal(oc_store_series_ensure(s, "C", "", "", &c3, &err), 0);
  oc_observation *third = two_series_rows(a, c3, d0 + N + 1, N, 2 * N);
  c = (oc_upsert_counts){0};
  assert_int_equal(oc_store_observations_upsert(s, third, N, "t", 3, &c, &err), 0);
  assert_int_equal(c.inserted, N);
  assert_int_equal(oc_store_commit(s, &err), 0);
  assert_int_equal(oc_store_observations_count(s, &total, &err), 0);
  assert_int_equal(total, 3 * N + 2);
  oc_series series;
  assert_int_equal(oc_store_series_load(s, "A", OC_DATE_INVALID, OC_DATE_INVALID, &series, &err), 0);
  assert_int_equal(series.n, N + 1 + N / 2);
  assert_true(series.values[0] == -1 && series.values[N / 2 - 1] == -3 && series.values[N] == 5);
  assert_true(series.values[1] == 2 && series.values[N + 1] == 2 * N);
  oc_series_free(&series);
  /* the key holds: the same chunk again changes nothing and adds nothing */
  c = (oc_upsert_counts){0};
  assert_int_equal(oc_store_observations_upsert(s, second, N, "t", 4, &c, &err), 0);
  assert_int_equal(c.unchanged, N);
  assert_int_equal(oc_store_observations_count(s, &total, &err), 0);
  assert_int_equal(total, 3 * N + 2);
  free(first);
  free(second);
  free(third);
  oc_store_close(s);
}

/* A bulk load rolled back, or left open when the store closes, leaves an empty table with its key. */
static void test_bulk_load_rolled_back(void **state) {
  fixture *f = *state;
  oc_error err;
  int64_t a, b, total;
  oc_store *s = open_with_two_series(f, &a, &b);
  enum { N = 40000 };
  oc_observation *rows = two_series_rows(a, b, D("1900-01-01"), N, 0);
  oc_upsert_counts c = {0};
  assert_int_equal(oc_store_begin(s, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, rows, N, "t", 1, &c, &err), 0);
  assert_int_equal(oc_store_rollback(s, &err), 0);
  assert_int_equal(oc_store_begin(s, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, rows, N, "t", 1, &c, &err), 0);
  oc_store_close(s);
  s = open_ok(f);
  assert_int_equal(oc_store_observations_count(s, &total, &err), 0);
  assert_int_equal(total, 0);
  c = (oc_upsert_counts){0};
  assert_int_equal(oc_store_observations_upsert(s, rows, 10, "t", 2, &c, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, rows, 10, "t", 2, &c, &err), 0);
  assert_int_equal(c.inserted, 10);
  assert_int_equal(c.unchanged, 10);
  free(rows);
  oc_store_close(s);
}

static void test_ingest_run_record(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  oc_ingest_run run = {.source_kind = "historical", .path = "wti.csv", .raw_path = "raw/x.csv",
                       .sha256 = "abc", .status = "ok", .rows_read = 10, .rows_inserted = 9, .rows_rejected = 1,
                       .negative_values = 1, .started_at = 5, .finished_at = 6};
  assert_int_equal(oc_store_ingest_run_record(s, &run, &err), 0);
  assert_true(run.id > 0);
  int64_t first = run.id;
  assert_int_equal(oc_store_ingest_run_record(s, &run, &err), 0);
  assert_int_equal(run.id, first + 1);
  oc_store_close(s);
  if (f->db) assert_int_equal(raw_int(f->db, "SELECT sum(rows_inserted) FROM ingest_runs WHERE status = 'ok'"), 18);
}

/* Version 1 as it shipped: series + observations, no ingest_runs. */
static const char schema_v1[] =
    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, summary TEXT NOT NULL, applied_at INTEGER "
    "NOT NULL);"
    "INSERT INTO schema_migrations VALUES (1, 'series and observations', 0);"
    "CREATE TABLE series (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, unit TEXT NOT NULL DEFAULT '',"
    " source TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL);"
    "CREATE TABLE observations (series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,"
    " date TEXT NOT NULL CHECK (length(date) = 10), value REAL NOT NULL, source TEXT NOT NULL DEFAULT '',"
    " ingested_at INTEGER NOT NULL, PRIMARY KEY (series_id, date)) WITHOUT ROWID;"
    "INSERT INTO series VALUES (1, 'WTI', 'USD/bbl', 'historical', 0);"
    "INSERT INTO observations VALUES (1, '2020-04-20', -36.98, 'historical', 0);";

static void test_migrates_old_schema_keeping_data(void **state) {
  fixture *f = *state;
  oc_error err;
  raw_exec(f->db, schema_v1);
  oc_store *s = open_ok(f);
  int version;
  assert_int_equal(oc_store_schema_version(s, &version, &err), 0);
  assert_int_equal(version, oc_store_latest_schema_version("sqlite"));
  assert_true(version >= 2);
  oc_series series;
  assert_int_equal(oc_store_series_load(s, "WTI", OC_DATE_INVALID, OC_DATE_INVALID, &series, &err), 0);
  assert_int_equal(series.n, 1);
  assert_true(series.values[0] == -36.98);
  oc_series_free(&series);
  oc_ingest_run run = {.source_kind = "historical", .path = "p", .sha256 = "s", .status = "ok"};
  assert_int_equal(oc_store_ingest_run_record(s, &run, &err), 0);
  oc_store_close(s);
}

/* The forecast record keeps the price it started from; forecasts stored before migration 11 read back
 * with an unknown (NAN) one. */
static void test_forecast_origin_price(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  oc_forecast_record rec = {.series = "WTI", .origin = D("2024-01-04"), .history = "stored", .model_version = "naive",
                            .created_at = 10, .origin_price = 70.87, .n_points = 1};
  rec.points[0] = (oc_stored_forecast_point){D("2024-01-05"), 70.87, 69, 72, 68, 73};
  assert_int_equal(oc_store_forecast_save(s, &rec, &err), 0);
  oc_forecast_record got;
  bool found = false;
  assert_int_equal(oc_store_forecast_latest(s, "WTI", &got, &found, &err), 0);
  assert_true(found);
  assert_true(got.origin_price == 70.87);
  oc_store_close(s);
  /* Back to schema 10 with one forecast as it stored them, then reopened: migrated, price unknown. */
  raw_exec(f->db, "ALTER TABLE forecasts DROP COLUMN origin_price; ALTER TABLE series DROP COLUMN provider;"
                  "ALTER TABLE series DROP COLUMN provider_id; ALTER TABLE endpoints DROP COLUMN config;"
                  "ALTER TABLE series DROP COLUMN price_min; ALTER TABLE series DROP COLUMN price_max;"
                  "DROP TABLE alert_events; DROP TABLE alerts;"
                  "DROP TABLE devices; DROP TABLE promotion_decisions; DROP TABLE endpoint_challengers;"
                  "DROP TABLE sensor_readings; DROP TABLE sensor_dead_letters; DROP TABLE sensor_watermarks;"
                  "DROP TABLE sensor_windows; DROP TABLE sensor_anomalies; DROP TABLE sensor_last_readings;"
                  "DELETE FROM schema_migrations WHERE version >= 11;"
                  "UPDATE forecasts SET created_at = 5");
  raw_exec(f->db, "INSERT INTO forecasts(series, origin, horizon, model_version, history, created_at)"
                  " VALUES ('WTI', '2024-01-05', 1, 'drift', 'stored', 20);"
                  "INSERT INTO forecast_points VALUES (last_insert_rowid(), 1, '2024-01-08', 71, 70, 72, 69, 73)");
  s = open_ok(f);
  assert_int_equal(oc_store_forecast_latest(s, "WTI", &got, &found, &err), 0);
  assert_true(found);
  assert_string_equal(got.model_version, "drift");
  assert_true(isnan(got.origin_price));
  assert_int_equal(got.n_points, 1);
  oc_store_close(s);
}

static void test_failed_migration_rolls_back(void **state) {
  fixture *f = *state;
  raw_exec(f->db, schema_v1);
  /* Something in the way of migration 2: it must fail whole, leaving version 1 and the data. */
  raw_exec(f->db, "CREATE TABLE ingest_runs (x INTEGER)");
  oc_error err = {0};
  assert_null(oc_store_open(f->uri, &err));
  assert_non_null(strstr(err.message, "migration 2"));
  assert_non_null(strstr(err.message, "version 1"));
  assert_int_equal(raw_int(f->db, "SELECT max(version) FROM schema_migrations"), 1);
  assert_int_equal(raw_int(f->db, "SELECT count(*) FROM observations"), 1);
}

static void test_rejects_newer_schema(void **state) {
  fixture *f = *state;
  oc_store *s = open_ok(f);
  oc_store_close(s);
  raw_exec(f->db, "INSERT INTO schema_migrations VALUES (9999, 'from the future', 0)");
  oc_error err = {0};
  assert_null(oc_store_open(f->uri, &err));
  assert_non_null(strstr(err.message, "9999"));
  assert_non_null(strstr(err.message, "newer"));
}

static void test_series_name_rules(void **state) {
  (void)state;
  const char *reason = NULL;
  assert_int_equal(oc_series_name_check("WTI", 3, &reason), 0);
  assert_int_equal(oc_series_name_check("WTI-SIM_2.a", 11, &reason), 0);
  assert_int_equal(oc_series_name_check("a/b", 3, &reason), -1);
  assert_non_null(reason);
  char longname[80];
  memset(longname, 'x', sizeof longname);
  assert_int_equal(oc_series_name_check(longname, OC_SERIES_NAME_MAX, &reason), 0);
  assert_int_equal(oc_series_name_check(longname, OC_SERIES_NAME_MAX + 1, &reason), -1);
}

static int64_t record(oc_store *s, const char *status, int64_t inserted, const oc_ingest_run_series *series,
                      size_t nseries) {
  oc_ingest_run run = {.source_kind = "historical", .path = "p.csv", .sha256 = "abc", .status = status,
                       .rows_inserted = inserted, .rows_updated = 1, .nseries = nseries, .series = series};
  oc_error err;
  if (oc_store_ingest_run_record(s, &run, &err) != 0) fail_msg("record: %s", err.message);
  return run.id;
}

static void expect_no_ingest_runs(oc_store *s) {
  oc_ingest_run_info *runs = NULL;
  size_t n = 0;
  int64_t newest = -1;
  oc_error err;
  assert_int_equal(oc_store_ingest_runs_after(s, 0, 10, 4, &runs, &n, &newest, &err), 0);
  assert_int_equal(n, 0);
  assert_int_equal(newest, 0);
}

static void test_ingest_runs_after(void **state) {
  fixture *f = *state;
  oc_store *s = open_ok(f);
  expect_no_ingest_runs(s);
  oc_error err;
  oc_ingest_run_info *runs = NULL;
  size_t n = 0;
  int64_t newest = -1;
  oc_ingest_run_series two[] = {{.name = "WTI", .rows = 3, .last_date = D("2025-01-03"), .last_value = 71.5},
                                {.name = "BRENT", .rows = 2, .last_date = D("2025-01-02"), .last_value = 75.25}};
  int64_t first = record(s, "ok", 5, two, 2);
  int64_t second = record(s, "rejected", 0, NULL, 0);
  int64_t third = record(s, "ok", 1, two, 1);

  assert_int_equal(oc_store_ingest_runs_after(s, 0, 0, 4, &runs, &n, &newest, &err), 0);
  assert_int_equal(n, 0);
  assert_int_equal(newest, third);

  assert_int_equal(oc_store_ingest_runs_after(s, 0, 10, 4, &runs, &n, &newest, &err), 0);
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
  assert_int_equal(oc_store_ingest_runs_after(s, first - 1, 1, 1, &runs, &n, &newest, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(runs[0].id, first);
  assert_int_equal(runs[0].nseries, 2);
  assert_int_equal(runs[0].listed, 1);
  assert_string_equal(runs[0].series[0].name, "BRENT");
  oc_ingest_run_info_list_free(runs, n);
  assert_int_equal(oc_store_ingest_runs_after(s, third, 10, 4, &runs, &n, &newest, &err), 0);
  assert_int_equal(n, 0);
  oc_store_close(s);
}

static void test_ingest_run_series_failure_leaves_nothing(void **state) {
  fixture *f = *state;
  oc_store *s = open_ok(f);
  oc_error err;
  oc_ingest_run_series twice[] = {{.name = "WTI", .rows = 1, .last_date = D("2025-01-03"), .last_value = 1},
                                  {.name = "WTI", .rows = 1, .last_date = D("2025-01-03"), .last_value = 1}};
  oc_ingest_run run = {.source_kind = "historical", .path = "p", .sha256 = "s", .status = "ok", .nseries = 2,
                       .series = twice};
  assert_int_equal(oc_store_ingest_run_record(s, &run, &err), -1);
  assert_non_null(strstr(err.message, "series of an ingest run"));
  expect_no_ingest_runs(s);
  oc_store_close(s);
}

static void test_import_records_its_series(void **state) {
  fixture *f = *state;
  oc_store *s = open_ok(f);
  char *csv = oc_test_write_file(f->dir, "long.csv",
                                 "date,series,value\n"
                                 "2025-01-03,WTI,72.5\n2025-01-02,WTI,71.25\n2025-01-02,BRENT,75\n");
  oc_import_options opt;
  oc_import_options_init(&opt);
  opt.path = csv;
  opt.series_col = "series";
  oc_import_report rep;
  oc_error err;
  if (oc_import_file(s, &opt, &rep, &err) != 0) fail_msg("import: %s", err.message);
  oc_ingest_run_info *runs = NULL;
  size_t n = 0;
  int64_t newest = -1;
  assert_int_equal(oc_store_ingest_runs_after(s, 0, 10, 8, &runs, &n, &newest, &err), 0);
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
  oc_store_close(s);
}

/* ---- the change feed ---------------------------------------------------------------------------- */

static int64_t latest_change(oc_store *s) {
  oc_error err;
  int64_t id = -1;
  if (oc_store_changes_latest(s, &id, &err) != 0) fail_msg("%s", err.message);
  return id;
}

/* The changes after after_id as "kind:subject" lines, checking that ids grow. */
static char *changes_text(oc_store *s, int64_t after_id) {
  oc_change *changes = NULL;
  size_t n = 0;
  oc_error err;
  if (oc_store_changes_after(s, after_id, 1000, &changes, &n, &err) != 0) fail_msg("%s", err.message);
  oc_buf text = {0};
  oc_buf_puts(&text, "");
  for (size_t i = 0; i < n; i++) {
    assert_true(changes[i].id > (i ? changes[i - 1].id : after_id));
    assert_true(changes[i].at > 0);
    oc_buf_printf(&text, "%s:%s\n", oc_change_kind_name(changes[i].kind), changes[i].subject);
  }
  free(changes);
  return oc_buf_steal(&text);
}

static void expect_changes(oc_store *s, int64_t after_id, const char *want) {
  char *got = changes_text(s, after_id);
  assert_string_equal(got, want);
  free(got);
}

static void test_changes_name_each_write_once(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  assert_int_equal(latest_change(s), 0);
  int64_t wti, brent;
  assert_int_equal(oc_store_series_ensure(s, "WTI", "", "", &wti, &err), 0);
  assert_int_equal(oc_store_series_ensure(s, "BRENT", "", "", &brent, &err), 0);
  expect_changes(s, 0, ""); /* a series without observations is no news */

  /* One transaction, several batches: one change per series, in the order first written. */
  oc_observation first[] = {{wti, D("2024-01-02"), 70}, {brent, D("2024-01-02"), 75}, {wti, D("2024-01-03"), 71}};
  oc_observation second[] = {{wti, D("2024-01-04"), 72}};
  oc_upsert_counts c = {0};
  assert_int_equal(oc_store_begin(s, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, first, 3, "t", 1, &c, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, second, 1, "t", 1, &c, &err), 0);
  oc_ingest_run run = {.source_kind = "historical", .path = "p", .sha256 = "s", .status = "ok"};
  assert_int_equal(oc_store_ingest_run_record(s, &run, &err), 0);
  assert_int_equal(oc_store_commit(s, &err), 0);
  char want[256];
  snprintf(want, sizeof want, "observations:WTI\nobservations:BRENT\ningest_run:%lld\n", (long long)run.id);
  expect_changes(s, 0, want);
  int64_t mark = latest_change(s);
  assert_int_equal(mark, 3);

  /* The next transaction names WTI again; an upsert that changes nothing names nothing. */
  assert_int_equal(oc_store_observations_upsert(s, second, 1, "t", 2, &c, &err), 0);
  expect_changes(s, mark, "");
  second[0].value = 73;
  assert_int_equal(oc_store_observations_upsert(s, second, 1, "t", 2, &c, &err), 0);
  expect_changes(s, mark, "observations:WTI\n");
  mark = latest_change(s);

  /* Every other kind of write. */
  oc_api_key_row key = {.id = "abcdef012345", .name = "k", .scope = "read",
                        .hash = "0000000000000000000000000000000000000000000000000000000000000000"};
  assert_int_equal(oc_store_api_key_insert(s, &key, &err), 0);
  bool found;
  assert_int_equal(oc_store_api_key_revoke(s, "k", 5, &found, &err), 0);
  assert_int_equal(oc_store_api_key_revoke(s, "k", 6, &found, &err), 0); /* already revoked: no change */
  oc_model_version v = {.version = 1, .kind = "naive", .series = "WTI", .path = "models/artifacts/v1",
                        .card_sha256 = "1111111111111111111111111111111111111111111111111111111111111111"};
  assert_int_equal(oc_store_model_version_register(s, &v, &err), 0);
  assert_int_equal(oc_store_endpoint_set(s, "oil", &(oc_endpoint_variant){1, 1.0}, 1, 7, &err), 0);
  oc_backtest_record bt = {.series = "WTI", .start = D("2024-01-02"), .end = D("2024-01-04"), .horizon = 1,
                           .models = "naive", .created_at = 8, .result_json = "{}"};
  assert_int_equal(oc_store_backtest_save(s, &bt, &err), 0);
  oc_forecast_record fc = {.series = "WTI", .origin = D("2024-01-04"), .history = "stored", .n_points = 1};
  assert_int_equal(oc_store_forecast_save(s, &fc, &err), 0);
  assert_int_equal(oc_store_change_note(s, OC_CHANGE_ENDPOINT, "spec-only", &err), 0);
  expect_changes(s, mark,
                 "api_key:abcdef012345\napi_key:k\nmodel:v1\nendpoint:oil\nbacktest:WTI\nforecast:WTI\n"
                 "endpoint:spec-only\n");

  /* Reading is bounded and resumes from any id. */
  oc_change *page = NULL;
  size_t n = 0;
  assert_int_equal(oc_store_changes_after(s, 0, 2, &page, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_int_equal(page[0].kind, OC_CHANGE_OBSERVATIONS);
  assert_string_equal(page[1].subject, "BRENT");
  free(page);
  assert_int_equal(oc_store_changes_after(s, latest_change(s), 10, &page, &n, &err), 0);
  assert_int_equal(n, 0);
  free(page);
  oc_store_close(s);
}

static void test_changes_rolled_back_are_not_recorded(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  int64_t wti;
  assert_int_equal(oc_store_series_ensure(s, "WTI", "", "", &wti, &err), 0);
  oc_observation obs[] = {{wti, D("2024-01-02"), 70}};
  oc_upsert_counts c = {0};
  /* A rolled-back import (its observations and its run) leaves no change... */
  assert_int_equal(oc_store_begin(s, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, obs, 1, "t", 1, &c, &err), 0);
  oc_ingest_run run = {.source_kind = "historical", .path = "p", .sha256 = "s", .status = "ok"};
  assert_int_equal(oc_store_ingest_run_record(s, &run, &err), 0);
  assert_int_equal(oc_store_rollback(s, &err), 0);
  assert_int_equal(latest_change(s), 0);
  /* ...and the same write committed afterwards is recorded (the rollback forgot what it had named). */
  assert_int_equal(oc_store_begin(s, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, obs, 1, "t", 1, &c, &err), 0);
  assert_int_equal(oc_store_commit(s, &err), 0);
  expect_changes(s, 0, "observations:WTI\n");
  /* A failing op leaves no change either, alone or inside a transaction. */
  oc_observation bad[] = {{wti, D("2024-01-03"), 70}, {wti + 100, D("2024-01-03"), 71}};
  int64_t mark = latest_change(s);
  assert_int_equal(oc_store_observations_upsert(s, bad, 2, "t", 1, &c, &err), -1);
  assert_int_equal(oc_store_begin(s, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, bad, 2, "t", 1, &c, &err), -1);
  assert_int_equal(oc_store_commit(s, &err), 0);
  assert_int_equal(oc_store_model_version_register(s, &(oc_model_version){.version = -1}, &err), -1);
  assert_int_equal(latest_change(s), mark);
  oc_store_close(s);
}

static void test_changes_wait_times_out(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f), *reader = open_ok(f);
  int64_t latest = -1, id;
  double start = oc_monotonic_seconds();
  assert_int_equal(oc_store_series_ensure(reader, "WTI", "", "", &id, &err), 0); /* a write with no change */
  assert_int_equal(oc_store_changes_wait(s, 0, 0.3, &latest, &err), 0);
  double waited = oc_monotonic_seconds() - start;
  assert_int_equal(latest, 0);
  assert_true(waited >= 0.29 && waited < 3.0);
  oc_store_close(reader);
  oc_store_close(s);
}

/* Another process commits one change after delay seconds, through its own connection. */
static pid_t commit_later(const char *uri, double delay) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid > 0) return pid;
  usleep((useconds_t)(delay * 1e6));
  oc_error err;
  oc_store *s = oc_store_open(uri, &err);
  int rc = s && oc_store_change_note(s, OC_CHANGE_API_KEY, "from-another-process", &err) == 0 ? 0 : 1;
  if (rc) fprintf(stderr, "child: %s\n", err.message);
  oc_store_close(s);
  _exit(rc);
}

static void test_changes_wait_wakes_on_another_process_commit(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  int64_t latest = -1;
  double start = oc_monotonic_seconds();
  pid_t child = commit_later(f->uri, 0.2);
  assert_int_equal(oc_store_changes_wait(s, 0, 20.0, &latest, &err), 0);
  double waited = oc_monotonic_seconds() - start;
  int status;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(latest, 1);
  expect_changes(s, 0, "api_key:from-another-process\n");
  print_message("      %s: a commit 0.2 s after the wait began woke it after %.3f s\n", backend_under_test->scheme,
                waited);
  assert_true(waited < 1.0);
  /* News already there: the wait returns at once. */
  assert_int_equal(oc_store_changes_wait(s, 0, 20.0, &latest, &err), 0);
  assert_int_equal(latest, 1);
  oc_store_close(s);
}

static void *interrupt_later(void *store) {
  usleep(200000);
  oc_store_changes_interrupt(store);
  return NULL;
}

static void test_changes_wait_interrupted_from_another_thread(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  pthread_t thread;
  pthread_create(&thread, NULL, interrupt_later, s);
  int64_t latest = -1;
  double start = oc_monotonic_seconds();
  assert_int_equal(oc_store_changes_wait(s, 0, 20.0, &latest, &err), 0);
  assert_true(oc_monotonic_seconds() - start < 5.0);
  assert_int_equal(latest, 0);
  pthread_join(thread, NULL);
  start = oc_monotonic_seconds(); /* and every later wait on the connection returns at once */
  assert_int_equal(oc_store_changes_wait(s, 0, 20.0, &latest, &err), 0);
  assert_true(oc_monotonic_seconds() - start < 1.0);
  oc_store_close(s);
}

static void count_wait_report(void *ctx, double waited) {
  (void)waited;
  ++*(int *)ctx;
}

static void *release_lock_later(void *store) {
  usleep(300000);
  oc_error err;
  assert_int_equal(oc_store_commit(store, &err), 0);
  return NULL;
}

/* One connection holds the write lock: another (here: of the same thread, so it cannot queue behind it
 * in the process) reads at once, and a writer follows its wait policy:
 * fails at once (kind busy, a message a user can act on), fails after its time with reports on the
 * way, or waits for as long as it takes and then writes. */
static void test_writer_waits_by_policy_and_readers_never_wait(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *holder = open_ok(f), *other = open_ok(f);
  int64_t id;
  assert_int_equal(oc_store_series_ensure(holder, "WTI", "USD/bbl", "historical", &id, &err), 0);
  assert_int_equal(oc_store_begin(holder, &err), 0);
  assert_int_equal(oc_store_series_ensure(holder, "BRENT", "USD/bbl", "historical", &id, &err), 0);

  oc_store_set_wait(other, &(oc_store_wait){.max_seconds = 0, .report_every = 1});
  double start = oc_monotonic_seconds();
  oc_series_info *list = NULL;
  size_t n = 0;
  assert_int_equal(oc_store_series_list(other, &list, &n, &err), 0); /* the reader: no wait, last commit */
  assert_int_equal(n, 1);
  oc_series_info_list_free(list, n);
  assert_int_equal(oc_store_series_ensure(other, "DUBAI", "USD/bbl", "historical", &id, &err), -1);
  assert_true(oc_monotonic_seconds() - start < 0.5);
  assert_int_equal(err.kind, OC_ERROR_BUSY);
  assert_non_null(strstr(err.message, "another connection or process is writing"));

  int reports = 0;
  oc_store_set_wait(other, &(oc_store_wait){.max_seconds = 0.3, .report_every = 0.05, .waiting = count_wait_report,
                                            .ctx = &reports});
  start = oc_monotonic_seconds();
  assert_int_equal(oc_store_series_ensure(other, "DUBAI", "USD/bbl", "historical", &id, &err), -1);
  assert_true(oc_monotonic_seconds() - start >= 0.29);
  assert_int_equal(err.kind, OC_ERROR_BUSY);
  assert_true(reports >= 2);

  oc_store_set_wait(other, &(oc_store_wait){.max_seconds = -1, .report_every = 0.05});
  pthread_t thread;
  pthread_create(&thread, NULL, release_lock_later, holder);
  assert_int_equal(oc_store_series_ensure(other, "DUBAI", "USD/bbl", "historical", &id, &err), 0);
  pthread_join(thread, NULL);
  assert_int_equal(oc_store_series_list(other, &list, &n, &err), 0);
  assert_int_equal(n, 3);
  oc_series_info_list_free(list, n);
  oc_store_close(other);
  oc_store_close(holder);
}

typedef struct writer_thread {
  oc_store *store;
  int rc;
  oc_error err;
} writer_thread;

static void *write_one_series(void *arg) {
  writer_thread *w = arg;
  int64_t id;
  w->rc = oc_store_series_ensure(w->store, "QUEUED", "USD/bbl", "historical", &id, &w->err);
  return NULL;
}

/* Writers of one process queue behind each other, whatever their wait policy: a server's workers never
 * answer "busy" to each other, only to another process's writer. */
static void test_writers_of_one_process_queue(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *holder = open_ok(f);
  writer_thread w = {.store = open_ok(f)};
  oc_store_set_wait(w.store, &(oc_store_wait){.max_seconds = 0, .report_every = 1});
  assert_int_equal(oc_store_begin(holder, &err), 0);
  int64_t id;
  assert_int_equal(oc_store_series_ensure(holder, "FIRST", "USD/bbl", "historical", &id, &err), 0);
  pthread_t thread;
  pthread_create(&thread, NULL, write_one_series, &w);
  usleep(300000);
  assert_int_equal(oc_store_commit(holder, &err), 0);
  pthread_join(thread, NULL);
  if (w.rc != 0) fail_msg("the queued writer failed: %s", w.err.message);
  oc_series_info *list = NULL;
  size_t n = 0;
  assert_int_equal(oc_store_series_list(holder, &list, &n, &err), 0);
  assert_int_equal(n, 2);
  oc_series_info_list_free(list, n);
  oc_store_close(w.store);
  oc_store_close(holder);
}

/* After migration 22 over the dead letters (id, received_ms, topic, bytes) 1 5 a {0, 2 6 b {0,
 * 3 9 a {0, 4 7 a {1, 5 8 a {0: the three copies of a {0 are its first row, seen 3 times, from 5 to
 * 9; the key holds for the next copy. */
static void assert_dead_letters_merged(const fixture *f) {
  oc_store *s = open_ok(f);
  oc_dead_letter *dls = NULL;
  size_t n = 0;
  oc_error err;
  assert_int_equal(oc_store_dead_letters_list(s, 10, &dls, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_true(dls[2].id == 1 && dls[2].seen == 3 && dls[2].received_ms == 5 && dls[2].last_received_ms == 9);
  assert_true(dls[1].id == 2 && dls[1].seen == 1 && dls[1].last_received_ms == 6);
  assert_true(dls[0].id == 4 && dls[0].seen == 1);
  oc_dead_letter again = dls[2];
  again.received_ms = 10;
  assert_int_equal(oc_store_dead_letter_insert(s, &again, &err), 0);
  assert_true(again.id == 1 && again.seen == 4);
  oc_dead_letter_list_free(dls, n);
  oc_store_close(s);
}

/* Migration 22 merges the dead letters stored twice before it (a redelivery then made a second row)
 * into their first row, counting them, and keys the table so that none is stored twice again: on the
 * store at f (SQL run by raw on where; blob0 and blob1: the bytes {0 and {1 as the dialect writes
 * them), taken back to schema 21 with those rows. */
static void migrate_duplicated_dead_letters(const fixture *f, void (*raw)(const char *where, const char *sql),
                                            const char *where, const char *blob0, const char *blob1) {
  oc_store_close(open_ok(f));
  oc_buf sql = {0};
  oc_buf_printf(&sql,
                "DROP INDEX sensor_dead_letters_key;"
                "ALTER TABLE sensor_dead_letters DROP COLUMN seen;"
                "ALTER TABLE sensor_dead_letters DROP COLUMN last_received_ms;"
                "DELETE FROM schema_migrations WHERE version >= 22;"
                "INSERT INTO sensor_dead_letters(id, received_ms, topic, reason, raw) VALUES"
                " (1, 5, 'a', 'not JSON', %s), (2, 6, 'b', 'not JSON', %s), (3, 9, 'a', 'not JSON', %s),"
                " (4, 7, 'a', 'not JSON', %s), (5, 8, 'a', 'not JSON', %s);",
                blob0, blob0, blob0, blob1, blob0);
  raw(where, sql.data);
  oc_buf_free(&sql);
  assert_dead_letters_merged(f);
}

static void test_migration_22_merges_dead_letters(void **state) {
  fixture *f = *state;
  migrate_duplicated_dead_letters(f, raw_exec, f->db, "x'7b00'", "x'7b01'");
}

/* ---- the PostgreSQL backend's own: raw libpq here, as the SQLite tests use raw SQLite ------------- */

static int64_t raw_pg_int(const char *uri, const char *sql) {
  PGconn *c = raw_pg_connect(uri);
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("raw sql failed: %s", PQresultErrorMessage(r));
  int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  PQfinish(c);
  return v;
}

/* Nodes starting together on a new database: every one opens it, and the migrations ran once. */
static void test_pg_concurrent_opens_migrate_once(void **state) {
  fixture *f = *state;
  enum { NODES = 4 };
  pid_t pids[NODES];
  for (int i = 0; i < NODES; i++) {
    pids[i] = fork();
    assert_true(pids[i] >= 0);
    if (pids[i] == 0) {
      oc_error err;
      oc_store *s = oc_store_open(f->uri, &err);
      if (!s) fprintf(stderr, "child: %s\n", err.message);
      oc_store_close(s);
      _exit(s ? 0 : 1);
    }
  }
  for (int i = 0; i < NODES; i++) {
    int status;
    assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  assert_int_equal(raw_pg_int(f->uri, "SELECT count(*) FROM schema_migrations"),
                   oc_store_latest_schema_version("postgresql"));
}

/* Ends every other session of the store's database (what a server restart or a network cut does). */
static void cut_connections(const char *uri) {
  raw_pg_int(uri, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                  " WHERE pid <> pg_backend_pid() AND datname = current_database()");
}

/* A lost connection is re-established for the next op outside a transaction; inside one, the op fails
 * saying so, and the connection works again once the transaction is ended. */
static void test_pg_reconnects_after_a_lost_connection(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  int64_t id;
  assert_int_equal(oc_store_series_ensure(s, "WTI", "", "", &id, &err), 0);
  cut_connections(f->uri);
  oc_series_info *list = NULL;
  size_t n = 0;
  if (oc_store_series_list(s, &list, &n, &err) != 0) fail_msg("after a lost connection: %s", err.message);
  assert_int_equal(n, 1);
  oc_series_info_list_free(list, n);
  oc_observation obs[] = {{id, D("2024-01-02"), 70}};
  oc_upsert_counts c = {0};
  assert_int_equal(oc_store_begin(s, &err), 0);
  cut_connections(f->uri);
  assert_int_equal(oc_store_observations_upsert(s, obs, 1, "t", 1, &c, &err), -1);
  assert_non_null(strstr(err.message, "lost inside a transaction"));
  assert_int_equal(oc_store_rollback(s, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, obs, 1, "t", 1, &c, &err), 0);
  /* a follower's wait survives it too */
  int64_t latest = -1;
  cut_connections(f->uri);
  assert_int_equal(oc_store_changes_wait(s, 0, 5.0, &latest, &err), 0);
  assert_int_equal(latest, 1);
  oc_store_close(s);
}

/* The hook of test_pg_changes_wait_misses_no_notify: another session commits a change just after the
 * wait's look found none, and its NOTIFY reaches libpq before the wait polls the socket (libpq reads a
 * NOTIFY that comes in behind a query's answer with that answer). Once only. */
typedef struct commit_behind_the_look {
  const char *uri;
  bool done, pulled;
} commit_behind_the_look;

static void commit_behind_the_look_hook(oc_store *store, void *ctx) {
  commit_behind_the_look *c = ctx;
  if (c->done) return;
  c->done = true;
  oc_error err;
  oc_store *other = oc_store_open(c->uri, &err);
  if (!other || oc_store_change_note(other, OC_CHANGE_API_KEY, "behind-the-look", &err) != 0)
    fail_msg("committing a change: %s", err.message);
  oc_store_close(other);
  c->pulled = oc_store_pg_pull_notification(store, 5.0);
}

/* A change committed between the wait's look at the latest change and its poll of the socket wakes the
 * wait at once: its NOTIFY, read by libpq into its buffers, never made the socket readable again, and
 * the wait slept to its timeout (10 s here) with the change committed. */
static void test_pg_changes_wait_misses_no_notify(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  commit_behind_the_look race = {.uri = f->uri};
  oc_store_pg_set_changes_wait_hook(commit_behind_the_look_hook, &race);
  int64_t latest = -1;
  double start = oc_monotonic_seconds();
  int rc = oc_store_changes_wait(s, 0, 10.0, &latest, &err);
  double waited = oc_monotonic_seconds() - start;
  oc_store_pg_set_changes_wait_hook(NULL, NULL);
  assert_int_equal(rc, 0);
  assert_true(race.done && race.pulled);
  assert_int_equal(latest, 1);
  if (waited > 3.0) fail_msg("the change committed behind the look woke the wait after %.1f s", waited);
  oc_store_close(s);
}

/* Rows go in through COPY: a batch of 10 000 keeps exact counts and values. */
static void test_pg_large_upsert_through_copy(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  int64_t id;
  assert_int_equal(oc_store_series_ensure(s, "BIG", "", "", &id, &err), 0);
  enum { N = 10000 };
  oc_observation *obs = oc_xcalloc(N, sizeof *obs);
  for (int i = 0; i < N; i++) obs[i] = (oc_observation){id, D("1800-01-01") + i, 0.1 * i + 1.0 / 3};
  oc_upsert_counts c = {0};
  assert_int_equal(oc_store_observations_upsert(s, obs, N, "t", 1, &c, &err), 0);
  assert_int_equal(c.inserted, N);
  obs[N / 2].value = -1;
  c = (oc_upsert_counts){0};
  assert_int_equal(oc_store_observations_upsert(s, obs, N, "t", 2, &c, &err), 0);
  assert_int_equal(c.updated, 1);
  assert_int_equal(c.unchanged, N - 1);
  oc_series series;
  assert_int_equal(oc_store_series_load(s, "BIG", OC_DATE_INVALID, OC_DATE_INVALID, &series, &err), 0);
  assert_int_equal(series.n, N);
  for (int i = 0; i < N; i++) assert_true(series.values[i] == obs[i].value); /* bit-identical */
  oc_series_free(&series);
  free(obs);
  oc_store_close(s);
}

/* Whether a statement of another session fails for a lock it waited for more than 100 ms. */
static bool raw_pg_waits_for_a_lock(const char *uri, const char *sql) {
  PGconn *c = raw_pg_connect(uri);
  PQclear(PQexec(c, "SET lock_timeout = '100ms'"));
  PGresult *r = PQexec(c, sql);
  const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  bool waited = state && strcmp(state, "55P03") == 0; /* lock_not_available */
  PQclear(r);
  PQfinish(c);
  return waited;
}

static bool raw_pg_has_observations_key(const char *uri) {
  return raw_pg_int(uri, "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()"
                         " AND indexname = 'observations_pkey'"
                         " AND indexdef LIKE 'CREATE UNIQUE INDEX %(series_id, date)'") == 1;
}

/* A bulk load into an empty table goes in without the key (other sessions' reads of the table wait
 * for it), which is built again, under its name, before the commit; a small import keeps the key. */
static void test_pg_bulk_load_defers_the_key(void **state) {
  fixture *f = *state;
  oc_error err;
  int64_t a, b;
  oc_store *s = open_with_two_series(f, &a, &b);
  enum { N = 40000 };
  oc_observation *rows = two_series_rows(a, b, D("1900-01-01"), N, 0);
  oc_upsert_counts c = {0};
  const char *read = "SELECT count(*) FROM observations";
  assert_int_equal(oc_store_begin(s, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, rows, 100, "t", 1, &c, &err), 0);
  assert_false(raw_pg_waits_for_a_lock(f->uri, read));
  assert_int_equal(oc_store_rollback(s, &err), 0);
  assert_int_equal(oc_store_begin(s, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, rows, N, "t", 1, &c, &err), 0);
  assert_true(raw_pg_waits_for_a_lock(f->uri, read));
  assert_int_equal(oc_store_commit(s, &err), 0);
  assert_false(raw_pg_waits_for_a_lock(f->uri, read));
  assert_true(raw_pg_has_observations_key(f->uri));
  free(rows);
  oc_store_close(s);
}

/* The store copy's rows of observations go in without the key, whose dates the bulk load's tracking
 * does not know: an upsert of one of those days in the same transaction must find it (an update, not
 * a second row that would fail the key's build at commit). */
static void test_pg_copied_rows_then_upsert(void **state) {
  fixture *f = *state;
  oc_error err;
  int64_t a, b;
  oc_store *s = open_with_two_series(f, &a, &b);
  size_t ntables;
  const oc_store_table *tables = oc_store_tables(&ntables), *observations = NULL;
  for (size_t i = 0; i < ntables; i++)
    if (strcmp(tables[i].name, "observations") == 0) observations = &tables[i];
  assert_non_null(observations);
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)a);
  const char *rows[] = {id, "2024-01-02", "70.5", "copy", "1", id, "2024-01-03", "71.25", "copy", "1"};
  assert_int_equal(oc_store_begin(s, &err), 0);
  if (oc_store_table_write(s, observations, rows, 2, &err) != 0) fail_msg("table_write: %s", err.message);
  assert_true(raw_pg_waits_for_a_lock(f->uri, "SELECT count(*) FROM observations")); /* key dropped */
  oc_observation revised = {a, D("2024-01-03"), 72.0}, later = {a, D("2024-01-04"), 73.0};
  oc_upsert_counts c = {0};
  assert_int_equal(oc_store_observations_upsert(s, &revised, 1, "t", 2, &c, &err), 0);
  assert_int_equal(oc_store_observations_upsert(s, &later, 1, "t", 2, &c, &err), 0);
  assert_int_equal(c.updated, 1);
  assert_int_equal(c.inserted, 1);
  if (oc_store_commit(s, &err) != 0) fail_msg("commit: %s", err.message);
  assert_true(raw_pg_has_observations_key(f->uri));
  oc_series series;
  assert_int_equal(oc_store_series_load(s, "A", OC_DATE_INVALID, OC_DATE_INVALID, &series, &err), 0);
  assert_int_equal(series.n, 3);
  assert_true(series.values[0] == 70.5 && series.values[1] == 72.0 && series.values[2] == 73.0);
  oc_series_free(&series);
  oc_store_close(s);
}

/* `oilcast migrate`: SQLite -> PostgreSQL -> SQLite keeps every value exactly (doubles with no short
 * form, an infinity, text COPY must escape, NULLs), verified row for row; a store holding data is not copied into. */
static void test_pg_copy_round_trip(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_buf first_uri = {0}, back_uri = {0};
  oc_buf_printf(&first_uri, "sqlite:%s/first.db", f->dir);
  oc_buf_printf(&back_uri, "sqlite:%s/back.db", f->dir);
  oc_store *first = oc_store_open(first_uri.data, &err);
  assert_non_null(first);
  int64_t id;
  assert_int_equal(oc_store_series_ensure(first, "WTI", "USD/bbl", "historical", &id, &err), 0);
  oc_observation obs[] = {{id, D("2020-04-20"), -36.98}, {id, D("2020-04-21"), 0.1 + 0.2}, {id, D("2020-04-22"), 1e-300}};
  oc_upsert_counts c = {0};
  assert_int_equal(oc_store_observations_upsert(first, obs, 3, "tab\there\nnewline\\slash", 1, &c, &err), 0);
  oc_forecast_record fc = {.series = "WTI", .origin = D("2020-04-22"), .history = "stored", .n_points = 1,
                           .origin_price = NAN};
  fc.points[0] = (oc_stored_forecast_point){D("2020-04-23"), 1.0 / 3, 0.25, 0.5, 0.125, 0.75};
  assert_int_equal(oc_store_forecast_save(first, &fc, &err), 0);
  assert_int_equal(oc_store_change_note(first, OC_CHANGE_ENDPOINT, "a\tb", &err), 0);
  /* schema 13-17: a dead letter's bytes (COPY escapes, bytea), an infinite figure, NULL dates, a range */
  uint8_t raw[] = {'{', 0xff, '\t', '\\', 'N'};
  oc_dead_letter dl = {.received_ms = 7, .topic = "t", .reason = "r", .raw = raw, .raw_len = 5};
  assert_int_equal(oc_store_dead_letter_insert(first, &dl, &err), 0);
  oc_alert a = {.fingerprint = "0123456789abcdef", .rule = "stale", .state = "firing", .labels_json = "{\"a\": 1}",
                .annotations_json = "{}", .value = -INFINITY, .active_since = 1, .updated_at = 2};
  assert_int_equal(oc_store_alert_save(first, &a, true, &err), 0);
  oc_challenger_state st = {.endpoint = "wti", .mode = "shadow", .challenger_since = D("2024-01-02"),
                            .promoted_since = OC_DATE_INVALID, .quiet_until = OC_DATE_INVALID,
                            .forecast_origin = OC_DATE_INVALID};
  assert_int_equal(oc_store_challenger_put(first, &st, &err), 0);
  assert_int_equal(oc_store_series_range_set(first, "WTI", true, -1000, 0.1 + 0.2, &err), 0);

  oc_store *pg = open_ok(f);
  oc_store_copy_result result;
  if (oc_store_copy(first, pg, &result, &err) != 0) fail_msg("copy to PostgreSQL: %s", err.message);
  assert_int_equal(result.rows, 1 + 3 + 1 + 1 + 3 + 1 + 1 + 1 + 1 + 3);
  assert_true(raw_pg_has_observations_key(f->uri)); /* the copy went in without it: built at commit */
  oc_store *back = oc_store_open(back_uri.data, &err);
  assert_non_null(back);
  if (oc_store_copy(pg, back, &result, &err) != 0) fail_msg("copy back to SQLite: %s", err.message);
  oc_series series;
  assert_int_equal(oc_store_series_load(back, "WTI", OC_DATE_INVALID, OC_DATE_INVALID, &series, &err), 0);
  assert_int_equal(series.n, 3);
  for (size_t i = 0; i < 3; i++) assert_true(series.values[i] == obs[i].value); /* bit-identical */
  oc_series_free(&series);
  oc_forecast_record got;
  bool found;
  assert_int_equal(oc_store_forecast_latest(back, "WTI", &got, &found, &err), 0);
  assert_true(found && isnan(got.origin_price) && got.points[0].price == 1.0 / 3);
  expect_changes(back, 0, "observations:WTI\nforecast:WTI\nendpoint:a\tb\nalert:stale\ndecision:wti\nobservations:WTI\n");
  oc_dead_letter *dls = NULL;
  size_t n = 0;
  assert_int_equal(oc_store_dead_letters_list(back, 1, &dls, &n, &err), 0);
  assert_true(n == 1 && dls[0].raw_len == 5 && memcmp(dls[0].raw, raw, 5) == 0);
  oc_dead_letter_list_free(dls, n);
  oc_alert *alerts = NULL;
  assert_int_equal(oc_store_alerts_list(back, NULL, &alerts, &n, &err), 0);
  assert_true(n == 1 && isinf(alerts[0].value) && alerts[0].value < 0); /* an infinity, not a text */
  oc_alert_list_free(alerts, n);

  /* Into a store that holds data: refused, and nothing written. */
  int64_t before, after;
  assert_int_equal(oc_store_observations_count(pg, &before, &err), 0);
  assert_int_equal(oc_store_copy(first, pg, &result, &err), -1);
  assert_non_null(strstr(err.message, "already holds data"));
  assert_int_equal(oc_store_observations_count(pg, &after, &err), 0);
  assert_int_equal(after, before);
  oc_store_close(back);
  oc_store_close(pg);
  oc_store_close(first);
  oc_buf_free(&first_uri);
  oc_buf_free(&back_uri);
}

/* PostgreSQL's twin of migration 22 merges dead letters stored twice into their first row too. */
static void test_pg_migration_22_merges_dead_letters(void **state) {
  fixture *f = *state;
  migrate_duplicated_dead_letters(f, raw_pg_exec, f->uri, "'\\x7b00'", "'\\x7b01'");
}

/* Every op of the backend is filled: a NULL pointer would crash the first caller of a feature the
 * backend was not brought up to (the ops struct is the backend name, then function pointers only). */
static void test_every_op_is_filled(void **state) {
  fixture *f = *state;
  oc_store *s = open_ok(f);
  typedef void (*any_fn)(void);
  static_assert((sizeof(oc_store_ops) - sizeof(const char *)) % sizeof(any_fn) == 0,
                "oc_store_ops: the backend name, then function pointers");
  size_t n = (sizeof(oc_store_ops) - sizeof(const char *)) / sizeof(any_fn);
  const unsigned char *first = (const unsigned char *)s->ops + sizeof(const char *);
  for (size_t i = 0; i < n; i++) {
    any_fn fn;
    memcpy(&fn, first + i * sizeof fn, sizeof fn);
    if (!fn) fail_msg("backend %s: op %zu of oc_store_ops is NULL", s->ops->backend, i);
  }
  oc_store_close(s);
}

/* The ops of schema 13-17 through store.h, the same on every backend: endpoint configurations and
 * price ranges, devices, the sensor stream (a redelivery stored once, a window from its readings,
 * a dead letter's bytes kept), alerts, promotion decisions and challenger state, and the backup ops. */
static void test_schema_13_to_17_ops(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  int64_t id;
  assert_int_equal(oc_store_series_ensure(s, "WTI", "USD/bbl", "test", &id, &err), 0);
  bool set = true;
  double min = 0, max = 0;
  assert_int_equal(oc_store_series_range_get(s, "WTI", &set, &min, &max, &err), 0);
  assert_false(set);
  assert_int_equal(oc_store_series_range_set(s, "WTI", true, -50, 500, &err), 0);
  assert_int_equal(oc_store_series_range_get(s, "WTI", &set, &min, &max, &err), 0);
  assert_true(set && min == -50 && max == 500);
  assert_int_equal(oc_store_series_range_set(s, "nope", true, 0, 1, &err), -1);
  assert_non_null(strstr(err.message, "no series named 'nope'"));
  assert_int_equal(oc_store_series_range_set(s, "WTI", false, 0, 0, &err), 0);
  assert_int_equal(oc_store_series_range_get(s, "WTI", &set, &min, &max, &err), 0);
  assert_false(set);

  char *config = NULL;
  bool found = false;
  assert_int_equal(oc_store_endpoint_config_set(s, "wti", "{\"variants\": []}", NULL, 0, 5, &err), 0);
  assert_int_equal(oc_store_endpoint_config_get(s, "wti", &config, &found, &err), 0);
  assert_true(found);
  assert_string_equal(config, "{\"variants\": []}");
  free(config);
  char **names = NULL;
  size_t n = 0;
  assert_int_equal(oc_store_endpoint_names(s, &names, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(names[0], "wti");
  free(names[0]);
  free(names);

  const oc_device_type *t = oc_device_type_find("tank_level");
  oc_device d = {.valid_min = t->valid_min, .valid_max = t->valid_max, .interval_seconds = t->interval_seconds,
                 .created_at = 1700000000};
  snprintf(d.id, sizeof d.id, "tank-7");
  snprintf(d.type, sizeof d.type, "tank_level");
  snprintf(d.unit, sizeof d.unit, "%s", t->unit);
  snprintf(d.password_hash, sizeof d.password_hash, "$7$101$c2FsdA==$aGFzaA==");
  assert_int_equal(oc_store_device_put(s, &d, &err), 0);
  oc_device got;
  assert_int_equal(oc_store_device_revoke(s, "tank-7", 1700000100, &found, &err), 0);
  assert_true(found);
  assert_int_equal(oc_store_device_get(s, "tank-7", &got, &found, &err), 0);
  assert_true(found && got.revoked_at == 1700000100 && got.interval_seconds == d.interval_seconds);
  assert_int_equal(oc_store_device_put(s, &d, &err), -1);
  assert_non_null(strstr(err.message, "was revoked"));

  oc_sensor_reading r = {.device_id = "tank-7", .measurement = "level", .unit = "m", .seq = 1, .event_ms = 1000,
                         .value = 0.1};
  bool inserted = false;
  assert_int_equal(oc_store_sensor_reading_insert(s, &r, false, &inserted, &err), 0);
  assert_true(inserted);
  assert_int_equal(oc_store_sensor_reading_insert(s, &r, false, &inserted, &err), 0);
  assert_false(inserted); /* a redelivery */
  r.seq = 2, r.event_ms = 500, r.value = 0.2;
  assert_int_equal(oc_store_sensor_reading_insert(s, &r, false, &inserted, &err), 0);
  assert_int_equal(oc_store_sensor_window_recompute(s, "tank-7", "level", 60000, 0, 0, &err), 0);
  oc_sensor_window *w = NULL;
  assert_int_equal(oc_store_sensor_windows_list(s, NULL, "level", 60000, &w, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_true(w[0].count == 2 && w[0].min == 0.1 && w[0].max == 0.2 && w[0].last == 0.1);
  free(w);
  assert_int_equal(oc_store_sensor_watermark_set(s, "tank-7", 1000, &err), 0);
  assert_int_equal(oc_store_sensor_watermark_set(s, "tank-7", 10, &err), 0); /* never lowered */
  int64_t mark = 0;
  assert_int_equal(oc_store_sensor_watermark_get(s, "tank-7", &mark, &found, &err), 0);
  assert_true(found && mark == 1000);
  uint8_t raw[] = {'{', 0xff, '\t', '\\', 'x'};
  oc_dead_letter dl = {.received_ms = 7, .topic = "oil/sensors/x", .reason = "not JSON", .raw = raw, .raw_len = 5};
  assert_int_equal(oc_store_dead_letter_insert(s, &dl, &err), 0);
  assert_int_equal(dl.id, 1);
  oc_dead_letter *dls = NULL;
  assert_int_equal(oc_store_dead_letters_list(s, 10, &dls, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_true(dls[0].raw_len == 5 && memcmp(dls[0].raw, raw, 5) == 0);
  oc_dead_letter_list_free(dls, n);
  oc_sensor_stats stats;
  assert_int_equal(oc_store_sensor_stats(s, &stats, &err), 0);
  assert_true(stats.readings == 2 && stats.dead_letters == 1 && stats.windows == 1);

  oc_alert a = {.fingerprint = "0123456789abcdef", .rule = "stale", .state = "firing", .labels_json = "{\"a\":\"b\"}",
                .annotations_json = "{}", .value = NAN, .active_since = 1, .updated_at = 2};
  assert_int_equal(oc_store_alert_save(s, &a, true, &err), 0);
  oc_alert *alerts = NULL;
  assert_int_equal(oc_store_alerts_list(s, "firing", &alerts, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_true(isnan(alerts[0].value));
  assert_string_equal(alerts[0].labels_json, "{\"a\":\"b\"}");
  oc_alert_list_free(alerts, n);
  oc_alert_event *events = NULL;
  assert_int_equal(oc_store_alert_history(s, NULL, 10, &events, &n, &err), 0);
  assert_true(n == 1 && events[0].id == 1);
  oc_alert_event_list_free(events, n);

  oc_promotion_decision dec = {.endpoint = "wti", .at = 9, .action = "refusal", .version = 3, .champion = 2};
  assert_int_equal(oc_store_decision_record(s, &dec, &err), 0);
  assert_int_equal(dec.id, 1);
  oc_promotion_decision *decs = NULL;
  assert_int_equal(oc_store_decisions_list(s, "wti", 5, &decs, &n, &err), 0);
  assert_true(n == 1 && decs[0].version == 3 && strcmp(decs[0].figures, "{}") == 0);
  free(decs);
  oc_challenger_state st = {.endpoint = "wti", .challenger = 3, .mode = "shadow", .challenger_since = D("2024-01-02"),
                            .promoted_since = OC_DATE_INVALID, .quiet_until = OC_DATE_INVALID,
                            .forecast_origin = OC_DATE_INVALID};
  assert_int_equal(oc_store_challenger_put(s, &st, &err), 0);
  oc_challenger_state back;
  assert_int_equal(oc_store_challenger_get(s, "wti", &back, &found, &err), 0);
  assert_true(found && back.challenger == 3 && back.challenger_since == D("2024-01-02") &&
              back.promoted_since == OC_DATE_INVALID);
  oc_scored_error *errors = NULL;
  assert_int_equal(oc_store_forecast_errors(s, "wti", "v3", 1, OC_DATE_INVALID, 10, &errors, &n, &err), 0);
  assert_int_equal(n, 0);
  free(errors);
  expect_changes(s, 0, "observations:WTI\nobservations:WTI\nendpoint:wti\ndevice:tank-7\ndevice:tank-7\n"
                       "sensor_window:tank-7/level/60000/0\n" /* a window from readings is on the feed (issue 15) */
                       "alert:stale\ndecision:wti\ndecision:wti\n");

  assert_int_equal(oc_store_integrity_check(s, &err), 0);
  if (strcmp(s->ops->backend, "postgresql") == 0) {
    assert_int_equal(oc_store_snapshot_to(s, "/nonexistent/x.db", &err), -1);
    assert_non_null(strstr(err.message, "pg_dump"));
    /* with amcheck (Debian's postgresql ships it): every B-tree index of the store checked */
    PGconn *c = PQconnectdb(f->uri);
    PGresult *created = PQexec(c, "CREATE EXTENSION IF NOT EXISTS amcheck");
    if (PQresultStatus(created) != PGRES_COMMAND_OK)
      fail_msg("CREATE EXTENSION amcheck: %s", PQresultErrorMessage(created));
    PQclear(created);
    PQfinish(c);
    if (oc_store_integrity_check(s, &err) != 0) fail_msg("integrity check with amcheck: %s", err.message);
  }
  oc_store_close(s);
}

/* The ops of schema 18 (sensor silence and the live sensor feed, issue 15): the latest reading kept by
 * (event time, seq) whatever the order; only active registered devices watched, with their interval
 * and open silence; an anomaly ended once; each stored or ended anomaly and each window from readings
 * (not one made of smaller windows) on the change feed, naming its row; the rows read back by key. */
static void test_schema_18_ops(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  oc_device d = {.valid_min = 0, .valid_max = 30, .interval_seconds = 60, .created_at = 1};
  snprintf(d.type, sizeof d.type, "tank_level");
  snprintf(d.unit, sizeof d.unit, "m");
  snprintf(d.password_hash, sizeof d.password_hash, "$7$101$c2FsdHNhbHRzYWx0$aGFzaA==");
  const char *ids[] = {"tank-7", "tank-8"};
  for (size_t i = 0; i < 2; i++) {
    snprintf(d.id, sizeof d.id, "%s", ids[i]);
    assert_int_equal(oc_store_device_put(s, &d, &err), 0);
  }
  bool found;
  assert_int_equal(oc_store_device_revoke(s, "tank-8", 2, &found, &err), 0);
  oc_sensor_reading r[] = {{"tank-7", "level", "m", 5, 2000, 1.5}, {"tank-7", "level", "m", 4, 2000, 2.5},
                           {"tank-7", "level", "m", 9, 1000, 3.5}, {"tank-8", "level", "m", 1, 1000, 4.5},
                           {"ghost", "level", "m", 1, 1000, 5.5}};
  for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) assert_int_equal(oc_store_sensor_last_raise(s, &r[i], &err), 0);
  int64_t before = latest_change(s);
  oc_sensor_anomaly a = {.device_id = "tank-7", .measurement = "level", .kind = "silence", .event_ms = 2000,
                         .seq = 5, .detected_ms = 200000, .value = 1.5, .score = 3.3};
  bool inserted, ended;
  assert_int_equal(oc_store_sensor_anomaly_insert(s, &a, &inserted, &err), 0);
  assert_true(inserted);
  oc_sensor_watch *w;
  size_t n;
  assert_int_equal(oc_store_sensor_watch_list(s, &w, &n, &err), 0);
  assert_int_equal(n, 1); /* tank-8 is revoked, ghost is no device */
  assert_string_equal(w[0].last.device_id, "tank-7");
  assert_true(w[0].last.seq == 5 && w[0].last.event_ms == 2000 && w[0].last.value == 1.5);
  assert_true(w[0].interval_seconds == 60 && w[0].open && w[0].open_event_ms == 2000);
  free(w);
  assert_int_equal(oc_store_sensor_anomaly_end(s, "tank-7", "level", "silence", 2000, 9000, &ended, &err), 0);
  assert_true(ended);
  assert_int_equal(oc_store_sensor_anomaly_end(s, "tank-7", "level", "silence", 2000, 9500, &ended, &err), 0);
  assert_false(ended); /* ended once */
  oc_sensor_anomaly got;
  assert_int_equal(oc_store_sensor_anomaly_get(s, "tank-7", "level", "silence", 2000, &got, &found, &err), 0);
  assert_true(found && got.ended_ms == 9000 && got.seq == 5 && got.detected_ms == 200000 && got.score == 3.3);
  assert_int_equal(oc_store_sensor_anomaly_get(s, "tank-7", "level", "spike", 2000, &got, &found, &err), 0);
  assert_false(found);
  assert_int_equal(oc_store_sensor_watch_list(s, &w, &n, &err), 0);
  assert_false(w[0].open);
  free(w);
  assert_int_equal(oc_store_sensor_reading_insert(s, &r[0], false, &inserted, &err), 0);
  assert_int_equal(oc_store_sensor_window_recompute(s, "tank-7", "level", 60000, 0, 0, &err), 0);
  assert_int_equal(oc_store_sensor_window_recompute(s, "tank-7", "level", 3600000, 0, 60000, &err), 0);
  oc_sensor_window win;
  assert_int_equal(oc_store_sensor_window_get(s, "tank-7", "level", 60000, 0, &win, &found, &err), 0);
  assert_true(found && win.count == 1 && win.mean == 1.5 && win.last == 1.5);
  assert_int_equal(oc_store_sensor_window_get(s, "tank-7", "level", 60000, 60000, &win, &found, &err), 0);
  assert_false(found);
  expect_changes(s, before, "sensor_anomaly:tank-7/level/silence/2000\nsensor_anomaly:tank-7/level/silence/2000\n"
                            "sensor_window:tank-7/level/60000/0\n");
  oc_store_close(s);
}

/* A shadow challenger's forecast is stored beside the champion's but is never "the latest forecast" of
 * its series, on every backend (PostgreSQL's query once lacked the filter SQLite's has). */
static void test_latest_forecast_is_never_a_shadow(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  oc_forecast_record champion = {.series = "WTI", .origin = D("2024-01-04"), .history = "stored", .endpoint = "wti",
                                 .variant = "primary", .model_version = "v1", .created_at = 10, .origin_price = 70,
                                 .n_points = 1};
  champion.points[0] = (oc_stored_forecast_point){D("2024-01-05"), 70, 69, 71, 68, 72};
  oc_forecast_record shadow = champion;
  snprintf(shadow.variant, sizeof shadow.variant, "shadow");
  snprintf(shadow.model_version, sizeof shadow.model_version, "v2");
  shadow.created_at = 11;
  assert_int_equal(oc_store_forecast_save(s, &champion, &err), 0);
  assert_int_equal(oc_store_forecast_save(s, &shadow, &err), 0);
  oc_forecast_record got;
  bool found = false;
  assert_int_equal(oc_store_forecast_latest(s, "WTI", &got, &found, &err), 0);
  assert_true(found);
  assert_string_equal(got.model_version, "v1");
  oc_store_close(s);
}

/* The newest by-year report of series as "id json", or "none" (schema 21). */
static char *years_latest_text(oc_store *s, const char *series) {
  oc_backtest_years_record rec;
  bool found = true;
  oc_error err;
  if (oc_store_backtest_years_latest(s, series, &rec, &found, &err) != 0) fail_msg("%s", err.message);
  oc_buf out = {0};
  if (found) oc_buf_printf(&out, "%lld %s", (long long)rec.id, rec.report_json);
  else oc_buf_puts(&out, "none");
  oc_backtest_years_record_free(&rec);
  return oc_buf_steal(&out);
}

static void expect_years_latest(oc_store *s, const char *series, const char *want_json, int64_t want_id) {
  char *got = years_latest_text(s, series), want[256];
  if (want_json) snprintf(want, sizeof want, "%lld %s", (long long)want_id, want_json);
  else snprintf(want, sizeof want, "none");
  assert_string_equal(got, want);
  free(got);
}

/* The by-year robustness reports (schema 21) through store.h, the same on every backend: `oilcast
 * migrate`'s copy carries the table from SQLite; a report reads back as saved, the newest per series
 * wins (created_at, then id), each save is one backtest change of its series, and a document that is
 * not JSON or a rolled-back save leave no row and no change. */
static void test_schema_21_backtest_years(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_buf from_uri = {0};
  oc_buf_printf(&from_uri, "sqlite:%s/from.db", f->dir);
  oc_store *from = oc_store_open(from_uri.data, &err);
  assert_non_null(from);
  oc_backtest_years_record copied = {.series = "WTI", .created_at = 50, .models = "naive", .exog = "",
                                     .report_json = "{\"n\":0}"};
  assert_int_equal(oc_store_backtest_years_save(from, &copied, &err), 0);
  oc_store *s = open_ok(f);
  oc_store_copy_result result;
  if (oc_store_copy(from, s, &result, &err) != 0) fail_msg("copy: %s", err.message);
  oc_store_close(from);
  oc_buf_free(&from_uri);
  expect_years_latest(s, "WTI", "{\"n\":0}", copied.id);
  int64_t before = latest_change(s);

  oc_backtest_years_record bad = {.series = "WTI", .created_at = 60, .models = "naive", .report_json = "{not json"};
  assert_int_equal(oc_store_backtest_years_save(s, &bad, &err), -1);
  assert_non_null(strstr(err.message, "saving a by-year backtest report"));
  oc_backtest_years_record rolled = {.series = "WTI", .created_at = 60, .models = "naive", .report_json = "{}"};
  assert_int_equal(oc_store_begin(s, &err), 0);
  assert_int_equal(oc_store_backtest_years_save(s, &rolled, &err), 0);
  assert_int_equal(oc_store_rollback(s, &err), 0);
  expect_years_latest(s, "WTI", "{\"n\":0}", copied.id);
  expect_changes(s, before, "");

  oc_backtest_years_record a = {.series = "WTI", .created_at = 200, .models = "naive,ar,arx", .exog = "Brent",
                                .horizon = 7, .refit_every = 20, .from_year = 2015, .to_year = 2024,
                                .report_json = "{\"n\":1}"};
  oc_backtest_years_record older = a, brent = a, same_time = a;
  older.created_at = 100;
  older.report_json = "{\"n\":2}";
  brent.series = "Brent";
  brent.exog = NULL; /* no --exog: stored as "" */
  brent.report_json = "{\"n\":3}";
  same_time.report_json = "{\"n\":4}";
  assert_int_equal(oc_store_backtest_years_save(s, &a, &err), 0);
  assert_int_equal(oc_store_backtest_years_save(s, &older, &err), 0); /* saved later, but not the latest */
  assert_int_equal(oc_store_backtest_years_save(s, &brent, &err), 0);
  oc_backtest_years_record got;
  bool found;
  assert_int_equal(oc_store_backtest_years_latest(s, "WTI", &got, &found, &err), 0);
  assert_true(found && got.id == a.id && got.created_at == 200 && got.horizon == 7 && got.refit_every == 20 &&
              got.from_year == 2015 && got.to_year == 2024);
  assert_string_equal(got.series, "WTI");
  assert_string_equal(got.models, "naive,ar,arx");
  assert_string_equal(got.exog, "Brent");
  assert_string_equal(got.report_json, "{\"n\":1}");
  oc_backtest_years_record_free(&got);
  assert_int_equal(oc_store_backtest_years_latest(s, "Brent", &got, &found, &err), 0);
  assert_true(found);
  assert_string_equal(got.exog, "");
  oc_backtest_years_record_free(&got);
  assert_int_equal(oc_store_backtest_years_save(s, &same_time, &err), 0); /* as new as a: the higher id wins */
  expect_years_latest(s, "WTI", "{\"n\":4}", same_time.id);
  expect_years_latest(s, "Dubai", NULL, 0);
  expect_changes(s, before, "backtest:WTI\nbacktest:WTI\nbacktest:Brent\nbacktest:WTI\n");
  oc_store_close(s);
}

/* Dead letters are keyed by topic and bytes (migration 22): the same message again (an MQTT QoS 1
 * redelivery after a crash) counts in its row (seen, last_received_ms) and is not stored twice; other
 * bytes, or the same bytes on another topic, are other dead letters. */
static void test_dead_letters_keyed(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  uint8_t raw[] = {'{', 0, 0xff, '"'}, other[] = {'{', 0, 0xff, '\''};
  oc_dead_letter dl = {.received_ms = 7, .topic = "oil/sensors/x", .reason = "not JSON", .raw = raw, .raw_len = 4};
  assert_int_equal(oc_store_dead_letter_insert(s, &dl, &err), 0);
  int64_t first = dl.id;
  assert_int_equal(dl.seen, 1);
  dl.received_ms = 9;
  assert_int_equal(oc_store_dead_letter_insert(s, &dl, &err), 0);
  assert_int_equal(dl.id, first);
  assert_int_equal(dl.seen, 2);
  dl.received_ms = 8; /* an older copy arriving last leaves the latest time */
  assert_int_equal(oc_store_dead_letter_insert(s, &dl, &err), 0);
  assert_int_equal(dl.seen, 3);
  oc_dead_letter again = dl;
  again.raw = other;
  assert_int_equal(oc_store_dead_letter_insert(s, &again, &err), 0);
  assert_int_equal(again.id, first + 1);
  snprintf(again.topic, sizeof again.topic, "oil/sensors/y");
  again.raw = raw;
  assert_int_equal(oc_store_dead_letter_insert(s, &again, &err), 0);
  assert_int_equal(again.id, first + 2);
  assert_int_equal(again.seen, 1);
  oc_dead_letter *dls = NULL;
  size_t n = 0;
  assert_int_equal(oc_store_dead_letters_list(s, 10, &dls, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_int_equal(dls[2].id, first);
  assert_true(dls[2].seen == 3 && dls[2].received_ms == 7 && dls[2].last_received_ms == 9);
  assert_true(dls[2].raw_len == 4 && memcmp(dls[2].raw, raw, 4) == 0);
  assert_true(dls[0].seen == 1 && dls[0].last_received_ms == 8);
  oc_dead_letter_list_free(dls, n);
  oc_sensor_stats stats;
  assert_int_equal(oc_store_sensor_stats(s, &stats, &err), 0);
  assert_int_equal(stats.dead_letters, 3);
  oc_store_close(s);
}

/* forecasts_save stores a batch (a served forecast and its shadow) in one write: every id set, one
 * change per series; a batch whose second forecast the store refuses (a point without a price, refused
 * by the database after the first forecast was written; a forecast without points, refused before)
 * leaves nothing: no forecast, no change, every id 0. */
static void test_forecasts_save_all_or_nothing(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  oc_forecast_record recs[3] = {{.series = "WTI", .origin = D("2024-01-04"), .history = "stored", .endpoint = "wti",
                                 .variant = "shadow", .model_version = "v2", .created_at = 10, .origin_price = 70,
                                 .n_points = 2}};
  recs[0].points[0] = (oc_stored_forecast_point){D("2024-01-05"), 70, 69, 71, 68, 72};
  recs[0].points[1] = (oc_stored_forecast_point){D("2024-01-08"), 71, 69, 73, 68, 74};
  recs[1] = recs[0];
  snprintf(recs[1].variant, sizeof recs[1].variant, "primary");
  snprintf(recs[1].model_version, sizeof recs[1].model_version, "v1");
  recs[1].points[1].price = NAN; /* NOT NULL in forecast_points: the database refuses the second */
  int64_t before = latest_change(s);
  bool found = true;
  oc_forecast_record got;
  assert_int_equal(oc_store_forecasts_save(s, recs, 2, &err), -1);
  assert_true(recs[0].id == 0 && recs[1].id == 0);
  assert_int_equal(oc_store_forecast_latest(s, "WTI", &got, &found, &err), 0);
  assert_false(found);
  recs[1].points[1].price = 71.5;
  recs[1].n_points = 0; /* refused before anything is written, naming the forecast */
  assert_int_equal(oc_store_forecasts_save(s, recs, 2, &err), -1);
  assert_non_null(strstr(err.message, "forecast 2 of 2"));
  expect_changes(s, before, "");

  recs[1].n_points = 2;
  recs[2] = recs[1];
  snprintf(recs[2].series, sizeof recs[2].series, "BRENT");
  assert_int_equal(oc_store_forecasts_save(s, recs, 3, &err), 0);
  assert_true(recs[0].id > 0 && recs[1].id > recs[0].id && recs[2].id > recs[1].id);
  expect_changes(s, before, "forecast:WTI\nforecast:BRENT\n"); /* once per series, not per forecast */
  assert_int_equal(oc_store_forecast_latest(s, "WTI", &got, &found, &err), 0);
  assert_true(found);
  assert_int_equal(got.id, recs[1].id); /* the served one, never its shadow */
  assert_int_equal(got.n_points, 2);
  assert_true(got.points[1].price == 71.5 && got.points[1].lower95 == 68);
  oc_store_close(s);
}

/* Every row of table (one of oc_store_tables()) as text, columns tab-separated, "\\N" for NULL, a line
 * each, in key order (table_read). */
static int append_row(void *ctx, const char *const *values) {
  oc_buf *out = ((oc_buf **)ctx)[0];
  const oc_store_table *t = ((const oc_store_table **)ctx)[1];
  for (size_t c = 0; c < t->ncolumns; c++) oc_buf_printf(out, "%s%s", c ? "\t" : "", values[c] ? values[c] : "\\N");
  oc_buf_putc(out, '\n');
  return 0;
}

static void read_table(oc_store *s, const char *name, oc_buf *out) {
  size_t n;
  const oc_store_table *tables = oc_store_tables(&n), *t = NULL;
  for (size_t i = 0; i < n; i++)
    if (strcmp(tables[i].name, name) == 0) t = &tables[i];
  assert_non_null(t);
  void *ctx[2] = {out, (void *)t};
  oc_error err;
  if (oc_store_table_read(s, t, append_row, ctx, &err) != 0) fail_msg("%s", err.message);
}

/* A champion and its shadow of the most points a forecast holds, saved in one batch after a forecast
 * already stored, come back in order on every backend: ids in the batch's order after the stored one,
 * texts that need escaping as given, every double to the bit, an unknown origin price as NULL, the
 * points of each in step order (PostgreSQL inserts the batch's forecast rows in one statement). */
static void test_forecasts_save_champion_and_shadow_in_order(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  oc_forecast_record recs[2] = {{.series = "WTI", .origin = D("2024-01-04"), .history = "stored", .endpoint = "wti",
                                 .variant = "primary", .model_version = "v1", .model_kind = "ets",
                                 .request_id = "r\"1\\\t\u00e9{,}", .created_at = 10, .origin_price = 1.0 / 3,
                                 .n_points = OC_STORED_FORECAST_MAX_POINTS}};
  for (size_t i = 0; i < OC_STORED_FORECAST_MAX_POINTS; i++) {
    double price = 70 + i / 7.0;
    recs[0].points[i] = (oc_stored_forecast_point){D("2024-01-05") + (oc_date)i, price, price - 1.1, price + 1.1,
                                                   price - 2.2, price + 2.2};
  }
  oc_forecast_record before = recs[0]; /* a day earlier, one point, stored first */
  before.origin = D("2024-01-03");
  before.n_points = 1;
  before.created_at = 5;
  assert_int_equal(oc_store_forecast_save(s, &before, &err), 0);
  recs[1] = recs[0];
  snprintf(recs[1].variant, sizeof recs[1].variant, "shadow");
  snprintf(recs[1].model_version, sizeof recs[1].model_version, "v2");
  recs[1].origin_price = NAN;
  for (size_t i = 0; i < OC_STORED_FORECAST_MAX_POINTS; i++) recs[1].points[i].price += 0.5;
  assert_int_equal(oc_store_forecasts_save(s, recs, 2, &err), 0);
  assert_int_equal(recs[0].id, before.id + 1);
  assert_int_equal(recs[1].id, before.id + 2);

  oc_forecast_record got;
  bool found;
  assert_int_equal(oc_store_forecast_latest(s, "WTI", &got, &found, &err), 0);
  assert_true(found);
  assert_int_equal(got.id, recs[0].id); /* the champion, never its shadow */
  assert_string_equal(got.request_id, recs[0].request_id);
  assert_true(got.origin_price == 1.0 / 3);
  assert_int_equal(got.n_points, OC_STORED_FORECAST_MAX_POINTS);
  assert_memory_equal(got.points, recs[0].points, sizeof got.points);

  oc_buf rows = {0}, expect = {0};
  read_table(s, "forecasts", &rows);
  char *line = rows.data;
  for (int k = -1; k < 2; k++) {
    char *end = strchr(line, '\n');
    assert_non_null(end);
    *end = '\0';
    const oc_forecast_record *rec = k < 0 ? &before : &recs[k];
    char price[OC_NUMBER_STRLEN] = "\\N", origin[OC_DATE_STRLEN];
    if (isfinite(rec->origin_price)) oc_format_number(rec->origin_price, price);
    oc_buf_clear(&expect);
    oc_buf_printf(&expect, "%lld\t%s\t%s\t%zu\t%s\t%s\t%s\t%s\t%s\t%s\t%lld\t%s", (long long)rec->id, rec->series,
                  oc_date_format(rec->origin, origin), rec->n_points, rec->endpoint, rec->variant, rec->model_version,
                  rec->model_kind, rec->history, rec->request_id, (long long)rec->created_at, price);
    assert_string_equal(line, expect.data);
    line = end + 1;
  }
  assert_string_equal(line, "");

  oc_buf_clear(&rows);
  read_table(s, "forecast_points", &rows);
  line = rows.data;
  line = strchr(line, '\n') + 1; /* the earlier forecast's one point */
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < OC_STORED_FORECAST_MAX_POINTS; i++) {
      const oc_stored_forecast_point *pt = &recs[k].points[i];
      char *end = strchr(line, '\n');
      assert_non_null(end);
      *end = '\0';
      long long id, step;
      char date[16];
      double v[5];
      assert_int_equal(sscanf(line, "%lld\t%lld\t%15s\t%lf\t%lf\t%lf\t%lf\t%lf", &id, &step, date, &v[0], &v[1], &v[2],
                              &v[3], &v[4]), 8);
      assert_int_equal(id, recs[k].id);
      assert_int_equal(step, (long long)i + 1);
      char want[OC_DATE_STRLEN];
      assert_string_equal(date, oc_date_format(pt->date, want));
      assert_true(v[0] == pt->price && v[1] == pt->lower80 && v[2] == pt->upper80 && v[3] == pt->lower95 &&
                  v[4] == pt->upper95);
      line = end + 1;
    }
  assert_string_equal(line, "");
  oc_buf_free(&rows);
  oc_buf_free(&expect);
  oc_store_close(s);
}

/* Infinite figures come back as stored on every backend (SQLite keeps a REAL infinity; PostgreSQL's
 * DOUBLE PRECISION has one too), never as "none": a diverged training's validation loss, an alert's
 * figure over a zero denominator. NaN stays "none" (NULL) on both. */
static void test_infinite_figures_stored_alike(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  oc_model_version v = {.version = 1, .kind = "mlp", .series = "WTI", .path = "models/artifacts/v1",
                        .card_sha256 = "1111111111111111111111111111111111111111111111111111111111111111",
                        .val_loss = INFINITY, .val_mae = -INFINITY, .naive_mae = 2.5};
  assert_int_equal(oc_store_model_version_register(s, &v, &err), 0);
  oc_model_version got = {0};
  bool found;
  assert_int_equal(oc_store_model_version_get(s, 1, &got, &found, &err), 0);
  assert_true(found);
  assert_true(isinf(got.val_loss) && got.val_loss > 0);
  assert_true(isinf(got.val_mae) && got.val_mae < 0);
  assert_true(got.naive_mae == 2.5);
  oc_model_version_free(&got);

  oc_alert a = {.fingerprint = "0123456789abcdef", .rule = "ratio", .state = "firing", .labels_json = "{}",
                .annotations_json = "{}", .value = -INFINITY, .updated_at = 3};
  assert_int_equal(oc_store_alert_save(s, &a, true, &err), 0);
  oc_alert b = a;
  snprintf(b.fingerprint, sizeof b.fingerprint, "fedcba9876543210");
  b.value = NAN;
  assert_int_equal(oc_store_alert_save(s, &b, true, &err), 0);
  oc_alert *alerts = NULL;
  size_t n = 0;
  assert_int_equal(oc_store_alerts_list(s, NULL, &alerts, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_true(isinf(alerts[0].value) && alerts[0].value < 0);
  assert_true(isnan(alerts[1].value));
  oc_alert_list_free(alerts, n);
  oc_alert_event *events = NULL;
  assert_int_equal(oc_store_alert_history(s, a.fingerprint, 10, &events, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_true(isinf(events[0].value) && events[0].value < 0);
  oc_alert_event_list_free(events, n);
  oc_store_close(s);
}

/* Lists ordered by a text come back in the same order on every backend: the bytes' order, as SQLite
 * compares (PostgreSQL's database collation, a locale's by default, would put "brent" beside "Brent"
 * and ignore punctuation; tests/support/pg.sh makes that collation a locale's, ICU "en"). */
static void test_text_lists_in_byte_order(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  static const char *const names[] = {"brent", "WTI_2", "Brent", "WTI-SIM", "WTI", "a.b", "aB"};
  static const char *const sorted[] = {"Brent", "WTI", "WTI-SIM", "WTI_2", "a.b", "aB", "brent"};
  enum { N = sizeof names / sizeof names[0] };
  oc_ingest_run_series touched[N];
  for (size_t i = 0; i < N; i++) {
    int64_t id;
    assert_int_equal(oc_store_series_ensure(s, names[i], "", "", &id, &err), 0);
    oc_observation obs[2] = {{id, D("2024-01-02"), 70}, {id, D("2024-01-03"), 71}};
    oc_upsert_counts c;
    assert_int_equal(oc_store_observations_upsert(s, obs, 2, "t", 1, &c, &err), 0);
    touched[i] = (oc_ingest_run_series){.rows = 2, .last_date = D("2024-01-03"), .last_value = 71};
    snprintf(touched[i].name, sizeof touched[i].name, "%s", names[i]);
    oc_api_key_row key = {.scope = "read", .created_at = 5}; /* one second: the names order them */
    snprintf(key.id, sizeof key.id, "id%zu", i);
    snprintf(key.name, sizeof key.name, "%s", names[i]);
    memset(key.hash, 'a', 64);
    assert_int_equal(oc_store_api_key_insert(s, &key, &err), 0);
    oc_forecast_record fc = {.origin = D("2024-01-02"), .history = "stored", .endpoint = "e", .variant = "primary",
                             .model_version = "v1", .model_kind = "naive", .created_at = 1, .origin_price = 70,
                             .n_points = 1};
    snprintf(fc.series, sizeof fc.series, "%s", names[i]);
    fc.points[0] = (oc_stored_forecast_point){D("2024-01-03"), 70, 69, 71, 68, 72};
    assert_int_equal(oc_store_forecast_save(s, &fc, &err), 0);
  }
  int64_t scored;
  assert_int_equal(oc_store_forecast_score(s, 2, &scored, &err), 0);
  assert_int_equal(scored, N);

  oc_series_info *list = NULL;
  size_t n = 0;
  assert_int_equal(oc_store_series_list(s, &list, &n, &err), 0);
  assert_int_equal(n, N);
  for (size_t i = 0; i < N; i++) assert_string_equal(list[i].name, sorted[i]);
  oc_series_info_list_free(list, n);

  oc_api_key_row *keys = NULL;
  assert_int_equal(oc_store_api_key_list(s, &keys, &n, &err), 0);
  assert_int_equal(n, N);
  for (size_t i = 0; i < N; i++) assert_string_equal(keys[i].name, sorted[i]);
  free(keys);

  oc_ingest_run run = {.source_kind = "historical", .path = "p", .sha256 = "s", .status = "ok", .nseries = N,
                       .series = touched};
  assert_int_equal(oc_store_ingest_run_record(s, &run, &err), 0);
  oc_ingest_run_info *runs = NULL;
  int64_t newest;
  assert_int_equal(oc_store_ingest_runs_after(s, 0, 10, N, &runs, &n, &newest, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(runs[0].listed, N);
  for (size_t i = 0; i < N; i++) assert_string_equal(runs[0].series[i].name, sorted[i]);
  oc_ingest_run_info_list_free(runs, n);

  oc_forecast_performance *perf = NULL;
  assert_int_equal(oc_store_forecast_performance(s, "e", 10, &perf, &n, &err), 0);
  assert_int_equal(n, N);
  for (size_t i = 0; i < N; i++) assert_string_equal(perf[i].line.series, sorted[i]);
  free(perf);

  oc_scored_point *points = NULL;
  assert_int_equal(oc_store_forecast_scored_points(s, "e", &points, &n, &err), 0);
  assert_int_equal(n, N);
  for (size_t i = 0; i < N; i++) assert_string_equal(points[i].line.series, sorted[i]);
  free(points);

  static const char *const devices[] = {"tank_b", "Tank-a", "tank-a"}; /* bytes: "Tank-a", "tank-a", "tank_b" */
  oc_device d = {.valid_min = 0, .valid_max = 30, .interval_seconds = 60, .created_at = 1, .type = "tank_level",
                 .unit = "m", .password_hash = "$7$101$c2FsdHNhbHRzYWx0$aGFzaA=="};
  for (size_t i = 0; i < 3; i++) {
    snprintf(d.id, sizeof d.id, "%s", devices[i]);
    assert_int_equal(oc_store_device_put(s, &d, &err), 0);
    oc_sensor_reading r = {.measurement = "level", .unit = "m", .seq = 1, .event_ms = 1000, .value = 1};
    snprintf(r.device_id, sizeof r.device_id, "%s", devices[i]);
    assert_int_equal(oc_store_sensor_last_raise(s, &r, &err), 0);
  }
  oc_sensor_watch *w = NULL;
  assert_int_equal(oc_store_sensor_watch_list(s, &w, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_string_equal(w[0].last.device_id, devices[1]);
  assert_string_equal(w[1].last.device_id, devices[2]);
  assert_string_equal(w[2].last.device_id, devices[0]);
  free(w);
  oc_store_close(s);
}

/* A device whose site is not UTF-8 (a Latin-1 terminal's "café") is refused with the same words on
 * every backend, before the store sees it (PostgreSQL's text refuses it, SQLite's would keep bytes no
 * JSON answer can carry); UTF-8 is kept as given. */
static void test_device_site_must_be_utf8(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  oc_device d = {.id = "tank-7", .site = "caf\xe9", .type = "tank_level", .unit = "m", .valid_min = 0,
                 .valid_max = 30, .interval_seconds = 60, .created_at = 1,
                 .password_hash = "$7$101$c2FsdHNhbHRzYWx0$aGFzaA=="};
  assert_int_equal(oc_store_device_put(s, &d, &err), -1);
  assert_string_equal(err.message, "device 'tank-7': site must be UTF-8 text without control characters");
  bool found;
  oc_device got;
  assert_int_equal(oc_store_device_get(s, "tank-7", &got, &found, &err), 0);
  assert_false(found);
  snprintf(d.site, sizeof d.site, "caf\xc3\xa9");
  assert_int_equal(oc_store_device_put(s, &d, &err), 0);
  assert_int_equal(oc_store_device_get(s, "tank-7", &got, &found, &err), 0);
  assert_true(found);
  assert_string_equal(got.site, "caf\xc3\xa9");
  oc_store_close(s);
}

/* A sensor reading whose value is not finite is refused with the same words on every backend (SQLite's
 * INSERT OR IGNORE took NaN's NULL for a reading stored already and answered "not inserted", as for a
 * redelivery; PostgreSQL refused it with its own words), and nothing is stored. */
static void test_sensor_reading_not_finite_refused_alike(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  const double values[] = {NAN, INFINITY, -INFINITY};
  for (size_t i = 0; i < 3; i++) {
    oc_sensor_reading r = {.device_id = "tank-7", .measurement = "level", .unit = "m", .seq = 5, .event_ms = 1000,
                           .value = values[i]};
    bool inserted = true;
    assert_int_equal(oc_store_sensor_reading_insert(s, &r, false, &inserted, &err), -1);
    assert_false(inserted);
    const char *tail = strstr(err.message, ": sensor reading tank-7/level seq 5: value ");
    if (!tail) fail_msg("unexpected message: %s", err.message);
    assert_non_null(strstr(tail, " is not finite"));
  }
  oc_sensor_reading got;
  bool found;
  assert_int_equal(oc_store_sensor_reading_get(s, "tank-7", 5, "level", &got, &found, &err), 0);
  assert_false(found);
  oc_store_close(s);
}

/* A sensor anomaly whose value is not finite, or whose score is not a number, is refused with the same
 * words on every backend and nothing is stored (SQLite's INSERT OR IGNORE took NaN's NULL for a row it
 * may skip and answered 0, "not inserted": the anomaly was gone without a word, where PostgreSQL
 * refused it). An infinite score is stored on both. */
static void test_sensor_anomaly_not_a_number_refused_alike(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store *s = open_ok(f);
  const struct {
    double value, score;
    const char *why;
  } bad[] = {{NAN, 7, ": value nan is not finite"},
             {-INFINITY, 7, ": value -inf is not finite"},
             {12.5, NAN, ": score is not a number"}};
  oc_sensor_anomaly got;
  bool inserted, found;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    oc_sensor_anomaly a = {.device_id = "tank-7", .measurement = "level", .kind = "spike", .event_ms = 1000, .seq = 5,
                           .detected_ms = 2000, .value = bad[i].value, .score = bad[i].score};
    inserted = true;
    assert_int_equal(oc_store_sensor_anomaly_insert(s, &a, &inserted, &err), -1);
    assert_false(inserted);
    const char *tail = strstr(err.message, ": sensor anomaly tank-7/level spike at 1000");
    if (!tail || strcmp(tail + strlen(": sensor anomaly tank-7/level spike at 1000"), bad[i].why) != 0)
      fail_msg("unexpected message: %s", err.message);
    assert_int_equal(oc_store_sensor_anomaly_get(s, "tank-7", "level", "spike", 1000, &got, &found, &err), 0);
    assert_false(found);
  }
  oc_sensor_anomaly a = {.device_id = "tank-7", .measurement = "level", .kind = "spike", .event_ms = 1000, .seq = 5,
                         .detected_ms = 2000, .value = 12.5, .score = INFINITY};
  assert_int_equal(oc_store_sensor_anomaly_insert(s, &a, &inserted, &err), 0);
  assert_true(inserted);
  assert_int_equal(oc_store_sensor_anomaly_get(s, "tank-7", "level", "spike", 1000, &got, &found, &err), 0);
  assert_true(found && got.value == 12.5 && isinf(got.score) && got.score > 0);
  oc_store_close(s);
}

/* Stores r in a transaction of its own, as the stream does; the insert's return, err set. */
static int insert_reading_alone(oc_store *s, const oc_sensor_reading *r, oc_error *err) {
  bool inserted;
  oc_error ignored;
  assert_int_equal(oc_store_begin(s, &ignored), 0);
  int rc = oc_store_sensor_reading_insert(s, r, false, &inserted, err);
  if (rc == 0) assert_int_equal(oc_store_commit(s, &ignored), 0);
  else assert_int_equal(oc_store_rollback(s, &ignored), 0);
  return rc;
}

/* A write the store refuses for its data (a constraint it breaks, a value that is not finite) fails with
 * an error of kind OC_ERROR_INVALID on every backend, which the stream takes for a message to
 * dead-letter rather than retry for ever; a failure for another reason (here a trigger that raises,
 * standing in for a store away) is of another kind, which the stream retries. */
static void test_refused_data_is_its_own_kind(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_store_close(open_ok(f)); /* the schema, then a constraint and a failing trigger of the test's */
  if (f->db)
    raw_exec(f->db, "CREATE TRIGGER refuse_seq_21 BEFORE INSERT ON sensor_readings WHEN NEW.seq = 21"
                    " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
                    "CREATE TRIGGER fail_seq_20 BEFORE INSERT ON sensor_readings WHEN NEW.seq = 20"
                    " BEGIN SELECT json('the store fails for the test'); END;");
  else
    raw_pg_exec(f->uri, "ALTER TABLE sensor_readings ADD CONSTRAINT refused_by_the_test CHECK (seq <> 21);"
                        "CREATE FUNCTION fail_for_the_test() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                        " IF NEW.seq = 20 THEN RAISE EXCEPTION 'the store fails for the test'; END IF;"
                        " RETURN NEW; END $$;"
                        "CREATE TRIGGER fail_seq_20 BEFORE INSERT ON sensor_readings FOR EACH ROW"
                        " EXECUTE FUNCTION fail_for_the_test();");
  oc_store *s = open_ok(f);
  oc_sensor_reading r = {.device_id = "tank-7", .measurement = "level", .unit = "m", .seq = 21, .event_ms = 1000,
                         .value = 5};
  assert_int_equal(insert_reading_alone(s, &r, &err), -1);
  if (err.kind != OC_ERROR_INVALID) fail_msg("a constraint broken: kind %d: %s", (int)err.kind, err.message);
  r.seq = 22, r.value = NAN;
  assert_int_equal(insert_reading_alone(s, &r, &err), -1);
  assert_int_equal(err.kind, OC_ERROR_INVALID);
  r.seq = 20, r.value = 5;
  assert_int_equal(insert_reading_alone(s, &r, &err), -1);
  if (err.kind == OC_ERROR_INVALID) fail_msg("a failure not of the data's making taken for one: %s", err.message);
  r.seq = 22;
  assert_int_equal(insert_reading_alone(s, &r, &err), 0);
  oc_store_close(s);
}

/* The suite every backend runs. */
static const struct CMUnitTest backend_suite[] = {
    cmocka_unit_test_setup_teardown(test_open_fresh_and_reopen, setup, teardown),
    cmocka_unit_test_setup_teardown(test_series_ensure_and_list, setup, teardown),
    cmocka_unit_test_setup_teardown(test_upsert_counts_and_load, setup, teardown),
    cmocka_unit_test_setup_teardown(test_upsert_large_batches, setup, teardown),
    cmocka_unit_test_setup_teardown(test_transactions_and_atomic_ops, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bulk_load_in_a_transaction, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bulk_load_rolled_back, setup, teardown),
    cmocka_unit_test_setup_teardown(test_ingest_run_record, setup, teardown),
    cmocka_unit_test_setup_teardown(test_ingest_runs_after, setup, teardown),
    cmocka_unit_test_setup_teardown(test_ingest_run_series_failure_leaves_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown(test_import_records_its_series, setup, teardown),
    cmocka_unit_test_setup_teardown(test_changes_name_each_write_once, setup, teardown),
    cmocka_unit_test_setup_teardown(test_changes_rolled_back_are_not_recorded, setup, teardown),
    cmocka_unit_test_setup_teardown(test_changes_wait_times_out, setup, teardown),
    cmocka_unit_test_setup_teardown(test_changes_wait_wakes_on_another_process_commit, setup, teardown),
    cmocka_unit_test_setup_teardown(test_changes_wait_interrupted_from_another_thread, setup, teardown),
    cmocka_unit_test_setup_teardown(test_writer_waits_by_policy_and_readers_never_wait, setup, teardown),
    cmocka_unit_test_setup_teardown(test_writers_of_one_process_queue, setup, teardown),
    cmocka_unit_test_setup_teardown(test_every_op_is_filled, setup, teardown),
    cmocka_unit_test_setup_teardown(test_schema_13_to_17_ops, setup, teardown),
    cmocka_unit_test_setup_teardown(test_schema_18_ops, setup, teardown),
    cmocka_unit_test_setup_teardown(test_latest_forecast_is_never_a_shadow, setup, teardown),
    cmocka_unit_test_setup_teardown(test_forecasts_save_champion_and_shadow_in_order, setup, teardown),
    cmocka_unit_test_setup_teardown(test_schema_21_backtest_years, setup, teardown),
    cmocka_unit_test_setup_teardown(test_dead_letters_keyed, setup, teardown),
    cmocka_unit_test_setup_teardown(test_forecasts_save_all_or_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown(test_infinite_figures_stored_alike, setup, teardown),
    cmocka_unit_test_setup_teardown(test_text_lists_in_byte_order, setup, teardown),
    cmocka_unit_test_setup_teardown(test_device_site_must_be_utf8, setup, teardown),
    cmocka_unit_test_setup_teardown(test_sensor_reading_not_finite_refused_alike, setup, teardown),
    cmocka_unit_test_setup_teardown(test_sensor_anomaly_not_a_number_refused_alike, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refused_data_is_its_own_kind, setup, teardown),
};

/* The SQLite backend's own: schema migrations on raw files. */
static const struct CMUnitTest sqlite_suite[] = {
    cmocka_unit_test_setup_teardown(test_migrates_old_schema_keeping_data, setup, teardown),
    cmocka_unit_test_setup_teardown(test_forecast_origin_price, setup, teardown),
    cmocka_unit_test_setup_teardown(test_failed_migration_rolls_back, setup, teardown),
    cmocka_unit_test_setup_teardown(test_rejects_newer_schema, setup, teardown),
    cmocka_unit_test_setup_teardown(test_migration_22_merges_dead_letters, setup, teardown),
};

/* Doubles come back bit-identical, as from SQLite, from a server whose sessions round them for text
 * (extra_float_digits = 0 in its configuration or the role's: 15 significant digits). */
static void test_pg_doubles_exact_whatever_the_server_rounds(void **state) {
  fixture *f = *state;
  oc_error err;
  char *hole = strstr(f->uri, "options=");
  assert_non_null(hole);
  oc_buf uri = {0};
  oc_buf_printf(&uri, "%.*soptions=-cextra_float_digits%%3D0%%20%s", (int)(hole - f->uri), f->uri,
                hole + strlen("options="));
  oc_store *s = oc_store_open(uri.data, &err);
  if (!s) fail_msg("open failed: %s", err.message);
  int64_t id;
  assert_int_equal(oc_store_series_ensure(s, "WTI", "", "", &id, &err), 0);
  oc_observation obs[] = {{id, D("2024-01-02"), 0.1 + 0.2}, {id, D("2024-01-03"), 1.0 / 3}};
  oc_upsert_counts c;
  assert_int_equal(oc_store_observations_upsert(s, obs, 2, "t", 1, &c, &err), 0);
  oc_series series;
  assert_int_equal(oc_store_series_load(s, "WTI", OC_DATE_INVALID, OC_DATE_INVALID, &series, &err), 0);
  assert_int_equal(series.n, 2);
  for (size_t i = 0; i < 2; i++) assert_true(series.values[i] == obs[i].value);
  oc_series_free(&series);
  oc_store_close(s);
  oc_buf_free(&uri);
}

/* The PostgreSQL backend's own. */
static const struct CMUnitTest postgresql_suite[] = {
    cmocka_unit_test_setup_teardown(test_pg_concurrent_opens_migrate_once, setup, teardown),
    cmocka_unit_test_setup_teardown(test_pg_reconnects_after_a_lost_connection, setup, teardown),
    cmocka_unit_test_setup_teardown(test_pg_changes_wait_misses_no_notify, setup, teardown),
    cmocka_unit_test_setup_teardown(test_pg_large_upsert_through_copy, setup, teardown),
    cmocka_unit_test_setup_teardown(test_pg_bulk_load_defers_the_key, setup, teardown),
    cmocka_unit_test_setup_teardown(test_pg_copied_rows_then_upsert, setup, teardown),
    cmocka_unit_test_setup_teardown(test_pg_copy_round_trip, setup, teardown),
    cmocka_unit_test_setup_teardown(test_pg_migration_22_merges_dead_letters, setup, teardown),
    cmocka_unit_test_setup_teardown(test_pg_doubles_exact_whatever_the_server_rounds, setup, teardown),
};

static const struct CMUnitTest backend_free_suite[] = {
    cmocka_unit_test(test_open_rejects_unknown_uris),
    cmocka_unit_test(test_series_name_rules),
};

int main(void) {
  int failed = cmocka_run_group_tests_name("store", backend_free_suite, NULL, NULL);
  size_t n;
  const oc_store_backend *backends = oc_store_backends(&n);
  for (size_t i = 0; i < n; i++) {
    backend_under_test = &backends[i];
    char env[64], group[64];
    snprintf(env, sizeof env, "OILCAST_TEST_STORE_");
    for (const char *c = backends[i].scheme; *c && strlen(env) + 1 < sizeof env; c++)
      env[strlen(env) + 1] = '\0', env[strlen(env)] = (char)toupper((unsigned char)*c);
    uri_template = getenv(env);
    char *started = NULL; /* PostgreSQL: one server of our own for this run, when none is given */
    if (!uri_template && strcmp(backends[i].scheme, "postgresql") == 0)
      uri_template = started = oc_test_pg_store_template("oilcast_test");
    if (!backends[i].scratch_uri && (!uri_template || !strstr(uri_template, "%s"))) {
      printf("store backend %s: skipped (set %s to a URI template with %%s for a fresh store name)\n",
             backends[i].scheme, env);
      continue;
    }
    snprintf(group, sizeof group, "store backend %s", backends[i].scheme);
    failed += _cmocka_run_group_tests(group, backend_suite, sizeof backend_suite / sizeof backend_suite[0], NULL, NULL);
    if (strcmp(backends[i].scheme, "postgresql") == 0)
      failed += cmocka_run_group_tests_name("store postgresql", postgresql_suite, NULL, NULL);
    free(started);
  }
  for (size_t i = 0; i < n; i++) {
    backend_under_test = &backends[i];
    if (strcmp(backends[i].scheme, "sqlite") == 0)
      failed += cmocka_run_group_tests_name("store sqlite", sqlite_suite, NULL, NULL);
  }
  return failed;
}
