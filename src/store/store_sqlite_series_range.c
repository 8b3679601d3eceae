/* store_sqlite_series_range.c: the SQLite side of per-series price ranges (migration 13: series.price_min
 * and price_max, null = the default of ingest/price_range.h). Stores and reads the two numbers; which
 * default applies and where a range is enforced is the ingest layer's, not this file's. */
#include <math.h>
#include <stdio.h>

#include "store/store_sqlite_internal.h"

int oc_sqlite_series_range_set(oc_store *store, const char *name, bool set, double min, double max, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  if (set && !(isfinite(min) && isfinite(max) && min < max))
    return oc_error_set(err, "series %s: a price range needs finite min < max, not %g..%g", name, min, max);
  static const char sql[] = "UPDATE series SET price_min = ?2, price_max = ?3 WHERE name = ?1";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = st != NULL;
  if (st) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (set) {
      sqlite3_bind_double(st, 2, min);
      sqlite3_bind_double(st, 3, max);
    } else {
      sqlite3_bind_null(st, 2);
      sqlite3_bind_null(st, 3);
    }
    ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) oc_sqlite_fail(s, err, "setting a series' price range");
    if (ok && sqlite3_changes(s->db) == 0) {
      oc_error_set(err, "no series named '%s' (see: oilcast series list)", name);
      ok = false;
    }
    sqlite3_reset(st);
  }
  if (ok) ok = oc_sqlite_change_record(s, OC_CHANGE_OBSERVATIONS, name, err) == 0;
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_series_range_get(oc_store *store, const char *name, bool *set, double *min, double *max, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "SELECT price_min, price_max FROM series WHERE name = ?1 AND price_min IS NOT NULL";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *set = rc == SQLITE_ROW;
  if (*set) {
    *min = sqlite3_column_double(st, 0);
    *max = sqlite3_column_double(st, 1);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return oc_sqlite_fail(s, err, "reading a series' price range");
  return 0;
}
