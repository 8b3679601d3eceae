/* store_sqlite_stream.c: the SQLite side of the sensor stream's ops (migration 15: sensor_readings,
 * sensor_dead_letters, sensor_watermarks, sensor_windows, sensor_anomalies; the changes of anomalies and of
 * the smallest windows, issue 15 sensorslive). Readings are keyed by (device, seq,
 * measurement), so a redelivered message is stored once; a window is recomputed from its readings in
 * (event time, seq) order, so its aggregate never depends on the order messages arrived in. It decides
 * nothing about lateness or windows (src/stream/ does) and must not print. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

void oc_dead_letter_list_free(oc_dead_letter *rows, size_t n) {
  for (size_t i = 0; i < n; i++) free(rows[i].raw);
  free(rows);
}

/* Steps a statement that returns no row; 0, or -1 with "what" in err. */
static int step_done(oc_sqlite_store *s, sqlite3_stmt *st, const char *what, oc_error *err) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? 0 : oc_sqlite_fail(s, err, what);
}

int oc_sqlite_sensor_reading_insert(oc_store *store, const oc_sensor_reading *r, bool late, bool *inserted,
                                    oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "INSERT OR IGNORE INTO sensor_readings(device_id, seq, measurement, unit, event_ms, value, late)"
                            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
  assert(r->seq >= 0);
  *inserted = false;
  if (oc_store_sensor_reading_check(s->path, r, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, r->device_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, r->seq);
  sqlite3_bind_text(st, 3, r->measurement, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, r->unit, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, r->event_ms);
  sqlite3_bind_double(st, 6, r->value);
  sqlite3_bind_int(st, 7, late);
  if (step_done(s, st, "storing a sensor reading", err) != 0) return -1;
  *inserted = sqlite3_changes(s->db) > 0;
  return 0;
}

int oc_sqlite_sensor_reading_get(oc_store *store, const char *device_id, int64_t seq, const char *measurement,
                                 oc_sensor_reading *out, bool *found, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "SELECT unit, event_ms, value FROM sensor_readings WHERE device_id = ?1 AND seq = ?2 AND measurement = ?3";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, seq);
  sqlite3_bind_text(st, 3, measurement, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *found = rc == SQLITE_ROW;
  if (*found) {
    *out = (oc_sensor_reading){.seq = seq, .event_ms = sqlite3_column_int64(st, 1), .value = sqlite3_column_double(st, 2)};
    snprintf(out->device_id, sizeof out->device_id, "%s", device_id);
    snprintf(out->measurement, sizeof out->measurement, "%s", measurement);
    oc_sqlite_column_copy(out->unit, sizeof out->unit, st, 0);
  }
  sqlite3_reset(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : oc_sqlite_fail(s, err, "reading a sensor reading");
}

int oc_sqlite_sensor_watermark_get(oc_store *store, const char *device_id, int64_t *event_ms, bool *found,
                                   oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "SELECT event_ms FROM sensor_watermarks WHERE device_id = ?1";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *found = rc == SQLITE_ROW;
  if (*found) *event_ms = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : oc_sqlite_fail(s, err, "reading a sensor watermark");
}

int oc_sqlite_sensor_watermark_set(oc_store *store, const char *device_id, int64_t event_ms, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "INSERT INTO sensor_watermarks(device_id, event_ms) VALUES (?1, ?2)"
                            " ON CONFLICT(device_id) DO UPDATE SET event_ms = max(event_ms, excluded.event_ms)";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, event_ms);
  return step_done(s, st, "raising a sensor watermark", err);
}

int oc_sqlite_sensor_window_recompute(oc_store *store, const char *device_id, const char *measurement,
                                      int64_t width_ms, int64_t start_ms, int64_t part_ms, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  assert(width_ms > 0 && start_ms % width_ms == 0 && part_ms >= 0 && (part_ms == 0 || width_ms % part_ms == 0));
  /* Called after an on-time reading of the window was stored, so the window has one (count > 0). The
   * rows come in index order ((event time, seq), or the parts' starts): the sum is the same
   * floating-point result however the messages arrived. */
  static const char from_readings[] =
      "INSERT OR REPLACE INTO sensor_windows(device_id, measurement, width_ms, start_ms, count, sum, min, max, last)"
      " SELECT ?1, ?2, ?3, ?4, count(*), sum(value), min(value), max(value),"
      "  (SELECT value FROM sensor_readings INDEXED BY sensor_readings_by_time WHERE device_id = ?1"
      "   AND measurement = ?2 AND late = 0 AND event_ms >= ?4 AND event_ms < ?4 + ?3"
      "   ORDER BY event_ms DESC, seq DESC LIMIT 1)"
      " FROM (SELECT value FROM sensor_readings INDEXED BY sensor_readings_by_time"
      "  WHERE device_id = ?1 AND measurement = ?2 AND late = 0 AND event_ms >= ?4 AND event_ms < ?4 + ?3"
      "  ORDER BY event_ms, seq)";
  static const char from_parts[] =
      "INSERT OR REPLACE INTO sensor_windows(device_id, measurement, width_ms, start_ms, count, sum, min, max, last)"
      " SELECT ?1, ?2, ?3, ?4, sum(count), sum(sum), min(min), max(max),"
      "  (SELECT last FROM sensor_windows WHERE device_id = ?1 AND measurement = ?2 AND width_ms = ?5"
      "   AND start_ms >= ?4 AND start_ms < ?4 + ?3 ORDER BY start_ms DESC LIMIT 1)"
      " FROM (SELECT count, sum, min, max FROM sensor_windows WHERE device_id = ?1 AND measurement = ?2"
      "  AND width_ms = ?5 AND start_ms >= ?4 AND start_ms < ?4 + ?3 ORDER BY start_ms)";
  sqlite3_stmt *st = oc_sqlite_stmt(s, part_ms ? from_parts : from_readings, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, measurement, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, width_ms);
  sqlite3_bind_int64(st, 4, start_ms);
  if (part_ms) sqlite3_bind_int64(st, 5, part_ms);
  if (step_done(s, st, "recomputing a sensor window", err) != 0) return -1;
  if (part_ms) return 0; /* made from the smallest windows, whose changes were recorded */
  char subject[OC_CHANGE_SUBJECT_MAX], width[24];
  snprintf(width, sizeof width, "%lld", (long long)width_ms);
  oc_sensor_change_subject(subject, device_id, measurement, width, start_ms);
  return oc_sqlite_change_record(s, OC_CHANGE_SENSOR_WINDOW, subject, err);
}

int oc_sqlite_dead_letter_insert(oc_store *store, oc_dead_letter *dl, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "INSERT INTO sensor_dead_letters(received_ms, topic, reason, raw, seen, last_received_ms)"
      " VALUES (?1, ?2, ?3, ?4, 1, ?1)"
      " ON CONFLICT (topic, raw) DO UPDATE SET seen = seen + 1,"
      " last_received_ms = max(last_received_ms, excluded.received_ms)"
      " RETURNING id, seen";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_int64(st, 1, dl->received_ms);
  sqlite3_bind_text(st, 2, dl->topic, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, dl->reason, -1, SQLITE_STATIC);
  sqlite3_bind_blob(st, 4, dl->raw ? (const void *)dl->raw : "", (int)dl->raw_len, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_ROW) {
    oc_sqlite_fail(s, err, "storing a dead letter");
    sqlite3_reset(st);
    return -1;
  }
  dl->id = sqlite3_column_int64(st, 0);
  dl->seen = sqlite3_column_int64(st, 1);
  return step_done(s, st, "storing a dead letter", err);
}

int oc_sqlite_dead_letters_list(oc_store *store, size_t limit, oc_dead_letter **rows, size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "SELECT id, received_ms, topic, reason, raw, seen, last_received_ms FROM sensor_dead_letters"
      " ORDER BY id DESC LIMIT ?1";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_int64(st, 1, (sqlite3_int64)(limit > INT64_MAX ? INT64_MAX : limit));
  oc_dead_letter *list = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&list, &cap, count + 1, sizeof *list);
    oc_dead_letter *d = &list[count++];
    memset(d, 0, sizeof *d);
    d->id = sqlite3_column_int64(st, 0);
    d->received_ms = sqlite3_column_int64(st, 1);
    oc_sqlite_column_copy(d->topic, sizeof d->topic, st, 2);
    oc_sqlite_column_copy(d->reason, sizeof d->reason, st, 3);
    d->raw_len = (size_t)sqlite3_column_bytes(st, 4);
    d->raw = oc_xmalloc(d->raw_len + 1);
    if (d->raw_len) memcpy(d->raw, sqlite3_column_blob(st, 4), d->raw_len);
    d->raw[d->raw_len] = 0; /* for printing; raw_len is the length */
    d->seen = sqlite3_column_int64(st, 5);
    d->last_received_ms = sqlite3_column_int64(st, 6);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    oc_dead_letter_list_free(list, count);
    return oc_sqlite_fail(s, err, "listing dead letters");
  }
  *rows = list;
  *n = count;
  return 0;
}

