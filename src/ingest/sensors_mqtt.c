/* sensors_mqtt.c: publishes simulated readings over MQTT with libmosquitto (sensors_mqtt.h), single
 * threaded: every client is serviced with mosquitto_loop() from this thread, so no callback runs
 * concurrently with the sending loop. Must not subscribe or acknowledge anything itself. */
#include "ingest/sensors_mqtt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/progress.h"
#include "ingest/mosquitto_lazy.h"

/* One device's connection. */
typedef struct device_client {
  struct mosquitto *mosq;
  char id[OC_DEVICE_ID_MAX + 1];
  int connack;       /* -1 until the broker answered the CONNECT, then its return code */
  bool connected;
  int64_t *acknowledged; /* shared counter (the publisher's) */
} device_client;

static void on_connect(struct mosquitto *mosq, void *ctx, int rc) {
  (void)mosq;
  device_client *c = ctx;
  c->connack = rc;
  c->connected = rc == 0;
}

static void on_disconnect(struct mosquitto *mosq, void *ctx, int rc) {
  (void)mosq, (void)rc;
  ((device_client *)ctx)->connected = false;
}

static void on_publish(struct mosquitto *mosq, void *ctx, int mid) {
  (void)mosq, (void)mid;
  ++*((device_client *)ctx)->acknowledged;
}

int oc_sensor_credentials_read(const char *path, size_t devices, char ***passwords, oc_error *err) {
  char *text = NULL;
  size_t len;
  if (oc_read_file(path, &text, &len, err) != 0) return -1;
  char **found = oc_xcalloc(devices, sizeof *found);
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char *colon = strchr(line, ':');
    unsigned number;
    int used = 0;
    if (!colon) continue;
    *colon = 0;
    if (sscanf(line, "sim-%4u%n", &number, &used) == 1 && used == (int)strlen(line) && number >= 1 &&
        number <= devices && !found[number - 1])
      found[number - 1] = strdup(colon + 1);
  }
  free(text);
  for (size_t i = 0; i < devices; i++) {
    if (found[i]) continue;
    oc_error_set(err, "%s has no password for sim-%04zu (register the simulated devices with `oilcast device add "
                      "--simulated %zu --credentials %s`)",
                 path, i + 1, devices, path);
    for (size_t k = 0; k < devices; k++) free(found[k]);
    free(found);
    return -1;
  }
  *passwords = found;
  return 0;
}

/* Services every client once without waiting, reconnecting lost ones. */
static void service_all(device_client *clients, size_t n, int64_t *reconnects) {
  for (size_t i = 0; i < n; i++) {
    int rc = mosquitto_loop(clients[i].mosq, 0, 1);
    if (rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_NO_CONN) {
      if (mosquitto_reconnect(clients[i].mosq) == MOSQ_ERR_SUCCESS) ++*reconnects;
    }
  }
}

