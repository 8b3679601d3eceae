/* store_sqlite_sensors_live.c: the SQLite side of the silence detector's and the live sensor feed's ops
 * (migration 18: sensor_last_readings, sensor_anomalies.ended_ms; store.h, "Sensor silence and the live
 * sensor feed"). It decides nothing about what a silence is (src/stream/silence.c does) and must not
 * print. */
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

int oc_sqlite_sensor_last_raise(oc_store *store, const oc_sensor_reading *r, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "INSERT INTO sensor_last_readings(device_id, measurement, event_ms, seq, value) VALUES (?1, ?2, ?3, ?4, ?5)"
      " ON CONFLICT(device_id, measurement) DO UPDATE SET event_ms = excluded.event_ms, seq = excluded.seq,"
      " value = excluded.value WHERE (excluded.event_ms, excluded.seq) > (event_ms, seq)";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, r->device_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, r->measurement, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, r->event_ms);
  sqlite3_bind_int64(st, 4, r->seq);
  sqlite3_bind_double(st, 5, r->value);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? 0 : oc_sqlite_fail(s, err, "raising a sensor's latest reading");
}

int oc_sqlite_sensor_watch_list(oc_store *store, oc_sensor_watch **rows, size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "SELECT l.device_id, l.measurement, l.event_ms, l.seq, l.value, d.interval_seconds,"
      " (SELECT max(a.event_ms) FROM sensor_anomalies a WHERE a.device_id = l.device_id"
      "  AND a.measurement = l.measurement AND a.kind = 'silence' AND a.ended_ms = 0)"
      " FROM sensor_last_readings l JOIN devices d ON d.id = l.device_id WHERE d.revoked_at = 0"
      " ORDER BY l.device_id, l.measurement";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  oc_sensor_watch *list = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&list, &cap, count + 1, sizeof *list);
    oc_sensor_watch *w = &list[count++];
    *w = (oc_sensor_watch){0};
    oc_sqlite_column_copy(w->last.device_id, sizeof w->last.device_id, st, 0);
    oc_sqlite_column_copy(w->last.measurement, sizeof w->last.measurement, st, 1);
    w->last.event_ms = sqlite3_column_int64(st, 2);
    w->last.seq = sqlite3_column_int64(st, 3);
    w->last.value = sqlite3_column_double(st, 4);
    w->interval_seconds = sqlite3_column_int64(st, 5);
    w->open = sqlite3_column_type(st, 6) != SQLITE_NULL;
    if (w->open) w->open_event_ms = sqlite3_column_int64(st, 6);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    free(list);
    return oc_sqlite_fail(s, err, "listing the sensors the silence detector watches");
  }
  *rows = list;
  *n = count;
  return 0;
}

int oc_sqlite_sensor_anomaly_end(oc_store *store, const char *device_id, const char *measurement, const char *kind,
                                 int64_t event_ms, int64_t ended_ms, bool *ended, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "UPDATE sensor_anomalies SET ended_ms = ?5 WHERE device_id = ?1 AND measurement = ?2"
                            " AND kind = ?3 AND event_ms = ?4 AND ended_ms = 0";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = st != NULL;
  if (ok) {
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, measurement, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, event_ms);
    sqlite3_bind_int64(st, 5, ended_ms);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    ok = rc == SQLITE_DONE || oc_sqlite_fail(s, err, "ending a sensor anomaly") == 0;
    *ended = ok && sqlite3_changes(s->db) > 0;
  }
  if (ok && *ended) {
    char subject[OC_CHANGE_SUBJECT_MAX];
    oc_sensor_change_subject(subject, device_id, measurement, kind, event_ms);
    ok = oc_sqlite_change_record(s, OC_CHANGE_SENSOR_ANOMALY, subject, err) == 0;
  }
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_sensor_anomaly_get(oc_store *store, const char *device_id, const char *measurement, const char *kind,
                                 int64_t event_ms, oc_sensor_anomaly *out, bool *found, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "SELECT seq, value, score, detected_ms, ended_ms FROM sensor_anomalies"
                            " WHERE device_id = ?1 AND measurement = ?2 AND kind = ?3 AND event_ms = ?4";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, measurement, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, event_ms);
  int rc = sqlite3_step(st);
  *found = rc == SQLITE_ROW;
  if (*found) {
    *out = (oc_sensor_anomaly){.event_ms = event_ms,
                               .seq = sqlite3_column_int64(st, 0),
                               .value = sqlite3_column_double(st, 1),
                               .score = sqlite3_column_double(st, 2),
                               .detected_ms = sqlite3_column_int64(st, 3),
                               .ended_ms = sqlite3_column_int64(st, 4)};
    snprintf(out->device_id, sizeof out->device_id, "%s", device_id);
    snprintf(out->measurement, sizeof out->measurement, "%s", measurement);
    snprintf(out->kind, sizeof out->kind, "%s", kind);
  }
  sqlite3_reset(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : oc_sqlite_fail(s, err, "reading a sensor anomaly");
}

int oc_sqlite_sensor_window_get(oc_store *store, const char *device_id, const char *measurement, int64_t width_ms,
                                int64_t start_ms, oc_sensor_window *out, bool *found, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "SELECT count, sum / count, min, max, last FROM sensor_windows"
                            " WHERE device_id = ?1 AND measurement = ?2 AND width_ms = ?3 AND start_ms = ?4";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, measurement, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, width_ms);
  sqlite3_bind_int64(st, 4, start_ms);
  int rc = sqlite3_step(st);
  *found = rc == SQLITE_ROW;
  if (*found) {
    *out = (oc_sensor_window){.width_ms = width_ms,
                              .start_ms = start_ms,
                              .count = sqlite3_column_int64(st, 0),
                              .mean = sqlite3_column_double(st, 1),
                              .min = sqlite3_column_double(st, 2),
                              .max = sqlite3_column_double(st, 3),
                              .last = sqlite3_column_double(st, 4)};
    snprintf(out->device_id, sizeof out->device_id, "%s", device_id);
    snprintf(out->measurement, sizeof out->measurement, "%s", measurement);
  }
  sqlite3_reset(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : oc_sqlite_fail(s, err, "reading a sensor window");
}
