/* store_devices.c: backend-independent knowledge of the device registry's rows (store.h): the known
 * device types with their defaults, and the check every backend applies before storing a device. Knows
 * no backend and no broker. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "core/log.h"
#include "core/utf8.h"
#include "store/store.h"

/* Defaults a device of each type gets (typical field instruments: ranges wide enough for any healthy
 * reading, narrow enough that a unit mix-up falls outside). */
static const oc_device_type device_types[] = {
    {"pipeline_pressure", "bar", 0.0, 150.0, 60},
    {"pipeline_flow", "m3/h", 0.0, 10000.0, 60},
    {"tank_level", "m", 0.0, 30.0, 300},
    {"wellhead_temperature", "degC", -40.0, 200.0, 60},
    {"refinery_throughput", "bbl/d", 0.0, 1000000.0, 300},
};

const oc_device_type *oc_device_types(size_t *n) {
  *n = sizeof device_types / sizeof device_types[0];
  return device_types;
}

const oc_device_type *oc_device_type_find(const char *name) {
  for (size_t i = 0; i < sizeof device_types / sizeof device_types[0]; i++)
    if (strcmp(device_types[i].name, name) == 0) return &device_types[i];
  return NULL;
}

/* Printable ASCII without ':' or blanks: what a line of the broker's password file can hold. */
static bool password_hash_ok(const char *hash) {
  if (!*hash) return false;
  for (const char *p = hash; *p; p++)
    if (!isgraph((unsigned char)*p) || *p == ':') return false;
  return true;
}

static bool printable(const char *text) {
  for (const char *p = text; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) return false;
  return true;
}

bool oc_sensor_unit_valid(const char *unit) {
  size_t len = strnlen(unit, OC_SENSOR_UNIT_MAX + 1);
  if (len == 0 || len > OC_SENSOR_UNIT_MAX) return false;
  for (size_t i = 0; i < len; i++)
    if (!isalnum((unsigned char)unit[i]) && !strchr("_.-/%", unit[i])) return false;
  return true;
}

int oc_device_check(const oc_device *d, const char **reason) {
  size_t len = strnlen(d->id, sizeof d->id);
  const char *why = NULL;
  if (len == 0) why = "device id is empty";
  else if (len > OC_DEVICE_ID_MAX) why = "device id is longer than 64 characters";
  for (size_t i = 0; !why && i < len; i++) {
    unsigned char c = (unsigned char)d->id[i];
    if (!isalnum(c) && c != '_' && c != '-')
      why = "device id may hold only letters, digits, '_' and '-' (it is a broker user name and a topic level)";
  }
  if (!why && !oc_device_type_find(d->type)) why = "unknown device type (see oc_device_types)";
  if (!why && !*d->unit) why = "unit is empty";
  if (!why && !oc_sensor_unit_valid(d->unit))
    why = "unit must be 1..16 letters, digits or _ . - / % (what a reading's unit may hold)";
  /* UTF-8: PostgreSQL's text refuses other bytes, and a JSON answer cannot carry them */
  if (!why && !(printable(d->site) && oc_utf8_valid(d->site)))
    why = "site must be UTF-8 text without control characters";
  /* Bounded so that the sum of any window's readings stays finite (1e8 readings a day, one a ms). */
  if (!why && !(fabs(d->valid_min) <= OC_DEVICE_VALUE_MAX && fabs(d->valid_max) <= OC_DEVICE_VALUE_MAX &&
                d->valid_min < d->valid_max))
    why = "valid range must be finite with min < max, both within -1e15..1e15";
  if (!why && d->interval_seconds <= 0) why = "reporting interval must be > 0 seconds";
  if (!why && !password_hash_ok(d->password_hash))
    why = "password hash must be non-empty printable text without ':' or blanks";
  if (why) {
    *reason = why;
    return -1;
  }
  return 0;
}
