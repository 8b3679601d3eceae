/* The one ingest path (ingest/batch.h) through the library: a source's rows are validated with their
 * position named, the conflict policy counts inserts, revisions and unchanged rows, a failed batch
 * leaves nothing (no rows, no series, no run, no lineage copy), the run record carries its per-series
 * rows, and the file import and the HTTP observations route, both callers of the batch, count the same
 * data the same way. Then the pipeline step (pipeline/ingest.h): its source table and lineage zones. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "ingest/batch.h"
#include "ingest/import.h"
#include "pipeline/ingest.h"
#include "keys/apikey.h"
#include "serve/server.h"
#include "store/datadir.h"

#define D(text) oc_test_date(text)

static oc_date oc_test_date(const char *text) {
  oc_date d;
  if (oc_date_parse(text, strlen(text), &d, NULL) != 0) fail_msg("bad test date %s", text);
  return d;
}

typedef oc_test_datadir_fixture fixture;

/* ---- a source of rows held in memory ---------------------------------------------------------- */

typedef struct test_row {
  const char *series;
  oc_date date;
  double value;
  const char *unparsable; /* non-NULL: the source could not parse the row (this is why) */
} test_row;

typedef struct memory_source {
  const test_row *rows;
  size_t n;
  bool break_off; /* the source fails after handing over every row */
} memory_source;

static int read_memory(void *source, oc_ingest_sink *sink, oc_error *err) {
  const memory_source *m = source;
  for (size_t i = 0; i < m->n; i++) {
    const test_row *r = &m->rows[i];
    if (r->unparsable) oc_ingest_reject(sink, i + 1, "value", "%s", r->unparsable);
    else if (oc_ingest_add(sink, i + 1, r->series, strlen(r->series), r->date, r->value) != 0) return -1;
  }
  return m->break_off ? oc_error_set(err, "the source broke off") : 0;
}

static int run_batch(fixture *f, memory_source *m, oc_on_error on_error, const char *raw_dir, oc_ingest_report *rep,
                     oc_error *err) {
  static const char raw[] = "the input as received";
  oc_ingest_batch_options opt = {.read = read_memory, .source = m, .source_kind = "test", .origin = "memory",
                                 .unit = "USD/bbl", .on_error = on_error, .raw = raw, .raw_len = sizeof raw - 1,
                                 .raw_dir = raw_dir, .raw_ext = "txt"};
  return oc_ingest_batch(f->store, &opt, rep, err);
}

static int64_t stored_rows(fixture *f) {
  int64_t n;
  oc_error err;
  if (oc_store_observations_count(f->store, &n, &err) != 0) fail_msg("%s", err.message);
  return n;
}

static size_t run_count(fixture *f) {
  oc_ingest_run_info *runs;
  size_t n;
  int64_t newest;
  oc_error err;
  if (oc_store_ingest_runs_after(f->store, 0, 100, 0, &runs, &n, &newest, &err) != 0) fail_msg("%s", err.message);
  oc_ingest_run_info_list_free(runs, n);
  return n;
}