int oc_sqlite_sensor_windows_list(oc_store *store, const char *device_id, const char *measurement,
                                  int64_t width_ms, oc_sensor_window **rows, size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "SELECT device_id, measurement, width_ms, start_ms, count, sum / count, min, max, last FROM sensor_windows"
      " WHERE (?1 IS NULL OR device_id = ?1) AND (?2 IS NULL OR measurement = ?2) AND width_ms = ?3"
      " ORDER BY device_id, measurement, start_ms";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, measurement, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, width_ms);
  oc_sensor_window *list = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&list, &cap, count + 1, sizeof *list);
    oc_sensor_window *w = &list[count++];
    oc_sqlite_column_copy(w->device_id, sizeof w->device_id, st, 0);
    oc_sqlite_column_copy(w->measurement, sizeof w->measurement, st, 1);
    w->width_ms = sqlite3_column_int64(st, 2);
    w->start_ms = sqlite3_column_int64(st, 3);
    w->count = sqlite3_column_int64(st, 4);
    w->mean = sqlite3_column_double(st, 5);
    w->min = sqlite3_column_double(st, 6);
    w->max = sqlite3_column_double(st, 7);
    w->last = sqlite3_column_double(st, 8);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    free(list);
    return oc_sqlite_fail(s, err, "listing sensor windows");
  }
  *rows = list;
  *n = count;
  return 0;
}

