/* store_sqlite_promote.c: the SQLite side of champion/challenger promotion (migration 17): the
 * decisions log (`promotion_decisions`, append-only), each endpoint's challenger state
 * (`endpoint_challengers`, one row per endpoint, replaced whole) and the per-origin scored errors the
 * promotion rule compares (read from `forecasts`, `forecast_points` and `forecast_scores`). Must not
 * decide anything: the rules are monitor/promote.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

/* A date column that may be NULL (OC_DATE_INVALID). */
static void bind_date_or_null(sqlite3_stmt *st, int index, oc_date date) {
  if (date == OC_DATE_INVALID) sqlite3_bind_null(st, index);
  else oc_sqlite_bind_date(st, index, date);
}

int oc_sqlite_decision_record(oc_store *store, oc_promotion_decision *d, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "INSERT INTO promotion_decisions(endpoint, at, action, trigger, version, champion, reason, figures)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = false;
  if (st) {
    sqlite3_bind_text(st, 1, d->endpoint, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, d->at);
    sqlite3_bind_text(st, 3, d->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, d->trigger, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, d->version);
    sqlite3_bind_int64(st, 6, d->champion);
    sqlite3_bind_text(st, 7, d->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, *d->figures ? d->figures : "{}", -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) oc_sqlite_fail(s, err, "recording a promotion decision");
    else d->id = sqlite3_last_insert_rowid(s->db);
    sqlite3_reset(st);
  }
  if (ok) ok = oc_sqlite_change_record(s, OC_CHANGE_DECISION, d->endpoint, err) == 0;
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_decisions_list(oc_store *store, const char *endpoint, size_t limit, oc_promotion_decision **out,
                             size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "SELECT id, endpoint, at, action, trigger, version, champion, reason, figures FROM promotion_decisions"
      " WHERE ?1 IS NULL OR endpoint = ?1 ORDER BY id DESC LIMIT ?2";
  *out = NULL;
  *n = 0;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  if (endpoint) sqlite3_bind_text(st, 1, endpoint, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
  oc_promotion_decision *rows = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&rows, &cap, count + 1, sizeof *rows);
    oc_promotion_decision *d = &rows[count++];
    memset(d, 0, sizeof *d);
    d->id = sqlite3_column_int64(st, 0);
    oc_sqlite_column_copy(d->endpoint, sizeof d->endpoint, st, 1);
    d->at = sqlite3_column_int64(st, 2);
    oc_sqlite_column_copy(d->action, sizeof d->action, st, 3);
    oc_sqlite_column_copy(d->trigger, sizeof d->trigger, st, 4);
    d->version = sqlite3_column_int64(st, 5);
    d->champion = sqlite3_column_int64(st, 6);
    oc_sqlite_column_copy(d->reason, sizeof d->reason, st, 7);
    oc_sqlite_column_copy(d->figures, sizeof d->figures, st, 8);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    free(rows);
    return oc_sqlite_fail(s, err, "reading promotion decisions");
  }
  *out = rows;
  *n = count;
  return 0;
}

int oc_sqlite_challenger_get(oc_store *store, const char *endpoint, oc_challenger_state *out, bool *found,
                             oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "SELECT challenger, mode, challenger_since, pending_trigger, pending_reason, promoted, previous, promoted_since,"
      " quiet_until, forecast_origin FROM endpoint_challengers WHERE endpoint = ?1";
  memset(out, 0, sizeof *out);
  snprintf(out->endpoint, sizeof out->endpoint, "%s", endpoint);
  out->challenger_since = out->promoted_since = out->quiet_until = out->forecast_origin = OC_DATE_INVALID;
  *found = false;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, endpoint, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *found = true;
    out->challenger = sqlite3_column_int64(st, 0);
    oc_sqlite_column_copy(out->mode, sizeof out->mode, st, 1);
    out->challenger_since = oc_sqlite_column_date(st, 2);
    oc_sqlite_column_copy(out->pending_trigger, sizeof out->pending_trigger, st, 3);
    oc_sqlite_column_copy(out->pending_reason, sizeof out->pending_reason, st, 4);
    out->promoted = sqlite3_column_int64(st, 5);
    out->previous = sqlite3_column_int64(st, 6);
    out->promoted_since = oc_sqlite_column_date(st, 7);
    out->quiet_until = oc_sqlite_column_date(st, 8);
    out->forecast_origin = oc_sqlite_column_date(st, 9);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return oc_sqlite_fail(s, err, "reading an endpoint's challenger state");
  return 0;
}

int oc_sqlite_challenger_put(oc_store *store, const oc_challenger_state *in, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "INSERT OR REPLACE INTO endpoint_challengers(endpoint, challenger, mode, challenger_since, pending_trigger,"
      " pending_reason, promoted, previous, promoted_since, quiet_until, forecast_origin)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = false;
  if (st) {
    sqlite3_bind_text(st, 1, in->endpoint, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, in->challenger);
    sqlite3_bind_text(st, 3, in->mode, -1, SQLITE_STATIC);
    bind_date_or_null(st, 4, in->challenger_since);
    sqlite3_bind_text(st, 5, in->pending_trigger, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, in->pending_reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, in->promoted);
    sqlite3_bind_int64(st, 8, in->previous);
    bind_date_or_null(st, 9, in->promoted_since);
    bind_date_or_null(st, 10, in->quiet_until);
    bind_date_or_null(st, 11, in->forecast_origin);
    ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) oc_sqlite_fail(s, err, "saving an endpoint's challenger state");
    sqlite3_reset(st);
  }
  if (ok) ok = oc_sqlite_change_record(s, OC_CHANGE_DECISION, in->endpoint, err) == 0;
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_forecast_errors(oc_store *store, const char *endpoint, const char *model_version, int64_t horizon,
                              oc_date after, size_t limit, oc_scored_error **rows, size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "WITH newest AS ("
      "  SELECT f.id, f.origin, row_number() OVER (PARTITION BY f.origin ORDER BY f.id DESC) AS nth FROM forecasts f"
      "  JOIN forecast_points p ON p.forecast_id = f.id AND p.step = ?3"
      "  WHERE f.history = 'stored' AND f.endpoint = ?1 AND f.model_version = ?2 AND (?4 IS NULL OR f.origin > ?4))"
      " SELECT f.origin, abs(p.price - x.actual), abs(x.naive - x.actual)"
      " FROM newest f JOIN forecast_points p ON p.forecast_id = f.id AND p.step = ?3"
      " JOIN forecast_scores x ON x.forecast_id = p.forecast_id AND x.step = p.step"
      " WHERE f.nth = 1 ORDER BY f.origin DESC LIMIT ?5";
  *rows = NULL;
  *n = 0;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, endpoint, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, model_version, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, horizon);
  bind_date_or_null(st, 4, after);
  sqlite3_bind_int64(st, 5, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
  oc_scored_error *out = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&out, &cap, count + 1, sizeof *out);
    out[count++] = (oc_scored_error){.origin = oc_sqlite_column_date(st, 0),
                                     .abs_error = sqlite3_column_double(st, 1),
                                     .naive_abs_error = sqlite3_column_double(st, 2)};
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    free(out);
    return oc_sqlite_fail(s, err, "reading scored forecast errors");
  }
  for (size_t i = 0; i < count / 2; i++) { /* newest first from the query; ascending for the caller */
    oc_scored_error t = out[i];
    out[i] = out[count - 1 - i];
    out[count - 1 - i] = t;
  }
  *rows = out;
  *n = count;
  return 0;
}
