/* store_sqlite_scores.c: the SQLite side of scoring stored forecasts (table `forecast_scores`,
 * migration 10): one INSERT .. SELECT joins every unscored point of a stored-history forecast with the
 * observation on its date and the one on its origin; the rolling figures are one window query. Only
 * the actual and the no-change price are kept per point: errors and coverage follow from the stored
 * point, so they can never disagree with it. Must not decide what a good score is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

int oc_sqlite_forecast_score(oc_store *store, int64_t now, int64_t *scored, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "INSERT OR IGNORE INTO forecast_scores(forecast_id, step, actual, naive, scored_at)"
      " SELECT p.forecast_id, p.step, o.value, b.value, ?1"
      " FROM forecast_points p"
      " JOIN forecasts f ON f.id = p.forecast_id"
      " JOIN series s ON s.name = f.series"
      " JOIN observations o ON o.series_id = s.id AND o.date = p.date"
      " JOIN observations b ON b.series_id = s.id AND b.date = f.origin"
      " WHERE f.history = 'stored'"
      " AND NOT EXISTS (SELECT 1 FROM forecast_scores x WHERE x.forecast_id = p.forecast_id AND x.step = p.step)";
  *scored = 0;
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = false;
  if (st) {
    sqlite3_bind_int64(st, 1, now);
    ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) oc_sqlite_fail(s, err, "scoring forecasts");
    else *scored = sqlite3_changes(s->db);
    sqlite3_reset(st);
  }
  return oc_sqlite_op_end(s, ok, err);
}

void oc_sqlite_column_line(sqlite3_stmt *stmt, oc_forecast_line *out) {
  char *texts[] = {out->series, out->endpoint, out->variant, out->model_version};
  const size_t caps[] = {sizeof out->series, sizeof out->endpoint, sizeof out->variant, sizeof out->model_version};
  for (int c = 0; c < 4; c++) oc_sqlite_column_copy(texts[c], caps[c], stmt, c);
  out->horizon = sqlite3_column_int64(stmt, 4);
}

int oc_sqlite_forecast_performance(oc_store *store, const char *endpoint, size_t window, oc_forecast_performance **rows,
                                   size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "WITH newest AS ("
      "  SELECT f.id, f.series, f.endpoint, f.variant, f.model_version, f.origin, p.step,"
      "   row_number() OVER (PARTITION BY f.series, f.endpoint, f.variant, f.model_version, f.origin, p.step"
      "    ORDER BY f.id DESC) AS nth"
      "  FROM forecasts f JOIN forecast_points p ON p.forecast_id = f.id"
      "  WHERE f.history = 'stored' AND (?1 IS NULL OR f.endpoint = ?1)),"
      " scored AS ("
      "  SELECT f.series, f.endpoint, f.variant, f.model_version, f.origin, p.step, p.price, p.lower80, p.upper80,"
      "   p.lower95, p.upper95, x.actual, x.naive,"
      "   row_number() OVER (PARTITION BY f.series, f.endpoint, f.variant, f.model_version, p.step"
      "    ORDER BY f.origin DESC) AS recent"
      "  FROM newest f JOIN forecast_points p ON p.forecast_id = f.id AND p.step = f.step"
      "  JOIN forecast_scores x ON x.forecast_id = p.forecast_id AND x.step = p.step WHERE f.nth = 1)"
      " SELECT series, endpoint, variant, model_version, step, count(*), min(origin), max(origin),"
      "  avg(abs(price - actual)), avg(abs(naive - actual)),"
      "  avg(actual BETWEEN lower80 AND upper80), avg(actual BETWEEN lower95 AND upper95), avg(price - actual)"
      " FROM scored WHERE recent <= ?2"
      " GROUP BY series, endpoint, variant, model_version, step"
      " ORDER BY series, endpoint, variant, model_version, step";
  *rows = NULL;
  *n = 0;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  if (endpoint) sqlite3_bind_text(st, 1, endpoint, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, window > INT64_MAX ? INT64_MAX : (int64_t)window);
  oc_forecast_performance *out = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&out, &cap, count + 1, sizeof *out);
    oc_forecast_performance *r = &out[count++];
    memset(r, 0, sizeof *r);
    oc_sqlite_column_line(st, &r->line);
    r->origins = sqlite3_column_int64(st, 5);
    r->first_origin = oc_sqlite_column_date(st, 6);
    r->last_origin = oc_sqlite_column_date(st, 7);
    r->mae = sqlite3_column_double(st, 8);
    r->naive_mae = sqlite3_column_double(st, 9);
    r->coverage80 = sqlite3_column_double(st, 10);
    r->coverage95 = sqlite3_column_double(st, 11);
    r->bias = sqlite3_column_double(st, 12);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    free(out);
    return oc_sqlite_fail(s, err, "reading forecast performance");
  }
  *rows = out;
  *n = count;
  return 0;
}
