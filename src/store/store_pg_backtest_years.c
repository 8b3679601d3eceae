/* store_pg_backtest_years.c: the PostgreSQL side of the stored by-year robustness reports (table
 * `backtest_years`, migration 21), the twin of store_sqlite_backtest_years.c: save one report, fetch
 * the newest of a series. The report document is kept verbatim as JSON. Must not interpret it. */
#include <stdlib.h>
#include <string.h>

#include "store/store_pg_internal.h"

int oc_pg_backtest_years_save(oc_store *store, oc_backtest_years_record *rec, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_text(&p, rec->series ? rec->series : "");
  oc_pg_int(&p, rec->created_at);
  oc_pg_text(&p, rec->models ? rec->models : "");
  oc_pg_text(&p, rec->exog ? rec->exog : "");
  oc_pg_int(&p, rec->horizon);
  oc_pg_int(&p, rec->refit_every);
  oc_pg_int(&p, rec->from_year);
  oc_pg_int(&p, rec->to_year);
  oc_pg_text(&p, rec->report_json ? rec->report_json : "");
  if (oc_pg_op_begin(s, err) != 0) return -1;
  /* ids as the backtests table takes them: one more than the highest, under the op's write lock */
  PGresult *r = oc_pg_query(s,
                            "INSERT INTO backtest_years(id, series, created_at, models, exog, horizon, refit_every,"
                            " from_year, to_year, report_json)"
                            " SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM backtest_years"
                            " RETURNING id",
                            &p, "saving a by-year backtest report", err);
  bool ok = r != NULL;
  if (ok) rec->id = oc_pg_get_int(r, 0, 0);
  PQclear(r);
  if (ok) ok = oc_pg_change_record(s, OC_CHANGE_BACKTEST, rec->series ? rec->series : "", err) == 0;
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_backtest_years_latest(oc_store *store, const char *series, oc_backtest_years_record *out, bool *found,
                                oc_error *err) {
  memset(out, 0, sizeof *out);
  *found = false;
  oc_pg_params p = {0};
  oc_pg_text(&p, series);
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT id, series, created_at, models, exog, horizon, refit_every, from_year, to_year,"
                            " report_json FROM backtest_years WHERE series = $1"
                            " ORDER BY created_at DESC, id DESC LIMIT 1",
                            &p, "reading the latest by-year backtest report", err);
  if (!r) return -1;
  if (PQntuples(r) == 1) {
    out->id = oc_pg_get_int(r, 0, 0);
    out->series = oc_pg_get_strdup(r, 0, 1);
    out->created_at = oc_pg_get_int(r, 0, 2);
    out->models = oc_pg_get_strdup(r, 0, 3);
    out->exog = oc_pg_get_strdup(r, 0, 4);
    out->horizon = oc_pg_get_int(r, 0, 5);
    out->refit_every = oc_pg_get_int(r, 0, 6);
    out->from_year = oc_pg_get_int(r, 0, 7);
    out->to_year = oc_pg_get_int(r, 0, 8);
    out->report_json = oc_pg_get_strdup(r, 0, 9);
    *found = true;
  }
  PQclear(r);
  return 0;
}
