/* silence.c: the silence detector (silence.h has the rules): each batch keeps its sensors' latest
 * readings; each check reads every watched sensor once (one store query) and starts or ends episodes.
 * Must not open or end transactions. */
#include "stream/silence.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

#define SILENCE_KIND "silence"

oc_silence_options oc_silence_options_default(void) { return (oc_silence_options){.factor = 3.0}; }

static bool same_sensor(const oc_sensor_reading *a, const oc_sensor_reading *b) {
  return strcmp(a->device_id, b->device_id) == 0 && strcmp(a->measurement, b->measurement) == 0;
}

static bool later(const oc_sensor_reading *a, const oc_sensor_reading *b) {
  return a->event_ms > b->event_ms || (a->event_ms == b->event_ms && a->seq > b->seq);
}

int oc_silence_note(oc_store *store, const oc_sensor_reading *readings, size_t n, oc_error *err) {
  /* The batch's latest reading per sensor first: a batch holds few sensors, and one write each. */
  const oc_sensor_reading **latest = oc_xmalloc((n + 1) * sizeof *latest);
  size_t nsensors = 0;
  for (size_t i = 0; i < n; i++) {
    size_t k = 0;
    while (k < nsensors && !same_sensor(latest[k], &readings[i])) k++;
    if (k == nsensors) latest[nsensors++] = &readings[i];
    else if (later(&readings[i], latest[k])) latest[k] = &readings[i];
  }
  int rc = 0;
  for (size_t k = 0; k < nsensors && rc == 0; k++) rc = oc_store_sensor_last_raise(store, latest[k], err);
  free(latest);
  return rc;
}

/* Stores the episode that starts with the sensor's last reading w->last. */
static int start_episode(oc_store *store, const oc_sensor_watch *w, int64_t now_ms, oc_silence_counts *counts,
                         oc_error *err) {
  oc_sensor_anomaly a = {.event_ms = w->last.event_ms,
                         .seq = w->last.seq,
                         .detected_ms = now_ms,
                         .value = w->last.value,
                         .score = (double)(now_ms - w->last.event_ms) / ((double)w->interval_seconds * 1000.0)};
  snprintf(a.device_id, sizeof a.device_id, "%s", w->last.device_id);
  snprintf(a.measurement, sizeof a.measurement, "%s", w->last.measurement);
  snprintf(a.kind, sizeof a.kind, "%s", SILENCE_KIND);
  bool inserted;
  if (oc_store_sensor_anomaly_insert(store, &a, &inserted, err) != 0) return -1;
  if (inserted) counts->started++;
  return 0;
}

void oc_silence_listening_up(oc_silence_listening *l, int64_t now_ms) {
  if (l->up) return;
  l->backlog_ms = l->ever_up ? l->backlog_ms + (now_ms - l->since_ms) : 0;
  l->up = l->ever_up = true;
  l->since_ms = now_ms;
}

void oc_silence_listening_down(oc_silence_listening *l, int64_t now_ms) {
  if (!l->up) return;
  int64_t length = now_ms - l->since_ms;
  l->listened_ms += length;
  l->backlog_ms = l->backlog_ms > length ? l->backlog_ms - length : 0;
  l->up = false;
  l->since_ms = now_ms;
}

/* Whether the stream has heard, by now_ms, everything a sensor of silence window silence_ms sent
 * (silence.h: oc_silence_listening). */
static bool heard_all(const oc_silence_listening *l, int64_t now_ms, double silence_ms) {
  if (!l->up) return false;
  double current = (double)(now_ms - l->since_ms), backlog = (double)l->backlog_ms;
  return (double)l->listened_ms + current > silence_ms && current > (backlog < silence_ms ? backlog : silence_ms);
}

int oc_silence_check(oc_store *store, const oc_silence_options *opt, int64_t now_ms,
                     const oc_silence_listening *listening, oc_silence_counts *counts, oc_error *err) {
  assert(opt->factor >= 1.0);
  oc_sensor_watch *watched;
  size_t n;
  if (oc_store_sensor_watch_list(store, &watched, &n, err) != 0) return -1;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const oc_sensor_watch *w = &watched[i];
    assert(w->interval_seconds > 0); /* the registry's CHECK */
    if (w->open && w->last.event_ms > w->open_event_ms) {
      bool ended;
      rc = oc_store_sensor_anomaly_end(store, w->last.device_id, w->last.measurement, SILENCE_KIND, w->open_event_ms,
                                       w->last.event_ms, &ended, err);
      if (rc == 0 && ended) counts->ended++;
      if (rc != 0) break;
    }
    double silence_ms = opt->factor * (double)w->interval_seconds * 1000.0;
    double quiet_ms = (double)(now_ms - w->last.event_ms);
    bool still_open = w->open && w->last.event_ms == w->open_event_ms;
    if (!still_open && quiet_ms > silence_ms && heard_all(listening, now_ms, silence_ms))
      rc = start_episode(store, w, now_ms, counts, err);
  }
  free(watched);
  return rc;
}