int oc_sqlite_sensor_stats(oc_store *store, oc_sensor_stats *out, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "SELECT (SELECT count(*) FROM sensor_readings), (SELECT count(*) FROM sensor_readings WHERE late),"
                            " (SELECT count(*) FROM sensor_dead_letters), (SELECT count(*) FROM sensor_windows),"
                            " (SELECT count(*) FROM sensor_anomalies)";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *out = (oc_sensor_stats){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
                             sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4)};
  sqlite3_reset(st);
  return rc == SQLITE_ROW ? 0 : oc_sqlite_fail(s, err, "counting the sensor stream");
}

int oc_sqlite_sensor_readings_recent(oc_store *store, const char *device_id, const char *measurement, size_t limit,
                                     oc_sensor_reading **rows, size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "SELECT seq, unit, event_ms, value FROM (SELECT seq, unit, event_ms, value FROM sensor_readings"
      " INDEXED BY sensor_readings_by_time WHERE device_id = ?1 AND measurement = ?2 AND late = 0"
      " ORDER BY event_ms DESC, seq DESC LIMIT ?3) ORDER BY event_ms, seq";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, measurement, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
  oc_sensor_reading *list = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&list, &cap, count + 1, sizeof *list);
    oc_sensor_reading *r = &list[count++];
    memset(r, 0, sizeof *r);
    snprintf(r->device_id, sizeof r->device_id, "%s", device_id);
    snprintf(r->measurement, sizeof r->measurement, "%s", measurement);
    r->seq = sqlite3_column_int64(st, 0);
    oc_sqlite_column_copy(r->unit, sizeof r->unit, st, 1);
    r->event_ms = sqlite3_column_int64(st, 2);
    r->value = sqlite3_column_double(st, 3);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    free(list);
    return oc_sqlite_fail(s, err, "reading recent sensor readings");
  }
  *rows = list;
  *n = count;
  return 0;
}

int oc_sqlite_sensor_anomaly_insert(oc_store *store, const oc_sensor_anomaly *a, bool *inserted, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "INSERT OR IGNORE INTO sensor_anomalies(device_id, measurement, kind, event_ms, seq, value,"
                            " score, detected_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
  *inserted = false;
  if (oc_store_sensor_anomaly_check(s->path, a, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, a->device_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, a->measurement, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, a->kind, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, a->event_ms);
  sqlite3_bind_int64(st, 5, a->seq);
  sqlite3_bind_double(st, 6, a->value);
  sqlite3_bind_double(st, 7, a->score);
  sqlite3_bind_int64(st, 8, a->detected_ms);
  if (step_done(s, st, "storing a sensor anomaly", err) != 0) return -1;
  *inserted = sqlite3_changes(s->db) > 0;
  if (!*inserted) return 0;
  char subject[OC_CHANGE_SUBJECT_MAX];
  oc_sensor_change_subject(subject, a->device_id, a->measurement, a->kind, a->event_ms);
  return oc_sqlite_change_record(s, OC_CHANGE_SENSOR_ANOMALY, subject, err);
}
