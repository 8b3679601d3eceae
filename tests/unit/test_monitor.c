/* Unit tests for src/monitor/score on a real store: a stored-history forecast's points are scored once
 * their dates have prices (a point without its price waits, a forecast from given prices is never
 * scored), scoring again scores nothing, a later import makes more scorable; the rolling figures
 * (MAE, the no-change forecast's MAE on the same origins, relMAE, coverage, bias) equal a direct
 * computation, use only the newest forecast per origin (at each horizon it reaches), and only the
 * latest N origins per window. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/date.h"
#include "monitor/score.h"

#define DAYS 12

static oc_date day(int i) { return oc_calendar_add_trading_days(oc_date_from_ymd(2024, 6, 3), i); }
static double price(int i) { return 70.0 + i + (i % 3) * 0.5; }

/* WTI on the first n of DAYS trading days. */
static void store_prices(oc_store *store, int from, int n) {
  oc_date dates[DAYS];
  double values[DAYS];
  for (int i = 0; i < n; i++) {
    dates[i] = day(from + i);
    values[i] = price(from + i);
  }
  oc_series s = {.name = "WTI", .n = (size_t)n, .dates = dates, .values = values};
  oc_test_store_series(store, &s);
}

/* A forecast from origin day o for `steps` trading days: origin price + 1.0 + shift, bands +-1.5 / +-3. */
static int64_t save_forecast_steps(oc_store *store, int o, int steps, double shift, const char *history,
                                   const char *version) {
  oc_forecast_record rec = {.origin = day(o), .n_points = (size_t)steps, .created_at = 1};
  snprintf(rec.series, sizeof rec.series, "WTI");
  snprintf(rec.endpoint, sizeof rec.endpoint, "wti");
  snprintf(rec.variant, sizeof rec.variant, "main");
  snprintf(rec.model_version, sizeof rec.model_version, "%s", version);
  snprintf(rec.history, sizeof rec.history, "%s", history);
  for (int h = 1; h <= steps; h++) {
    double p = price(o) + 1.0 + shift;
    rec.points[h - 1] = (oc_stored_forecast_point){day(o + h), p, p - 1.5, p + 1.5, p - 3, p + 3};
  }
  oc_error err;
  if (oc_store_forecast_save(store, &rec, &err) != 0) fail_msg("%s", err.message);
  return rec.id;
}

static int64_t save_forecast(oc_store *store, int o, double shift, const char *history, const char *version) {
  return save_forecast_steps(store, o, 3, shift, history, version);
}

static const oc_monitor_row *row_for(const oc_monitor_result *r, const char *version, int h, size_t window) {
  for (size_t i = 0; i < r->n; i++)
    if (strcmp(r->rows[i].perf.line.model_version, version) == 0 && r->rows[i].perf.line.horizon == h &&
        r->rows[i].window == window)
      return &r->rows[i];
  return NULL;
}

