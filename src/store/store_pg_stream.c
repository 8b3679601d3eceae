/* store_pg_stream.c: the PostgreSQL side of the sensor stream's ops (migration 15: sensor_readings,
 * sensor_dead_letters, sensor_watermarks, sensor_windows, sensor_anomalies; the changes of anomalies and
 * of the smallest windows, issue 15 sensorslive), the twin of
 * store_sqlite_stream.c. Readings are keyed by (device, seq, measurement), so a redelivered message is
 * stored once; a window is recomputed from its readings with ordered aggregates (event time, seq), so
 * its aggregate never depends on the order messages arrived in. Decides nothing about lateness or
 * windows (src/stream/ does) and must not print. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_pg_internal.h"

int oc_pg_sensor_reading_insert(oc_store *store, const oc_sensor_reading *r, bool late, bool *inserted,
                                oc_error *err) {
  assert(r->seq >= 0);
  *inserted = false;
  if (oc_store_sensor_reading_check(oc_pg_of(store)->display, r, err) != 0) return -1;
  oc_pg_params p = {0};
  oc_pg_text(&p, r->device_id);
  oc_pg_int(&p, r->seq);
  oc_pg_text(&p, r->measurement);
  oc_pg_text(&p, r->unit);
  oc_pg_int(&p, r->event_ms);
  oc_pg_double(&p, r->value);
  oc_pg_int(&p, late);
  int64_t changed = 0;
  if (oc_pg_run(oc_pg_of(store),
                "INSERT INTO sensor_readings(device_id, seq, measurement, unit, event_ms, value, late)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                &p, "storing a sensor reading", &changed, err) != 0)
    return -1;
  *inserted = changed > 0;
  return 0;
}

int oc_pg_sensor_reading_get(oc_store *store, const char *device_id, int64_t seq, const char *measurement,
                             oc_sensor_reading *out, bool *found, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_text(&p, device_id);
  oc_pg_int(&p, seq);
  oc_pg_text(&p, measurement);
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT unit, event_ms, value FROM sensor_readings WHERE device_id = $1 AND seq = $2"
                            " AND measurement = $3",
                            &p, "reading a sensor reading", err);
  if (!r) return -1;
  *found = PQntuples(r) == 1;
  if (*found) {
    *out = (oc_sensor_reading){.seq = seq, .event_ms = oc_pg_get_int(r, 0, 1), .value = oc_pg_get_double(r, 0, 2)};
    snprintf(out->device_id, sizeof out->device_id, "%s", device_id);
    snprintf(out->measurement, sizeof out->measurement, "%s", measurement);
    oc_pg_get_copy(out->unit, sizeof out->unit, r, 0, 0);
  }
  PQclear(r);
  return 0;
}

int oc_pg_sensor_watermark_get(oc_store *store, const char *device_id, int64_t *event_ms, bool *found,
                               oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_text(&p, device_id);
  PGresult *r = oc_pg_query(oc_pg_of(store), "SELECT event_ms FROM sensor_watermarks WHERE device_id = $1", &p,
                            "reading a sensor watermark", err);
  if (!r) return -1;
  *found = PQntuples(r) == 1;
  if (*found) *event_ms = oc_pg_get_int(r, 0, 0);
  PQclear(r);
  return 0;
}

int oc_pg_sensor_watermark_set(oc_store *store, const char *device_id, int64_t event_ms, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_text(&p, device_id);
  oc_pg_int(&p, event_ms);
  return oc_pg_run(oc_pg_of(store),
                   "INSERT INTO sensor_watermarks(device_id, event_ms) VALUES ($1, $2) ON CONFLICT (device_id)"
                   " DO UPDATE SET event_ms = greatest(sensor_watermarks.event_ms, excluded.event_ms)",
                   &p, "raising a sensor watermark", NULL, err);
}

int oc_pg_sensor_window_recompute(oc_store *store, const char *device_id, const char *measurement, int64_t width_ms,
                                  int64_t start_ms, int64_t part_ms, oc_error *err) {
  assert(width_ms > 0 && start_ms % width_ms == 0 && part_ms >= 0 && (part_ms == 0 || width_ms % part_ms == 0));
  /* Called after an on-time reading of the window was stored, so the window has one (count > 0). The
   * sums are ordered aggregates ((event time, seq), or the parts' starts): the same floating-point
   * result however the messages arrived. */
  static const char upsert[] =
      " ON CONFLICT (device_id, measurement, width_ms, start_ms) DO UPDATE SET count = excluded.count,"
      " sum = excluded.sum, min = excluded.min, max = excluded.max, last = excluded.last";
  static const char from_readings[] =
      "INSERT INTO sensor_windows(device_id, measurement, width_ms, start_ms, count, sum, min, max, last)"
      " SELECT $1, $2, $3, $4, count(*), sum(value ORDER BY event_ms, seq), min(value), max(value),"
      "  (array_agg(value ORDER BY event_ms DESC, seq DESC))[1]"
      " FROM sensor_readings WHERE device_id = $1 AND measurement = $2 AND late = 0"
      "  AND event_ms >= $4 AND event_ms < $4 + $3";
  static const char from_parts[] =
      "INSERT INTO sensor_windows(device_id, measurement, width_ms, start_ms, count, sum, min, max, last)"
      " SELECT $1, $2, $3, $4, sum(w.count), sum(w.sum ORDER BY w.start_ms), min(w.min), max(w.max),"
      "  (array_agg(w.last ORDER BY w.start_ms DESC))[1]"
      " FROM sensor_windows w WHERE w.device_id = $1 AND w.measurement = $2 AND w.width_ms = $5"
      "  AND w.start_ms >= $4 AND w.start_ms < $4 + $3";
  oc_pg_params p = {0};
  oc_pg_text(&p, device_id);
  oc_pg_text(&p, measurement);
  oc_pg_int(&p, width_ms);
  oc_pg_int(&p, start_ms);
  if (part_ms) oc_pg_int(&p, part_ms);
  oc_buf sql = {0};
  oc_buf_printf(&sql, "%s%s", part_ms ? from_parts : from_readings, upsert);
  int rc = oc_pg_run(oc_pg_of(store), sql.data, &p, "recomputing a sensor window", NULL, err);
  oc_buf_free(&sql);
  if (rc != 0 || part_ms) return rc; /* made from the smallest windows, whose changes were recorded */
  char subject[OC_CHANGE_SUBJECT_MAX], width[24];
  snprintf(width, sizeof width, "%lld", (long long)width_ms);
  oc_sensor_change_subject(subject, device_id, measurement, width, start_ms);
  return oc_pg_change_record(oc_pg_of(store), OC_CHANGE_SENSOR_WINDOW, subject, err);
}

