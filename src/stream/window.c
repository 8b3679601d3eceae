/* window.c: tumbling windows with a watermark and a grace period (window.h has the rules). A batch is
 * applied in arrival order: each reading is judged against its device's watermark as it stood before
 * it, stored (once), and the watermark raised (kept in memory for the batch: read from the store once
 * per device and written back once); then each window an on-time reading touched is
 * recomputed once from the store: the smallest from its readings, each larger one from the windows
 * of the width below (24 hours make a day), so a day's window costs 24 rows, not a day of readings. It must not open or end transactions (the caller's transaction
 * makes a batch all-or-nothing) and must not know MQTT or JSON. */
#include "stream/window.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"

#define MS_PER_DAY (86400 * (int64_t)1000)

oc_window_options oc_window_options_default(void) {
  return (oc_window_options){.n_widths = 3, .widths_ms = {60 * 1000, 3600 * 1000, MS_PER_DAY}, .grace_ms = 120 * 1000};
}

int oc_window_parse_widths(const char *text, oc_window_options *opt, oc_error *err) {
  size_t n = 0;
  const char *p = text;
  while (*p) {
    char *end;
    long long v = strtoll(p, &end, 10);
    int64_t unit = *end == 's' ? 1000 : *end == 'm' ? 60000 : *end == 'h' ? 3600000 : *end == 'd' ? MS_PER_DAY : 0;
    size_t len = strcspn(p, ",");
    if (end == p || v <= 0 || v > 366 || !unit || end + 1 != p + len)
      return oc_error_set(err, "window width '%.*s': not a count and a unit s, m, h or d (1m, 1h, 1d)", (int)len, p);
    int64_t w = v * unit;
    if (MS_PER_DAY % w != 0 && w % MS_PER_DAY != 0)
      return oc_error_set(err, "window width '%.*s': must divide a day or be whole days", (int)len, p);
    if (n == OC_WINDOW_MAX_WIDTHS) return oc_error_set(err, "more than %d window widths", OC_WINDOW_MAX_WIDTHS);
    if (n > 0 && (w <= opt->widths_ms[n - 1] || w % opt->widths_ms[n - 1] != 0))
      return oc_error_set(err, "window width '%.*s': widths go up, each a multiple of the one before", (int)len, p);
    opt->widths_ms[n++] = w;
    p += len;
    if (*p == ',') p++;
  }
  if (n == 0) return oc_error_set(err, "no window width given");
  opt->n_widths = n;
  return 0;
}

int64_t oc_window_start(int64_t event_ms, int64_t width_ms) {
  assert(width_ms > 0);
  int64_t q = event_ms / width_ms;
  if (event_ms % width_ms < 0) q--;
  return q * width_ms;
}

bool oc_window_is_late(int64_t event_ms, int64_t watermark_ms, int64_t grace_ms) {
  return event_ms + grace_ms < watermark_ms;
}

typedef struct window_key {
  const oc_sensor_reading *r; /* device and measurement */
  int64_t width_ms, start_ms;
  int64_t part_ms; /* the width below (0 for the smallest: from the readings) */
} window_key;

static int key_cmp(const void *pa, const void *pb) {
  const window_key *a = pa, *b = pb;
  int c = strcmp(a->r->device_id, b->r->device_id);
  if (!c) c = strcmp(a->r->measurement, b->r->measurement);
  if (!c) c = (a->width_ms > b->width_ms) - (a->width_ms < b->width_ms);
  if (!c) c = (a->start_ms > b->start_ms) - (a->start_ms < b->start_ms);
  return c;
}

/* The device's watermark (INT64_MIN for a device never seen). */
static int watermark(oc_store *store, const char *device_id, int64_t *wm, oc_error *err) {
  bool found;
  if (oc_store_sensor_watermark_get(store, device_id, wm, &found, err) != 0) return -1;
  if (!found) *wm = INT64_MIN;
  return 0;
}

/* Per device the batch touched: its watermark before the batch (read from the store once) and as the
 * batch raised it (written back once, after the batch's readings). */
typedef struct device_mark {
  const char *device_id;
  int64_t before_ms, now_ms;
} device_mark;

/* Writes the daily windows of device that closed between its watermarks before and after (window end
 * + grace in (before, after]) as the observations of its DEVICE.MEASUREMENT.* series. */
static int close_days(oc_store *store, const oc_window_options *opt, const char *device, int64_t before, int64_t after,
                      oc_window_counts *counts, oc_error *err) {
  oc_sensor_window *w;
  size_t n;
  if (oc_store_sensor_windows_list(store, device, NULL, MS_PER_DAY, &w, &n, err) != 0) return -1;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    int64_t closes = w[i].start_ms + MS_PER_DAY + opt->grace_ms;
    if (closes <= before || closes > after) continue;
    static const char *const aggs[] = {"count", "mean", "min", "max", "last"};
    const double values[] = {(double)w[i].count, w[i].mean, w[i].min, w[i].max, w[i].last};
    oc_date known = oc_date_from_ymd(1970, 1, 1) + (oc_date)((w[i].start_ms + MS_PER_DAY) / MS_PER_DAY);
    for (size_t a = 0; a < 5 && rc == 0; a++) {
      char name[OC_SERIES_NAME_MAX + 2];
      const char *why;
      int len = snprintf(name, sizeof name, "%s.%s.%s", device, w[i].measurement, aggs[a]);
      if (len < 0 || oc_series_name_check(name, (size_t)len, &why) != 0) {
        counts->days_unnamed++;
        break;
      }
      oc_observation obs = {.date = known, .value = values[a]};
      oc_upsert_counts uc = {0};
      rc = oc_store_series_ensure(store, name, "", "sensor", &obs.series_id, err);
      if (rc == 0) rc = oc_store_observations_upsert(store, &obs, 1, "sensor", (int64_t)(after / 1000), &uc, err);
      if (rc == 0 && a == 4) counts->days_closed++;
    }
  }
  free(w);
  return rc;
}