static void test_validation_names_each_bad_row(void **state) {
  fixture *f = *state;
  const test_row rows[] = {
      {"WTI", D("2024-01-02"), 70.5, NULL},
      {"W T I", D("2024-01-03"), 71, NULL},        /* 2: bad series name */
      {"WTI", OC_DATE_INVALID, 71, NULL},          /* 3: no date */
      {"WTI", D("2024-01-04"), NAN, NULL},         /* 4: not finite */
      {"WTI", D("2024-01-05"), INFINITY, NULL},    /* 5: not finite */
      {"WTI", D("2024-01-02"), 70.6, NULL},        /* 6: duplicate of row 1 */
      {"WTI", 0, 0, "the source's own reason"},    /* 7: unparsable */
      {"BRENT", D("2024-01-02"), -1.5, NULL},      /* 8: same date, another series: fine; negative */
  };
  memory_source m = {rows, sizeof rows / sizeof rows[0], false};
  oc_ingest_report rep;
  oc_error err;
  assert_int_equal(run_batch(f, &m, OC_ON_ERROR_ABORT, NULL, &rep, &err), -1);
  assert_false(rep.written);
  assert_int_equal(rep.rows_read, 8);
  assert_int_equal(rep.rows_rejected, 6);
  assert_int_equal(rep.nproblems, 6);
  const size_t where[] = {2, 3, 4, 5, 6, 7};
  const char *const field[] = {NULL, "date", "value", "value", NULL, "value"};
  const char *const words[] = {"bad series 'W T I'", "date out of range", "not a finite number",
                               "not a finite number", "duplicate date 2024-01-02 for series WTI",
                               "the source's own reason"};
  for (size_t i = 0; i < 6; i++) {
    assert_int_equal(rep.problems[i].where, where[i]);
    if (field[i]) assert_string_equal(rep.problems[i].field, field[i]);
    else assert_null(rep.problems[i].field);
    assert_true(rep.problems[i].duplicate == (i == 4));
    if (!strstr(rep.problems[i].reason, words[i]))
      fail_msg("row %zu: '%s' lacks '%s'", where[i], rep.problems[i].reason, words[i]);
  }
  assert_int_equal(rep.negative_values, 1);
  assert_int_equal(rep.negatives[0].where, 8);
  assert_string_equal(rep.negatives[0].series, "BRENT");
  assert_non_null(strstr(err.message, "memory: 6 of 8 rows rejected; nothing written"));
  assert_int_equal(stored_rows(f), 0);
  oc_ingest_report_free(&rep);

  /* Skip: the two good rows commit, the bad ones are still listed. */
  assert_int_equal(run_batch(f, &m, OC_ON_ERROR_SKIP, NULL, &rep, &err), 0);
  assert_true(rep.written);
  assert_int_equal(rep.rows_inserted, 2);
  assert_int_equal(rep.rows_rejected, 6);
  assert_int_equal(stored_rows(f), 2);
  oc_ingest_report_free(&rep);
}

/* Skip with bad rows and not one good row (here the batch's own refusals: a price outside the default
 * range, the same date twice, and a row the source could not parse): nothing to write, so nothing is
 * written, as under abort: -1 saying so, no series (it was once left, empty, with an "ok" run), no raw
 * copy, a "rejected" run. Staged (file imports) and not. */
static void test_skip_with_no_usable_row_writes_nothing(void **state) {
  fixture *f = *state;
  const test_row rows[] = {{"NEW", D("2024-01-02"), 1e300, NULL},
                           {"NEW", D("2024-01-03"), 0, "not a number"},
                           {"NEW", D("2024-01-04"), 2e300, NULL}};
  memory_source m = {rows, 3, false};
  char *raw_dir = oc_path_join(f->dir, "raw/historical_data");
  static const char raw[] = "the input as received";
  for (int stage = 0; stage < 2; stage++) {
    oc_ingest_batch_options opt = {.read = read_memory, .source = &m, .source_kind = "test", .origin = "memory",
                                   .unit = "USD/bbl", .on_error = OC_ON_ERROR_SKIP, .raw = raw,
                                   .raw_len = sizeof raw - 1, .raw_dir = raw_dir, .raw_ext = "txt", .stage = stage};
    oc_ingest_report rep;
    oc_error err;
    assert_int_equal(oc_ingest_batch(f->store, &opt, &rep, &err), -1);
    assert_string_equal(err.message, "memory: no row was usable (3 of 3 rows rejected, 0 missing); nothing written");
    assert_false(rep.written);
    assert_int_equal(rep.rows_rejected, 3);
    assert_int_equal(rep.nproblems, 3);
    if (*rep.raw_path) assert_false(oc_path_exists(rep.raw_path));
    oc_ingest_report_free(&rep);
    bool found = true;
    oc_series_info info;
    assert_int_equal(oc_store_series_get(f->store, "NEW", &info, &found, &err), 0);
    assert_false(found);
    assert_int_equal(stored_rows(f), 0);
    oc_ingest_run_info *runs;
    size_t n;
    int64_t newest;
    assert_int_equal(oc_store_ingest_runs_after(f->store, 0, 100, 0, &runs, &n, &newest, &err), 0);
    assert_int_equal(n, (size_t)stage + 1);
    assert_string_equal(runs[n - 1].status, "rejected");
    oc_ingest_run_info_list_free(runs, n);
  }
  free(raw_dir);
}

