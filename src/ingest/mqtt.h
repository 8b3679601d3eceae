/* mqtt.h: the sensor subscriber's MQTT session: a plain TCP connection to the broker, MQTT 3.1.1
 * (mqtt_packet.h), a persistent session (clean session off, a client id stable across restarts and
 * distinct per instance: oc_mqtt_default_client_id) subscribed at QoS 1,
 * and acknowledgement AFTER commit: received messages are handed to the caller in batches, and each
 * batch's PUBACKs go out only when the caller's handler returned 0 (it committed them). A handler that
 * fails, or a process that dies before the PUBACKs, leaves the messages unacknowledged, so the broker
 * redelivers them: at-least-once, made exactly-once by the handler's (device, seq) key. When the broker
 * goes away it reconnects with exponential backoff. It knows nothing of payloads or of the store. */
#ifndef OC_MQTT_H
#define OC_MQTT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct oc_mqtt_message {
  char *topic; /* NUL-terminated */
  uint8_t *payload;
  size_t payload_len;
  size_t payload_dropped; /* bytes of the payload past payload_len, read and not kept (a message past
                           * OC_MQTT_INCOMING_MAX: the broker allows what the subscriber will not hold) */
  uint16_t packet_id; /* 0 at QoS 0 */
  bool dup;           /* the broker says it may have sent it before */
} oc_mqtt_message;

/* Handles a batch (n >= 1): 0 when every message of it is committed (or dead-lettered) and may be
 * acknowledged; -1 with err otherwise: nothing is acknowledged, the session tells on_status why, drops
 * the connection and reconnects after the backoff, so the broker sends the batch again (a store busy
 * for a while must not end the stream). */
typedef int (*oc_mqtt_batch_fn)(void *ctx, const oc_mqtt_message *msgs, size_t n, oc_error *err);
/* Told about connections: up (true) after a SUBACK ("FILTER as client 'ID'"), down (false) with the
 * reason (the broker's, or the caller's failure). Optional. */
typedef void (*oc_mqtt_status_fn)(void *ctx, bool up, const char *what);
/* Periodic work of the caller between batches, while a connection is up (stream/silence.h's checks):
 * 0, or -1 with err (told, the connection dropped and made again, as for a failing batch handler).
 * Optional. */
typedef int (*oc_mqtt_tick_fn)(void *ctx, oc_error *err);

typedef struct oc_mqtt_options {
  const char *broker;   /* mqtt://HOST[:PORT] (1883 by default) */
  const char *client_id; /* NULL: oc_mqtt_default_client_id("stream"). Each running instance needs its own (the
                            broker disconnects a client when another connects with its id) and must
                            keep it across restarts (its persistent session holds what it missed) */
  const char *username, *password; /* NULL: none */
  const char *filter;   /* e.g. "$share/oilcast/oil/sensors/#" */
  uint16_t keepalive_seconds;
  size_t batch_max;     /* messages per batch, >= 1 */
  int batch_ms;         /* longest a received message waits for its batch, >= 0 */
  double backoff_max_seconds; /* reconnect delays double from 0.1 s up to this */
  atomic_bool *stop;    /* set (any thread, a signal handler) to end the session; required */
  oc_mqtt_batch_fn on_batch;
  oc_mqtt_status_fn on_status;
  oc_mqtt_tick_fn on_tick;
  int tick_ms;          /* on_tick every this many ms (> 0 with on_tick), the first tick_ms after each
                           connection is up, so the backlog the broker kept comes first */
  void *ctx;
} oc_mqtt_options;

typedef struct oc_mqtt_counts {
  int64_t messages, batches, connects;
} oc_mqtt_counts;

/* The defaults above (keepalive 30 s, batch of 500 or 50 ms, backoff up to 5 s, client id NULL). */
oc_mqtt_options oc_mqtt_options_default(void);

/* The default client id of a program, "oilcast-ROLE-HOSTNAME" (truncated to cap - 1 bytes; "localhost"
 * when the host name is unknown): the same after a restart, different on each machine and for each role
 * ("stream" for `oilcast stream`, "serve" for the stream inside `oilcast serve`, so the two on one host
 * do not take each other's session). Two instances of one role on ONE machine must still be given
 * their own ids (--client-id, client_id in [stream]). */
void oc_mqtt_default_client_id(const char *role, char *buf, size_t cap);

/* Splits mqtt://HOST[:PORT][/] (port 1883 by default); -1 with err for another scheme, a user, a path
 * or a bad port. host gets cap bytes. The one parser of broker URLs (the stream's and the simulator's). */
int oc_mqtt_parse_url(const char *url, char *host, size_t cap, int *port, oc_error *err);

/* 0 when filter is a topic filter a broker takes in a SUBSCRIBE (MQTT 3.1.1, 4.7.1: not empty, UTF-8,
 * '#' alone as the last level, '+' alone in its level), or one of mosquitto's shared subscriptions
 * $share/GROUP/FILTER (GROUP not empty, without '/', '+' or '#'); -1 with err saying what is wrong.
 * A broker closes the connection on a bad one, at every retry. */
int oc_mqtt_filter_check(const char *filter, oc_error *err);

/* Runs the session until *opt->stop: 0, or -1 with err when the broker refuses the credentials or the
 * subscription (a configuration error, not worth retrying). Connection losses and the caller's failures
 * are retried. Adds to *counts. */
int oc_mqtt_run(const oc_mqtt_options *opt, oc_mqtt_counts *counts, oc_error *err);

#endif
