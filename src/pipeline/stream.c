/* stream.c: the "stream" step (stream.h): the MQTT session's batch handler. Per batch: one
 * transaction holding every reading (through stream/window.h) and every dead letter of the batch;
 * the handler returns 0 only after the commit, which is what lets the session acknowledge. A message
 * is never dropped: it is stored, recognised as a duplicate, or a dead letter. Must not print. */
#include "pipeline/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "devices/broker.h"
#include "pipeline/pipeline.h"

oc_stream_options oc_stream_options_default(void) {
  return (oc_stream_options){.session = oc_mqtt_options_default(),
                             .windows = oc_window_options_default(),
                             .anomalies = oc_anomaly_options_default(),
                             .max_future_ms = 5 * 60 * 1000};
}

/* A device id the batch named, as the registry answered for it. */
typedef struct batch_device {
  oc_device device; /* its id always; the rest when found */
  bool found;
} batch_device;

typedef struct stream_run {
  oc_store *store;
  const oc_stream_options *opt;
  oc_stream_result *result;
  oc_sensor_reading *readings; /* the batch's, reused */
  size_t readings_cap;
  /* The registry's answers of this batch, so each device is asked for once per batch, not once per
   * message (the registry cannot change inside the batch's transaction). */
  batch_device *devices;
  size_t ndevices, devices_cap;
} stream_run;

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The device a topic oil/sensors/DEVICE[/...] names, or NULL/0 for another topic. */
static const char *topic_device(const char *topic, size_t *len) {
  static const char prefix[] = OC_SENSOR_TOPIC_ROOT "/";
  if (strncmp(topic, prefix, sizeof prefix - 1) != 0) return NULL;
  const char *d = topic + sizeof prefix - 1;
  *len = strcspn(d, "/");
  return d;
}

/* *out = the registered device id (NULL when there is none), asking the store once per batch. The
 * pointer holds until the next call. */
static int registered_device(stream_run *run, const char *id, const oc_device **out, oc_error *err) {
  for (size_t i = 0; i < run->ndevices; i++) {
    if (strcmp(run->devices[i].device.id, id) != 0) continue;
    *out = run->devices[i].found ? &run->devices[i].device : NULL;
    return 0;
  }
  oc_xgrow((void **)&run->devices, &run->devices_cap, run->ndevices + 1, sizeof *run->devices);
  batch_device *b = &run->devices[run->ndevices];
  if (oc_store_device_get(run->store, id, &b->device, &b->found, err) != 0) return -1;
  snprintf(b->device.id, sizeof b->device.id, "%s", id);
  run->ndevices++;
  *out = b->found ? &b->device : NULL;
  return 0;
}

/* Reads one message into msg: 1 when it holds readings, 0 when it is a dead letter (reason set), -1
 * with err when the registry could not be asked. */
static int read_message(stream_run *run, const oc_mqtt_message *m, int64_t now_ms, oc_sensor_message *msg,
                        char *reason, size_t cap, oc_error *err) {
  if (oc_sensor_payload_parse(m->payload, m->payload_len, now_ms, run->opt->max_future_ms, msg, reason, cap) != 0) return 0;
  const char *device = msg->readings[0].device_id;
  size_t len;
  const char *named = topic_device(m->topic, &len);
  if (named && (len != strlen(device) || strncmp(named, device, len) != 0)) {
    snprintf(reason, cap, "device: '%s' published under another device's topic", device);
    return 0;
  }
  const oc_device *registered;
  if (registered_device(run, device, &registered, err) != 0) return -1;
  if (!registered) {
    snprintf(reason, cap, "device: '%s' is not a registered device", device);
    return 0;
  }
  return oc_sensor_message_check(msg, registered, reason, cap) == 0;
}

