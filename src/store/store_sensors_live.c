/* store_sensors_live.c: backend-independent knowledge of the live sensor feed (store.h): the checks of a
 * reading and of an anomaly both backends apply before storing them, and the subject that names the
 * anomaly or window a change is about, written by both backends' ops and read by the change feed's
 * followers. Knows no backend and no SQL. */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

/* -1 with err (set) of kind OC_ERROR_INVALID: the checks refuse the data itself. */
static int refused(oc_error *err) {
  if (err) err->kind = OC_ERROR_INVALID;
  return -1;
}

int oc_store_sensor_reading_check(const char *display, const oc_sensor_reading *r, oc_error *err) {
  if (isfinite(r->value)) return 0;
  oc_error_set(err, "store %s: sensor reading %s/%s seq %lld: value %g is not finite", display, r->device_id,
               r->measurement, (long long)r->seq, r->value);
  return refused(err);
}

int oc_store_sensor_anomaly_check(const char *display, const oc_sensor_anomaly *a, oc_error *err) {
  if (!isfinite(a->value))
    oc_error_set(err, "store %s: sensor anomaly %s/%s %s at %lld: value %g is not finite", display, a->device_id,
                 a->measurement, a->kind, (long long)a->event_ms, a->value);
  else if (isnan(a->score))
    oc_error_set(err, "store %s: sensor anomaly %s/%s %s at %lld: score is not a number", display, a->device_id,
                 a->measurement, a->kind, (long long)a->event_ms);
  else
    return 0;
  return refused(err);
}

void oc_sensor_change_subject(char out[OC_CHANGE_SUBJECT_MAX], const char *device_id, const char *measurement,
                              const char *part, int64_t number) {
  /* At most 64 + 32 + 15 (a kind; a width of up to 366 days has 11 digits) + 20 bytes and 3 slashes: 134,
   * over 127 only for event times no payload can carry (their years are 0001..9999: 15 characters). */
  int len = snprintf(out, OC_CHANGE_SUBJECT_MAX, "%s/%s/%s/%lld", device_id, measurement, part, (long long)number);
  assert(len > 0 && len < OC_CHANGE_SUBJECT_MAX);
  (void)len;
}

/* Copies the field of subject up to the next '/' (or the end, when last) into out; the position after
 * it, or NULL when the field is empty, too long or ends wrongly. */
static const char *take_field(const char *subject, char *out, size_t cap, bool last) {
  size_t len = strcspn(subject, "/");
  if (len == 0 || len >= cap || (last ? subject[len] != '\0' : subject[len] != '/')) return NULL;
  memcpy(out, subject, len);
  out[len] = '\0';
  return subject + len + (last ? 0 : 1);
}

int oc_sensor_change_subject_parse(const char *subject, char device_id[OC_SENSOR_DEVICE_MAX + 1],
                                   char measurement[OC_SENSOR_MEASUREMENT_MAX + 1], char part[24], int64_t *number) {
  char digits[24];
  const char *p = take_field(subject, device_id, OC_SENSOR_DEVICE_MAX + 1, false);
  if (p) p = take_field(p, measurement, OC_SENSOR_MEASUREMENT_MAX + 1, false);
  if (p) p = take_field(p, part, 24, false);
  if (p) p = take_field(p, digits, sizeof digits, true);
  if (!p) return -1;
  char *end;
  errno = 0;
  long long v = strtoll(digits, &end, 10);
  if (*end || errno) return -1;
  *number = v;
  return 0;
}
