/* anomaly.h: the stream's per-sensor detectors, run on each batch's fresh readings against what the
 * store holds before them (in event order, on-time readings only):
 *   spike  the robust z-score |x - m| / (1.4826 * MAD) of a reading against the median m and median
 *          absolute deviation of the `spike_window` readings before it (features/trailing_mad.h, at
 *          least `spike_min` of them) passes `spike_z`; skipped where MAD = 0 (a flat signal: see stuck);
 *   stuck  the reading completes a run of exactly `stuck_run` identical values (reported once per run).
 * Each anomaly is stored once per (device, measurement, kind, event time), so a redelivered batch adds
 * nothing. Silence (a device quiet past its expected interval) is not detected here yet. Must not know
 * MQTT or JSON; writes only through the store's ops, inside the caller's transaction. */
#ifndef OC_STREAM_ANOMALY_H
#define OC_STREAM_ANOMALY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct oc_anomaly_options {
  size_t spike_window, spike_min;
  double spike_z;
  size_t stuck_run; /* >= 2 */
} oc_anomaly_options;

/* Window 30, at least 10, z > 6; stuck after 10 identical values. */
oc_anomaly_options oc_anomaly_options_default(void);

typedef struct oc_anomaly_counts {
  int64_t spikes, stuck;
} oc_anomaly_counts;

/* Runs the detectors on fresh (the batch's readings that oc_window_apply stored now), stamping
 * detected_ms = now_ms. Adds the anomalies stored now to *counts. 0, or -1 with err. */
int oc_anomaly_detect(oc_store *store, const oc_anomaly_options *opt, const oc_sensor_reading *fresh, size_t n,
                      int64_t now_ms, oc_anomaly_counts *counts, oc_error *err);

#endif