static void test_scores_once_and_incrementally(void **state) {
  oc_test_datadir_fixture *fx = *state;
  store_prices(fx->store, 0, 6); /* days 0..5 known */
  for (int o = 0; o < 5; o++) save_forecast(fx->store, o, o == 2 ? 5.0 : 0.0, "stored", "v1");
  save_forecast(fx->store, 2, 0.0, "stored", "v1"); /* a newer forecast for origin 2 replaces the first */
  save_forecast(fx->store, 0, 0.0, "given", "v1");  /* client-supplied history: never scored */
  oc_monitor_options o = oc_monitor_options_default();
  oc_monitor_result r;
  oc_error err;
  assert_int_equal(oc_monitor_score(fx->store, &o, 100, &r, &err), 0);
  /* origins 0..4 (and 2 twice): points with date <= day 5 */
  int expected = 0;
  for (int origin = 0; origin < 5; origin++)
    for (int h = 1; h <= 3; h++) expected += (origin + h <= 5) * (origin == 2 ? 2 : 1);
  assert_int_equal(r.scored, expected);
  oc_monitor_result_free(&r);
  assert_int_equal(oc_monitor_score(fx->store, &o, 101, &r, &err), 0);
  assert_int_equal(r.scored, 0); /* idempotent */
  oc_monitor_result_free(&r);
  store_prices(fx->store, 6, 2); /* days 6, 7 arrive */
  assert_int_equal(oc_monitor_score(fx->store, &o, 102, &r, &err), 0);
  int more = 0;
  for (int origin = 0; origin < 5; origin++)
    for (int h = 1; h <= 3; h++) more += (origin + h > 5 && origin + h <= 7) * (origin == 2 ? 2 : 1);
  assert_int_equal(r.scored, more);

  /* h1 over all 5 origins (window 20), using the newer forecast for origin 2 (shift 0) */
  const oc_monitor_row *all = row_for(&r, "v1", 1, 20);
  assert_non_null(all);
  assert_int_equal(all->perf.origins, 5);
  double mae = 0, naive = 0, bias = 0, in80 = 0;
  for (int origin = 0; origin < 5; origin++) {
    double f = price(origin) + 1.0, actual = price(origin + 1);
    mae += fabs(f - actual) / 5;
    naive += fabs(price(origin) - actual) / 5;
    bias += (f - actual) / 5;
    in80 += (actual >= f - 1.5 && actual <= f + 1.5) / 5.0;
  }
  assert_true(oc_test_close(all->perf.mae, mae, 1e-12));
  assert_true(oc_test_close(all->perf.naive_mae, naive, 1e-12));
  assert_true(oc_test_close(all->rel_mae, mae / naive, 1e-12));
  assert_true(oc_test_close(all->perf.bias, bias, 1e-12));
  assert_true(oc_test_close(all->perf.coverage80, in80, 1e-12));
  assert_true(oc_test_close(all->perf.coverage95, 1.0, 1e-12));
  assert_int_equal(all->perf.first_origin, day(0));
  assert_int_equal(all->perf.last_origin, day(4));
  oc_monitor_result_free(&r);

  o.windows[0] = 2; /* the latest two origins only: 3 and 4 */
  o.nwindows = 1;
  assert_int_equal(oc_monitor_score(fx->store, &o, 103, &r, &err), 0);
  const oc_monitor_row *recent = row_for(&r, "v1", 1, 2);
  assert_non_null(recent);
  assert_int_equal(recent->perf.origins, 2);
  assert_int_equal(recent->perf.first_origin, day(3));
  oc_monitor_result_free(&r);
  o.windows[0] = 0;
  assert_int_equal(oc_monitor_score(fx->store, &o, 104, &r, &err), -1);
  assert_non_null(strstr(err.message, "at least 1 origin"));
}

/* A newer forecast from the same origin for fewer days (an API call for 1 day after the scheduled
 * 3-day forecast) replaces the older one where it forecasts, not at the steps it does not reach: the
 * origin still counts at horizons 2 and 3, for the figures, their history and the promotion rule. */
static void test_shorter_newer_forecast_keeps_longer_horizons(void **state) {
  oc_test_datadir_fixture *fx = *state;
  store_prices(fx->store, 0, 6);
  for (int o = 0; o < 3; o++) save_forecast(fx->store, o, 0.0, "stored", "v1");
  save_forecast_steps(fx->store, 1, 1, 0.0, "stored", "v1");
  oc_monitor_options o = oc_monitor_options_default();
  oc_monitor_result r;
  oc_error err;
  assert_int_equal(oc_monitor_score(fx->store, &o, 100, &r, &err), 0);
  for (int h = 1; h <= 3; h++) {
    const oc_monitor_row *row = row_for(&r, "v1", h, 20);
    assert_non_null(row);
    if (row->perf.origins != 3) fail_msg("horizon %d: %lld origins, expected 3", h, (long long)row->perf.origins);
  }
  oc_monitor_result_free(&r);
  oc_monitor_history history;
  assert_int_equal(oc_monitor_history_read(fx->store, &o, &history, &err), 0);
  for (size_t i = 0; i < history.n; i++)
    if (history.lines[i].n != 3)
      fail_msg("history at horizon %lld: %zu origins, expected 3", (long long)history.lines[i].key.horizon,
               history.lines[i].n);
  assert_int_equal(history.n, 3 * o.nwindows);
  oc_monitor_history_free(&history);
  oc_scored_error *errors;
  size_t n;
  assert_int_equal(oc_store_forecast_errors(fx->store, "wti", "v1", 3, OC_DATE_INVALID, 10, &errors, &n, &err), 0);
  assert_int_equal(n, 3);
  free(errors);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_scores_once_and_incrementally, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_shorter_newer_forecast_keeps_longer_horizons, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
