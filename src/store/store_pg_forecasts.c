/* store_pg_forecasts.c: the PostgreSQL side of stored forecasts and their points, their scores against
 * the prices that followed (one INSERT .. SELECT scores every newly scorable point; the rolling figures
 * are one window query, as in SQLite), and the scheduler's records (job_runs, job_state), where two
 * partial unique indexes do the claiming. Must not decide what a good score is or what a job's steps do. */
#include <assert.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_pg_internal.h"

/* ---- forecasts ---------------------------------------------------------------------------------- */

/* Appends rec's points to copy as COPY text rows of forecast_points (rec->id set). */
static void copy_points(oc_buf *copy, const oc_forecast_record *rec) {
  for (size_t i = 0; i < rec->n_points; i++) {
    const oc_stored_forecast_point *pt = &rec->points[i];
    oc_pg_params row = {0}; /* formats each value as a statement parameter would be */
    oc_pg_int(&row, rec->id);
    oc_pg_int(&row, (int64_t)i + 1);
    oc_pg_date(&row, pt->date);
    const double values[] = {pt->price, pt->lower80, pt->upper80, pt->lower95, pt->upper95};
    for (int k = 0; k < 5; k++) oc_pg_double(&row, values[k]);
    for (int c = 0; c < row.n; c++) {
      if (c) oc_buf_putc(copy, '\t');
      oc_buf_puts(copy, row.values[c] ? row.values[c] : "\\N"); /* numbers and dates: nothing to escape */
    }
    oc_buf_putc(copy, '\n');
  }
}

/* The forecast rows of a batch as one JSON array of objects (statement parameter $1 of
 * insert_forecasts): jansson escapes the texts and keeps every double to the bit (17 digits), an
 * unknown origin price is null. 0, or -1 with err when a text is not UTF-8 (which PostgreSQL would
 * refuse too). */
static int forecast_rows_json(const oc_pg_store *s, const oc_forecast_record *recs, size_t n, char **text,
                              oc_error *err) {
  json_t *rows = json_array();
  for (size_t i = 0; i < n; i++) {
    const oc_forecast_record *rec = &recs[i];
    char origin[OC_DATE_STRLEN];
    json_t *row = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "series", rec->series, "origin",
                            oc_date_format(rec->origin, origin), "horizon", (json_int_t)rec->n_points, "endpoint",
                            rec->endpoint, "variant", rec->variant, "model_version", rec->model_version, "model_kind",
                            rec->model_kind, "history", rec->history, "request_id", rec->request_id, "created_at",
                            (json_int_t)rec->created_at, "origin_price",
                            isfinite(rec->origin_price) ? json_real(rec->origin_price) : json_null());
    if (!row) {
      json_decref(rows);
      return oc_error_set(err, "store %s: storing forecast %zu of %zu (series %s): a text field is not valid UTF-8",
                          s->display, i + 1, n, rec->series);
    }
    json_array_append_new(rows, row);
  }
  *text = json_dumps(rows, JSON_COMPACT | JSON_REAL_PRECISION(17));
  json_decref(rows);
  if (!*text) abort(); /* out of memory (every value was checked above) */
  return 0;
}

/* Inserts the batch's forecast rows in one statement inside the caller's op, setting each recs[i].id:
 * the rows take the ids after the table's largest (the op holds the store's write lock) in the batch's
 * order, the ordinal of each row in the JSON array; 0, or -1 with err. */
