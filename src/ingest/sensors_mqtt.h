/* sensors_mqtt.h: sends the SIMULATED sensor readings (sensors.h) to an MQTT broker the way field
 * devices would: one connection per device with its own broker credentials (user = device id), QoS 1,
 * one message per reading on oil/sensors/<id>/readings, paced at the simulated rate (reading number e
 * of the sending order goes out e/R seconds after the start) or as fast as the broker takes them.
 * A lost connection is re-established (persistent session, so unacknowledged messages are sent
 * again). Uses libmosquitto for publishing only; knows nothing of the store or the subscriber. */
#ifndef OC_INGEST_SENSORS_MQTT_H
#define OC_INGEST_SENSORS_MQTT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "ingest/sensors.h"

typedef struct oc_sensor_publish_options {
  oc_sensor_sim_options sim;
  const char *host; /* "127.0.0.1" */
  int port;         /* 1..65535 */
  /* "id:password" lines (what `oilcast device add --simulated` writes): every simulated device needs one */
  const char *credentials_path;
  bool unpaced;     /* send as fast as the broker acknowledges, not at the simulated rate */
  double ack_timeout_seconds; /* how long to wait for the last acknowledgements (> 0) */
  const volatile sig_atomic_t *stop; /* may be NULL: when it becomes non-zero, stop sending (and wait for acks) */
  /* may be NULL: called about once a second while sending */
  void (*progress)(void *ctx, int64_t sent, int64_t acknowledged);
  void *ctx;
} oc_sensor_publish_options;

typedef struct oc_sensor_publish_result {
  int64_t sent, acknowledged; /* QoS 1 messages handed to the broker, and PUBACKs received */
  int64_t reconnects;
  double seconds;
} oc_sensor_publish_result;

/* Connects every device (a refused login is an error naming the device and the broker's reason), sends
 * the readings, waits for every acknowledgement (up to ack_timeout_seconds) and disconnects. */
int oc_sensor_publish(const oc_sensor_publish_options *opt, oc_sensor_publish_result *out, oc_error *err);

/* Reads "id:password" lines into passwords[0..devices) for sim-0001..; -1 naming a missing device. The
 * caller frees each entry and the array. */
int oc_sensor_credentials_read(const char *path, size_t devices, char ***passwords, oc_error *err);

#endif
