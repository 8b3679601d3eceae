/* mqtt_payload.c: one sensor message's JSON (mqtt_payload.h has the schema) into readings, strictly:
 * a repeated key, a missing field, a wrong type, a non-finite or out-of-range number is a dead-letter
 * reason naming the field. jansson reads the JSON; this file only checks and copies. It must not touch
 * the store, the network or the clock (now comes from the caller). */
#include "ingest/mqtt_payload.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/log.h"
#include "core/utf8.h"

static int why(char *reason, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The reason into reason[0..cap), always UTF-8 (a dead letter's reason is text, and PostgreSQL refuses
 * a text that is not): a quote of the payload cut short (a name, jansson's text near a long token, the
 * cap) may end inside a character, whose bytes then become \xNN. */
static int why(char *reason, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, cap, fmt, ap);
  va_end(ap);
  if (!oc_utf8_valid(reason)) {
    char *mended = oc_xmalloc(cap);
    oc_printable(mended, cap, reason);
    memcpy(reason, mended, strlen(mended) + 1);
    free(mended);
  }
  return -1;
}

/* Device ids and measurement names: 1..max bytes of [A-Za-z0-9_.-] (units: oc_sensor_unit_valid). */
static bool token_ok(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n == 0 || n > max) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

int oc_sensor_parse_time(const char *text, int64_t *ms) {
  int y, mo, d, h, mi, sec, used = 0;
  if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6 || used != 19) return -1;
  for (int i = 0; i < 19; i++) {
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    if (shape[i] == 'd' ? !(text[i] >= '0' && text[i] <= '9') : text[i] != shape[i]) return -1;
  }
  if (!oc_date_ymd_valid(y, mo, d) || h > 23 || mi > 59 || sec > 59) return -1;
  const char *p = text + 19;
  int frac = 0, digits = 0;
  if (*p == '.') {
    for (p++; *p >= '0' && *p <= '9' && digits < 3; p++, digits++) frac = frac * 10 + (*p - '0');
    if (digits == 0) return -1;
    for (; digits < 3; digits++) frac *= 10;
  }
  if (strcmp(p, "Z") != 0) return -1;
  int64_t days = oc_date_from_ymd(y, mo, d) - oc_date_from_ymd(1970, 1, 1);
  *ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 + frac;
  return 0;
}

static int parse_measurement(const char *name, json_t *m, oc_sensor_reading *r, char *reason, size_t cap) {
  if (!token_ok(name, OC_SENSOR_MEASUREMENT_MAX))
    return why(reason, cap, "measurements: name '%.40s' is not 1..%d bytes of [A-Za-z0-9_.-]", name,
               OC_SENSOR_MEASUREMENT_MAX);
  if (!json_is_object(m)) return why(reason, cap, "measurements.%s: not an object", name);
  json_t *value = json_object_get(m, "value"), *unit = json_object_get(m, "unit");
  if (!value) return why(reason, cap, "measurements.%s.value: missing", name);
  if (!json_is_number(value)) return why(reason, cap, "measurements.%s.value: not a number", name);
  if (!unit) return why(reason, cap, "measurements.%s.unit: missing", name);
  if (!json_is_string(unit) || !oc_sensor_unit_valid(json_string_value(unit)))
    return why(reason, cap, "measurements.%s.unit: not a unit (1..%d bytes of [A-Za-z0-9_.-/%%])", name,
               OC_SENSOR_UNIT_MAX);
  r->value = json_number_value(value);
  if (!isfinite(r->value)) return why(reason, cap, "measurements.%s.value: not finite", name);
  snprintf(r->measurement, sizeof r->measurement, "%s", name);
  snprintf(r->unit, sizeof r->unit, "%s", json_string_value(unit));
  return 0;
}