int oc_pg_dead_letter_insert(oc_store *store, oc_dead_letter *dl, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_buf hex = {0}; /* bytea's hex input form */
  oc_buf_puts(&hex, "\\x");
  for (size_t i = 0; i < dl->raw_len; i++) oc_buf_printf(&hex, "%02x", dl->raw[i]);
  oc_pg_params p = {0};
  oc_pg_int(&p, dl->received_ms);
  oc_pg_text(&p, dl->topic);
  oc_pg_text(&p, dl->reason);
  oc_pg_text(&p, hex.data);
  int rc = -1;
  if (oc_pg_op_begin(s, err) == 0) {
    /* The largest id + 1 under the write lock, as SQLite's rowid gives it; the same topic and bytes
     * again (the key of migration 22) count in the stored row. */
    PGresult *r = oc_pg_query(s,
                              "INSERT INTO sensor_dead_letters(id, received_ms, topic, reason, raw, seen, last_received_ms)"
                              " SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4::bytea, 1, $1 FROM sensor_dead_letters"
                              " ON CONFLICT (topic, sha256(raw)) DO UPDATE SET seen = sensor_dead_letters.seen + 1,"
                              " last_received_ms = greatest(sensor_dead_letters.last_received_ms, excluded.received_ms)"
                              " RETURNING id, seen",
                              &p, "storing a dead letter", err);
    if (r) {
      dl->id = oc_pg_get_int(r, 0, 0);
      dl->seen = oc_pg_get_int(r, 0, 1);
    }
    PQclear(r);
    rc = oc_pg_op_end(s, r != NULL, err);
  }
  oc_buf_free(&hex);
  return rc;
}

int oc_pg_dead_letters_list(oc_store *store, size_t limit, oc_dead_letter **rows, size_t *n, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_int(&p, oc_pg_limit(limit));
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT id, received_ms, topic, reason, raw, seen, last_received_ms FROM sensor_dead_letters"
                            " ORDER BY id DESC LIMIT $1",
                            &p, "listing dead letters", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_dead_letter *list = count ? oc_xcalloc(count, sizeof *list) : NULL;
  for (size_t i = 0; i < count; i++) {
    oc_dead_letter *d = &list[i];
    d->id = oc_pg_get_int(r, (int)i, 0);
    d->received_ms = oc_pg_get_int(r, (int)i, 1);
    oc_pg_get_copy(d->topic, sizeof d->topic, r, (int)i, 2);
    oc_pg_get_copy(d->reason, sizeof d->reason, r, (int)i, 3);
    size_t len = 0;
    unsigned char *bytes = PQunescapeBytea((const unsigned char *)oc_pg_get(r, (int)i, 4), &len);
    d->raw_len = bytes ? len : 0;
    d->raw = oc_xmalloc(d->raw_len + 1);
    if (d->raw_len) memcpy(d->raw, bytes, d->raw_len);
    d->raw[d->raw_len] = 0; /* for printing; raw_len is the length */
    d->seen = oc_pg_get_int(r, (int)i, 5);
    d->last_received_ms = oc_pg_get_int(r, (int)i, 6);
    PQfreemem(bytes);
  }
  PQclear(r);
  *rows = list;
  *n = count;
  return 0;
}

