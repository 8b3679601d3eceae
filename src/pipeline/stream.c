/* stream.c: the "stream" step (stream.h): the MQTT session's batch handler and tick. Per batch: one
 * transaction holding every reading (through stream/window.h), its anomalies, its sensors' latest
 * readings (stream/silence.h) and every dead letter of the batch (one per message when the store
 * refused the batch for its data); per tick, a silence check; the handler returns 0 only after the
 * commits, which is what lets the session acknowledge. A message is never dropped: it is stored,
 * recognised as a duplicate, or a dead letter. Must not print. */
#include "pipeline/stream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/csv.h"
#include "core/date.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "devices/broker.h"
#include "pipeline/pipeline.h"

oc_stream_options oc_stream_options_default(void) {
  return (oc_stream_options){.session = oc_mqtt_options_default(),
                             .windows = oc_window_options_default(),
                             .anomalies = oc_anomaly_options_default(),
                             .silence = oc_silence_options_default(),
                             .tick_ms = 1000,
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
  size_t *reading_message; /* per reading: its message's index in the batch */
  size_t reading_message_cap;
  oc_window_verdict *verdicts; /* per reading: oc_window_apply's */
  size_t verdicts_cap;
  /* The registry's answers of this batch, so each device is asked for once per batch, not once per
   * message (the registry cannot change inside the batch's transaction). */
  batch_device *devices;
  size_t ndevices, devices_cap;
  oc_silence_listening listening; /* the broker connections so far, for the silence checks */
} stream_run;

static int64_t stream_now_ms(const oc_stream_options *opt) {
  if (opt->clock) return opt->clock(opt->clock_ctx);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ends the transaction the caller began: commits when rc is 0, else rolls back (keeping err). */
static int finish(oc_store *store, int rc, oc_error *err) {
  if (rc == 0) rc = oc_store_commit(store, err);
  if (rc != 0) {
    oc_error ignored;
    oc_store_rollback(store, &ignored);
  }
  return rc;
}

/* The device a topic oil/sensors/DEVICE[/...] names, or NULL for another topic (oil/sensors itself,
 * which the filter oil/sensors/# matches too, or one outside it under a --topic of the user's). */
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
  if (oc_sensor_payload_size_check(m->payload_len + m->payload_dropped, reason, cap) != 0 ||
      oc_sensor_payload_parse(m->payload, m->payload_len, now_ms, run->opt->max_future_ms, msg, reason, cap) != 0)
    return 0;
  const char *device = msg->readings[0].device_id;
  size_t len;
  const char *named = topic_device(m->topic, &len);
  if (!named || len != strlen(device) || strncmp(named, device, len) != 0) {
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

/* Stores message m as a dead letter with reason (UTF-8), with its payload's first OC_SENSOR_PAYLOAD_MAX
 * bytes. Its topic is cut to the field's size at the start of a character: a topic is UTF-8, and the
 * store's text column (PostgreSQL's) refuses a character cut in two, which failed the batch. */
static int store_dead_letter(stream_run *run, const oc_mqtt_message *m, int64_t now_ms, const char *reason,
                             oc_error *err) {
  oc_dead_letter dl = {.received_ms = now_ms,
                       .raw = m->payload,
                       .raw_len = m->payload_len < OC_SENSOR_PAYLOAD_MAX ? m->payload_len : OC_SENSOR_PAYLOAD_MAX};
  size_t len = strlen(m->topic);
  if (len >= sizeof dl.topic) {
    len = sizeof dl.topic - 1;
    while (len > 0 && ((unsigned char)m->topic[len] & 0xc0) == 0x80) len--; /* topic[len]: the first byte cut off */
  }
  memcpy(dl.topic, m->topic, len);
  dl.topic[len] = '\0';
  snprintf(dl.reason, sizeof dl.reason, "%s", reason);
  return oc_store_dead_letter_insert(run->store, &dl, err);
}

/* A moment in Unix milliseconds as 2026-12-03T18:00:00.250Z, as payloads carry it. */
static void format_event_time(int64_t ms, char out[OC_TIMESTAMP_STRLEN + 4]) {
  int64_t seconds = ms / 1000 - (ms % 1000 < 0);
  char stamp[OC_TIMESTAMP_STRLEN];
  oc_timestamp_format(seconds, stamp);
  stamp[19] = '\0'; /* the milliseconds go before the Z */
  snprintf(out, OC_TIMESTAMP_STRLEN + 4, "%s.%03dZ", stamp, (int)(ms - seconds * 1000));
}

/* After oc_window_apply: each message holding a reading it found in conflict (its sequence number taken
 * by another reading) becomes a dead letter, once, and only the readings it stored now stay in
 * run->readings (*n becomes their number), so the detectors and the latest readings see each stored
 * reading once and no other: a redelivered one was seen when it was stored. */
static int keep_stored(stream_run *run, const oc_mqtt_message *msgs, int64_t now_ms, size_t *n, int64_t *dead_letters,
                       oc_error *err) {
  size_t kept = 0, lettered = SIZE_MAX;
  for (size_t i = 0; i < *n; i++) {
    const oc_window_verdict *v = &run->verdicts[i];
    size_t m = run->reading_message[i];
    if (v->inserted) run->readings[kept++] = run->readings[i];
    if (!v->conflict) continue;
    if (m == lettered) continue; /* a message's readings are next to each other */
    lettered = m;
    char when[OC_TIMESTAMP_STRLEN + 4], reason[sizeof ((oc_dead_letter *)0)->reason];
    format_event_time(v->stored.event_ms, when);
    snprintf(reason, sizeof reason,
             "seq: %lld is stored already for %s with another reading (%s, %.17g %s): a device numbers each "
             "message once",
             (long long)v->stored.seq, v->stored.measurement, when, v->stored.value, v->stored.unit);
    if (store_dead_letter(run, &msgs[m], now_ms, reason, err) != 0) return -1;
    (*dead_letters)++;
  }
  *n = kept;
  return 0;
}

/* Stores msgs[0..n) in one transaction (readings, windows, anomalies, latest readings, dead letters)
 * and adds what it stored to the run's totals once committed; -1 with err, and nothing stored,
 * otherwise. */
static int store_messages(stream_run *run, const oc_mqtt_message *msgs, size_t n, int64_t now_ms, oc_error *err) {
  size_t nreadings = 0;
  int64_t dead_letters = 0;
  run->ndevices = 0;
  if (oc_store_begin(run->store, err) != 0) return -1;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    oc_sensor_message msg;
    char reason[sizeof ((oc_dead_letter *)0)->reason];
    int r = read_message(run, &msgs[i], now_ms, &msg, reason, sizeof reason, err);
    if (r < 0) {
      rc = -1;
    } else if (r == 0) {
      rc = store_dead_letter(run, &msgs[i], now_ms, reason, err);
      dead_letters++;
    } else {
      oc_xgrow((void **)&run->readings, &run->readings_cap, nreadings + msg.n, sizeof *run->readings);
      oc_xgrow((void **)&run->reading_message, &run->reading_message_cap, nreadings + msg.n,
               sizeof *run->reading_message);
      memcpy(run->readings + nreadings, msg.readings, msg.n * sizeof *msg.readings);
      for (size_t k = 0; k < msg.n; k++) run->reading_message[nreadings++] = i;
    }
  }
  oc_window_counts wc = {0};
  oc_anomaly_counts ac = {0};
  oc_xgrow((void **)&run->verdicts, &run->verdicts_cap, nreadings + 1, sizeof *run->verdicts);
  if (rc == 0) rc = oc_window_apply(run->store, &run->opt->windows, run->readings, nreadings, &wc, run->verdicts, err);
  if (rc == 0) rc = keep_stored(run, msgs, now_ms, &nreadings, &dead_letters, err);
  if (rc == 0) rc = oc_anomaly_detect(run->store, &run->opt->anomalies, run->readings, nreadings, now_ms, &ac, err);
  if (rc == 0) rc = oc_silence_note(run->store, run->readings, nreadings, err);
  if (finish(run->store, rc, err) != 0) return -1;
  oc_stream_result *t = run->result;
  t->readings += wc.stored;
  t->duplicates += wc.duplicates;
  t->late += wc.late;
  t->windows_updated += wc.windows_updated;
  t->days_closed += wc.days_closed;
  t->spikes += ac.spikes;
  t->stuck += ac.stuck;
  t->dead_letters += dead_letters;
  return 0;
}

/* Stores message m as a dead letter whose reason is the store's refusal, in a transaction of its own. */
static int store_refused(stream_run *run, const oc_mqtt_message *m, int64_t now_ms, const oc_error *refusal,
                         oc_error *err) {
  char reason[sizeof ((oc_dead_letter *)0)->reason], said[sizeof reason];
  snprintf(said, sizeof said, "the store refused it: %s", refusal->message);
  oc_printable(reason, sizeof reason, said); /* a dead letter's reason is UTF-8 text; the refusal may quote data */
  if (oc_store_begin(run->store, err) != 0) return -1;
  int rc = store_dead_letter(run, m, now_ms, reason, err);
  if (finish(run->store, rc, err) != 0) return -1;
  run->result->dead_letters++;
  return 0;
}

/* After the store refused a batch for its data (OC_ERROR_INVALID): each message again in a transaction
 * of its own, and the one the store refuses alone too becomes a dead letter with the store's reason;
 * any other failure ends the pass (-1 with err: the session retries the whole batch). */
static int store_one_by_one(stream_run *run, const oc_mqtt_message *msgs, size_t n, int64_t now_ms, oc_error *err) {
  for (size_t i = 0; i < n; i++) {
    oc_error refusal;
    if (store_messages(run, &msgs[i], 1, now_ms, &refusal) == 0) continue;
    if (refusal.kind != OC_ERROR_INVALID) {
      *err = refusal;
      return -1;
    }
    if (store_refused(run, &msgs[i], now_ms, &refusal, err) != 0) return -1;
  }
  return 0;
}

/* The session's batch handler: everything of the batch in one transaction. A batch the store refuses
 * for its data would be refused again at every redelivery and the stream would store nothing more (a
 * poison message), so it is stored message by message, the refused one as a dead letter; any other
 * failure (the store busy past its wait, PostgreSQL away) is the session's to retry, for ever. */
static int handle_batch(void *ctx, const oc_mqtt_message *msgs, size_t n, oc_error *err) {
  stream_run *run = ctx;
  int64_t now_ms = stream_now_ms(run->opt);
  if (store_messages(run, msgs, n, now_ms, err) != 0 &&
      (err->kind != OC_ERROR_INVALID || store_one_by_one(run, msgs, n, now_ms, err) != 0))
    return -1;
  oc_stream_result *t = run->result;
  t->messages += (int64_t)n;
  t->batches++;
  if (run->opt->on_batch) run->opt->on_batch(run->opt->ctx, t);
  return 0;
}

/* The session's tick: one silence check in a transaction of its own. */
static int check_silence(void *ctx, oc_error *err) {
  stream_run *run = ctx;
  oc_silence_counts sc = {0};
  if (oc_store_begin(run->store, err) != 0) return -1;
  int rc = oc_silence_check(run->store, &run->opt->silence, stream_now_ms(run->opt), &run->listening, &sc, err);
  if (finish(run->store, rc, err) != 0) return -1;
  run->result->silences += sc.started;
  run->result->silences_ended += sc.ended;
  run->result->ticks++;
  return 0;
}

/* The session's status, passed on to the caller's callback with the caller's ctx. */
static void relay_status(void *ctx, bool up, const char *what) {
  stream_run *run = ctx;
  if (up) oc_silence_listening_up(&run->listening, stream_now_ms(run->opt)); /* the silence checks count these */
  else oc_silence_listening_down(&run->listening, stream_now_ms(run->opt));
  if (run->opt->on_status) run->opt->on_status(run->opt->ctx, up, what);
}

/* The value of [stream] key as a number in [min, max]; -1 with err naming the key. */
static int conf_number(const oc_conf *conf, const char *path, const char *key, double min, double max, double *out,
                       oc_error *err) {
  const char *text = oc_conf_get(conf, key);
  const char *why;
  if (oc_parse_number(text, strlen(text), out, &why) != 0 || *out < min || *out > max)
    return oc_error_set(err, "%s: %s = '%s': expected a number in [%g, %g]", path, key, text, min, max);
  return 0;
}

int oc_stream_options_configure(const char *data_dir, oc_conf *conf, oc_stream_options *opt, oc_error *err) {
  char *path = oc_path_join(data_dir, OC_DATADIR_CONF);
  *conf = (oc_conf){0};
  /* No oilcast.conf: nothing to apply (opening the store says what is missing). */
  int rc = access(path, F_OK) != 0 ? 0 : oc_conf_read(path, conf, err);
  const char **texts[] = {&opt->session.broker, &opt->session.client_id, &opt->session.username,
                          &opt->session.filter};
  static const char *const text_keys[] = {"stream.broker", "stream.client_id", "stream.username", "stream.topic"};
  for (size_t i = 0; rc == 0 && i < sizeof texts / sizeof texts[0]; i++)
    if (oc_conf_get(conf, text_keys[i])) *texts[i] = oc_conf_get(conf, text_keys[i]);
  const char *widths = rc == 0 ? oc_conf_get(conf, "stream.windows") : NULL;
  if (widths && oc_window_parse_widths(widths, &opt->windows, err) != 0) rc = oc_error_prefix(err, "%s: stream.windows: ", path);
  double grace;
  if (rc == 0 && oc_conf_get(conf, "stream.grace")) {
    rc = conf_number(conf, path, "stream.grace", 0, 7 * 86400, &grace, err);
    if (rc == 0) opt->windows.grace_ms = (int64_t)(grace * 1000);
  }
  if (rc == 0 && oc_conf_get(conf, "stream.silence_factor"))
    rc = conf_number(conf, path, "stream.silence_factor", 1, 1000, &opt->silence.factor, err);
  free(path);
  return rc;
}

int oc_pipeline_stream(const char *data_dir, oc_store *store, const oc_stream_options *opt, oc_stream_result *out,
                       oc_error *err) {
  (void)data_dir;
  *out = (oc_stream_result){0};
  const oc_mqtt_options *session = &opt->session;
  if (!session->broker || !*session->broker) return oc_pipeline_bad_option(err, "no broker given (mqtt://HOST:PORT)");
  char host[256];
  int port;
  if (oc_mqtt_parse_url(session->broker, host, sizeof host, &port, err) != 0 ||
      oc_mqtt_filter_check(session->filter, err) != 0)
    return OC_PIPELINE_BAD_OPTION;
  if (!opt->stop) return oc_pipeline_bad_option(err, "the stream needs a stop flag");
  if (session->batch_max < 1 || session->batch_ms < 0) return oc_pipeline_bad_option(err, "batch size must be >= 1");
  if (opt->windows.n_widths < 1 || opt->windows.grace_ms < 0)
    return oc_pipeline_bad_option(err, "the stream needs at least one window width and a grace >= 0");
  if (!(opt->silence.factor >= 1.0) || opt->tick_ms <= 0)
    return oc_pipeline_bad_option(err, "the silence factor must be >= 1 and the check interval > 0");
  stream_run run = {.store = store, .opt = opt, .result = out};
  oc_mqtt_options m = *session;
  m.stop = opt->stop;
  m.on_batch = handle_batch;
  m.on_status = relay_status;
  m.on_tick = check_silence;
  m.tick_ms = opt->tick_ms;
  m.ctx = &run;
  oc_mqtt_counts counts = {0};
  int rc = oc_mqtt_run(&m, &counts, err);
  out->connects = counts.connects;
  free(run.readings);
  free(run.reading_message);
  free(run.verdicts);
  free(run.devices);
  return rc;
}
