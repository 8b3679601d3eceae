/* The goals on the real WTI series (skipped when the shared data is absent): imported through
 * the real import path, backtested 2023-01-01..2024-12-31 at 7 horizons with refits every 20 origins.
 * Conformal 80% coverage of `ar` and `ets` within 0.77..0.83 and their mean 80% width below the
 * 10.00 USD that statsmodels' ARIMA(1,1,1) gives under the same protocol (bench/backtest); relMAE of
 * naive exactly 1; the figures documented in docs/evaluation.md. And bands that never narrow as the
 * horizon grows: every conformal forecast of that window over 20 horizons, and a network's stored
 * calibration on the whole series. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "ingest/import.h"
#include "model/backtest.h"
#include "model/mlp_calibration.h"
#include "store/store.h"

static void test_wti_reference_window(void **state) {
  oc_test_data_dir_or_skip();
  char *csv = oc_test_data_path("wti-daily.csv");
  char *dir = oc_test_tmpdir("backtest-wti");
  char *db = oc_path_join(dir, "oilcast.db");
  oc_buf uri = {0};
  oc_buf_printf(&uri, "sqlite:%s", db);
  oc_error err = {0};
  oc_store *store = oc_store_open(uri.data, &err);
  if (!store) fail_msg("%s", err.message);
  oc_import_options opt;
  oc_import_options_init(&opt);
  opt.path = csv;
  oc_import_report report;
  memset(&report, 0, sizeof report);
  if (oc_import_file(store, &opt, &report, &err) != 0) fail_msg("%s", err.message);
  oc_series s;
  if (oc_store_series_load(store, "WTI", OC_DATE_INVALID, OC_DATE_INVALID, &s, &err) != 0) fail_msg("%s", err.message);

  const char *specs[] = {"naive", "ets", "ar"};
  oc_backtest_config cfg = {.start = oc_date_from_ymd(2023, 1, 1), .end = oc_date_from_ymd(2024, 12, 31), .horizon = 7,
                            .refit_every = 20, .threads = 2};
  oc_backtest_result r;
  if (oc_backtest_run(&s, specs, 3, &cfg, &r, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(r.n_origins, 491);
  assert_true(oc_backtest_summarize(&r, 0).rel_mae == 1.0);
  for (size_t m = 1; m < 3; m++) {
    oc_backtest_summary sm = oc_backtest_summarize(&r, m);
    if (sm.coverage80 < 0.77 || sm.coverage80 > 0.83 || sm.width80 >= 10.0)
      fail_msg("%s: coverage80 %.3f width80 %.3f", r.models[m], sm.coverage80, sm.width80);
    assert_true(sm.rel_mae > 0.98 && sm.rel_mae < 1.01);
  }
  /* docs/evaluation.md's figures, to their printed precision */
  assert_true(fabs(oc_backtest_summarize(&r, 2).rel_mae - 0.9931) < 5e-5);
  assert_true(fabs(oc_backtest_summarize(&r, 1).rel_mae - 0.9999) < 5e-5);
  oc_backtest_result_free(&r);
  oc_series_free(&s);
  oc_import_report_free(&report);
  oc_store_close(store);
  oc_test_rmtree(dir);
  free(dir);
  free(db);
  free(csv);
  oc_buf_free(&uri);
}

/* The real WTI series (skips the test without the shared data). */
static oc_series load_wti(void) {
  oc_test_data_dir_or_skip();
  char *csv = oc_test_data_path("wti-daily.csv");
  oc_store *store;
  char *dir = oc_test_datadir("bands-wti", &store);
  oc_import_options opt;
  oc_import_options_init(&opt);
  opt.path = csv;
  oc_import_report report;
  memset(&report, 0, sizeof report);
  oc_error err;
  oc_series s;
  if (oc_import_file(store, &opt, &report, &err) != 0 ||
      oc_store_series_load(store, "WTI", OC_DATE_INVALID, OC_DATE_INVALID, &s, &err) != 0)
    fail_msg("%s", err.message);
  oc_import_report_free(&report);
  oc_store_close(store);
  oc_test_rmtree(dir);
  free(dir);
  free(csv);
  return s;
}

/* Widths hi - lo of h = 1..H never shrink (beyond the rounding of mean +- q around different means). */
static void assert_widening(const double *lo, const double *hi, size_t H, const char *what, size_t origin) {
  for (size_t h = 1; h < H; h++)
    if (hi[h] - lo[h] < (hi[h - 1] - lo[h - 1]) * (1 - 1e-12))
      fail_msg("%s at origin %zu: the band narrows from h%zu (%.6g) to h%zu (%.6g)", what, origin, h, hi[h - 1] - lo[h - 1],
               h + 1, hi[h] - lo[h]);
}

static void test_bands_never_narrow_on_wti(void **state) {
  oc_series s = load_wti();
  const char *specs[] = {"naive", "drift", "ets", "ar"};
  oc_backtest_config cfg = {.start = oc_date_from_ymd(2023, 1, 1), .end = oc_date_from_ymd(2024, 12, 31), .horizon = 20,
                            .refit_every = 20, .threads = 2};
  oc_backtest_result r;
  oc_error err;
  if (oc_backtest_run(&s, specs, 4, &cfg, &r, &err) != 0) fail_msg("%s", err.message);
  for (size_t m = 0; m < r.n_models; m++)
    for (size_t o = 0; o < r.n_origins; o++) {
      const oc_price_forecast *f = &r.forecasts[m * r.n_origins + o];
      assert_widening(f->lo80, f->hi80, f->horizon, r.models[m], o);
      assert_widening(f->lo95, f->hi95, f->horizon, r.models[m], o);
    }
  oc_backtest_result_free(&r);

  /* the network's split-conformal half-widths (log space), calibrated on the last 250 origins */
  oc_frame frame = {0};
  oc_training_table table = {0};
  oc_mlp net;
  oc_model_card card;
  oc_test_train_small_mlp(&s, 7, 2, &frame, &table, &net, &card);
  if (oc_mlp_calibrate(&net, &card, &s, NULL, 0, &card.calibration, &err) != 0) fail_msg("%s", err.message);
  double zero[7] = {0};
  assert_widening(zero, card.calibration.q80, 7, "mlp q80", 0);
  assert_widening(zero, card.calibration.q95, 7, "mlp q95", 0);
  oc_mlp_free(&net);
  oc_model_card_free(&card);
  oc_training_table_free(&table);
  oc_frame_free(&frame);
  oc_series_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_wti_reference_window),
                                     cmocka_unit_test(test_bands_never_narrow_on_wti)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
