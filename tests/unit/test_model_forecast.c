/* Training from an ETL table and forecasting from a price history, end to end in the library: a
 * simulated series goes through oc_etl_build, the trainer fills a complete card (metrics in price
 * units against no-change, checksums, ETL metadata), and oc_mlp_forecast reproduces the network's
 * prediction for the table's last complete row from the raw history alone; day counts beyond H and
 * too-short histories are refused with the numbers the user needs. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "features/features.h"
#include "model/mlp_forecast.h"

static void test_train_then_forecast(void **state) {
  (void)state;
  oc_series s = oc_test_random_walk_series("SIM", 900, 0.0003, 77);
  oc_frame frame;
  oc_training_table t;
  oc_mlp m;
  oc_model_card card;
  oc_error err;
  oc_test_train_small_mlp(&s, 5, 8, &frame, &t, &m, &card);
  assert_int_equal(m.arch.n_out, 5);
  assert_int_equal(card.n_features, t.n_in);
  assert_true(card.metrics.val_mae_price > 0 && card.metrics.naive_mae_price > 0);
  assert_int_equal(strlen(card.data_sha256), 64);
  assert_string_equal(card.source_checksum, oc_frame_get_meta(&frame, "oilcast.source_checksum"));
  free(card.version);
  card.version = oc_xstrdup("v1");

  /* The forecast's input row is the table's last row with features (its targets are missing). */
  long close_col = oc_frame_find_column(&frame, "close");
  size_t last = frame.nrows - 1;
  float *x = malloc(t.n_in * sizeof(float)), pred[5];
  for (size_t j = 0; j < t.n_in; j++) x[j] = (float)frame.cols[oc_frame_find_column(&frame, t.features[j])][last];
  oc_mlp_workspace ws;
  oc_mlp_workspace_init(&ws, &m, 1);
  oc_mlp_predict(&m, &ws, x, 1, pred);
  oc_mlp_workspace_free(&ws);
  oc_mlp_prediction f;
  if (oc_mlp_forecast(&m, &card, &s, NULL, 0, 5, &f, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(f.as_of, frame.dates[last]);
  assert_true(f.last_price == frame.cols[close_col][last]);
  assert_int_equal(f.n, 5);
  for (int h = 0; h < 5; h++) {
    assert_int_equal(f.points[h].date, oc_calendar_add_trading_days(f.as_of, h + 1));
    assert_true(oc_calendar_is_trading_day(f.points[h].date));
    if (!oc_test_close(f.points[h].log_return, pred[h], 1e-6)) fail_msg("h%d: forecast %.9g, table row %.9g", h + 1, f.points[h].log_return, (double)pred[h]);
    /* The price is the last price moved by the point's log return (exactly); that log return is the
     * table row's prediction to 1e-6 (the forecast recomputes the row's features from the series). */
    assert_true(oc_test_close(f.points[h].price, f.last_price * exp(f.points[h].log_return), 1e-9));
  }
  oc_mlp_prediction_free(&f);

  assert_int_equal(oc_mlp_forecast(&m, &card, &s, NULL, 0, 6, &f, &err), -1);
  assert_non_null(strstr(err.message, "1 to 5 trading days"));
  oc_series shorter = s;
  shorter.n = oc_features_required_history() - 1;
  shorter.dates = s.dates;
  shorter.values = s.values;
  assert_int_equal(oc_mlp_forecast(&m, &card, &shorter, NULL, 0, 5, &f, &err), -1);
  char need[32];
  snprintf(need, sizeof need, "at least %zu", oc_features_required_history());
  if (!strstr(err.message, need)) fail_msg("'%s' not in: %s", need, err.message);

  free(x);
  oc_model_card_free(&card);
  oc_mlp_free(&m);
  oc_training_table_free(&t);
  oc_frame_free(&frame);
  oc_series_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_train_then_forecast)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
