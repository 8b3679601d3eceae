/* mqtt_payload.h: the JSON payload of one sensor message (docs/sensors.md) read into readings, and
 * the checks against the device registry's limits. Schema (one message, one device, one sequence number,
 * one or more measurements):
 *   {"device_id": "tank-007", "event_time": "2026-12-03T18:00:00.250Z", "seq": 42,
 *    "measurements": {"level": {"value": 12.5, "unit": "m"}, ...}}
 * A message that fails is a dead letter with a reason; nothing here touches the store or the network,
 * so the parser can be fuzzed (tests/fuzz/mqtt_payload.c). */
#ifndef OC_MQTT_PAYLOAD_H
#define OC_MQTT_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The most measurements one message may carry. */
#define OC_SENSOR_MAX_MEASUREMENTS 16
/* The largest payload read (a message of 16 measurements takes a few KiB): a larger one is a dead letter
 * without being parsed (a JSON document of 256 MB, MQTT's limit, would take gigabytes as a tree), and
 * only its first OC_SENSOR_PAYLOAD_MAX bytes are kept with it. */
#define OC_SENSOR_PAYLOAD_MAX 65536

typedef struct oc_sensor_message {
  size_t n;
  oc_sensor_reading readings[OC_SENSOR_MAX_MEASUREMENTS]; /* same device, seq and event time */
} oc_sensor_message;

/* The earliest event time read: 2000-01-01T00:00:00Z (Unix ms). An earlier one is a device whose clock
 * was never set (it counts from 1970), not a reading of then. */
#define OC_SENSOR_EVENT_MIN_MS 946684800000LL

/* Refuses a payload of more than OC_SENSOR_PAYLOAD_MAX bytes: -1 with the dead-letter reason (naming
 * size), else 0. size is the payload's size as published, which the MQTT session may have kept only the
 * first bytes of (oc_mqtt_message.payload_dropped). */
int oc_sensor_payload_size_check(size_t size, char *reason, size_t reason_cap);
/* Parses data[0..len) into *msg. A message whose event time is before OC_SENSOR_EVENT_MIN_MS or more
 * than max_future_ms after now_ms, or of more than OC_SENSOR_PAYLOAD_MAX bytes, is refused. 0, or -1 with the dead-letter reason in reason (cap bytes; says what and where, e.g.
 * "measurements.level.value: not a number"). */
int oc_sensor_payload_parse(const uint8_t *data, size_t len, int64_t now_ms, int64_t max_future_ms,
                            oc_sensor_message *msg, char *reason, size_t reason_cap);

/* Checks msg against its device's registry entry: the device is active, every reading is in the
 * device's unit and inside its valid range. 0, or -1 with the reason. */
int oc_sensor_message_check(const oc_sensor_message *msg, const oc_device *device, char *reason, size_t reason_cap);

/* "2026-12-03T18:00:00Z" or with .f to .fff fractional seconds: 0 and *ms (Unix milliseconds), -1 otherwise. */
int oc_sensor_parse_time(const char *text, int64_t *ms);

#endif
