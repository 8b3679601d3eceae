/* store_sqlite_forecasts.c: the SQLite side of the stored-forecast ops (tables forecasts and
 * forecast_points, migrations 6 and 9). One row per forecast, one per forecast point, so the
 * monitoring work can score points against actuals in plain SQL. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store/store_sqlite_internal.h"

/* Inserts rec and its points inside the caller's op, setting rec->id; 0, or -1 with err. */
static int insert_forecast(oc_sqlite_store *s, oc_forecast_record *rec, oc_error *err) {
  static const char head[] =
      "INSERT INTO forecasts(series, origin, horizon, endpoint, variant, model_version, model_kind, history,"
      " request_id, created_at, origin_price) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
  static const char point[] = "INSERT INTO forecast_points(forecast_id, step, date, price, lower80, upper80,"
                              " lower95, upper95) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
  sqlite3_stmt *st = oc_sqlite_stmt(s, head, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, rec->series, -1, SQLITE_STATIC);
  oc_sqlite_bind_date(st, 2, rec->origin);
  sqlite3_bind_int64(st, 3, (int64_t)rec->n_points);
  const char *texts[] = {rec->endpoint, rec->variant, rec->model_version, rec->model_kind, rec->history,
                         rec->request_id};
  for (int i = 0; i < 6; i++) sqlite3_bind_text(st, 4 + i, texts[i], -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 10, rec->created_at);
  if (isfinite(rec->origin_price)) sqlite3_bind_double(st, 11, rec->origin_price);
  else sqlite3_bind_null(st, 11);
  bool ok = sqlite3_step(st) == SQLITE_DONE;
  if (!ok) oc_sqlite_fail(s, err, "storing a forecast");
  rec->id = sqlite3_last_insert_rowid(s->db);
  sqlite3_reset(st);
  for (size_t i = 0; ok && i < rec->n_points; i++) {
    if (!(st = oc_sqlite_stmt(s, point, err))) return -1;
    const oc_stored_forecast_point *p = &rec->points[i];
    sqlite3_bind_int64(st, 1, rec->id);
    sqlite3_bind_int64(st, 2, (int64_t)i + 1);
    oc_sqlite_bind_date(st, 3, p->date);
    const double values[] = {p->price, p->lower80, p->upper80, p->lower95, p->upper95};
    for (int k = 0; k < 5; k++) sqlite3_bind_double(st, 4 + k, values[k]);
    ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) oc_sqlite_fail(s, err, "storing a forecast point");
    sqlite3_reset(st);
  }
  return ok ? 0 : -1;
}

int oc_sqlite_forecast_save(oc_store *store, oc_forecast_record *rec, oc_error *err) {
  return oc_sqlite_forecasts_save(store, rec, 1, err);
}

int oc_sqlite_forecasts_save(oc_store *store, oc_forecast_record *recs, size_t n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  if (oc_store_forecasts_check(s->path, recs, n, err) != 0) return -1;
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  bool ok = true;
  for (size_t i = 0; ok && i < n; i++) ok = insert_forecast(s, &recs[i], err) == 0;
  for (size_t i = 0; ok && i < n; i++)
    if (oc_forecasts_first_of_series(recs, i))
      ok = oc_sqlite_change_record(s, OC_CHANGE_FORECAST, recs[i].series, err) == 0;
  if (oc_sqlite_op_end(s, ok, err) == 0) return 0;
  for (size_t i = 0; i < n; i++) recs[i].id = 0; /* none of them was stored */
  return -1;
}

/* A forecast's row (the columns of oc_sqlite_forecast_latest's head), its points not yet. */
static void decode_forecast(sqlite3_stmt *st, void *record) {
  oc_forecast_record *out = record;
  out->id = sqlite3_column_int64(st, 0);
  oc_sqlite_column_copy(out->series, sizeof out->series, st, 1);
  out->origin = oc_sqlite_column_date(st, 2);
  oc_sqlite_column_copy(out->endpoint, sizeof out->endpoint, st, 3);
  oc_sqlite_column_copy(out->variant, sizeof out->variant, st, 4);
  oc_sqlite_column_copy(out->model_version, sizeof out->model_version, st, 5);
  oc_sqlite_column_copy(out->model_kind, sizeof out->model_kind, st, 6);
  oc_sqlite_column_copy(out->history, sizeof out->history, st, 7);
  oc_sqlite_column_copy(out->request_id, sizeof out->request_id, st, 8);
  out->created_at = sqlite3_column_int64(st, 9);
  out->origin_price = sqlite3_column_type(st, 10) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 10);
}

int oc_sqlite_forecast_latest(oc_store *store, const char *series, oc_forecast_record *out, bool *found,
                              oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char head[] =
      "SELECT id, series, origin, endpoint, variant, model_version, model_kind, history, request_id, created_at,"
      " origin_price"
      " FROM forecasts WHERE series = ?1 AND history = 'stored' AND variant <> 'shadow' ORDER BY created_at DESC, id DESC LIMIT 1";
  static const char points[] = "SELECT date, price, lower80, upper80, lower95, upper95 FROM forecast_points"
                               " WHERE forecast_id = ?1 ORDER BY step";
  memset(out, 0, sizeof *out);
  if (oc_sqlite_newest_of_series(s, head, series, decode_forecast, out, found, "forecast", err) != 0) return -1;
  if (!*found) return 0;
  *found = false; /* until its points are read */
  sqlite3_stmt *st = oc_sqlite_stmt(s, points, err);
  if (!st) return -1;
  sqlite3_bind_int64(st, 1, out->id);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n_points < OC_STORED_FORECAST_MAX_POINTS) {
    oc_stored_forecast_point *p = &out->points[out->n_points++];
    p->date = oc_sqlite_column_date(st, 0);
    p->price = sqlite3_column_double(st, 1);
    p->lower80 = sqlite3_column_double(st, 2);
    p->upper80 = sqlite3_column_double(st, 3);
    p->lower95 = sqlite3_column_double(st, 4);
    p->upper95 = sqlite3_column_double(st, 5);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return oc_sqlite_fail(s, err, "reading forecast points");
  *found = true;
  return 0;
}