/* The session's batch handler: everything of the batch in one transaction. */
static int handle_batch(void *ctx, const oc_mqtt_message *msgs, size_t n, oc_error *err) {
  stream_run *run = ctx;
  int64_t now_ms = wall_ms();
  size_t nreadings = 0;
  oc_stream_result delta = {0};
  run->ndevices = 0;
  if (oc_store_begin(run->store, err) != 0) return -1;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    oc_sensor_message msg;
    oc_dead_letter dl = {.received_ms = now_ms, .raw = msgs[i].payload, .raw_len = msgs[i].payload_len};
    int r = read_message(run, &msgs[i], now_ms, &msg, dl.reason, sizeof dl.reason, err);
    if (r < 0) {
      rc = -1;
    } else if (r == 0) {
      snprintf(dl.topic, sizeof dl.topic, "%s", msgs[i].topic);
      rc = oc_store_dead_letter_insert(run->store, &dl, err);
      delta.dead_letters++;
    } else {
      oc_xgrow((void **)&run->readings, &run->readings_cap, nreadings + msg.n, sizeof *run->readings);
      memcpy(run->readings + nreadings, msg.readings, msg.n * sizeof *msg.readings);
      nreadings += msg.n;
    }
  }
  oc_window_counts wc = {0};
  oc_anomaly_counts ac = {0};
  if (rc == 0) rc = oc_window_apply(run->store, &run->opt->windows, run->readings, nreadings, &wc, err);
  if (rc == 0) rc = oc_anomaly_detect(run->store, &run->opt->anomalies, run->readings, nreadings, now_ms, &ac, err);
  if (rc == 0) rc = oc_store_commit(run->store, err);
  if (rc != 0) {
    oc_error ignored;
    oc_store_rollback(run->store, &ignored);
    return -1;
  }
  oc_stream_result *t = run->result;
  t->messages += (int64_t)n;
  t->readings += wc.stored;
  t->duplicates += wc.duplicates;
  t->late += wc.late;
  t->windows_updated += wc.windows_updated;
  t->days_closed += wc.days_closed;
  t->spikes += ac.spikes;
  t->stuck += ac.stuck;
  t->dead_letters += delta.dead_letters;
  t->batches++;
  if (run->opt->on_batch) run->opt->on_batch(run->opt->ctx, t);
  return 0;
}

/* The session's status, passed on to the caller's callback with the caller's ctx. */
static void relay_status(void *ctx, bool up, const char *what) {
  stream_run *run = ctx;
  if (run->opt->on_status) run->opt->on_status(run->opt->ctx, up, what);
}

int oc_pipeline_stream(const char *data_dir, oc_store *store, const oc_stream_options *opt, oc_stream_result *out,
                       oc_error *err) {
  (void)data_dir;
  *out = (oc_stream_result){0};
  const oc_mqtt_options *session = &opt->session;
  if (!session->broker || !*session->broker) return oc_pipeline_bad_option(err, "no broker given (mqtt://HOST:PORT)");
  char host[256];
  int port;
  if (oc_mqtt_parse_url(session->broker, host, sizeof host, &port, err) != 0) return OC_PIPELINE_BAD_OPTION;
  if (!opt->stop) return oc_pipeline_bad_option(err, "the stream needs a stop flag");
  if (session->batch_max < 1 || session->batch_ms < 0) return oc_pipeline_bad_option(err, "batch size must be >= 1");
  if (opt->windows.n_widths < 1 || opt->windows.grace_ms < 0)
    return oc_pipeline_bad_option(err, "the stream needs at least one window width and a grace >= 0");
  stream_run run = {.store = store, .opt = opt, .result = out};
  oc_mqtt_options m = *session;
  m.stop = opt->stop;
  m.on_batch = handle_batch;
  m.on_status = relay_status;
  m.ctx = &run;
  oc_mqtt_counts counts = {0};
  int rc = oc_mqtt_run(&m, &counts, err);
  out->connects = counts.connects;
  free(run.readings);
  free(run.devices);
  return rc;
}
