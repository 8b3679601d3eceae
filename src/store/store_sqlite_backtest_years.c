/* store_sqlite_backtest_years.c: the SQLite side of the stored by-year robustness reports (table
 * `backtest_years`, migration 21): save one report, fetch the newest of a series. The report document
 * is kept verbatim as JSON text so the REST API returns it unchanged. Must not interpret the document. */
#include <stdlib.h>
#include <string.h>

#include "store/store_sqlite_internal.h"

int oc_sqlite_backtest_years_save(oc_store *store, oc_backtest_years_record *rec, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "INSERT INTO backtest_years(series, created_at, models, exog, horizon, refit_every, from_year, to_year,"
      " report_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = false;
  if (st) {
    sqlite3_bind_text(st, 1, rec->series ? rec->series : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, rec->created_at);
    sqlite3_bind_text(st, 3, rec->models ? rec->models : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, rec->exog ? rec->exog : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, rec->horizon);
    sqlite3_bind_int64(st, 6, rec->refit_every);
    sqlite3_bind_int64(st, 7, rec->from_year);
    sqlite3_bind_int64(st, 8, rec->to_year);
    sqlite3_bind_text(st, 9, rec->report_json ? rec->report_json : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_DONE) {
      rec->id = sqlite3_last_insert_rowid(s->db);
      ok = true;
    } else {
      oc_sqlite_fail(s, err, "saving a by-year backtest report");
    }
    sqlite3_reset(st);
  }
  if (ok) ok = oc_sqlite_change_record(s, OC_CHANGE_BACKTEST, rec->series ? rec->series : "", err) == 0;
  return oc_sqlite_op_end(s, ok, err);
}

static void decode_years(sqlite3_stmt *st, void *record) {
  oc_backtest_years_record *out = record;
  out->id = sqlite3_column_int64(st, 0);
  out->series = oc_sqlite_column_strdup(st, 1);
  out->created_at = sqlite3_column_int64(st, 2);
  out->models = oc_sqlite_column_strdup(st, 3);
  out->exog = oc_sqlite_column_strdup(st, 4);
  out->horizon = sqlite3_column_int64(st, 5);
  out->refit_every = sqlite3_column_int64(st, 6);
  out->from_year = sqlite3_column_int64(st, 7);
  out->to_year = sqlite3_column_int64(st, 8);
  out->report_json = oc_sqlite_column_strdup(st, 9);
}

int oc_sqlite_backtest_years_latest(oc_store *store, const char *series, oc_backtest_years_record *out, bool *found,
                                    oc_error *err) {
  static const char sql[] =
      "SELECT id, series, created_at, models, exog, horizon, refit_every, from_year, to_year, report_json"
      " FROM backtest_years WHERE series = ?1 ORDER BY created_at DESC, id DESC LIMIT 1";
  memset(out, 0, sizeof *out);
  return oc_sqlite_newest_of_series(oc_sqlite_of(store), sql, series, decode_years, out, found, "by-year backtest report",
                                    err);
}
