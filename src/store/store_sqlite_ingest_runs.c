/* store_sqlite_ingest_runs.c: the SQLite side of the series each ingest run touched (table
 * ingest_run_series, migration 7), written in the run's own op, and the listing of runs recorded
 * after a given id (what the server's store watcher turns into live "ingest" events). Must not decide
 * which runs are worth announcing: callers filter on status and counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

void oc_ingest_run_info_list_free(oc_ingest_run_info *runs, size_t n) {
  for (size_t i = 0; i < n; i++) free(runs[i].series);
  free(runs);
}

int oc_sqlite_ingest_run_series_record(oc_sqlite_store *s, const oc_ingest_run *run, oc_error *err) {
  static const char sql[] =
      "INSERT INTO ingest_run_series(run_id, series, rows, last_date, last_value) VALUES (?1, ?2, ?3, ?4, ?5)";
  for (size_t i = 0; i < run->nseries; i++) {
    const oc_ingest_run_series *rs = &run->series[i];
    sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, run->id);
    sqlite3_bind_text(st, 2, rs->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, rs->rows);
    oc_sqlite_bind_date(st, 4, rs->last_date);
    sqlite3_bind_double(st, 5, rs->last_value);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return oc_sqlite_fail(s, err, "recording the series of an ingest run");
  }
  return 0;
}

/* Fills run->nseries and its first max_series series (by name). */
static int load_run_series(oc_sqlite_store *s, oc_ingest_run_info *run, size_t max_series, oc_error *err) {
  static const char count_sql[] = "SELECT count(*) FROM ingest_run_series WHERE run_id = ?1";
  static const char list_sql[] =
      "SELECT series, rows, last_date, last_value FROM ingest_run_series WHERE run_id = ?1 ORDER BY series LIMIT ?2";
  sqlite3_stmt *st = oc_sqlite_stmt(s, count_sql, err);
  if (!st) return -1;
  sqlite3_bind_int64(st, 1, run->id);
  if (sqlite3_step(st) != SQLITE_ROW) {
    sqlite3_reset(st);
    return oc_sqlite_fail(s, err, "counting the series of an ingest run");
  }
  run->nseries = (size_t)sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  size_t want = run->nseries < max_series ? run->nseries : max_series;
  if (want == 0) return 0;
  run->series = oc_xcalloc(want, sizeof *run->series);
  st = oc_sqlite_stmt(s, list_sql, err);
  if (!st) return -1;
  sqlite3_bind_int64(st, 1, run->id);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)want);
  while (run->listed < want && sqlite3_step(st) == SQLITE_ROW) {
    oc_ingest_run_series *rs = &run->series[run->listed++];
    oc_sqlite_column_copy(rs->name, sizeof rs->name, st, 0);
    rs->rows = sqlite3_column_int64(st, 1);
    rs->last_date = oc_sqlite_column_date(st, 2);
    rs->last_value = sqlite3_column_double(st, 3);
  }
  sqlite3_reset(st);
  return 0;
}

int oc_sqlite_ingest_runs_after(oc_store *store, int64_t after_id, size_t max_runs, size_t max_series,
                                oc_ingest_run_info **runs, size_t *n, int64_t *newest_id, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char newest_sql[] = "SELECT coalesce(max(id), 0) FROM ingest_runs";
  static const char runs_sql[] =
      "SELECT id, source_kind, status, rows_inserted, rows_updated, finished_at FROM ingest_runs"
      " WHERE id > ?1 ORDER BY id LIMIT ?2";
  *runs = NULL;
  *n = 0;
  sqlite3_stmt *st = oc_sqlite_stmt(s, newest_sql, err);
  if (!st) return -1;
  if (sqlite3_step(st) != SQLITE_ROW) {
    sqlite3_reset(st);
    return oc_sqlite_fail(s, err, "reading the newest ingest run");
  }
  *newest_id = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  if (max_runs == 0) return 0;
  st = oc_sqlite_stmt(s, runs_sql, err);
  if (!st) return -1;
  sqlite3_bind_int64(st, 1, after_id);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)max_runs);
  oc_ingest_run_info *list = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&list, &cap, count + 1, sizeof *list);
    oc_ingest_run_info *r = &list[count++];
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    oc_sqlite_column_copy(r->source_kind, sizeof r->source_kind, st, 1);
    oc_sqlite_column_copy(r->status, sizeof r->status, st, 2);
    r->rows_inserted = sqlite3_column_int64(st, 3);
    r->rows_updated = sqlite3_column_int64(st, 4);
    r->finished_at = sqlite3_column_int64(st, 5);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    oc_ingest_run_info_list_free(list, count);
    return oc_sqlite_fail(s, err, "listing ingest runs");
  }
  for (size_t i = 0; i < count; i++) {
    if (load_run_series(s, &list[i], max_series, err) != 0) {
      oc_ingest_run_info_list_free(list, count);
      return -1;
    }
  }
  *runs = list;
  *n = count;
  return 0;
}