static void test_conflict_policy_counts(void **state) {
  fixture *f = *state;
  const test_row first[] = {{"WTI", D("2024-01-02"), 70.5, NULL}, {"WTI", D("2024-01-03"), 71, NULL}};
  const test_row second[] = {{"WTI", D("2024-01-02"), 70.5, NULL},  /* same value: unchanged */
                             {"WTI", D("2024-01-03"), 71.25, NULL}, /* different: a revision */
                             {"WTI", D("2024-01-04"), 72, NULL}};   /* new */
  memory_source m1 = {first, 2, false}, m2 = {second, 3, false};
  oc_ingest_report rep;
  oc_error err;
  assert_int_equal(run_batch(f, &m1, OC_ON_ERROR_ABORT, NULL, &rep, &err), 0);
  assert_int_equal(rep.rows_inserted, 2);
  oc_ingest_report_free(&rep);
  assert_int_equal(run_batch(f, &m2, OC_ON_ERROR_ABORT, NULL, &rep, &err), 0);
  assert_int_equal(rep.rows_inserted, 1);
  assert_int_equal(rep.rows_updated, 1);
  assert_int_equal(rep.rows_unchanged, 1);
  oc_ingest_report_free(&rep);
  oc_series s;
  assert_int_equal(oc_store_series_load(f->store, "WTI", OC_DATE_INVALID, OC_DATE_INVALID, &s, &err), 0);
  assert_int_equal(s.n, 3);
  assert_true(s.values[1] == 71.25);
  oc_series_free(&s);
}

/* A source that fails after its rows went in: no row, no new series, no run, no lineage copy. */
static void test_failed_batch_leaves_nothing(void **state) {
  fixture *f = *state;
  const test_row rows[] = {{"NEW", D("2024-01-02"), 1, NULL}, {"NEW", D("2024-01-03"), 2, NULL}};
  memory_source m = {rows, 2, true};
  char *raw_dir = oc_path_join(f->dir, "raw/market_data");
  oc_ingest_report rep;
  oc_error err;
  assert_int_equal(run_batch(f, &m, OC_ON_ERROR_ABORT, raw_dir, &rep, &err), -1);
  assert_string_equal(err.message, "the source broke off");
  assert_false(rep.written);
  assert_int_equal(run_count(f), 0);
  assert_int_equal(stored_rows(f), 0);
  bool found = true;
  oc_series_info info;
  assert_int_equal(oc_store_series_get(f->store, "NEW", &info, &found, &err), 0);
  assert_false(found);
  if (*rep.raw_path) assert_false(oc_path_exists(rep.raw_path));
  oc_ingest_report_free(&rep);

  /* The same rows, committed: the lineage copy is kept (content-addressed) and named in the report. */
  m.break_off = false;
  assert_int_equal(run_batch(f, &m, OC_ON_ERROR_ABORT, raw_dir, &rep, &err), 0);
  assert_non_null(strstr(rep.raw_path, rep.sha256));
  assert_non_null(strstr(rep.raw_path, "raw/market_data/"));
  assert_true(oc_path_exists(rep.raw_path));
  oc_ingest_report_free(&rep);
  free(raw_dir);
}

/* The store's upsert, failing at its fail_at-th call (counted from 1) after passing the others on. */
static const oc_store_ops *real_ops;
static int upsert_calls, upsert_fail_at;

static int failing_upsert(oc_store *s, const oc_observation *obs, size_t n, const char *source, int64_t now,
                          oc_upsert_counts *counts, oc_error *err) {
  if (++upsert_calls == upsert_fail_at) return oc_error_set(err, "upsert %d refused", upsert_calls);
  return real_ops->observations_upsert(s, obs, n, source, now, counts, err);
}

/* Chunks are written on the writer thread while the next is read (chunk_rows = 5 here, 65536 by
 * default): every row lands, counted once, also when a series first appears after several chunks (the
 * reading side takes the store back for it); a chunk the store refuses on the writer thread fails
 * the batch with the store's message and leaves nothing. */