static int insert_forecasts(oc_pg_store *s, oc_forecast_record *recs, size_t n, oc_error *err) {
  char *rows = NULL;
  if (forecast_rows_json(s, recs, n, &rows, err) != 0) return -1;
  oc_pg_params p = {0};
  oc_pg_text(&p, rows);
  PGresult *r = oc_pg_query(
      s,
      "INSERT INTO forecasts(id, series, origin, horizon, endpoint, variant, model_version, model_kind, history,"
      " request_id, created_at, origin_price)"
      " SELECT last.id + r.nth, r.series, r.origin, r.horizon, r.endpoint, r.variant, r.model_version, r.model_kind,"
      "  r.history, r.request_id, r.created_at, r.origin_price"
      " FROM (SELECT coalesce(max(id), 0) AS id FROM forecasts) AS last,"
      "  ROWS FROM (jsonb_to_recordset($1::jsonb) AS (series text, origin date, horizon bigint, endpoint text,"
      "   variant text, model_version text, model_kind text, history text, request_id text, created_at bigint,"
      "   origin_price float8))"
      "  WITH ORDINALITY AS r(series, origin, horizon, endpoint, variant, model_version, model_kind, history,"
      "   request_id, created_at, origin_price, nth)"
      " RETURNING id",
      &p, "storing forecasts", err);
  free(rows);
  if (!r) return -1;
  /* The ids are last + 1 .. last + n in the rows' order. RETURNING gives them in no promised order, so
   * the smallest is taken here (a CTE aggregating them in SQL doubled the statement's cost, measured). */
  assert(PQntuples(r) == (int)n);
  int64_t first = INT64_MAX;
  for (int i = 0; i < PQntuples(r); i++) {
    int64_t id = oc_pg_get_int(r, i, 0);
    if (id < first) first = id;
  }
  PQclear(r);
  for (size_t i = 0; i < n; i++) recs[i].id = first + (int64_t)i;
  return 0;
}

int oc_pg_forecast_save(oc_store *store, oc_forecast_record *rec, oc_error *err) {
  return oc_pg_forecasts_save(store, rec, 1, err);
}

/* The batch's forecast rows in one statement (their ids come back), then every point of the batch in
 * one COPY (forecasts of 5 to 64 points): two round trips inside the op, whatever the batch's size. */
int oc_pg_forecasts_save(oc_store *store, oc_forecast_record *recs, size_t n, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  if (oc_store_forecasts_check(s->display, recs, n, err) != 0) return -1;
  if (oc_pg_op_begin(s, err) != 0) return -1;
  bool ok = insert_forecasts(s, recs, n, err) == 0;
  oc_buf copy = {0};
  for (size_t i = 0; ok && i < n; i++) copy_points(&copy, &recs[i]);
  if (ok)
    ok = oc_pg_copy_in(s, "COPY forecast_points(forecast_id, step, date, price, lower80, upper80, lower95, upper95)"
                          " FROM STDIN", copy.data, copy.len, "storing forecast points", err) == 0;
  oc_buf_free(&copy);
  for (size_t i = 0; ok && i < n; i++)
    if (oc_forecasts_first_of_series(recs, i))
      ok = oc_pg_change_record(s, OC_CHANGE_FORECAST, recs[i].series, err) == 0;
  if (oc_pg_op_end(s, ok, err) == 0) return 0;
  for (size_t i = 0; i < n; i++) recs[i].id = 0; /* none of them was stored */
  return -1;
}

int oc_pg_forecast_latest(oc_store *store, const char *series, oc_forecast_record *out, bool *found, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  *found = false;
  memset(out, 0, sizeof *out);
  oc_pg_params p = {0};
  oc_pg_text(&p, series);
  PGresult *r = oc_pg_query(s,
                            "SELECT id, series, origin, endpoint, variant, model_version, model_kind, history,"
                            " request_id, created_at, origin_price FROM forecasts"
                            " WHERE series = $1 AND history = 'stored' AND variant <> 'shadow' ORDER BY created_at DESC, id DESC LIMIT 1",
                            &p, "reading the latest forecast", err);
  if (!r) return -1;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return 0;
  }
  out->id = oc_pg_get_int(r, 0, 0);
  oc_pg_get_copy(out->series, sizeof out->series, r, 0, 1);
  out->origin = oc_pg_get_date(r, 0, 2);
  oc_pg_get_copy(out->endpoint, sizeof out->endpoint, r, 0, 3);
  oc_pg_get_copy(out->variant, sizeof out->variant, r, 0, 4);
  oc_pg_get_copy(out->model_version, sizeof out->model_version, r, 0, 5);
  oc_pg_get_copy(out->model_kind, sizeof out->model_kind, r, 0, 6);
  oc_pg_get_copy(out->history, sizeof out->history, r, 0, 7);
  oc_pg_get_copy(out->request_id, sizeof out->request_id, r, 0, 8);
  out->created_at = oc_pg_get_int(r, 0, 9);
  out->origin_price = oc_pg_is_null(r, 0, 10) ? NAN : oc_pg_get_double(r, 0, 10);
  PQclear(r);
  p = (oc_pg_params){0};
  oc_pg_int(&p, out->id);
  r = oc_pg_query(s,
                  "SELECT date, price, lower80, upper80, lower95, upper95 FROM forecast_points"
                  " WHERE forecast_id = $1 ORDER BY step",
                  &p, "reading forecast points", err);
  if (!r) return -1;
  int rows = PQntuples(r);
  for (int i = 0; i < rows && out->n_points < OC_STORED_FORECAST_MAX_POINTS; i++) {
    oc_stored_forecast_point *pt = &out->points[out->n_points++];
    pt->date = oc_pg_get_date(r, i, 0);
    pt->price = oc_pg_get_double(r, i, 1);
    pt->lower80 = oc_pg_get_double(r, i, 2);
    pt->upper80 = oc_pg_get_double(r, i, 3);
    pt->lower95 = oc_pg_get_double(r, i, 4);
    pt->upper95 = oc_pg_get_double(r, i, 5);
  }
  PQclear(r);
  *found = true;
  return 0;
}