/* The fields of a parsed document into msg. */
static int read_message(json_t *doc, int64_t now_ms, int64_t max_future_ms, oc_sensor_message *msg, char *reason,
                        size_t cap) {
  if (!json_is_object(doc)) return why(reason, cap, "the payload is not a JSON object");
  json_t *device = json_object_get(doc, "device"), *time = json_object_get(doc, "event_time"),
         *seq = json_object_get(doc, "seq"), *ms = json_object_get(doc, "measurements");
  if (!device) return why(reason, cap, "device: missing");
  if (!json_is_string(device) || !token_ok(json_string_value(device), OC_SENSOR_DEVICE_MAX))
    return why(reason, cap, "device: not 1..%d bytes of [A-Za-z0-9_.-]", OC_SENSOR_DEVICE_MAX);
  if (!time) return why(reason, cap, "event_time: missing");
  int64_t event_ms;
  if (!json_is_string(time) || oc_sensor_parse_time(json_string_value(time), &event_ms) != 0)
    return why(reason, cap, "event_time: not a UTC time like 2026-12-03T18:00:00.250Z");
  if (event_ms < OC_SENSOR_EVENT_MIN_MS) /* 1970: a clock never set; it would open 1970's windows and days */
    return why(reason, cap, "event_time: %s is before 2000-01-01 (the device's clock is not set)", json_string_value(time));
  if (event_ms > now_ms + max_future_ms)
    return why(reason, cap, "event_time: %s is more than %lld s in the future", json_string_value(time),
               (long long)(max_future_ms / 1000));
  if (!seq) return why(reason, cap, "seq: missing");
  if (!json_is_integer(seq) || json_integer_value(seq) < 0) return why(reason, cap, "seq: not an integer >= 0");
  if (!ms) return why(reason, cap, "measurements: missing");
  if (!json_is_object(ms) || json_object_size(ms) == 0)
    return why(reason, cap, "measurements: not an object with at least one measurement");
  if (json_object_size(ms) > OC_SENSOR_MAX_MEASUREMENTS)
    return why(reason, cap, "measurements: more than %d", OC_SENSOR_MAX_MEASUREMENTS);
  msg->n = 0;
  const char *name;
  json_t *m;
  json_object_foreach(ms, name, m) {
    oc_sensor_reading *r = &msg->readings[msg->n];
    memset(r, 0, sizeof *r);
    if (parse_measurement(name, m, r, reason, cap) != 0) return -1;
    snprintf(r->device_id, sizeof r->device_id, "%s", json_string_value(device));
    r->seq = json_integer_value(seq);
    r->event_ms = event_ms;
    msg->n++;
  }
  return 0;
}

int oc_sensor_payload_size_check(size_t size, char *reason, size_t reason_cap) {
  if (size <= OC_SENSOR_PAYLOAD_MAX) return 0;
  return why(reason, reason_cap, "the payload is %zu bytes, more than %d (its first %d kept)", size,
             OC_SENSOR_PAYLOAD_MAX, OC_SENSOR_PAYLOAD_MAX);
}

int oc_sensor_payload_parse(const uint8_t *data, size_t len, int64_t now_ms, int64_t max_future_ms,
                            oc_sensor_message *msg, char *reason, size_t reason_cap) {
  if (oc_sensor_payload_size_check(len, reason, reason_cap) != 0) return -1;
  json_error_t jerr;
  json_t *doc = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!doc) return why(reason, reason_cap, "not JSON: %s at byte %d", jerr.text, jerr.position);
  int rc = read_message(doc, now_ms, max_future_ms, msg, reason, reason_cap);
  json_decref(doc);
  return rc;
}

int oc_sensor_message_check(const oc_sensor_message *msg, const oc_device *device, char *reason, size_t reason_cap) {
  if (device->revoked_at > 0) return why(reason, reason_cap, "device: '%s' is revoked", device->id);
  for (size_t i = 0; i < msg->n; i++) {
    const oc_sensor_reading *r = &msg->readings[i];
    if (strcmp(device->unit, r->unit) != 0)
      return why(reason, reason_cap, "measurements.%s.unit: '%s', device %s reports in '%s'", r->measurement,
                 r->unit, r->device_id, device->unit);
    if (!(r->value >= device->valid_min && r->value <= device->valid_max))
      return why(reason, reason_cap, "measurements.%s.value: %.17g outside device %s's range [%g, %g]",
                 r->measurement, r->value, r->device_id, device->valid_min, device->valid_max);
  }
  return 0;
}
