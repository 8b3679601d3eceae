/* store_pg_sensors_live.c: the PostgreSQL side of the silence detector's and the live sensor feed's ops
 * (migration 19: sensor_last_readings, sensor_anomalies.ended_ms), the twin of
 * store_sqlite_sensors_live.c. It decides nothing about what a silence is (src/stream/silence.c does)
 * and must not print. */
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "store/store_pg_internal.h"

int oc_pg_sensor_last_raise(oc_store *store, const oc_sensor_reading *r, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_text(&p, r->device_id);
  oc_pg_text(&p, r->measurement);
  oc_pg_int(&p, r->event_ms);
  oc_pg_int(&p, r->seq);
  oc_pg_double(&p, r->value);
  return oc_pg_run(oc_pg_of(store),
                   "INSERT INTO sensor_last_readings(device_id, measurement, event_ms, seq, value) VALUES ($1, $2, $3, $4, $5)"
                   " ON CONFLICT (device_id, measurement) DO UPDATE SET event_ms = excluded.event_ms, seq = excluded.seq,"
                   " value = excluded.value WHERE (excluded.event_ms, excluded.seq) >"
                   " (sensor_last_readings.event_ms, sensor_last_readings.seq)",
                   &p, "raising a sensor's latest reading", NULL, err);
}

int oc_pg_sensor_watch_list(oc_store *store, oc_sensor_watch **rows, size_t *n, oc_error *err) {
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT l.device_id, l.measurement, l.event_ms, l.seq, l.value, d.interval_seconds,"
                            " (SELECT max(a.event_ms) FROM sensor_anomalies a WHERE a.device_id = l.device_id"
                            "  AND a.measurement = l.measurement AND a.kind = 'silence' AND a.ended_ms = 0)"
                            " FROM sensor_last_readings l JOIN devices d ON d.id = l.device_id WHERE d.revoked_at = 0"
                            " ORDER BY l.device_id COLLATE \"C\", l.measurement COLLATE \"C\"",
                            NULL, "listing the sensors the silence detector watches", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_sensor_watch *list = count ? oc_xcalloc(count, sizeof *list) : NULL;
  for (size_t i = 0; i < count; i++) {
    oc_sensor_watch *w = &list[i];
    oc_pg_get_copy(w->last.device_id, sizeof w->last.device_id, r, (int)i, 0);
    oc_pg_get_copy(w->last.measurement, sizeof w->last.measurement, r, (int)i, 1);
    w->last.event_ms = oc_pg_get_int(r, (int)i, 2);
    w->last.seq = oc_pg_get_int(r, (int)i, 3);
    w->last.value = oc_pg_get_double(r, (int)i, 4);
    w->interval_seconds = oc_pg_get_int(r, (int)i, 5);
    w->open = !PQgetisnull(r, (int)i, 6);
    if (w->open) w->open_event_ms = oc_pg_get_int(r, (int)i, 6);
  }
  PQclear(r);
  *rows = list;
  *n = count;
  return 0;
}

int oc_pg_sensor_anomaly_end(oc_store *store, const char *device_id, const char *measurement, const char *kind,
                             int64_t event_ms, int64_t ended_ms, bool *ended, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_text(&p, device_id);
  oc_pg_text(&p, measurement);
  oc_pg_text(&p, kind);
  oc_pg_int(&p, event_ms);
  oc_pg_int(&p, ended_ms);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  int64_t changed = 0;
  bool ok = oc_pg_run(s,
                      "UPDATE sensor_anomalies SET ended_ms = $5 WHERE device_id = $1 AND measurement = $2"
                      " AND kind = $3 AND event_ms = $4 AND ended_ms = 0",
                      &p, "ending a sensor anomaly", &changed, err) == 0;
  *ended = ok && changed > 0;
  if (*ended) {
    char subject[OC_CHANGE_SUBJECT_MAX];
    oc_sensor_change_subject(subject, device_id, measurement, kind, event_ms);
    ok = oc_pg_change_record(s, OC_CHANGE_SENSOR_ANOMALY, subject, err) == 0;
  }
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_sensor_anomaly_get(oc_store *store, const char *device_id, const char *measurement, const char *kind,
                             int64_t event_ms, oc_sensor_anomaly *out, bool *found, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_text(&p, device_id);
  oc_pg_text(&p, measurement);
  oc_pg_text(&p, kind);
  oc_pg_int(&p, event_ms);
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT seq, value, score, detected_ms, ended_ms FROM sensor_anomalies"
                            " WHERE device_id = $1 AND measurement = $2 AND kind = $3 AND event_ms = $4",
                            &p, "reading a sensor anomaly", err);
  if (!r) return -1;
  *found = PQntuples(r) == 1;
  if (*found) {
    *out = (oc_sensor_anomaly){.event_ms = event_ms,
                               .seq = oc_pg_get_int(r, 0, 0),
                               .value = oc_pg_get_double(r, 0, 1),
                               .score = oc_pg_get_double(r, 0, 2),
                               .detected_ms = oc_pg_get_int(r, 0, 3),
                               .ended_ms = oc_pg_get_int(r, 0, 4)};
    snprintf(out->device_id, sizeof out->device_id, "%s", device_id);
    snprintf(out->measurement, sizeof out->measurement, "%s", measurement);
    snprintf(out->kind, sizeof out->kind, "%s", kind);
  }
  PQclear(r);
  return 0;
}

int oc_pg_sensor_window_get(oc_store *store, const char *device_id, const char *measurement, int64_t width_ms,
                            int64_t start_ms, oc_sensor_window *out, bool *found, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_text(&p, device_id);
  oc_pg_text(&p, measurement);
  oc_pg_int(&p, width_ms);
  oc_pg_int(&p, start_ms);
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT count, sum / count, min, max, last FROM sensor_windows"
                            " WHERE device_id = $1 AND measurement = $2 AND width_ms = $3 AND start_ms = $4",
                            &p, "reading a sensor window", err);
  if (!r) return -1;
  *found = PQntuples(r) == 1;
  if (*found) {
    *out = (oc_sensor_window){.width_ms = width_ms,
                              .start_ms = start_ms,
                              .count = oc_pg_get_int(r, 0, 0),
                              .mean = oc_pg_get_double(r, 0, 1),
                              .min = oc_pg_get_double(r, 0, 2),
                              .max = oc_pg_get_double(r, 0, 3),
                              .last = oc_pg_get_double(r, 0, 4)};
    snprintf(out->device_id, sizeof out->device_id, "%s", device_id);
    snprintf(out->measurement, sizeof out->measurement, "%s", measurement);
  }
  PQclear(r);
  return 0;
}