/* ---- scores ------------------------------------------------------------------------------------- */

int oc_pg_forecast_score(oc_store *store, int64_t now, int64_t *scored, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  *scored = 0;
  oc_pg_params p = {0};
  oc_pg_int(&p, now);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  bool ok = oc_pg_run(s,
                      "INSERT INTO forecast_scores(forecast_id, step, actual, naive, scored_at)"
                      " SELECT p.forecast_id, p.step, o.value, b.value, $1"
                      " FROM forecast_points p"
                      " JOIN forecasts f ON f.id = p.forecast_id"
                      " JOIN series s ON s.name = f.series"
                      " JOIN observations o ON o.series_id = s.id AND o.date = p.date"
                      " JOIN observations b ON b.series_id = s.id AND b.date = f.origin"
                      " WHERE f.history = 'stored'"
                      " AND NOT EXISTS (SELECT 1 FROM forecast_scores x"
                      "  WHERE x.forecast_id = p.forecast_id AND x.step = p.step)"
                      " ON CONFLICT DO NOTHING",
                      &p, "scoring forecasts", scored, err) == 0;
  return oc_pg_op_end(s, ok, err);
}

void oc_pg_get_line(const PGresult *r, int row, oc_forecast_line *out) {
  char *texts[] = {out->series, out->endpoint, out->variant, out->model_version};
  const size_t caps[] = {sizeof out->series, sizeof out->endpoint, sizeof out->variant, sizeof out->model_version};
  for (int c = 0; c < 4; c++) oc_pg_get_copy(texts[c], caps[c], r, row, c);
  out->horizon = oc_pg_get_int(r, row, 4);
}

