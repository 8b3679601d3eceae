/* Sensor aggregates as forecast features, end to end without look-ahead (issue 15): readings go through
 * the stream's windows (stream/window.h) into the daily series DEVICE.MEASUREMENT.mean, which ETL takes
 * as an exogenous series (features/etl.h). Two stores receive the same readings up to the start of day
 * t and different ones from then on (the day t itself included: its window closes after t's close, so
 * its aggregate is dated t + 1). Then the aggregate series agree on every date <= t, and the ETL frames
 * built with them agree bit for bit on every feature row <= t (targets up to the rows whose horizon
 * ends by t), while they differ after t: the change reached the features, only not the past. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "features/etl.h"
#include "stream/window.h"

#define DAY_MS 86400000LL
#define T0 1704067200000LL /* 2024-01-01T00:00:00Z */
enum { DAYS = 420, PER_DAY = 6, CHANGED_FROM_DAY = 330, TRAIN_END_DAY = 300 };

static oc_date day_date(int day) { return oc_date_from_ymd(2024, 1, 1) + day; }

/* The level of a tank read every 4 hours: a slow cycle plus a deterministic jitter; from day
 * changed_from on, multiplied and shifted (changed_from = DAYS: never). */
static double level_at(int i, int changed_from) {
  unsigned x = (unsigned)i * 2654435761u;
  double v = 20 + 5 * ((double)(i % 97) / 97.0) + (double)(x >> 24) / 256.0;
  return i / PER_DAY >= changed_from ? v * 1.7 + 3 : v;
}

/* Streams DAYS days of readings into a fresh store in batches and returns tank-1.level.mean. */
static void aggregate_series(int changed_from, oc_series *out) {
  oc_store *store;
  char *dir = oc_test_datadir("sensor-features", &store);
  oc_window_options opt = oc_window_options_default();
  oc_window_counts counts = {0};
  oc_error err;
  enum { BATCH = 420 }; /* 70 days a commit: windows close across commits, and few syncs (a slow disk) */
  oc_sensor_reading batch[BATCH];
  for (int i = 0; i < DAYS * PER_DAY; i += BATCH) {
    int n = DAYS * PER_DAY - i < BATCH ? DAYS * PER_DAY - i : BATCH;
    for (int k = 0; k < n; k++) {
      oc_sensor_reading r = {.seq = i + k, .event_ms = T0 + (int64_t)(i + k) * (DAY_MS / PER_DAY),
                             .value = level_at(i + k, changed_from)};
      snprintf(r.device_id, sizeof r.device_id, "tank-1");
      snprintf(r.measurement, sizeof r.measurement, "level");
      snprintf(r.unit, sizeof r.unit, "m");
      batch[k] = r;
    }
    assert_int_equal(oc_store_begin(store, &err), 0);
    if (oc_window_apply(store, &opt, batch, (size_t)n, &counts, NULL, &err) != 0) fail_msg("%s", err.message);
    assert_int_equal(oc_store_commit(store, &err), 0);
  }
  if (oc_store_series_load(store, "tank-1.level.mean", OC_DATE_INVALID, OC_DATE_INVALID, out, &err) != 0)
    fail_msg("%s", err.message);
  oc_store_close(store);
  oc_test_rmtree(dir);
  free(dir);
}

/* A random walk on the trading days of the readings' span. */
static void target_series(oc_series *s) {
  oc_series_init(s, "WTI", DAYS);
  s->n = 0;
  unsigned seed = 7;
  double p = 70;
  for (oc_date d = oc_calendar_next_trading_day(day_date(0)); d < day_date(DAYS); d = oc_calendar_next_trading_day(d)) {
    seed = seed * 1103515245u + 12345u;
    p *= 1 + (((double)((seed >> 8) % 2001) - 1000.0) / 50000.0);
    s->dates[s->n] = d;
    s->values[s->n++] = p;
  }
}

static long row_of(const oc_frame *f, oc_date d) {
  long last = -1;
  for (size_t i = 0; i < f->nrows && f->dates[i] <= d; i++) last = (long)i;
  return last;
}

static void test_sensor_aggregates_have_no_look_ahead(void **state) {
  (void)state;
  oc_series same, changed;
  aggregate_series(DAYS, &same);
  aggregate_series(CHANGED_FROM_DAY, &changed);
  oc_date t = day_date(CHANGED_FROM_DAY);
  /* The series: equal through t (day t's aggregate is dated t + 1), different after. */
  size_t through_t = 0;
  while (through_t < same.n && same.dates[through_t] <= t) through_t++;
  assert_true(through_t > 200 && through_t < same.n);
  assert_true(changed.n == same.n);
  assert_memory_equal(same.dates, changed.dates, same.n * sizeof(oc_date));
  assert_memory_equal(same.values, changed.values, through_t * sizeof(double));
  assert_true(same.dates[through_t] == t + 1 && same.values[through_t] != changed.values[through_t]);

  /* The features: equal on every row <= t, some differ after. */
  oc_series target;
  target_series(&target);
  oc_etl_options o;
  oc_etl_options_default(&o);
  o.train_end = day_date(TRAIN_END_DAY); /* before t: normalization and selection see no changed row */
  oc_frame a, b;
  oc_error err;
  if (oc_etl_build(&target, &same, 1, &o, &a, NULL, &err) != 0) fail_msg("%s", err.message);
  if (oc_etl_build(&target, &changed, 1, &o, &b, NULL, &err) != 0) fail_msg("%s", err.message);
  assert_string_equal(oc_frame_get_meta(&a, "oilcast.features"), oc_frame_get_meta(&b, "oilcast.features"));
  assert_non_null(strstr(oc_frame_get_meta(&a, "oilcast.features"), "tank-1.level.mean"));
  assert_int_equal(a.nrows, b.nrows);
  assert_int_equal(a.ncols, b.ncols);
  long last = row_of(&a, t);
  assert_true(last > 0 && (size_t)last + 1 < a.nrows);
  bool differs_after = false;
  for (size_t c = 0; c < a.ncols; c++) {
    size_t rows = (size_t)last + 1;
    if (strncmp(a.names[c], "target_h", 8) == 0) rows -= (size_t)atoi(a.names[c] + 8); /* look h ahead by definition */
    assert_memory_equal(a.cols[c], b.cols[c], rows * sizeof(double));
    for (size_t r = (size_t)last + 1; r < a.nrows; r++) differs_after |= a.cols[c][r] != b.cols[c][r];
  }
  assert_true(differs_after);
  oc_frame_free(&a);
  oc_frame_free(&b);
  oc_series_free(&target);
  oc_series_free(&same);
  oc_series_free(&changed);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sensor_aggregates_have_no_look_ahead),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