static void test_chunks_written_while_reading(void **state) {
  fixture *f = *state;
  enum { DAYS = 40 };
  test_row rows[3 * DAYS];
  size_t n = 0;
  for (int d = 0; d < DAYS; d++) {
    oc_date day = D("2024-01-01") + d;
    rows[n++] = (test_row){"A", day, 50 + d, NULL};
    rows[n++] = (test_row){"B", day, 60 + d, NULL};
    if (d >= DAYS / 2) rows[n++] = (test_row){"LATE", day, 70 + d, NULL};
  }
  memory_source m = {rows, n, false};
  oc_ingest_batch_options opt = {.read = read_memory, .source = &m, .source_kind = "test", .origin = "memory",
                                 .unit = "USD/bbl", .on_error = OC_ON_ERROR_ABORT, .chunk_rows = 5};
  oc_ingest_report rep;
  oc_error err;

  oc_store_ops failing = *f->store->ops;
  real_ops = f->store->ops;
  failing.observations_upsert = failing_upsert;
  upsert_calls = 0;
  upsert_fail_at = 4;
  f->store->ops = &failing;
  int rc = oc_ingest_batch(f->store, &opt, &rep, &err);
  f->store->ops = real_ops;
  assert_int_equal(rc, -1);
  assert_string_equal(err.message, "upsert 4 refused");
  assert_false(rep.written);
  oc_ingest_report_free(&rep);
  assert_int_equal(stored_rows(f), 0);
  assert_int_equal(run_count(f), 0);

  assert_int_equal(oc_ingest_batch(f->store, &opt, &rep, &err), 0);
  assert_int_equal(rep.rows_read, (int64_t)n);
  assert_int_equal(rep.rows_inserted, (int64_t)n);
  assert_int_equal(rep.nseries, 3);
  oc_ingest_report_free(&rep);
  assert_int_equal(stored_rows(f), (int64_t)n);
  oc_series late;
  assert_int_equal(oc_store_series_load(f->store, "LATE", OC_DATE_INVALID, OC_DATE_INVALID, &late, &err), 0);
  assert_int_equal(late.n, DAYS / 2);
  assert_true(late.dates[0] == D("2024-01-01") + DAYS / 2 && late.values[late.n - 1] == 70 + DAYS - 1);
  oc_series_free(&late);
  m.n = n / 2; /* again, half of it: every row unchanged */
  assert_int_equal(oc_ingest_batch(f->store, &opt, &rep, &err), 0);
  assert_int_equal(rep.rows_unchanged, (int64_t)n / 2);
  assert_int_equal(rep.rows_inserted + rep.rows_updated, 0);
  oc_ingest_report_free(&rep);
}

/* A source that syncs after its rows and looks into the store before the batch commits. */
typedef struct syncing_source {
  memory_source rows;
  oc_store *store;
  int64_t seen_after_sync; /* observations the batch's own connection sees after oc_ingest_sync */
} syncing_source;

static int read_then_sync(void *source, oc_ingest_sink *sink, oc_error *err) {
  syncing_source *s = source;
  if (read_memory(&s->rows, sink, err) != 0 || oc_ingest_sync(sink) != 0) return -1;
  return oc_store_observations_count(s->store, &s->seen_after_sync, err);
}

/* oc_ingest_sync writes every row added so far into the batch's transaction, the chunk still being
 * filled included (the market source puts its rows in while its raw zone is still being written, and
 * commits after), and the batch's end writes nothing twice. */
static void test_sync_writes_the_rows_added_so_far(void **state) {
  fixture *f = *state;
  const test_row rows[] = {{"WTI", D("2024-01-02"), 70.5, NULL}, {"WTI", D("2024-01-03"), 71, NULL},
                           {"BRENT", D("2024-01-02"), 75, NULL}};
  syncing_source src = {.rows = {rows, 3, false}, .store = f->store, .seen_after_sync = -1};
  oc_ingest_batch_options opt = {.read = read_then_sync, .source = &src, .source_kind = "test", .origin = "memory",
                                 .unit = "USD/bbl", .on_error = OC_ON_ERROR_ABORT};
  oc_ingest_report rep;
  oc_error err;
  assert_int_equal(oc_ingest_batch(f->store, &opt, &rep, &err), 0);
  assert_int_equal(src.seen_after_sync, 3); /* one chunk of 65,536 rows: none was written before the sync */
  assert_int_equal(rep.rows_inserted, 3);
  assert_int_equal(rep.rows_unchanged + rep.rows_updated, 0);
  oc_ingest_report_free(&rep);
  assert_int_equal(stored_rows(f), 3);
}