int oc_pg_forecast_performance(oc_store *store, const char *endpoint, size_t window, oc_forecast_performance **rows,
                               size_t *n, oc_error *err) {
  *rows = NULL;
  *n = 0;
  oc_pg_params p = {0};
  oc_pg_text(&p, endpoint);
  oc_pg_int(&p, oc_pg_limit(window));
  PGresult *r = oc_pg_query(
      oc_pg_of(store),
      "WITH newest AS ("
      "  SELECT f.id, f.series, f.endpoint, f.variant, f.model_version, f.origin, p.step,"
      "   row_number() OVER (PARTITION BY f.series, f.endpoint, f.variant, f.model_version, f.origin, p.step"
      "    ORDER BY f.id DESC) AS nth"
      "  FROM forecasts f JOIN forecast_points p ON p.forecast_id = f.id"
      "  WHERE f.history = 'stored' AND ($1::text IS NULL OR f.endpoint = $1)),"
      " scored AS ("
      "  SELECT f.series, f.endpoint, f.variant, f.model_version, f.origin, p.step, p.price, p.lower80, p.upper80,"
      "   p.lower95, p.upper95, x.actual, x.naive,"
      "   row_number() OVER (PARTITION BY f.series, f.endpoint, f.variant, f.model_version, p.step"
      "    ORDER BY f.origin DESC) AS recent"
      "  FROM newest f JOIN forecast_points p ON p.forecast_id = f.id AND p.step = f.step"
      "  JOIN forecast_scores x ON x.forecast_id = p.forecast_id AND x.step = p.step WHERE f.nth = 1)"
      " SELECT series, endpoint, variant, model_version, step, count(*), min(origin), max(origin),"
      "  avg(abs(price - actual)), avg(abs(naive - actual)),"
      "  avg((actual BETWEEN lower80 AND upper80)::int), avg((actual BETWEEN lower95 AND upper95)::int),"
      "  avg(price - actual)"
      " FROM scored WHERE recent <= $2"
      " GROUP BY series, endpoint, variant, model_version, step"
      " ORDER BY series COLLATE \"C\", endpoint COLLATE \"C\", variant COLLATE \"C\", model_version COLLATE \"C\", step",
      &p, "reading forecast performance", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_forecast_performance *out = count ? oc_xcalloc(count, sizeof *out) : NULL;
  for (size_t i = 0; i < count; i++) {
    oc_forecast_performance *f = &out[i];
    int row = (int)i;
    oc_pg_get_line(r, row, &f->line);
    f->origins = oc_pg_get_int(r, row, 5);
    f->first_origin = oc_pg_get_date(r, row, 6);
    f->last_origin = oc_pg_get_date(r, row, 7);
    f->mae = oc_pg_get_double(r, row, 8);
    f->naive_mae = oc_pg_get_double(r, row, 9);
    f->coverage80 = oc_pg_get_double(r, row, 10);
    f->coverage95 = oc_pg_get_double(r, row, 11);
    f->bias = oc_pg_get_double(r, row, 12);
  }
  PQclear(r);
  *rows = out;
  *n = count;
  return 0;
}

/* ---- scheduled jobs ----------------------------------------------------------------------------- */

int oc_pg_job_run_start(oc_store *store, oc_job_run *run, bool *claimed, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  *claimed = false;
  oc_pg_params p = {0};
  oc_pg_text(&p, run->job);
  oc_pg_int(&p, run->slot);
  oc_pg_text(&p, run->trigger);
  oc_pg_int(&p, run->started_at);
  oc_pg_text(&p, run->runner);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  PGresult *r = oc_pg_query(s,
                            "INSERT INTO job_runs(id, job, slot, trigger, status, started_at, runner)"
                            " SELECT coalesce(max(id), 0) + 1, $1, $2, $3, 'running', $4, $5 FROM job_runs"
                            " ON CONFLICT DO NOTHING RETURNING id",
                            &p, "starting a job run", err);
  bool ok = r != NULL;
  if (ok && (*claimed = PQntuples(r) == 1)) run->id = oc_pg_get_int(r, 0, 0);
  PQclear(r);
  snprintf(run->status, sizeof run->status, "%s", *claimed ? "running" : "");
  if (ok && *claimed) ok = oc_pg_change_record(s, OC_CHANGE_JOB, run->job, err) == 0;
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_job_run_finish(oc_store *store, const oc_job_run *run, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_int(&p, run->id);
  oc_pg_text(&p, run->status);
  oc_pg_int(&p, run->finished_at);
  oc_pg_text(&p, run->error ? run->error : "");
  oc_pg_text(&p, run->steps_json ? run->steps_json : "[]");
  if (oc_pg_op_begin(s, err) != 0) return -1;
  int64_t updated = 0;
  bool ok = oc_pg_run(s, "UPDATE job_runs SET status = $2, finished_at = $3, error = $4, steps_json = $5 WHERE id = $1",
                      &p, "finishing a job run", &updated, err) == 0;
  if (ok && updated != 1) {
    oc_error_set(err, "job run %lld does not exist", (long long)run->id);
    ok = false;
  }
  if (ok) ok = oc_pg_change_record(s, OC_CHANGE_JOB, run->job, err) == 0;
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_job_runs_list(oc_store *store, const char *job, const char *status, size_t limit, oc_job_run **runs,
                        size_t *n, oc_error *err) {
  *runs = NULL;
  *n = 0;
  oc_pg_params p = {0};
  oc_pg_text(&p, job);
  oc_pg_text(&p, status);
  oc_pg_int(&p, oc_pg_limit(limit));
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT id, job, slot, trigger, status, started_at, finished_at, runner, error, steps_json"
                            " FROM job_runs WHERE ($1::text IS NULL OR job = $1) AND ($2::text IS NULL OR status = $2)"
                            " ORDER BY id DESC LIMIT $3",
                            &p, "listing job runs", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_job_run *out = count ? oc_xcalloc(count, sizeof *out) : NULL;
  for (size_t i = 0; i < count; i++) {
    oc_job_run *j = &out[i];
    int row = (int)i;
    j->id = oc_pg_get_int(r, row, 0);
    oc_pg_get_copy(j->job, sizeof j->job, r, row, 1);
    j->slot = oc_pg_get_int(r, row, 2);
    oc_pg_get_copy(j->trigger, sizeof j->trigger, r, row, 3);
    oc_pg_get_copy(j->status, sizeof j->status, r, row, 4);
    j->started_at = oc_pg_get_int(r, row, 5);
    j->finished_at = oc_pg_get_int(r, row, 6);
    oc_pg_get_copy(j->runner, sizeof j->runner, r, row, 7);
    j->error = oc_pg_get_strdup(r, row, 8);
    j->steps_json = oc_pg_get_strdup(r, row, 9);
  }
  PQclear(r);
  *runs = out;
  *n = count;
  return 0;
}

int oc_pg_job_last_slot(oc_store *store, const char *job, int64_t *slot, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_text(&p, job);
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT coalesce(max(slot), 0) FROM job_runs WHERE job = $1 AND trigger != 'manual'", &p,
                            "reading a job's last slot", err);
  if (!r) return -1;
  *slot = oc_pg_get_int(r, 0, 0);
  PQclear(r);
  return 0;
}

int oc_pg_job_state_get(oc_store *store, const char *job, int64_t now, oc_job_state *out, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_text(&p, job);
  PGresult *r = oc_pg_query(s, "SELECT paused, first_seen FROM job_state WHERE job = $1", &p, "reading a job's state",
                            err);
  if (!r) return -1;
  bool known = PQntuples(r) == 1;
  if (known) *out = (oc_job_state){oc_pg_get_int(r, 0, 0) != 0, oc_pg_get_int(r, 0, 1)};
  PQclear(r);
  if (known) return 0;
  oc_pg_int(&p, now);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  bool ok = oc_pg_run(s, "INSERT INTO job_state(job, paused, first_seen, updated_at) VALUES ($1, 0, $2, $2)", &p,
                      "recording a new job", NULL, err) == 0;
  if (ok) *out = (oc_job_state){false, now};
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_job_pause(oc_store *store, const char *job, bool paused, int64_t now, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_text(&p, job);
  oc_pg_int(&p, paused ? 1 : 0);
  oc_pg_int(&p, now);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  bool ok = oc_pg_run(s,
                      "INSERT INTO job_state(job, paused, first_seen, updated_at) VALUES ($1, $2, $3, $3)"
                      " ON CONFLICT (job) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at",
                      &p, "pausing or resuming a job", NULL, err) == 0;
  if (ok) ok = oc_pg_change_record(s, OC_CHANGE_JOB, job, err) == 0;
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_job_failures(oc_store *store, oc_job_failures **rows, size_t *n, oc_error *err) {
  *rows = NULL;
  *n = 0;
  /* a job's streak: its finished runs that did not succeed, after its latest one that did */
  PGresult *r = oc_pg_query(
      oc_pg_of(store),
      "SELECT j.job, (SELECT count(*) FROM job_runs f WHERE f.job = j.job AND f.status NOT IN ('running', 'ok')"
      " AND f.id > coalesce((SELECT max(o.id) FROM job_runs o WHERE o.job = j.job AND o.status = 'ok'), 0))"
      " FROM (SELECT DISTINCT job FROM job_runs WHERE status != 'running') j ORDER BY j.job COLLATE \"C\"",
      NULL, "counting jobs' failing runs", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_job_failures *out = count ? oc_xcalloc(count, sizeof *out) : NULL;
  for (size_t i = 0; i < count; i++) {
    oc_pg_get_copy(out[i].job, sizeof out[i].job, r, (int)i, 0);
    out[i].consecutive = oc_pg_get_int(r, (int)i, 1);
  }
  PQclear(r);
  *rows = out;
  *n = count;
  return 0;
}
