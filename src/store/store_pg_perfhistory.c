/* store_pg_perfhistory.c: the PostgreSQL twin of store_sqlite_perfhistory.c (forecast_scored_points):
 * every scored point of the newest stored-history forecast per origin, ordered so each
 * series/endpoint/variant/version/horizon is one run of ascending origins. Reads only; must not
 * aggregate (monitor/score.c rolls the figures up). */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_pg_internal.h"

int oc_pg_forecast_scored_points(oc_store *store, const char *endpoint, oc_scored_point **points, size_t *n,
                                 oc_error *err) {
  *points = NULL;
  *n = 0;
  oc_pg_params p = {0};
  oc_pg_text(&p, endpoint);
  PGresult *r = oc_pg_query(
      oc_pg_of(store),
      "WITH newest AS ("
      "  SELECT f.id, f.series, f.endpoint, f.variant, f.model_version, f.origin, p.step,"
      "   row_number() OVER (PARTITION BY f.series, f.endpoint, f.variant, f.model_version, f.origin, p.step"
      "    ORDER BY f.id DESC) AS nth"
      "  FROM forecasts f JOIN forecast_points p ON p.forecast_id = f.id"
      "  WHERE f.history = 'stored' AND ($1::text IS NULL OR f.endpoint = $1))"
      " SELECT f.series, f.endpoint, f.variant, f.model_version, p.step, f.origin, p.price - x.actual,"
      "  abs(x.naive - x.actual), (x.actual BETWEEN p.lower80 AND p.upper80)::int,"
      "  (x.actual BETWEEN p.lower95 AND p.upper95)::int"
      " FROM newest f JOIN forecast_points p ON p.forecast_id = f.id AND p.step = f.step"
      " JOIN forecast_scores x ON x.forecast_id = p.forecast_id AND x.step = p.step WHERE f.nth = 1"
      " ORDER BY f.series COLLATE \"C\", f.endpoint COLLATE \"C\", f.variant COLLATE \"C\","
      "  f.model_version COLLATE \"C\", p.step, f.origin",
      &p, "reading scored forecast points", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_scored_point *out = count ? oc_xcalloc(count, sizeof *out) : NULL;
  for (size_t i = 0; i < count; i++) {
    oc_scored_point *pt = &out[i];
    int row = (int)i;
    oc_pg_get_line(r, row, &pt->line);
    pt->origin = oc_pg_get_date(r, row, 5);
    pt->error = oc_pg_get_double(r, row, 6);
    pt->naive_abs_error = oc_pg_get_double(r, row, 7);
    pt->in80 = oc_pg_get_int(r, row, 8) != 0;
    pt->in95 = oc_pg_get_int(r, row, 9) != 0;
  }
  PQclear(r);
  *points = out;
  *n = count;
  return 0;
}