static void test_run_record_with_its_series(void **state) {
  fixture *f = *state;
  const test_row rows[] = {{"WTI", D("2024-01-03"), 71, NULL},
                           {"BRENT", D("2024-01-02"), 75, NULL},
                           {"WTI", D("2024-01-02"), 70.5, NULL}, /* unsorted: the latest date is still 01-03 */
                           {"BRENT", D("2024-01-04"), 76.5, NULL}};
  memory_source m = {rows, 4, false};
  oc_ingest_report rep;
  oc_error err;
  assert_int_equal(run_batch(f, &m, OC_ON_ERROR_ABORT, NULL, &rep, &err), 0);
  assert_int_equal(rep.nseries, 2);
  oc_ingest_run_info *runs;
  size_t n;
  int64_t newest;
  assert_int_equal(oc_store_ingest_runs_after(f->store, 0, 10, 4, &runs, &n, &newest, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(runs[0].id, rep.run_id);
  assert_string_equal(runs[0].source_kind, "test");
  assert_string_equal(runs[0].status, "ok");
  assert_int_equal(runs[0].rows_inserted, 4);
  assert_int_equal(runs[0].nseries, 2);
  assert_string_equal(runs[0].series[0].name, "BRENT");
  assert_int_equal(runs[0].series[0].rows, 2);
  assert_int_equal(runs[0].series[0].last_date, D("2024-01-04"));
  assert_true(runs[0].series[0].last_value == 76.5);
  assert_string_equal(runs[0].series[1].name, "WTI");
  assert_int_equal(runs[0].series[1].last_date, D("2024-01-03"));
  assert_true(runs[0].series[1].last_value == 71);
  oc_ingest_run_info_list_free(runs, n);
  oc_ingest_report_free(&rep);

  /* A rejected batch is logged too, as rejected. */
  const test_row bad[] = {{"WTI", OC_DATE_INVALID, 1, NULL}};
  memory_source mb = {bad, 1, false};
  assert_int_equal(run_batch(f, &mb, OC_ON_ERROR_ABORT, NULL, &rep, &err), -1);
  assert_true(rep.run_id > 0);
  assert_int_equal(run_count(f), 2);
  oc_ingest_report_free(&rep);
}

/* ---- both callers: the file import and the HTTP route ----------------------------------------- */

static size_t collect(char *data, size_t size, size_t n, void *userdata) {
  oc_buf_append(userdata, data, size * n);
  return size * n;
}

/* POSTs body to the observations route; returns the status and the answer in *answer. */
static long post_observations(const char *url, const char *key, const char *body, json_t **answer) {
  CURL *curl = curl_easy_init();
  oc_buf out = {0}, auth = {0};
  oc_buf_printf(&auth, "Authorization: Bearer %s", key);
  struct curl_slist *headers = curl_slist_append(NULL, auth.data);
  headers = curl_slist_append(headers, "Content-Type: application/json");
  char target[128];
  snprintf(target, sizeof target, "%s/v1/series/WTI/observations", url);
  curl_easy_setopt(curl, CURLOPT_URL, target);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
  assert_int_equal(curl_easy_perform(curl), CURLE_OK);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  *answer = json_loadb(out.data, out.len, 0, NULL);
  assert_non_null(*answer);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  oc_buf_free(&out);
  oc_buf_free(&auth);
  return status;
}

static void test_file_and_http_count_alike(void **state) {
  fixture *f = *state; /* the file import's store */
  oc_store *http_store;
  char *http_dir = oc_test_datadir("ingest-http", &http_store);
  oc_error err;
  int64_t id;
  assert_int_equal(oc_store_series_ensure(http_store, "WTI", "USD/bbl", "historical", &id, &err), 0);
  char key[OC_APIKEY_LEN + 1];
  assert_int_equal(oc_apikey_create(http_store, "writer", OC_SCOPE_WRITE, NULL, key, &err), 0);
  char url[64];
  oc_server *server = oc_test_server_start(http_dir, url);

  struct {
    const char *csv, *json;
    int64_t inserted, updated, unchanged;
  } steps[] = {
      {"Date,Price\n2024-01-02,70.5\n2024-01-03,71\n2024-01-04,-0.25\n",
       "{\"observations\":[{\"date\":\"2024-01-02\",\"value\":70.5},{\"date\":\"2024-01-03\",\"value\":71},"
       "{\"date\":\"2024-01-04\",\"value\":-0.25}]}",
       3, 0, 0},
      {"Date,Price\n2024-01-03,71\n2024-01-04,0.1\n2024-01-05,0.30000000000000004\n",
       "{\"observations\":[{\"date\":\"2024-01-03\",\"value\":71},{\"date\":\"2024-01-04\",\"value\":0.1},"
       "{\"date\":\"2024-01-05\",\"value\":0.30000000000000004}]}",
       1, 1, 1},
  };
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    char *path = oc_test_write_file(f->dir, "step.csv", steps[i].csv);
    oc_import_options opt;
    oc_import_options_init(&opt);
    opt.path = path;
    oc_import_report rep;
    assert_int_equal(oc_import_file(f->store, &opt, &rep, &err), 0);
    json_t *answer;
    assert_int_equal(post_observations(url, key, steps[i].json, &answer), 200);
    json_int_t inserted, updated, unchanged;
    assert_int_equal(json_unpack(answer, "{s:I,s:I,s:I}", "inserted", &inserted, "updated", &updated, "unchanged",
                                 &unchanged), 0);
    assert_int_equal(rep.rows_inserted, steps[i].inserted);
    assert_int_equal(rep.rows_updated, steps[i].updated);
    assert_int_equal(rep.rows_unchanged, steps[i].unchanged);
    assert_int_equal(inserted, rep.rows_inserted);
    assert_int_equal(updated, rep.rows_updated);
    assert_int_equal(unchanged, rep.rows_unchanged);
    json_decref(answer);
    oc_import_report_free(&rep);
    free(path);
  }
  /* The same bits in both stores: the route no longer turns numbers into text and back. */
  oc_series a, b;
  assert_int_equal(oc_store_series_load(f->store, "WTI", OC_DATE_INVALID, OC_DATE_INVALID, &a, &err), 0);
  assert_int_equal(oc_store_series_load(http_store, "WTI", OC_DATE_INVALID, OC_DATE_INVALID, &b, &err), 0);
  assert_int_equal(a.n, 4);
  assert_int_equal(b.n, a.n);
  for (size_t i = 0; i < a.n; i++) {
    assert_int_equal(a.dates[i], b.dates[i]);
    assert_memory_equal(&a.values[i], &b.values[i], sizeof(double));
  }
  oc_series_free(&a);
  oc_series_free(&b);

  /* The route's run records its series too (a running server skips "api" runs for its events). */
  oc_ingest_run_info *runs;
  size_t n;
  int64_t newest;
  assert_int_equal(oc_store_ingest_runs_after(http_store, 0, 10, 4, &runs, &n, &newest, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(runs[1].source_kind, "api");
  assert_int_equal(runs[1].nseries, 1);
  assert_int_equal(runs[1].series[0].last_date, D("2024-01-05"));
  oc_ingest_run_info_list_free(runs, n);

  /* A bad body: 422 naming each element its own way, nothing stored. */
  json_t *answer;
  const char *bad = "{\"observations\":[{\"date\":\"2024-01-08\",\"value\":1},{\"date\":\"2024-01-08\",\"value\":2},"
                    "{\"date\":\"2024-01-09\"},{\"date\":\"2024-01-10\",\"value\":1,\"x\":1}]}";
  assert_int_equal(post_observations(url, key, bad, &answer), 422);
  json_t *details = json_object_get(json_object_get(answer, "error"), "details");
  assert_int_equal(json_array_size(details), 3);
  const char *const expected[] = {"observations[0] and [1] both have date 2024-01-08",
                                  "observations[2].value: missing or not a number",
                                  "observations[3]: unknown field 'x'"};
  for (size_t i = 0; i < 3; i++) assert_string_equal(json_string_value(json_array_get(details, i)), expected[i]);
  json_decref(answer);
  int64_t count;
  assert_int_equal(oc_store_observations_count(http_store, &count, &err), 0);
  assert_int_equal(count, 4);

  oc_server_stop(server, 5);
  oc_store_close(http_store);
  oc_test_rmtree(http_dir);
  free(http_dir);
}

/* ---- the pipeline step ------------------------------------------------------------------------- */

static void test_pipeline_ingest_sources(void **state) {
  fixture *f = *state;
  char known[64];
  assert_true(oc_pipeline_ingest_source_known("historical", NULL, 0));
  assert_true(oc_pipeline_ingest_source_known("market", NULL, 0));
  assert_false(oc_pipeline_ingest_source_known("mqtt", known, sizeof known));
  assert_string_equal(known, "historical, simulated or market");

  char *path = oc_test_write_file(f->dir, "sim.csv", "date,value\n2024-01-02,50\n2024-01-03,51\n");
  oc_pipeline_ingest_options opt = oc_pipeline_ingest_options_default();
  opt.path = path;
  opt.source = "simulated";
  opt.series = "WTI-SIM";
  oc_pipeline_ingest_result result;
  oc_error err;
  assert_int_equal(oc_pipeline_ingest(f->dir, f->store, &opt, &result, &err), 0);
  assert_int_equal(result.report.rows_inserted, 2);
  assert_true(result.seconds >= 0);
  /* Simulated data keeps its lineage apart from real history, and says what it is. */
  char *zone = oc_path_join(f->dir, "raw/market_data/");
  assert_true(strncmp(result.report.raw_path, zone, strlen(zone)) == 0);
  free(zone);
  oc_pipeline_ingest_result_free(&result);
  bool found;
  oc_series_info info;
  assert_int_equal(oc_store_series_get(f->store, "WTI-SIM", &info, &found, &err), 0);
  assert_true(found);
  assert_string_equal(info.source, "simulated");
  oc_series_info_free(&info);

  opt = oc_pipeline_ingest_options_default();
  opt.path = path;
  opt.series = "WTI";
  assert_int_equal(oc_pipeline_ingest(f->dir, f->store, &opt, &result, &err), 0);
  zone = oc_path_join(f->dir, "raw/historical_data/");
  assert_true(strncmp(result.report.raw_path, zone, strlen(zone)) == 0);
  free(zone);
  oc_pipeline_ingest_result_free(&result);

  opt.source = "mqtt";
  assert_int_equal(oc_pipeline_ingest(f->dir, f->store, &opt, &result, &err), OC_PIPELINE_BAD_OPTION);
  assert_string_equal(err.message, "unknown ingest source 'mqtt' (known: historical, simulated or market)");
  oc_pipeline_ingest_result_free(&result);

  /* Bad rows come back in the result for the caller to list, with their lines. */
  char *bad = oc_test_write_file(f->dir, "bad.csv", "Date,Price\n2024-01-04,1\n2024-01-05,x\n");
  opt = oc_pipeline_ingest_options_default();
  opt.path = bad;
  assert_int_equal(oc_pipeline_ingest(f->dir, f->store, &opt, &result, &err), -1);
  assert_int_equal(result.report.nproblems, 1);
  assert_int_equal(result.report.problems[0].where, 3);
  assert_non_null(strstr(err.message, "nothing written"));
  oc_pipeline_ingest_result_free(&result);
  free(bad);
  free(path);
}

/* Each test on a fresh data directory. */
#define ON_DATADIR(test) cmocka_unit_test_setup_teardown(test, oc_test_datadir_setup, oc_test_datadir_teardown)

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      ON_DATADIR(test_validation_names_each_bad_row),
      ON_DATADIR(test_skip_with_no_usable_row_writes_nothing),
      ON_DATADIR(test_conflict_policy_counts),
      ON_DATADIR(test_failed_batch_leaves_nothing),
      ON_DATADIR(test_chunks_written_while_reading),
      ON_DATADIR(test_sync_writes_the_rows_added_so_far),
      ON_DATADIR(test_run_record_with_its_series),
      ON_DATADIR(test_file_and_http_count_alike),
      ON_DATADIR(test_pipeline_ingest_sources),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return failed;
}
