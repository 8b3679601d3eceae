/* store_sqlite_alerts.c: the SQLite side of the alert evaluator's records (tables `alerts` and
 * `alert_events`, migration 16): one row per fingerprint with its current state, and one history row
 * per state change. Must not know what a rule means nor how alerts are delivered. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

static void bind_value(sqlite3_stmt *st, int index, double value) {
  if (isnan(value)) sqlite3_bind_null(st, index);
  else sqlite3_bind_double(st, index, value);
}

static double column_value(sqlite3_stmt *st, int index) {
  return sqlite3_column_type(st, index) == SQLITE_NULL ? NAN : sqlite3_column_double(st, index);
}

static bool record_event(oc_sqlite_store *s, const oc_alert *a, oc_error *err) {
  static const char sql[] =
      "INSERT INTO alert_events(fingerprint, rule, state, value, at, labels_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return false;
  sqlite3_bind_text(st, 1, a->fingerprint, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, a->rule, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, a->state, -1, SQLITE_STATIC);
  bind_value(st, 4, a->value);
  sqlite3_bind_int64(st, 5, a->updated_at);
  sqlite3_bind_text(st, 6, a->labels_json, -1, SQLITE_STATIC);
  bool ok = sqlite3_step(st) == SQLITE_DONE;
  if (!ok) oc_sqlite_fail(s, err, "recording an alert event");
  sqlite3_reset(st);
  return ok;
}

int oc_sqlite_alert_save(oc_store *store, const oc_alert *a, bool with_event, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "INSERT OR REPLACE INTO alerts(fingerprint, rule, state, labels_json, annotations_json, value, active_since,"
      " fired_at, resolved_at, updated_at, notified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = false;
  if (st) {
    sqlite3_bind_text(st, 1, a->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->rule, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->state, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->labels_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, a->annotations_json, -1, SQLITE_STATIC);
    bind_value(st, 6, a->value);
    sqlite3_bind_int64(st, 7, a->active_since);
    sqlite3_bind_int64(st, 8, a->fired_at);
    sqlite3_bind_int64(st, 9, a->resolved_at);
    sqlite3_bind_int64(st, 10, a->updated_at);
    sqlite3_bind_text(st, 11, a->notified, -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) oc_sqlite_fail(s, err, "saving an alert");
    sqlite3_reset(st);
  }
  if (ok && with_event) ok = record_event(s, a, err);
  if (ok) ok = oc_sqlite_change_record(s, OC_CHANGE_ALERT, a->rule, err) == 0;
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_alerts_list(oc_store *store, const char *state, oc_alert **list, size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "SELECT fingerprint, rule, state, labels_json, annotations_json, value, active_since, fired_at, resolved_at,"
      " updated_at, notified FROM alerts WHERE (?1 IS NULL OR state = ?1) ORDER BY rule, fingerprint";
  *list = NULL;
  *n = 0;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  if (state) sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
  oc_alert *out = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&out, &cap, count + 1, sizeof *out);
    oc_alert *a = &out[count++];
    memset(a, 0, sizeof *a);
    oc_sqlite_column_copy(a->fingerprint, sizeof a->fingerprint, st, 0);
    oc_sqlite_column_copy(a->rule, sizeof a->rule, st, 1);
    oc_sqlite_column_copy(a->state, sizeof a->state, st, 2);
    a->labels_json = oc_sqlite_column_strdup(st, 3);
    a->annotations_json = oc_sqlite_column_strdup(st, 4);
    a->value = column_value(st, 5);
    a->active_since = sqlite3_column_int64(st, 6);
    a->fired_at = sqlite3_column_int64(st, 7);
    a->resolved_at = sqlite3_column_int64(st, 8);
    a->updated_at = sqlite3_column_int64(st, 9);
    oc_sqlite_column_copy(a->notified, sizeof a->notified, st, 10);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    oc_alert_list_free(out, count);
    return oc_sqlite_fail(s, err, "listing alerts");
  }
  *list = out;
  *n = count;
  return 0;
}

int oc_sqlite_alert_history(oc_store *store, const char *fingerprint, size_t limit, oc_alert_event **events,
                            size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "SELECT id, fingerprint, rule, state, value, at, labels_json FROM alert_events"
      " WHERE (?1 IS NULL OR fingerprint = ?1) ORDER BY id DESC LIMIT ?2";
  *events = NULL;
  *n = 0;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  if (fingerprint) sqlite3_bind_text(st, 1, fingerprint, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
  oc_alert_event *out = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&out, &cap, count + 1, sizeof *out);
    oc_alert_event *e = &out[count++];
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(st, 0);
    oc_sqlite_column_copy(e->fingerprint, sizeof e->fingerprint, st, 1);
    oc_sqlite_column_copy(e->rule, sizeof e->rule, st, 2);
    oc_sqlite_column_copy(e->state, sizeof e->state, st, 3);
    e->value = column_value(st, 4);
    e->at = sqlite3_column_int64(st, 5);
    e->labels_json = oc_sqlite_column_strdup(st, 6);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    oc_alert_event_list_free(out, count);
    return oc_sqlite_fail(s, err, "listing alert history");
  }
  *events = out;
  *n = count;
  return 0;
}
