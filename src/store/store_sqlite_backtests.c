/* store_sqlite_backtests.c: the SQLite side of stored backtest runs (table `backtests`, migration 5):
 * save one run, fetch the latest for a series. The result document is kept verbatim as JSON text so
 * the REST API can return it unchanged. Must not interpret the document. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

void oc_backtest_record_free(oc_backtest_record *rec) {
  if (!rec) return;
  free(rec->series);
  free(rec->models);
  free(rec->result_json);
  memset(rec, 0, sizeof *rec);
}

int oc_sqlite_backtest_save(oc_store *store, oc_backtest_record *rec, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "INSERT INTO backtests(series, start_date, end_date, horizon, refit_every, origins, models, created_at, result_json)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = false;
  if (st) {
    sqlite3_bind_text(st, 1, rec->series ? rec->series : "", -1, SQLITE_STATIC);
    oc_sqlite_bind_date(st, 2, rec->start);
    oc_sqlite_bind_date(st, 3, rec->end);
    sqlite3_bind_int64(st, 4, rec->horizon);
    sqlite3_bind_int64(st, 5, rec->refit_every);
    sqlite3_bind_int64(st, 6, rec->origins);
    sqlite3_bind_text(st, 7, rec->models ? rec->models : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, rec->created_at);
    sqlite3_bind_text(st, 9, rec->result_json ? rec->result_json : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_DONE) {
      rec->id = sqlite3_last_insert_rowid(s->db);
      ok = true;
    } else {
      oc_sqlite_fail(s, err, "saving a backtest run");
    }
    sqlite3_reset(st);
  }
  if (ok) ok = oc_sqlite_change_record(s, OC_CHANGE_BACKTEST, rec->series ? rec->series : "", err) == 0;
  return oc_sqlite_op_end(s, ok, err);
}

static void decode_backtest(sqlite3_stmt *st, void *record) {
  oc_backtest_record *out = record;
  out->id = sqlite3_column_int64(st, 0);
  out->series = oc_sqlite_column_strdup(st, 1);
  out->start = oc_sqlite_column_date(st, 2);
  out->end = oc_sqlite_column_date(st, 3);
  out->horizon = sqlite3_column_int64(st, 4);
  out->refit_every = sqlite3_column_int64(st, 5);
  out->origins = sqlite3_column_int64(st, 6);
  out->models = oc_sqlite_column_strdup(st, 7);
  out->created_at = sqlite3_column_int64(st, 8);
  out->result_json = oc_sqlite_column_strdup(st, 9);
}

int oc_sqlite_backtest_latest(oc_store *store, const char *series, oc_backtest_record *out, bool *found, oc_error *err) {
  static const char sql[] =
      "SELECT id, series, start_date, end_date, horizon, refit_every, origins, models, created_at, result_json"
      " FROM backtests WHERE series = ?1 ORDER BY created_at DESC, id DESC LIMIT 1";
  memset(out, 0, sizeof *out);
  return oc_sqlite_newest_of_series(oc_sqlite_of(store), sql, series, decode_backtest, out, found, "backtest run", err);
}
