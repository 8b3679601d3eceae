/* Unit tests for the monitor's figures over time (monitor/score.h oc_monitor_rolling and
 * oc_monitor_history_read): a known sequence of scores gives the known rolling relMAE, MAE and
 * coverage at each origin; a run per series/endpoint/variant/version/horizon becomes one line; a later
 * score leaves every earlier point as it was (no look-ahead); and on a real store (SQLite, and
 * PostgreSQL when installed) the history uses the newest forecast per origin and ends where the
 * current rolling figures stand. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/calendar.h"
#include "core/date.h"
#include "monitor/score.h"
#include "pg_fixture.h"

static oc_date day(int i) { return oc_calendar_add_trading_days(oc_date_from_ymd(2024, 6, 3), i); }

static oc_scored_point point(const char *version, int h, int origin, double error, double naive, bool in80,
                             bool in95) {
  oc_scored_point p = {.line = {.series = "WTI", .endpoint = "wti", .variant = "main", .horizon = h},
                       .origin = day(origin), .error = error, .naive_abs_error = naive, .in80 = in80, .in95 = in95};
  snprintf(p.line.model_version, sizeof p.line.model_version, "%s", version);
  return p;
}

/* v1 h1: errors 1, -3, 2, 4 against naive 2, 2, 4, 0; v2 h1: one point. */
#define KNOWN 5
static void known_points(oc_scored_point *pts) {
  pts[0] = point("v1", 1, 0, 1.0, 2.0, true, true);
  pts[1] = point("v1", 1, 1, -3.0, 2.0, false, true);
  pts[2] = point("v1", 1, 2, 2.0, 4.0, true, true);
  pts[3] = point("v1", 1, 3, 4.0, 0.0, false, false);
  pts[4] = point("v2", 1, 3, 0.5, 1.0, true, true);
}

static void test_known_sequence_gives_known_series(void **state) {
  (void)state;
  oc_scored_point pts[KNOWN];
  known_points(pts);
  oc_monitor_history h = {0};
  oc_monitor_rolling(pts, KNOWN, 2, &h);
  assert_int_equal(h.n, 2);
  const oc_monitor_line *v1 = &h.lines[0];
  assert_string_equal(v1->key.model_version, "v1");
  assert_int_equal(v1->window, 2);
  assert_int_equal(v1->n, 4);
  /* window 2: origin 0 alone, then pairs (0,1), (1,2), (2,3) */
  const double mae[] = {1.0, 2.0, 2.5, 3.0}, naive[] = {2.0, 2.0, 3.0, 2.0};
  const double cov80[] = {1.0, 0.5, 0.5, 0.5}, cov95[] = {1.0, 1.0, 1.0, 0.5};
  const size_t origins[] = {1, 2, 2, 2};
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(v1->points[i].origin, day((int)i));
    assert_int_equal(v1->points[i].origins, origins[i]);
    assert_true(oc_test_close(v1->points[i].mae, mae[i], 1e-12));
    assert_true(oc_test_close(v1->points[i].rel_mae, mae[i] / naive[i], 1e-12));
    assert_true(oc_test_close(v1->points[i].coverage80, cov80[i], 1e-12));
    assert_true(oc_test_close(v1->points[i].coverage95, cov95[i], 1e-12));
  }
  const oc_monitor_line *v2 = &h.lines[1];
  assert_string_equal(v2->key.model_version, "v2");
  assert_int_equal(v2->n, 1);
  assert_true(oc_test_close(v2->points[0].rel_mae, 0.5, 1e-12));
  oc_monitor_history_free(&h);

  /* a naive error of 0 over the whole window: relMAE undefined, not infinite, also once a non-zero
   * naive error has left the window (whatever rounding its removal left in the sum) */
  oc_scored_point flat[3] = {point("v1", 1, 0, 1.0, 0.1, true, true), point("v1", 1, 1, 1.0, 0.0, true, true),
                             point("v1", 1, 2, 1.0, 0.0, true, true)};
  oc_monitor_rolling(flat + 1, 1, 5, &h);
  assert_true(isnan(h.lines[0].points[0].rel_mae));
  oc_monitor_history_free(&h);
  oc_monitor_rolling(flat, 3, 2, &h);
  assert_true(oc_test_close(h.lines[0].points[1].rel_mae, 1.0 / 0.05, 1e-12));
  assert_true(isnan(h.lines[0].points[2].rel_mae));
  oc_monitor_history_free(&h);
}

static void test_later_scores_leave_earlier_points(void **state) {
  (void)state;
  oc_scored_point pts[KNOWN];
  known_points(pts);
  for (size_t window = 1; window <= 4; window++) {
    oc_monitor_history all = {0};
    oc_monitor_rolling(pts, 4, window, &all);
    for (size_t k = 1; k < 4; k++) {
      oc_monitor_history prefix = {0};
      oc_monitor_rolling(pts, k, window, &prefix);
      assert_int_equal(prefix.n, 1);
      assert_int_equal(prefix.lines[0].n, k);
      for (size_t i = 0; i < k; i++) {
        const oc_monitor_point *early = &prefix.lines[0].points[i], *later = &all.lines[0].points[i];
        assert_int_equal(early->origin, later->origin);
        assert_int_equal(early->origins, later->origins);
        assert_true(early->mae == later->mae && early->rel_mae == later->rel_mae);
        assert_true(early->coverage80 == later->coverage80 && early->coverage95 == later->coverage95);
      }
      oc_monitor_history_free(&prefix);
    }
    oc_monitor_history_free(&all);
  }
}

