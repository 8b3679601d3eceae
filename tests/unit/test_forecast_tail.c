/* Forecasts read only the history's inference tail (features/etl.h: oc_feature_inference_tail, the
 * last oc_features_required_history() + OC_FEATURE_INFERENCE_EXTRA_HISTORY observations). On the real
 * WTI series (with Brent for the spread features): the tail's normalized feature row equals the
 * full-history ETL table's row to 1e-9 standard deviations at every 10th origin (the largest
 * difference is printed: that is the figure etl.h quotes); a small trained network's forecast from
 * the whole history up to an origin and from its tail agree to 1e-6 in log return; the registered
 * network as a forecaster (model/registry.h, what `oilcast serve` and `oilcast forecast --model vN` run;
 * it parses its card's transform once, model/mlp_forecast.h: oc_mlp_forecast_with) answers bit for bit
 * what the tail gives. Nothing here depends on real prices: without the shared data the two series are
 * simulated stand-ins of the real file's length, Brent with its own missing days (its holidays differ
 * from WTI's), and the printed figure is theirs. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "features/etl.h"
#include "features/features.h"
#include "ingest/import.h"
#include "ingest/simulate.h"
#include "model/mlp_forecast.h"
#include "model/registry.h"
#include "store/datadir.h"

/* In standard deviations of the feature on the training rows (what the network reads, as a float:
 * spacing 1.2e-7 at 1). Measured: 7.3e-11 (bb_pctb; see features/etl.h). */
#define FEATURE_TOLERANCE 1e-9
#define FORECAST_TOLERANCE 1e-6 /* log return; the network computes in float */
#define FEATURE_ORIGIN_STEP 10
#define FORECAST_ORIGINS 40
#define HORIZON 5

typedef struct fixture {
  char *dir;
  oc_store *store;
  oc_series wti, brent;
} fixture;

static void import_series(oc_store *store, const char *file, const char *series, oc_series *out) {
  char *path = oc_test_data_path(file);
  oc_import_options opt;
  oc_import_options_init(&opt);
  opt.path = path;
  opt.series = series;
  oc_import_report report;
  memset(&report, 0, sizeof report);
  oc_error err;
  if (oc_import_file(store, &opt, &report, &err) != 0) fail_msg("%s", err.message);
  oc_import_report_free(&report);
  if (oc_store_series_load(store, series, OC_DATE_INVALID, OC_DATE_INVALID, out, &err) != 0) fail_msg("%s", err.message);
  free(path);
}

/* A simulated stand-in for a real series: n trading days from 1986-01-02 (as the WTI file), simulated
 * market number index, without every drop_every-th day (0: none); stored like an import. */
static void simulate_series(oc_store *store, const char *series, size_t index, size_t n, size_t drop_every,
                            oc_series *out) {
  oc_series_init(out, series, n);
  oc_simulate_series(7, index, oc_date_from_ymd(1986, 1, 2), n, out->dates, out->values);
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    if (drop_every && i % drop_every == drop_every - 1) continue;
    out->dates[kept] = out->dates[i];
    out->values[kept++] = out->values[i];
  }
  out->n = kept;
  oc_test_store_series(store, out);
}

static int setup(void **state) {
  fixture *fx = oc_xcalloc(1, sizeof *fx);
  fx->dir = oc_test_tmpdir("forecast-tail");
  oc_error err;
  bool created;
  if (oc_datadir_init(fx->dir, &created, &err) != 0 || oc_datadir_open(fx->dir, &fx->store, &err) != 0)
    fail_msg("%s", err.message);
  if (oc_test_data_dir_if_present()) {
    import_series(fx->store, "wti-daily.csv", "WTI", &fx->wti);
    import_series(fx->store, "brent-daily.csv", "BRENT", &fx->brent);
  } else {
    print_message("no shared data: WTI and Brent are simulated stand-ins\n");
    simulate_series(fx->store, "WTI", 0, 9821, 0, &fx->wti);
    simulate_series(fx->store, "BRENT", 1, 9821, 40, &fx->brent);
  }
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture *fx = *state;
  oc_series_free(&fx->wti);
  oc_series_free(&fx->brent);
  oc_store_close(fx->store);
  oc_test_rmtree(fx->dir);
  free(fx->dir);
  free(fx);
  return 0;
}

static oc_series prefix(const oc_series *s, size_t n) {
  oc_series p = *s;
  p.n = n;
  return p;
}