/* Whether r, not stored because its key is taken, is another reading than the one stored under the key
 * (then in *stored). */
static int conflicts_with_stored(oc_store *store, const oc_sensor_reading *r, oc_sensor_reading *stored, bool *conflict,
                                 oc_error *err) {
  bool found;
  if (oc_store_sensor_reading_get(store, r->device_id, r->seq, r->measurement, stored, &found, err) != 0) return -1;
  *conflict = found && (stored->event_ms != r->event_ms || stored->value != r->value || strcmp(stored->unit, r->unit) != 0);
  return 0;
}

int oc_window_apply(oc_store *store, const oc_window_options *opt, const oc_sensor_reading *readings, size_t n,
                    oc_window_counts *counts, oc_window_verdict *verdicts, oc_error *err) {
  assert(opt->n_widths >= 1 && opt->n_widths <= OC_WINDOW_MAX_WIDTHS && opt->grace_ms >= 0);
  for (size_t w = 1; w < opt->n_widths; w++) assert(opt->widths_ms[w] % opt->widths_ms[w - 1] == 0);
  window_key *keys = NULL;
  size_t nkeys = 0, cap = 0;
  device_mark *marks = NULL;
  size_t nmarks = 0, marks_cap = 0;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const oc_sensor_reading *r = &readings[i];
    bool inserted = false;
    if (verdicts) verdicts[i] = (oc_window_verdict){0};
    size_t m = 0;
    while (m < nmarks && strcmp(marks[m].device_id, r->device_id) != 0) m++;
    if (m == nmarks) {
      int64_t wm;
      if (watermark(store, r->device_id, &wm, err) != 0) {
        rc = -1;
        break;
      }
      oc_xgrow((void **)&marks, &marks_cap, nmarks + 1, sizeof *marks);
      marks[nmarks++] = (device_mark){r->device_id, wm, wm};
    }
    int64_t wm = marks[m].now_ms;
    bool late = wm != INT64_MIN && oc_window_is_late(r->event_ms, wm, opt->grace_ms);
    if (oc_store_sensor_reading_insert(store, r, late, &inserted, err) != 0) {
      rc = -1;
      break;
    }
    if (inserted && r->event_ms > marks[m].now_ms) marks[m].now_ms = r->event_ms;
    if (verdicts) verdicts[i].inserted = inserted;
    if (!inserted) {
      oc_window_verdict v = {0};
      if (conflicts_with_stored(store, r, &v.stored, &v.conflict, err) != 0) {
        rc = -1;
        break;
      }
      if (v.conflict) counts->conflicts++;
      else counts->duplicates++;
      if (verdicts) verdicts[i] = v;
      continue;
    }
    counts->stored++;
    if (late) {
      counts->late++;
      continue;
    }
    oc_xgrow((void **)&keys, &cap, nkeys + opt->n_widths, sizeof *keys);
    for (size_t w = 0; w < opt->n_widths; w++)
      keys[nkeys++] = (window_key){r, opt->widths_ms[w], oc_window_start(r->event_ms, opt->widths_ms[w]),
                                   w ? opt->widths_ms[w - 1] : 0};
  }
  for (size_t m = 0; rc == 0 && m < nmarks; m++)
    if (marks[m].now_ms > marks[m].before_ms)
      rc = oc_store_sensor_watermark_set(store, marks[m].device_id, marks[m].now_ms, err);
  /* Sorted, a device's measurement's smaller windows come before the larger ones made of them. */
  if (rc == 0 && nkeys) qsort(keys, nkeys, sizeof *keys, key_cmp);
  for (size_t i = 0; rc == 0 && i < nkeys; i++) {
    if (i > 0 && key_cmp(&keys[i - 1], &keys[i]) == 0) continue;
    rc = oc_store_sensor_window_recompute(store, keys[i].r->device_id, keys[i].r->measurement, keys[i].width_ms,
                                          keys[i].start_ms, keys[i].part_ms, err);
    if (rc == 0) counts->windows_updated++;
  }
  bool daily = false;
  for (size_t w = 0; w < opt->n_widths; w++) daily |= opt->widths_ms[w] == MS_PER_DAY;
  for (size_t m = 0; daily && rc == 0 && m < nmarks; m++)
    if (marks[m].now_ms > marks[m].before_ms)
      rc = close_days(store, opt, marks[m].device_id, marks[m].before_ms, marks[m].now_ms, counts, err);
  free(marks);
  free(keys);
  return rc;
}
