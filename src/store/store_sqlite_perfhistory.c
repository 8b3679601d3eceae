/* store_sqlite_perfhistory.c: the SQLite side of performance over time (forecast_scored_points):
 * every scored point of the newest stored-history forecast per origin, with its error, the no-change
 * forecast's and whether the bands covered it, ordered so each series/endpoint/variant/version/horizon
 * is one run of ascending origins. Reads `forecasts`, `forecast_points` and `forecast_scores` (migration
 * 10) only; must not aggregate (monitor/score.c rolls the figures up) nor write. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

int oc_sqlite_forecast_scored_points(oc_store *store, const char *endpoint, oc_scored_point **points, size_t *n,
                                     oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "WITH newest AS ("
      "  SELECT f.id, f.series, f.endpoint, f.variant, f.model_version, f.origin, p.step,"
      "   row_number() OVER (PARTITION BY f.series, f.endpoint, f.variant, f.model_version, f.origin, p.step"
      "    ORDER BY f.id DESC) AS nth"
      "  FROM forecasts f JOIN forecast_points p ON p.forecast_id = f.id"
      "  WHERE f.history = 'stored' AND (?1 IS NULL OR f.endpoint = ?1))"
      " SELECT f.series, f.endpoint, f.variant, f.model_version, p.step, f.origin, p.price - x.actual,"
      "  abs(x.naive - x.actual), x.actual BETWEEN p.lower80 AND p.upper80, x.actual BETWEEN p.lower95 AND p.upper95"
      " FROM newest f JOIN forecast_points p ON p.forecast_id = f.id AND p.step = f.step"
      " JOIN forecast_scores x ON x.forecast_id = p.forecast_id AND x.step = p.step WHERE f.nth = 1"
      " ORDER BY f.series, f.endpoint, f.variant, f.model_version, p.step, f.origin";
  *points = NULL;
  *n = 0;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  if (endpoint) sqlite3_bind_text(st, 1, endpoint, -1, SQLITE_STATIC);
  oc_scored_point *out = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&out, &cap, count + 1, sizeof *out);
    oc_scored_point *pt = &out[count++];
    memset(pt, 0, sizeof *pt);
    oc_sqlite_column_line(st, &pt->line);
    pt->origin = oc_sqlite_column_date(st, 5);
    pt->error = sqlite3_column_double(st, 6);
    pt->naive_abs_error = sqlite3_column_double(st, 7);
    pt->in80 = sqlite3_column_int(st, 8) != 0;
    pt->in95 = sqlite3_column_int(st, 9) != 0;
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    free(out);
    return oc_sqlite_fail(s, err, "reading scored forecast points");
  }
  *points = out;
  *n = count;
  return 0;
}
