/* sensor_feed.c: see sensor_feed.h. Reads the row a sensor change names and turns it into one event;
 * must not write to the store or know HTTP. */
#include "serve/sensor_feed.h"

#include <assert.h>
#include <stdlib.h>

#include "core/json.h"
#include "core/log.h"
#include "serve/handlers.h"

/* A "sensor_anomaly" event: the anomaly as stored (ended_ms null while a silence lasts, and for spikes
 * and stuck values). */
static void publish_anomaly(oc_server *s, oc_store *store, const char *device, const char *measurement,
                            const char *kind, int64_t event_ms) {
  oc_sensor_anomaly a;
  bool found;
  oc_error err;
  if (oc_store_sensor_anomaly_get(store, device, measurement, kind, event_ms, &a, &found, &err) != 0) {
    oc_warn("serve: following sensor anomalies: %s", err.message);
    return;
  }
  if (!found) return;
  oc_serve_publish(s, "sensor_anomaly",
                   json_pack("{s:s,s:s,s:s,s:I,s:I,s:o,s:o,s:I,s:o}", "device", a.device_id, "measurement",
                             a.measurement, "kind", a.kind, "event_ms", (json_int_t)a.event_ms, "seq",
                             (json_int_t)a.seq, "value", oc_json_number(a.value), "score", oc_json_number(a.score),
                             "detected_ms", (json_int_t)a.detected_ms, "ended_ms",
                             a.ended_ms ? json_integer((json_int_t)a.ended_ms) : json_null()));
}

/* A "sensor_window" event: the window's aggregates as they stand now. */
static void publish_window(oc_server *s, oc_store *store, const char *device, const char *measurement,
                           int64_t width_ms, int64_t start_ms) {
  oc_sensor_window w;
  bool found;
  oc_error err;
  if (oc_store_sensor_window_get(store, device, measurement, width_ms, start_ms, &w, &found, &err) != 0) {
    oc_warn("serve: following sensor windows: %s", err.message);
    return;
  }
  if (!found) return;
  oc_serve_publish(s, "sensor_window",
                   json_pack("{s:s,s:s,s:I,s:I,s:I,s:o,s:o,s:o,s:o}", "device", w.device_id, "measurement",
                             w.measurement, "width_ms", (json_int_t)w.width_ms, "start_ms", (json_int_t)w.start_ms,
                             "count", (json_int_t)w.count, "mean", oc_json_number(w.mean), "min",
                             oc_json_number(w.min), "max", oc_json_number(w.max), "last", oc_json_number(w.last)));
}

void oc_serve_publish_sensor_change(oc_server *s, oc_store *store, const oc_change *c) {
  assert(c->kind == OC_CHANGE_SENSOR_ANOMALY || c->kind == OC_CHANGE_SENSOR_WINDOW);
  char device[OC_SENSOR_DEVICE_MAX + 1], measurement[OC_SENSOR_MEASUREMENT_MAX + 1], part[24];
  int64_t number;
  if (oc_sensor_change_subject_parse(c->subject, device, measurement, part, &number) != 0) {
    oc_warn("serve: change %lld: '%s' names no sensor row", (long long)c->id, c->subject);
    return;
  }
  if (c->kind == OC_CHANGE_SENSOR_ANOMALY) {
    publish_anomaly(s, store, device, measurement, part, number);
    return;
  }
  char *end;
  long long width_ms = strtoll(part, &end, 10);
  if (*end || width_ms <= 0) {
    oc_warn("serve: change %lld: '%s' names no window width", (long long)c->id, c->subject);
    return;
  }
  publish_window(s, store, device, measurement, (int64_t)width_ms, number);
}