static void sleep_seconds(double s) {
  if (s <= 0) return;
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Connects every client and waits for the broker's answers; a refusal is an error naming the device. */
static int connect_all(const oc_sensor_publish_options *opt, device_client *clients, size_t n, char **passwords,
                       int64_t *acknowledged, oc_error *err) {
  for (size_t i = 0; i < n; i++) {
    device_client *c = &clients[i];
    snprintf(c->id, sizeof c->id, "sim-%04zu", i + 1);
    c->connack = -1;
    c->acknowledged = acknowledged;
    /* a persistent session: after a reconnect the broker and the client resend what was not acknowledged */
    c->mosq = mosquitto_new(c->id, false, c);
    if (!c->mosq) return oc_error_set(err, "device %s: cannot create an MQTT client", c->id);
    mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_username_pw_set(c->mosq, c->id, passwords[i]);
    mosquitto_connect_callback_set(c->mosq, on_connect);
    mosquitto_disconnect_callback_set(c->mosq, on_disconnect);
    mosquitto_publish_callback_set(c->mosq, on_publish);
    mosquitto_reconnect_delay_set(c->mosq, 1, 5, false);
    int rc = mosquitto_connect(c->mosq, opt->host, opt->port, 30);
    if (rc != MOSQ_ERR_SUCCESS)
      return oc_error_set(err, "device %s: cannot connect to mqtt://%s:%d: %s", c->id, opt->host, opt->port,
                          rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
  }
  double deadline = oc_monotonic_seconds() + 10;
  for (size_t i = 0; i < n; i++) {
    device_client *c = &clients[i];
    while (c->connack < 0 && oc_monotonic_seconds() < deadline) {
      int rc = mosquitto_loop(c->mosq, 50, 1);
      if (rc != MOSQ_ERR_SUCCESS && c->connack < 0)
        return oc_error_set(err, "device %s: the broker at mqtt://%s:%d closed the connection: %s", c->id, opt->host,
                            opt->port, mosquitto_strerror(rc));
    }
    if (c->connack < 0) return oc_error_set(err, "device %s: no answer from mqtt://%s:%d in 10 s", c->id, opt->host, opt->port);
    if (c->connack != 0)
      return oc_error_set(err, "device %s: the broker refused the login: %s", c->id, mosquitto_connack_string(c->connack));
  }
  return 0;
}

/* Sends every reading; 0 or -1. */
static int send_all(const oc_sensor_publish_options *opt, oc_sensor_sim *sim, device_client *clients,
                    oc_sensor_publish_result *out, oc_error *err) {
  oc_buf payload = {0};
  oc_sensor_sim_reading r;
  char topic[128];
  double start = oc_monotonic_seconds(), last_service = start, last_progress = start;
  int rc = 0;
  while (rc == 0 && !(opt->stop && *opt->stop) && oc_sensor_sim_next(sim, &r)) {
    double due = start + (double)out->sent / opt->sim.rate;
    for (double now = oc_monotonic_seconds(); !opt->unpaced && now < due; now = oc_monotonic_seconds()) {
      service_all(clients, opt->sim.devices, &out->reconnects);
      last_service = now;
      sleep_seconds(due - now < 0.005 ? due - now : 0.005);
    }
    oc_buf_clear(&payload);
    oc_sensor_reading_json(&r, &payload);
    oc_sensor_topic(&r, topic, sizeof topic);
    device_client *c = &clients[r.device_index];
    /* the client library queues the message while it is disconnected, and sends it on reconnect */
    int prc = mosquitto_publish(c->mosq, NULL, topic, (int)payload.len, payload.data, 1, false);
    if (prc != MOSQ_ERR_SUCCESS && prc != MOSQ_ERR_NO_CONN) {
      rc = oc_error_set(err, "device %s: publishing reading %lld: %s", c->id, (long long)r.seq, mosquitto_strerror(prc));
      break;
    }
    out->sent++;
    mosquitto_loop(c->mosq, 0, 1);
    double now = oc_monotonic_seconds();
    if (now - last_service > 0.05) {
      service_all(clients, opt->sim.devices, &out->reconnects);
      last_service = now;
    }
    /* unpaced: keep at most a few thousand messages unacknowledged */
    while (opt->unpaced && out->sent - out->acknowledged > 5000 && !(opt->stop && *opt->stop)) {
      service_all(clients, opt->sim.devices, &out->reconnects);
      sleep_seconds(0.0005);
    }
    if (opt->progress && now - last_progress >= 1) {
      opt->progress(opt->ctx, out->sent, out->acknowledged);
      last_progress = now;
    }
  }
  oc_buf_free(&payload);
  return rc;
}

int oc_sensor_publish(const oc_sensor_publish_options *opt, oc_sensor_publish_result *out, oc_error *err) {
  *out = (oc_sensor_publish_result){0};
  if (!opt->host || !*opt->host || opt->port < 1 || opt->port > 65535 || !(opt->ack_timeout_seconds > 0))
    return oc_error_set(err, "simulated sensors: need a broker host, a port 1..65535 and an ack timeout > 0");
  oc_sensor_sim *sim = oc_sensor_sim_new(&opt->sim, err);
  if (!sim) return -1;
  char **passwords = NULL;
  if (oc_sensor_credentials_read(opt->credentials_path, opt->sim.devices, &passwords, err) != 0) {
    oc_sensor_sim_free(sim);
    return -1;
  }
  mosquitto_lib_init();
  size_t n = opt->sim.devices;
  device_client *clients = oc_xcalloc(n, sizeof *clients);
  double started = oc_monotonic_seconds();
  int rc = connect_all(opt, clients, n, passwords, &out->acknowledged, err);
  if (rc == 0) rc = send_all(opt, sim, clients, out, err);
  if (rc == 0) {
    double deadline = oc_monotonic_seconds() + opt->ack_timeout_seconds;
    while (out->acknowledged < out->sent && oc_monotonic_seconds() < deadline) {
      service_all(clients, n, &out->reconnects);
      sleep_seconds(0.002);
    }
    if (out->acknowledged < out->sent)
      rc = oc_error_set(err, "the broker acknowledged %lld of %lld readings within %.0f s", (long long)out->acknowledged,
                        (long long)out->sent, opt->ack_timeout_seconds);
  }
  out->seconds = oc_monotonic_seconds() - started;
  for (size_t i = 0; i < n; i++) {
    if (!clients[i].mosq) continue;
    if (clients[i].connected) {
      mosquitto_disconnect(clients[i].mosq);
      mosquitto_loop(clients[i].mosq, 50, 1);
    }
    mosquitto_destroy(clients[i].mosq);
  }
  free(clients);
  for (size_t i = 0; i < n; i++) free(passwords[i]);
  free(passwords);
  mosquitto_lib_cleanup();
  oc_sensor_sim_free(sim);
  return rc;
}