int oc_pg_sensor_windows_list(oc_store *store, const char *device_id, const char *measurement, int64_t width_ms,
                              oc_sensor_window **rows, size_t *n, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_text(&p, device_id);
  oc_pg_text(&p, measurement);
  oc_pg_int(&p, width_ms);
  PGresult *r = oc_pg_query(
      oc_pg_of(store),
      "SELECT device_id, measurement, width_ms, start_ms, count, sum / count, min, max, last FROM sensor_windows"
      " WHERE ($1::text IS NULL OR device_id = $1) AND ($2::text IS NULL OR measurement = $2) AND width_ms = $3"
      " ORDER BY device_id COLLATE \"C\", measurement COLLATE \"C\", start_ms",
      &p, "listing sensor windows", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_sensor_window *list = count ? oc_xcalloc(count, sizeof *list) : NULL;
  for (size_t i = 0; i < count; i++) {
    oc_sensor_window *w = &list[i];
    int row = (int)i;
    oc_pg_get_copy(w->device_id, sizeof w->device_id, r, row, 0);
    oc_pg_get_copy(w->measurement, sizeof w->measurement, r, row, 1);
    w->width_ms = oc_pg_get_int(r, row, 2);
    w->start_ms = oc_pg_get_int(r, row, 3);
    w->count = oc_pg_get_int(r, row, 4);
    w->mean = oc_pg_get_double(r, row, 5);
    w->min = oc_pg_get_double(r, row, 6);
    w->max = oc_pg_get_double(r, row, 7);
    w->last = oc_pg_get_double(r, row, 8);
  }
  PQclear(r);
  *rows = list;
  *n = count;
  return 0;
}

int oc_pg_sensor_stats(oc_store *store, oc_sensor_stats *out, oc_error *err) {
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT (SELECT count(*) FROM sensor_readings),"
                            " (SELECT count(*) FROM sensor_readings WHERE late <> 0),"
                            " (SELECT count(*) FROM sensor_dead_letters), (SELECT count(*) FROM sensor_windows),"
                            " (SELECT count(*) FROM sensor_anomalies)",
                            NULL, "counting the sensor stream", err);
  if (!r) return -1;
  *out = (oc_sensor_stats){oc_pg_get_int(r, 0, 0), oc_pg_get_int(r, 0, 1), oc_pg_get_int(r, 0, 2),
                           oc_pg_get_int(r, 0, 3), oc_pg_get_int(r, 0, 4)};
  PQclear(r);
  return 0;
}

int oc_pg_sensor_readings_recent(oc_store *store, const char *device_id, const char *measurement, size_t limit,
                                 oc_sensor_reading **rows, size_t *n, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_text(&p, device_id);
  oc_pg_text(&p, measurement);
  oc_pg_int(&p, oc_pg_limit(limit));
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT seq, unit, event_ms, value FROM (SELECT seq, unit, event_ms, value"
                            " FROM sensor_readings WHERE device_id = $1 AND measurement = $2 AND late = 0"
                            " ORDER BY event_ms DESC, seq DESC LIMIT $3) recent ORDER BY event_ms, seq",
                            &p, "reading recent sensor readings", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_sensor_reading *list = count ? oc_xcalloc(count, sizeof *list) : NULL;
  for (size_t i = 0; i < count; i++) {
    oc_sensor_reading *x = &list[i];
    snprintf(x->device_id, sizeof x->device_id, "%s", device_id);
    snprintf(x->measurement, sizeof x->measurement, "%s", measurement);
    x->seq = oc_pg_get_int(r, (int)i, 0);
    oc_pg_get_copy(x->unit, sizeof x->unit, r, (int)i, 1);
    x->event_ms = oc_pg_get_int(r, (int)i, 2);
    x->value = oc_pg_get_double(r, (int)i, 3);
  }
  PQclear(r);
  *rows = list;
  *n = count;
  return 0;
}

int oc_pg_sensor_anomaly_insert(oc_store *store, const oc_sensor_anomaly *a, bool *inserted, oc_error *err) {
  *inserted = false;
  if (oc_store_sensor_anomaly_check(oc_pg_of(store)->display, a, err) != 0) return -1;
  oc_pg_params p = {0};
  oc_pg_text(&p, a->device_id);
  oc_pg_text(&p, a->measurement);
  oc_pg_text(&p, a->kind);
  oc_pg_int(&p, a->event_ms);
  oc_pg_int(&p, a->seq);
  oc_pg_double(&p, a->value);
  oc_pg_double(&p, a->score);
  oc_pg_int(&p, a->detected_ms);
  int64_t changed = 0;
  if (oc_pg_run(oc_pg_of(store),
                "INSERT INTO sensor_anomalies(device_id, measurement, kind, event_ms, seq, value, score, detected_ms)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                &p, "storing a sensor anomaly", &changed, err) != 0)
    return -1;
  *inserted = changed > 0;
  if (!*inserted) return 0;
  char subject[OC_CHANGE_SUBJECT_MAX];
  oc_sensor_change_subject(subject, a->device_id, a->measurement, a->kind, a->event_ms);
  return oc_pg_change_record(oc_pg_of(store), OC_CHANGE_SENSOR_ANOMALY, subject, err);
}
