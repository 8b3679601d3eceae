/* window.h: the stream processor's tumbling windows on event time (src/stream/, between ingest and
 * model). A reading of device d, measurement m at event time t belongs, for each width w, to the window
 * [floor(t / w) * w, floor(t / w) * w + w). Each device has a watermark W, the highest event time
 * stored for it. A reading is ON TIME when t + grace >= W at its arrival (it may be out of order, but
 * by less than the grace): it enters its windows, whose aggregates (count, mean, min, max, last by
 * (t, seq)) are recomputed from the stored on-time readings, so any arrival order within the grace
 * gives the aggregates of sorted input. Otherwise it is LATE: stored and counted, in no window.
 * A window is CLOSED once W >= its end + grace: no on-time reading can reach it any more.
 * Daily windows become series ETL can use (`oilcast etl --exog DEVICE.MEASUREMENT.mean`): when a day's
 * window closes, its count, mean, min, max and last are stored as observations of the series
 * DEVICE.MEASUREMENT.{count,mean,min,max,last} dated the NEXT day, the first on which they are
 * known (the UTC day D ends after the day's market close, so dating them D would look ahead).
 * Widths default to 1 minute, 1 hour and 1 day (UTC; the trading day's session is a UTC day here).
 * Pure functions and one batch call over the store's ops; must not know MQTT or JSON. */
#ifndef OC_STREAM_WINDOW_H
#define OC_STREAM_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define OC_WINDOW_MAX_WIDTHS 8

typedef struct oc_window_options {
  size_t n_widths;
  int64_t widths_ms[OC_WINDOW_MAX_WIDTHS]; /* ascending, each > 0 and dividing the next (and a day, or
                                              a multiple of one): a window is aggregated from the
                                              stored windows of the width below it */
  int64_t grace_ms;                        /* >= 0 */
} oc_window_options;

/* 1 min, 1 h, 1 day; grace 2 minutes. */
oc_window_options oc_window_options_default(void);

/* Parses "1m,1h,1d" (units s, m, h, d; ascending, each dividing the next) into opt's widths; -1 with
 * err naming the bad entry. */
int oc_window_parse_widths(const char *text, oc_window_options *opt, oc_error *err);

/* The start of the window of width_ms holding event_ms (floor, also for times before 1970). */
int64_t oc_window_start(int64_t event_ms, int64_t width_ms);
/* Whether a reading at event_ms is late for a device whose watermark is watermark_ms. */
bool oc_window_is_late(int64_t event_ms, int64_t watermark_ms, int64_t grace_ms);

typedef struct oc_window_counts {
  int64_t stored, duplicates, late, windows_updated;
  int64_t conflicts;    /* readings whose (device, seq, measurement) holds another reading: not stored */
  int64_t days_closed;  /* daily windows written as series observations */
  int64_t days_unnamed; /* daily windows whose series name would pass 64 bytes: not written */
} oc_window_counts;

/* What oc_window_apply did with a reading: inserted (stored now, on time or late), or not because its
 * (device, seq, measurement) is stored already: a redelivery of that reading, or a conflict when it
 * holds another reading (another event time, value or unit: a device that numbered two messages alike,
 * as one that restarts its count does), `stored` then being the reading kept. */
typedef struct oc_window_verdict {
  bool inserted, conflict;
  oc_sensor_reading stored;
} oc_window_verdict;

/* Stores readings (in arrival order) and updates their windows, inside the caller's transaction:
 * a reading whose (device, seq, measurement) is stored already changes nothing: a duplicate when it is
 * the stored reading, else a conflict, told in verdicts[i] (verdicts: n entries, or NULL). Adds to
 * *counts. 0, or -1 with err (the caller rolls back). */
int oc_window_apply(oc_store *store, const oc_window_options *opt, const oc_sensor_reading *readings, size_t n,
                    oc_window_counts *counts, oc_window_verdict *verdicts, oc_error *err);

#endif
