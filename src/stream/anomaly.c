/* anomaly.c: spike and stuck detectors (anomaly.h has the rules). Per (device, measurement) of the
 * batch: the latest stored on-time readings, enough to cover the detectors' windows before each fresh
 * reading, are read once; every fresh reading among them is judged against the ones before it. Must not
 * open or end transactions. */
#include "stream/anomaly.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "features/trailing_mad.h"

oc_anomaly_options oc_anomaly_options_default(void) {
  return (oc_anomaly_options){.spike_window = 30, .spike_min = 10, .spike_z = 6.0, .stuck_run = 10};
}

static int by_sensor(const void *pa, const void *pb) {
  const oc_sensor_reading *a = *(const oc_sensor_reading *const *)pa, *b = *(const oc_sensor_reading *const *)pb;
  int c = strcmp(a->device_id, b->device_id);
  return c ? c : strcmp(a->measurement, b->measurement);
}

static bool same_sensor(const oc_sensor_reading *a, const oc_sensor_reading *b) { return by_sensor(&a, &b) == 0; }

static int store_anomaly(oc_store *store, const oc_sensor_reading *r, const char *kind, double score, int64_t now_ms,
                         int64_t *counter, oc_error *err) {
  oc_sensor_anomaly a = {.event_ms = r->event_ms, .seq = r->seq, .detected_ms = now_ms, .value = r->value, .score = score};
  snprintf(a.device_id, sizeof a.device_id, "%s", r->device_id);
  snprintf(a.measurement, sizeof a.measurement, "%s", r->measurement);
  snprintf(a.kind, sizeof a.kind, "%s", kind);
  bool inserted;
  if (oc_store_sensor_anomaly_insert(store, &a, &inserted, err) != 0) return -1;
  if (inserted) (*counter)++;
  return 0;
}

static bool is_fresh(const oc_sensor_reading *row, const oc_sensor_reading *const *group, size_t k) {
  for (size_t j = 0; j < k; j++)
    if (group[j]->seq == row->seq) return true;
  return false;
}

/* The stuck values among rows[0..n) (ascending by event time): a run of at least stuck_run identical
 * values is reported once, at its stuck_run-th reading, by the batch whose fresh readings made it that
 * long: a run that was that long without them was reported before (a late reading arriving inside it
 * moves its stuck_run-th reading, and must not report it a second time). */
static int detect_stuck(oc_store *store, const oc_anomaly_options *opt, const oc_sensor_reading *rows, size_t n,
                        const bool *fresh, int64_t now_ms, oc_anomaly_counts *counts, oc_error *err) {
  for (size_t start = 0, end; start < n; start = end) {
    size_t before = !fresh[start]; /* the run's readings stored before this batch */
    for (end = start + 1; end < n && rows[end].value == rows[start].value; end++) before += !fresh[end];
    if (end - start >= opt->stuck_run && before < opt->stuck_run &&
        store_anomaly(store, &rows[start + opt->stuck_run - 1], "stuck", (double)opt->stuck_run, now_ms,
                      &counts->stuck, err) != 0)
      return -1;
  }
  return 0;
}

/* The detectors over one sensor's fresh readings group[0..k). */
static int detect_sensor(oc_store *store, const oc_anomaly_options *opt, const oc_sensor_reading *const *group,
                         size_t k, int64_t now_ms, oc_anomaly_counts *counts, oc_error *err) {
  size_t history = opt->spike_window > opt->stuck_run ? opt->spike_window : opt->stuck_run;
  oc_sensor_reading *rows;
  size_t n;
  if (oc_store_sensor_readings_recent(store, group[0]->device_id, group[0]->measurement, history + k, &rows, &n,
                                      err) != 0)
    return -1;
  double *x = oc_xmalloc((n + 1) * 3 * sizeof *x), *median = x + n + 1, *mad = median + n + 1;
  bool *fresh = oc_xmalloc(n + 1);
  for (size_t i = 0; i < n; i++) x[i] = rows[i].value, fresh[i] = is_fresh(&rows[i], group, k);
  if (n) oc_trailing_median_mad(x, n, opt->spike_window, opt->spike_min, median, mad);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (!fresh[i] || !(isfinite(mad[i]) && mad[i] > 0)) continue;
    double z = fabs(x[i] - median[i]) / (1.4826 * mad[i]);
    if (z > opt->spike_z) rc = store_anomaly(store, &rows[i], "spike", z, now_ms, &counts->spikes, err);
  }
  if (rc == 0) rc = detect_stuck(store, opt, rows, n, fresh, now_ms, counts, err);
  free(fresh);
  free(x);
  free(rows);
  return rc;
}

int oc_anomaly_detect(oc_store *store, const oc_anomaly_options *opt, const oc_sensor_reading *fresh, size_t n,
                      int64_t now_ms, oc_anomaly_counts *counts, oc_error *err) {
  assert(opt->stuck_run >= 2 && opt->spike_window >= 1 && opt->spike_min >= 1);
  const oc_sensor_reading **order = oc_xmalloc((n + 1) * sizeof *order);
  for (size_t i = 0; i < n; i++) order[i] = &fresh[i];
  qsort(order, n, sizeof *order, by_sensor);
  int rc = 0;
  for (size_t start = 0, end; start < n && rc == 0; start = end) {
    for (end = start + 1; end < n && same_sensor(order[start], order[end]); end++) {}
    rc = detect_sensor(store, opt, order + start, end - start, now_ms, counts, err);
  }
  free(order);
  return rc;
}
