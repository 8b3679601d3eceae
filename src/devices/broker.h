/* broker.h: the files a mosquitto 2.0 broker (Debian 12) runs from, written from the device registry:
 * the password file (mosquitto_passwd format: "user:$7$..." lines, the active devices and the oilcast
 * subscriber), the ACL file (each device may publish only under oil/sensors/<its id>/, the subscriber
 * may only read oil/sensors/#), mosquitto.conf (listener, persistence, queue sized for an outage), and
 * the reload of a running broker (SIGHUP to the pid in its pid file). Each file is replaced atomically
 * (temporary file, fsync, rename), so a broker reloading meanwhile reads the old file or the new one.
 * The broker directory holds:
 *   mosquitto.conf, passwd, acl, mosquitto.pid (written by mosquitto), mosquitto.log,
 *   subscriber.secret (the subscriber's password in clear, mode 0600: what `oilcast stream` reads),
 *   persistence/ (mosquitto.db)
 * Knows nothing of HTTP or the CLI; never writes a device's password (only its stored hash). */
#ifndef OC_DEVICES_BROKER_H
#define OC_DEVICES_BROKER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "devices/devices.h"
#include "store/store.h"

/* Devices publish readings under OC_SENSOR_TOPIC_ROOT "/<device id>/..." */
#define OC_SENSOR_TOPIC_ROOT "oil/sensors"

typedef struct oc_broker_config {
  const char *dir;         /* the broker directory (created if missing) */
  const char *host;        /* listener address, "127.0.0.1" */
  int port;                /* 1..65535 */
  double outage_hours;     /* how long the subscriber may be away without losing a message (> 0) */
  double messages_per_second; /* readings/s the devices send in all; 0: from the registry's intervals */
  int autosave_seconds;    /* how often the broker saves its queues to disk (>= 1) */
} oc_broker_config;

/* host 127.0.0.1, port 1883, 24 h outage, rate from the registry, autosave every 10 s. */
oc_broker_config oc_broker_config_default(void);

/* What a write did: the files and how big the outage queue is. */
typedef struct oc_broker_written {
  size_t devices;             /* active devices in the password file */
  long max_queued_messages;   /* in mosquitto.conf (0 when not written) */
  bool reloaded;              /* a running broker was sent SIGHUP */
} oc_broker_written;

/* The queue a subscriber's session needs for outage_hours at messages_per_second, with headroom
 * (x 1.5, at least 1000). */
long oc_broker_queue_size(double messages_per_second, double outage_hours);

/* Writes the whole directory: subscriber.secret (kept when present), passwd, acl and mosquitto.conf,
 * so `mosquitto -c DIR/mosquitto.conf` runs it; then reloads a broker already running from it. */
int oc_broker_write_config(oc_store *store, const oc_broker_config *cfg, oc_broker_written *out, oc_error *err);
/* Rewrites passwd and acl from the registry (after a device was added or revoked) and reloads a
 * running broker. dir must hold a subscriber.secret (written by oc_broker_write_config). */
int oc_broker_sync(oc_store *store, const char *dir, oc_broker_written *out, oc_error *err);
/* DATA_DIR/broker (malloc'd): the broker directory that device changes keep in step by default. */
char *oc_broker_default_dir(const char *data_dir);
/* oc_broker_sync when dir holds a subscriber.secret (a broker was configured there); else nothing
 * and *synced = false. */
int oc_broker_sync_if_configured(oc_store *store, const char *dir, bool *synced, oc_broker_written *out,
                                 oc_error *err);
/* SIGHUP to the broker whose pid is in DIR/mosquitto.pid: *reloaded = false (and 0) when there is no
 * pid file or no such process. */
int oc_broker_reload(const char *dir, bool *reloaded, oc_error *err);
/* The subscriber's password from DIR/subscriber.secret, into secret (OC_DEVICE_SECRET_LEN + 1 bytes). */
int oc_broker_subscriber_secret(const char *dir, char *secret, oc_error *err);

#endif