static double price(int i) { return 70.0 + i + (i % 3) * 0.5; }

/* A stored-history forecast of endpoint wti from origin day o, 2 steps: origin price + shift. */
static void save_forecast(oc_store *store, int o, double shift) {
  oc_forecast_record rec = {.series = "WTI", .endpoint = "wti", .variant = "main", .model_version = "v1",
                            .history = "stored", .origin = day(o), .n_points = 2, .created_at = 1};
  for (int h = 1; h <= 2; h++) {
    double p = price(o) + shift;
    rec.points[h - 1] = (oc_stored_forecast_point){day(o + h), p, p - 1.5, p + 1.5, p - 3, p + 3};
  }
  oc_error err;
  if (oc_store_forecast_save(store, &rec, &err) != 0) fail_msg("%s", err.message);
}

/* The store's history (forecast_scored_points, then the rolling) ends where the current figures are,
 * and uses the newest forecast per origin: what both backends must give. */
static void check_history_ends_at_current_figures(oc_store *store) {
  enum { DAYS = 10 };
  oc_date dates[DAYS];
  double values[DAYS];
  for (int i = 0; i < DAYS; i++) {
    dates[i] = day(i);
    values[i] = price(i);
  }
  oc_series s = {.name = "WTI", .n = DAYS, .dates = dates, .values = values};
  oc_test_store_series(store, &s);
  for (int o = 0; o < 7; o++) save_forecast(store, o, 0.4 * o);
  save_forecast(store, 3, 9.0);
  save_forecast(store, 3, 0.1); /* the newest forecast for origin 3 is the one scored */
  oc_monitor_options opt = oc_monitor_options_default();
  opt.endpoint = "wti";
  opt.windows[0] = 3;
  opt.nwindows = 1;
  oc_monitor_result r;
  oc_error err;
  assert_int_equal(oc_monitor_score(store, &opt, 100, &r, &err), 0);
  oc_monitor_history h;
  assert_int_equal(oc_monitor_history_read(store, &opt, &h, &err), 0);
  assert_int_equal(h.n, 2); /* horizons 1 and 2 */
  for (size_t l = 0; l < h.n; l++) {
    const oc_monitor_line *line = &h.lines[l];
    assert_int_equal(line->key.horizon, (int64_t)l + 1);
    assert_int_equal(line->n, 7);
    const oc_monitor_point *last = &line->points[line->n - 1];
    const oc_monitor_row *now = NULL;
    for (size_t i = 0; i < r.n; i++)
      if (r.rows[i].perf.line.horizon == line->key.horizon) now = &r.rows[i];
    assert_non_null(now);
    assert_int_equal(last->origin, now->perf.last_origin);
    assert_int_equal(last->origins, (size_t)now->perf.origins);
    assert_true(oc_test_close(last->mae, now->perf.mae, 1e-12));
    assert_true(oc_test_close(last->rel_mae, now->rel_mae, 1e-12));
    assert_true(oc_test_close(last->coverage80, now->perf.coverage80, 1e-12));
    assert_true(oc_test_close(last->coverage95, now->perf.coverage95, 1e-12));
  }
  /* origin 3, h1, window 3: origins 1, 2, 3 with shifts 0.4, 0.8, 0.1 */
  double mae = 0, naive = 0;
  const double shift[] = {0.4, 0.8, 0.1};
  for (int o = 1; o <= 3; o++) {
    mae += fabs(price(o) + shift[o - 1] - price(o + 1)) / 3;
    naive += fabs(price(o) - price(o + 1)) / 3;
  }
  assert_true(oc_test_close(h.lines[0].points[3].mae, mae, 1e-12));
  assert_true(oc_test_close(h.lines[0].points[3].rel_mae, mae / naive, 1e-12));
  json_t *j = oc_monitor_line_json(&h.lines[0]);
  assert_int_equal(json_array_size(json_object_get(j, "points")), 7);
  assert_string_equal(json_string_value(json_object_get(j, "model_version")), "v1");
  json_decref(j);
  oc_monitor_history_free(&h);
  oc_monitor_result_free(&r);
}

static void test_sqlite_history_ends_at_current_figures(void **state) {
  check_history_ends_at_current_figures(((oc_test_datadir_fixture *)*state)->store);
}

static void test_pg_history_ends_at_current_figures(void **state) {
  (void)state;
  char *template = oc_test_pg_store_template("oilcast_monitor_history");
  if (!template) skip();
  char *uri = oc_test_fresh_store_uri(template);
  free(template);
  oc_error err;
  oc_store *store = oc_store_open(uri, &err);
  free(uri);
  if (!store) fail_msg("%s", err.message);
  check_history_ends_at_current_figures(store);
  oc_store_close(store);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_sequence_gives_known_series),
      cmocka_unit_test(test_later_scores_leave_earlier_points),
      cmocka_unit_test_setup_teardown(test_sqlite_history_ends_at_current_figures, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test(test_pg_history_ends_at_current_figures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