static void test_tail_features_equal_full_history_table(void **state) {
  fixture *fx = *state;
  oc_etl_options o;
  oc_etl_options_default(&o);
  oc_frame f = {0};
  oc_error err;
  if (oc_etl_build(&fx->wti, &fx->brent, 1, &o, &f, NULL, &err) != 0) fail_msg("%s", err.message);
  oc_feature_transform t;
  if (oc_feature_transform_from_frame(&f, &t, &err) != 0) fail_msg("%s", err.message);
  const double **cols = oc_xcalloc(t.n, sizeof *cols);
  for (size_t k = 0; k < t.n; k++) {
    ptrdiff_t c = oc_frame_find_column(&f, t.names[k]);
    assert_true(c >= 0);
    cols[k] = f.cols[c];
  }
  const size_t keep = oc_features_required_history() + OC_FEATURE_INFERENCE_EXTRA_HISTORY;
  assert_true(fx->wti.n > keep + 1000);
  double *row = oc_xmalloc(t.n * sizeof *row), largest = 0;
  size_t origins = 0, frame_row = 0;
  for (size_t end = keep + 1; end <= fx->wti.n; end += FEATURE_ORIGIN_STEP) {
    oc_series history = prefix(&fx->wti, end), tail = oc_feature_inference_tail(&history);
    assert_int_equal(tail.n, keep);
    assert_ptr_equal(tail.dates + tail.n, history.dates + history.n);
    oc_date as_of;
    if (oc_feature_transform_latest(&t, &tail, &fx->brent, 1, row, &as_of, &err) != 0) {
      /* the table has no value there either (Brent missing beyond the forward-fill limit) */
      assert_non_null(strstr(err.message, "has no value at"));
      continue;
    }
    while (f.dates[frame_row] < as_of) frame_row++;
    assert_int_equal(f.dates[frame_row], as_of);
    for (size_t k = 0; k < t.n; k++) largest = fmax(largest, fabs(row[k] - cols[k][frame_row]));
    origins++;
  }
  print_message("largest |tail - full history| of a normalized feature over %zu WTI origins: %.3g\n", origins,
                largest);
  assert_true(origins > 900);
  assert_true(largest <= FEATURE_TOLERANCE);
  free(row);
  free(cols);
  oc_feature_transform_free(&t);
  oc_frame_free(&f);
}

/* The network's log returns from the feature row of the whole history. */
static void full_history_forecast(const oc_mlp *net, const oc_feature_transform *t, const oc_series *history,
                                  float *pred) {
  double *row = oc_xmalloc(t->n * sizeof *row);
  float *x = oc_xmalloc(t->n * sizeof *x);
  oc_date as_of;
  oc_error err;
  if (oc_feature_transform_latest(t, history, NULL, 0, row, &as_of, &err) != 0) fail_msg("%s", err.message);
  for (size_t i = 0; i < t->n; i++) x[i] = (float)row[i];
  oc_mlp_workspace ws;
  oc_mlp_workspace_init(&ws, net, 1);
  oc_mlp_predict(net, &ws, x, 1, pred);
  oc_mlp_workspace_free(&ws);
  free(x);
  free(row);
}

static void test_network_forecast_from_tail(void **state) {
  fixture *fx = *state;
  oc_frame frame = {0};
  oc_training_table table = {0};
  oc_mlp net;
  oc_model_card card;
  oc_test_train_small_mlp(&fx->wti, HORIZON, 2, &frame, &table, &net, &card);
  /* the card carries the table's features and normalization (model/model_file.h) */
  oc_feature_transform t;
  oc_error err;
  if (oc_feature_transform_from_frame(&frame, &t, &err) != 0) fail_msg("%s", err.message);

  /* forecasts from the whole history up to an origin and from its tail */
  const size_t keep = oc_features_required_history() + OC_FEATURE_INFERENCE_EXTRA_HISTORY;
  const size_t step = (fx->wti.n - keep) / FORECAST_ORIGINS;
  double largest = 0;
  for (size_t end = fx->wti.n; end > keep; end -= step) {
    oc_series history = prefix(&fx->wti, end);
    float full[HORIZON];
    full_history_forecast(&net, &t, &history, full);
    oc_mlp_prediction f;
    if (oc_mlp_forecast(&net, &card, &history, NULL, 0, HORIZON, &f, &err) != 0) fail_msg("%s", err.message);
    for (int h = 0; h < HORIZON; h++) largest = fmax(largest, fabs(f.points[h].log_return - (double)full[h]));
    oc_mlp_prediction_free(&f);
  }
  print_message("largest |tail - full history| of a forecast log return over %d WTI origins: %.3g\n",
                FORECAST_ORIGINS, largest);
  assert_true(largest <= FORECAST_TOLERANCE);

  /* the served network answers what the tail gives, bit for bit */
  int64_t version;
  if (oc_registry_publish(fx->dir, fx->store, &net, &card, &version, &err) != 0) fail_msg("%s", err.message);
  oc_forecaster *served;
  json_t *served_card;
  if (oc_registry_load_forecaster(fx->dir, fx->store, version, &served, &served_card, &err) != 0 ||
      oc_forecaster_fit(served, &fx->wti, NULL, &err) != 0)
    fail_msg("%s", err.message);
  oc_price_forecast points;
  if (oc_forecaster_predict(served, HORIZON, &points, &err) != 0) fail_msg("%s", err.message);
  oc_series tail = oc_feature_inference_tail(&fx->wti);
  oc_mlp_prediction local;
  if (oc_mlp_forecast(&net, &card, &tail, NULL, 0, HORIZON, &local, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(points.origin, local.as_of);
  assert_int_equal(points.origin, fx->wti.dates[fx->wti.n - 1]);
  for (int h = 0; h < HORIZON; h++) {
    assert_true(points.mean[h] == local.points[h].price);
    assert_true(points.lo80[h] < points.mean[h] && points.mean[h] < points.hi80[h]);
  }
  oc_mlp_prediction_free(&local);
  json_decref(served_card);
  oc_forecaster_free(served);

  oc_feature_transform_free(&t);
  oc_mlp_free(&net);
  oc_model_card_free(&card);
  oc_training_table_free(&table);
  oc_frame_free(&frame);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tail_features_equal_full_history_table),
      cmocka_unit_test(test_network_forecast_from_tail),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
