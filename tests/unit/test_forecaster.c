/* Unit tests for the forecaster interface (model/forecaster.h) and every baseline kind: known answers
 * on hand-computed small series (naive, drift, mean, ar), ETS against statsmodels (fixture written by
 * tests/fixtures/make_ets_reference.py), save/load round trips, the non-positive price policy, spec
 * errors, the ensemble, and the coverage of split-conformal intervals on simulated data. arx and the
 * exogenous plumbing: it recovers a lagged exogenous effect and beats `ar` on it in the walk-forward
 * backtest; the alignment rule (an exog value dated after the origin is never read, gaps are
 * forward-filled); its round trip; `--exog` applied to specs (oc_model_spec_with_exog); clear errors. */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/fsutil.h"
#include "core/rng.h"
#include "model/backtest.h"
#include "model/fc_stats.h"
#include "model/forecaster.h"

/* A series of n values on consecutive trading days from 2020-01-01. */
static oc_series make_series(const double *values, size_t n) {
  oc_series s;
  oc_series_init(&s, "TEST", n);
  oc_date d = oc_date_from_ymd(2020, 1, 1);
  for (size_t i = 0; i < n; i++) {
    s.dates[i] = d;
    d = oc_calendar_next_trading_day(d);
    s.values[i] = values[i];
  }
  return s;
}

/* A forecaster of spec fitted on s and, for a kind that reads other series, exogs. */
static oc_forecaster *fit_spec_exog(const char *spec, const oc_series *s, const oc_series *exogs) {
  oc_error err = {0};
  oc_forecaster *f = oc_forecaster_create(spec, &err);
  if (!f) fail_msg("%s", err.message);
  if (oc_forecaster_fit(f, s, exogs, &err) != 0) fail_msg("%s", err.message);
  return f;
}

static oc_forecaster *fit_spec(const char *spec, const oc_series *s) { return fit_spec_exog(spec, s, NULL); }

static oc_price_forecast predict(oc_forecaster *f, size_t h) {
  oc_error err = {0};
  oc_price_forecast fc;
  if (oc_forecaster_predict(f, h, &fc, &err) != 0) fail_msg("%s", err.message);
  return fc;
}

static json_t *saved_model(const oc_forecaster *f) {
  char *text = oc_forecaster_save(f);
  json_t *root = json_loads(text, 0, NULL);
  free(text);
  assert_non_null(root);
  return root;
}

static const double small[] = {10, 11, 13, 12};

static void test_naive_known_answer(void **state) {
  oc_series s = make_series(small, 4);
  oc_forecaster *f = fit_spec("naive:intervals=analytic", &s);
  oc_price_forecast fc = predict(f, 3);
  /* changes 1, 2, -1: mean 2/3, sample variance (1/9 + 16/9 + 25/9) / 2 = 7/3 */
  double sd = sqrt(7.0 / 3.0);
  for (size_t h = 1; h <= 3; h++) {
    assert_true(fc.mean[h - 1] == 12.0);
    assert_true(oc_test_close(fc.lo80[h - 1], 12 - OC_Z80 * sd * sqrt((double)h), 1e-12));
    assert_true(oc_test_close(fc.hi95[h - 1], 12 + OC_Z95 * sd * sqrt((double)h), 1e-12));
  }
  assert_string_equal(oc_forecaster_kind(f), "naive");
  oc_forecaster_free(f);
  oc_series_free(&s);
}

static void test_drift_known_answer(void **state) {
  oc_series s = make_series(small, 4);
  oc_forecaster *f = fit_spec("drift:intervals=analytic", &s);
  oc_price_forecast fc = predict(f, 3);
  /* slope over the whole history (12 - 10) / 3 */
  assert_true(oc_test_close(fc.mean[0], 12 + 2.0 / 3, 1e-12));
  assert_true(oc_test_close(fc.mean[2], 14, 1e-12));
  double sd = sqrt(7.0 / 3.0);
  assert_true(oc_test_close(fc.hi80[1], fc.mean[1] + OC_Z80 * sd * sqrt(2 * (1 + 2.0 / 3)), 1e-12));
  oc_forecaster_free(f);
  f = fit_spec("drift:window=1", &s);
  fc = predict(f, 2);
  assert_true(oc_test_close(fc.mean[0], 11, 1e-12));
  assert_true(oc_test_close(fc.mean[1], 10, 1e-12));
  oc_forecaster_free(f);
  oc_series_free(&s);
}

static void test_mean_known_answer(void **state) {
  oc_series s = make_series(small, 4);
  oc_forecaster *f = fit_spec("mean:k=3", &s);
  oc_price_forecast fc = predict(f, 2);
  assert_true(oc_test_close(fc.mean[0], 12, 1e-12));
  assert_true(oc_test_close(fc.mean[1], 12, 1e-12));
  oc_forecaster_free(f);
  f = fit_spec("mean:k=2:intervals=analytic", &s);
  fc = predict(f, 1);
  assert_true(oc_test_close(fc.mean[0], 12.5, 1e-12));
  assert_true(oc_test_close(fc.lo95[0], 12.5 - OC_Z95 * sqrt(0.5) * sqrt(1.5), 1e-12));
  /* update: the mean follows the new observation without refitting */
  double more[] = {10, 11, 13, 12, 16};
  oc_series s2 = make_series(more, 5);
  oc_error err = {0};
  assert_int_equal(oc_forecaster_update(f, &s2, NULL, &err), 0);
  fc = predict(f, 1);
  assert_true(oc_test_close(fc.mean[0], 14, 1e-12));
  oc_forecaster_free(f);
  oc_series_free(&s);
  oc_series_free(&s2);
}

/* A price path whose log returns follow r(t) = 0.6 r(t-1) + e(t). */
static oc_series ar1_prices(size_t n, double phi, double c, uint64_t seed) {
  oc_rng rng;
  oc_rng_seed(&rng, seed);
  double *v = oc_xmalloc(n * sizeof *v), r = 0, lp = log(70);
  for (size_t i = 0; i < n; i++) {
    r = c + phi * r + 0.01 * oc_rng_normal(&rng);
    lp += r;
    v[i] = exp(lp);
  }
  oc_series s = make_series(v, n);
  free(v);
  return s;
}

static void test_ar_known_answer(void **state) {
  oc_series s = ar1_prices(60, 0.6, 0, 7);
  /* AR(1) without intercept by hand: phi = sum r(t) r(t-1) / sum r(t-1)^2 */
  size_t m = s.n - 1;
  double *r = oc_xmalloc(m * sizeof *r), num = 0, den = 0;
  for (size_t t = 0; t < m; t++) r[t] = log(s.values[t + 1] / s.values[t]);
  for (size_t t = 1; t < m; t++) {
    num += r[t] * r[t - 1];
    den += r[t - 1] * r[t - 1];
  }
  double phi = num / den;
  oc_forecaster *f = fit_spec("ar:max_p=1:intercept=0:intervals=analytic", &s);
  json_t *root = saved_model(f);
  json_t *model = json_object_get(root, "model");
  assert_int_equal(json_integer_value(json_object_get(model, "p")), 1);
  assert_true(oc_test_close(json_number_value(json_array_get(json_object_get(model, "phi"), 0)), phi, 1e-10));
  json_decref(root);
  oc_price_forecast fc = predict(f, 2);
  double last = s.values[s.n - 1], r1 = phi * r[m - 1], r2 = phi * r1;
  assert_true(oc_test_close(fc.mean[0], last * exp(r1), 1e-10));
  assert_true(oc_test_close(fc.mean[1], last * exp(r1 + r2), 1e-10));
  oc_forecaster_free(f);

  /* with an intercept: simple regression of r(t) on r(t-1) */
  double mx = 0, my = 0, sxy = 0, sxx = 0;
  for (size_t t = 1; t < m; t++) {
    mx += r[t - 1] / (double)(m - 1);
    my += r[t] / (double)(m - 1);
  }
  for (size_t t = 1; t < m; t++) {
    sxy += (r[t - 1] - mx) * (r[t] - my);
    sxx += (r[t - 1] - mx) * (r[t - 1] - mx);
  }
  double b = sxy / sxx, a = my - b * mx;
  f = fit_spec("ar:max_p=1:intercept=1", &s);
  root = saved_model(f);
  model = json_object_get(root, "model");
  if (json_integer_value(json_object_get(model, "p")) == 1) {
    assert_true(oc_test_close(json_number_value(json_object_get(model, "c")), a, 1e-9));
    assert_true(oc_test_close(json_number_value(json_array_get(json_object_get(model, "phi"), 0)), b, 1e-9));
  } else {
    fail_msg("AIC should choose p = 1 on an AR(1) with phi 0.6");
  }
  json_decref(root);
  oc_forecaster_free(f);
  free(r);
  oc_series_free(&s);
}

static void test_ets_matches_statsmodels(void **state) {
  char *path = oc_path_join(OILCAST_SOURCE_DIR, "tests/fixtures/ets_reference.json");
  json_error_t jerr;
  json_t *root = json_load_file(path, 0, &jerr);
  if (!root) fail_msg("%s: %s", path, jerr.text);
  free(path);
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(root, "cases"), i, c) {
    json_t *prices = json_object_get(c, "prices");
    size_t n = json_array_size(prices);
    double *v = oc_xmalloc(n * sizeof *v);
    for (size_t k = 0; k < n; k++) v[k] = json_number_value(json_array_get(prices, k));
    oc_series s = make_series(v, n);
    free(v);
    bool damped = json_is_true(json_object_get(c, "damped"));
    oc_forecaster *f = fit_spec(damped ? "ets:trend=damped:intervals=analytic" : "ets:trend=none:intervals=analytic", &s);
    json_t *saved = saved_model(f), *m = json_object_get(saved, "model");
    double ll = json_number_value(json_object_get(m, "loglik")), ref_ll = json_number_value(json_object_get(c, "loglik"));
    /* our optimum is at least as good as statsmodels' (to rounding) and the parameters agree */
    assert_true(ll >= ref_ll - 1e-6 * fabs(ref_ll));
    assert_true(fabs(ll - ref_ll) < 1e-3);
    const char *names[] = {"alpha", "beta", "phi"};
    for (int k = 0; k < 3; k++) {
      double ours = json_number_value(json_object_get(m, names[k])), ref = json_number_value(json_object_get(c, names[k]));
      if (fabs(ours - ref) > 0.02) fail_msg("%s %s: ours %.6f, statsmodels %.6f", json_string_value(json_object_get(c, "name")), names[k], ours, ref);
    }
    oc_price_forecast fc = predict(f, 7);
    const char *cols[] = {"log_forecast", "log_lo80", "log_hi80", "log_lo95", "log_hi95"};
    const double *ours[] = {fc.mean, fc.lo80, fc.hi80, fc.lo95, fc.hi95};
    for (int k = 0; k < 5; k++)
      for (size_t h = 0; h < 7; h++) {
        double ref = json_number_value(json_array_get(json_object_get(c, cols[k]), h));
        if (fabs(log(ours[k][h]) - ref) > 2e-4) fail_msg("%s h=%zu: ours %.8f, statsmodels %.8f", cols[k], h + 1, log(ours[k][h]), ref);
      }
    json_decref(saved);
    oc_forecaster_free(f);
    oc_series_free(&s);
  }
  json_decref(root);
}

/* A random walk with a volatility regime change: the test series for calibration and round trips. */
static oc_series random_walk(size_t n, uint64_t seed) {
  oc_rng rng;
  oc_rng_seed(&rng, seed);
  double *v = oc_xmalloc(n * sizeof *v), p = 80;
  for (size_t i = 0; i < n; i++) {
    double sd = i < n / 2 ? 1.0 : 1.8;
    p += sd * oc_rng_normal(&rng);
    if (p < 20) p = 20 + (20 - p);
    v[i] = p;
  }
  oc_series s = make_series(v, n);
  free(v);
  return s;
}

static void test_save_load_round_trip(void **state) {
  oc_series s = random_walk(420, 11);
  const char *specs[] = {"naive", "drift:window=50", "mean:k=4", "ets", "ets:trend=damped", "ar", "ensemble:validation=40",
                         "mlp:epochs=2:h1=8:h2=4:horizon=5:intervals=analytic"};
  for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
    oc_series head = s;
    head.n = 400;
    oc_forecaster *f = fit_spec(specs[k], &head);
    char *text = oc_forecaster_save(f);
    oc_error err = {0};
    oc_forecaster *g = oc_forecaster_load(text, &err);
    if (!g) fail_msg("%s: %s", specs[k], err.message);
    free(text);
    oc_price_forecast a = predict(f, 7), b = predict(g, 7);
    assert_memory_equal(&a, &b, sizeof a);
    /* every kind's forecast is from the last observation (an ensemble's was dated 1970-01-01) */
    assert_int_equal(a.origin, head.dates[head.n - 1]);
    assert_true(a.origin_price == head.values[head.n - 1]);
    assert_int_equal(oc_forecaster_update(f, &s, NULL, &err), 0);
    assert_int_equal(oc_forecaster_update(g, &s, NULL, &err), 0);
    a = predict(f, 7);
    b = predict(g, 7);
    assert_memory_equal(&a, &b, sizeof a);
    assert_string_equal(oc_forecaster_name(g), specs[k]);
    oc_forecaster_free(f);
    oc_forecaster_free(g);
  }
  oc_error err = {0};
  assert_null(oc_forecaster_load("{\"format\":\"oilcast-forecaster\",\"version\":1,\"spec\":\"ar\",\"kind\":\"ar\"}", &err));
  assert_non_null(strstr(err.message, "ar state"));
  assert_null(oc_forecaster_load("{\"format\":\"oilcast-forecaster\",\"version\":1,\"spec\":\"naive\",\"kind\":\"ets\"}", &err));
  assert_non_null(strstr(err.message, "does not match"));
  assert_null(oc_forecaster_load("{not json", &err));
  assert_non_null(strstr(err.message, "line 1"));
  oc_series_free(&s);
}

static void test_spec_errors(void **state) {
  oc_error err = {0};
  assert_null(oc_forecaster_create("arima", &err));
  assert_non_null(strstr(err.message, "unknown model 'arima'"));
  assert_non_null(strstr(err.message, "naive"));
  assert_null(oc_forecaster_create("mean:k=0", &err));
  assert_non_null(strstr(err.message, "k=0"));
  assert_null(oc_forecaster_create("ets:alpha=0.5", &err));
  assert_non_null(strstr(err.message, "unknown parameter 'alpha'"));
  /* a key given twice names the key and says so (it was "unknown parameter", the key being known) */
  assert_null(oc_forecaster_create("ar:max_p=3:max_p=5", &err));
  assert_non_null(strstr(err.message, "parameter 'max_p' given twice"));
  assert_null(oc_forecaster_create("naive:intervals=analytic:intervals=conformal", &err));
  assert_non_null(strstr(err.message, "parameter 'intervals' given twice"));
  assert_null(oc_forecaster_create("ets:trend", &err));
  assert_non_null(strstr(err.message, "key=value"));
  /* a member named twice, or an empty one, was taken silently (naive+naive, naive+drift+) */
  assert_null(oc_forecaster_create("ensemble:members=naive+ar+naive", &err));
  assert_non_null(strstr(err.message, "names naive twice"));
  assert_null(oc_forecaster_create("auto:candidates=ar+ar", &err));
  assert_non_null(strstr(err.message, "names ar twice"));
  assert_null(oc_forecaster_create("ensemble:members=naive+drift+", &err));
  assert_non_null(strstr(err.message, "an empty member"));
  assert_null(oc_forecaster_create("ensemble:members=naive++drift", &err));
  assert_non_null(strstr(err.message, "an empty member"));
  assert_null(oc_forecaster_create("ensemble:members=naive", &err));
  assert_non_null(strstr(err.message, "at least two"));
  assert_null(oc_forecaster_create("naive:intervals=wide", &err));
  oc_forecaster *f = oc_forecaster_create("naive", &err);
  oc_price_forecast fc;
  assert_int_equal(oc_forecaster_predict(f, 3, &fc, &err), -1);
  assert_non_null(strstr(err.message, "before fit"));
  oc_forecaster_free(f);
}

static void test_nonpositive_prices(void **state) {
  /* WTI's 2020-04-20 settlement: log models drop the non-positive price, fit and filter around it */
  double v[80];
  for (int i = 0; i < 80; i++) v[i] = 20 + 0.1 * (i % 7);
  v[60] = -36.98;
  oc_series s = make_series(v, 80);
  const char *specs[] = {"ets", "ar", "ensemble:validation=20"};
  for (int k = 0; k < 3; k++) {
    oc_series head = s;
    head.n = 60;
    oc_forecaster *f = fit_spec(specs[k], &head);
    oc_error err = {0};
    head.n = 61;
    assert_int_equal(oc_forecaster_update(f, &head, NULL, &err), 0);
    oc_price_forecast fc = predict(f, 3);
    /* log models forecast from the last positive price; the ensemble's naive member repeats -36.98 */
    for (int h = 0; h < 3; h++) {
      assert_true(isfinite(fc.mean[h]) && fc.lo95[h] <= fc.hi95[h]);
      if (k < 2) assert_true(oc_test_close(fc.mean[h], v[59], 0.05));
    }
    oc_forecaster_free(f);
    f = fit_spec(specs[k], &s); /* the negative price inside the fit window */
    fc = predict(f, 3);
    for (int h = 0; h < 3; h++) assert_true(isfinite(fc.mean[h]) && fc.mean[h] > 15 && fc.mean[h] < 25);
    oc_forecaster_free(f);
  }
  oc_series_free(&s);
}

static void test_calibration_falls_back_to_analytic(void **state) {
  /* positive prices only in the last 40 of 100 observations: the calibration warm-up (fitted on the
   * first 50) cannot fit ets, the full fit can; the forecaster then keeps ets' analytic bounds */
  double v[100];
  for (int i = 0; i < 100; i++) v[i] = i < 60 ? -1.0 : 30 + 0.2 * (i % 5);
  oc_series s = make_series(v, 100);
  oc_forecaster *conformal = fit_spec("ets", &s), *analytic = fit_spec("ets:intervals=analytic", &s);
  oc_price_forecast a = predict(conformal, 3), b = predict(analytic, 3);
  assert_memory_equal(&a, &b, sizeof a);
  oc_forecaster_free(conformal);
  oc_forecaster_free(analytic);
  oc_series_free(&s);
}

static void test_ensemble_weights(void **state) {
  oc_series s = random_walk(300, 5);
  oc_forecaster *eq = fit_spec("ensemble:members=naive+mean:weights=equal:intervals=analytic", &s);
  oc_forecaster *a = fit_spec("naive:intervals=analytic", &s), *b = fit_spec("mean:intervals=analytic", &s);
  oc_price_forecast fe = predict(eq, 3), fa = predict(a, 3), fb = predict(b, 3);
  for (int h = 0; h < 3; h++) assert_true(oc_test_close(fe.mean[h], 0.5 * fa.mean[h] + 0.5 * fb.mean[h], 1e-12));
  oc_forecaster *learned = fit_spec("ensemble:members=naive+mean:validation=100", &s);
  json_t *root = saved_model(learned);
  json_t *w = json_array_get(json_object_get(json_object_get(root, "model"), "weights"), 0);
  double w0 = json_number_value(json_array_get(w, 0)), w1 = json_number_value(json_array_get(w, 1));
  assert_true(oc_test_close(w0 + w1, 1, 1e-12));
  assert_true(w0 > w1); /* on a random walk the last price beats a 5-day mean at one step */
  json_decref(root);
  oc_forecaster_free(eq);
  oc_forecaster_free(a);
  oc_forecaster_free(b);
  oc_forecaster_free(learned);
  oc_series_free(&s);
}

static void test_conformal_coverage(void **state) {
  /* the volatility regime changes half-way: volatility-scaled conformal bounds must stay calibrated */
  oc_series s = random_walk(1400, 3);
  const char *specs[] = {"naive", "ets"};
  oc_backtest_config cfg = {.start = s.dates[700], .end = s.dates[1390], .horizon = 3, .refit_every = 50, .threads = 2};
  oc_backtest_result r;
  oc_error err = {0};
  if (oc_backtest_run(&s, specs, 2, &cfg, &r, &err) != 0) fail_msg("%s", err.message);
  for (size_t i = 0; i < r.n_models * r.horizon; i++) {
    const oc_backtest_row *row = &r.rows[i];
    if (row->coverage80 < 0.74 || row->coverage80 > 0.86 || row->coverage95 < 0.91 || row->coverage95 > 0.99)
      fail_msg("%s h=%zu: coverage80 %.3f coverage95 %.3f", row->model, row->horizon, row->coverage80, row->coverage95);
  }
  oc_backtest_result_free(&r);
  oc_series_free(&s);
}

/* An exog "X" (a random walk in logs, with every 13th date missing, as a holiday of its own market)
 * and a target "Y" whose log return follows X's of the day before: r(t) = 0.6 e(t-1) + 0.005 u(t). */
static void led_pair(size_t n, uint64_t seed, oc_series *target, oc_series *exog) {
  oc_rng rng;
  oc_rng_seed(&rng, seed);
  oc_series_init(target, "Y", n);
  oc_series_init(exog, "X", n);
  oc_date d = oc_date_from_ymd(2015, 1, 5);
  double lx = log(80), ly = log(70), e_prev = 0;
  size_t nx = 0;
  for (size_t i = 0; i < n; i++) {
    double e = 0.02 * oc_rng_normal(&rng);
    ly += 0.6 * e_prev + 0.005 * oc_rng_normal(&rng);
    lx += e;
    e_prev = e;
    target->dates[i] = d;
    target->values[i] = exp(ly);
    if (i % 13 != 5) {
      exog->dates[nx] = d;
      exog->values[nx++] = exp(lx);
    }
    d = oc_calendar_next_trading_day(d);
  }
  exog->n = nx;
}

static void test_arx_recovers_lagged_exog_effect(void **state) {
  oc_series y, x;
  led_pair(900, 3, &y, &x);
  oc_forecaster *f = fit_spec_exog("arx:exog=X:max_p=2:intervals=analytic", &y, &x);
  const char *const *names;
  assert_int_equal(oc_forecaster_exogs(f, &names), 1);
  assert_string_equal(names[0], "X");
  char *text = oc_forecaster_save(f);
  json_t *root = json_loads(text, 0, NULL), *model = json_object_get(root, "model");
  assert_true(json_integer_value(json_object_get(model, "p")) >= 1);
  double b1 = json_number_value(json_array_get(json_object_get(model, "b"), 0));
  if (fabs(b1 - 0.6) > 0.05) fail_msg("lagged exog coefficient %.4f, expected about 0.6", b1);
  /* the first step moves by the known exog return; the ones after hold the exog flat */
  oc_price_forecast fc = predict(f, 3);
  assert_true(fc.lo95[0] < fc.lo80[0] && fc.lo80[0] < fc.mean[0] && fc.mean[0] < fc.hi80[0] && fc.hi80[0] < fc.hi95[0]);
  assert_true(fc.hi80[2] - fc.lo80[2] > fc.hi80[0] - fc.lo80[0]);
  json_decref(root);
  free(text);
  oc_forecaster_free(f);
  oc_series_free(&y);
  oc_series_free(&x);
}

/* The target as its own exogenous series (backtest --series WTI --exog WTI): the spread is constant, and
 * the error says so rather than "collinear regressors". */
static void test_arx_refuses_its_own_target(void **state) {
  oc_series y, x;
  led_pair(200, 3, &y, &x);
  oc_forecaster *f = oc_forecaster_create("arx:exog=Y", NULL);
  oc_error err;
  assert_int_equal(oc_forecaster_fit(f, &y, &y, &err), -1);
  assert_non_null(strstr(err.message, "exog=Y is the series it forecasts"));
  oc_forecaster_free(f);
  oc_series_free(&y);
  oc_series_free(&x);
}

static void test_arx_beats_ar_in_backtest(void **state) {
  oc_series y, x;
  led_pair(700, 5, &y, &x);
  const char *specs[] = {"naive", "ar", "arx:exog=X"};
  oc_backtest_config cfg = {.start = y.dates[450], .end = y.dates[690], .horizon = 3, .refit_every = 40, .threads = 2,
                            .exogs = &x, .nexog = 1};
  oc_backtest_result r;
  oc_error err = {0};
  if (oc_backtest_run(&y, specs, 3, &cfg, &r, &err) != 0) fail_msg("%s", err.message);
  const oc_backtest_row *ar1 = &r.rows[1 * r.horizon], *arx1 = &r.rows[2 * r.horizon];
  if (!(arx1->rel_mae < 0.6 && arx1->dm_pvalue < 0.001 && arx1->rel_mae < ar1->rel_mae))
    fail_msg("h1 relMAE: arx %.4f (p %.2g), ar %.4f", arx1->rel_mae, arx1->dm_pvalue, ar1->rel_mae);
  oc_backtest_result_free(&r);
  /* a model naming a series the backtest was not given */
  cfg.nexog = 0;
  assert_int_equal(oc_backtest_run(&y, specs, 3, &cfg, &r, &err), -1);
  assert_non_null(strstr(err.message, "reads the series X, which the backtest was not given"));
  oc_series_free(&y);
  oc_series_free(&x);
}

/* Changing every exog value dated after the origin (and adding later ones) leaves the fit, the
 * filtered state and the forecast bit-identical: the kind reads nothing after the origin's date,
 * whatever it is handed. Forward fill: a date the exog lacks uses its latest earlier value. */
static void test_arx_alignment_never_reads_later_exog(void **state) {
  oc_series y, x, y2, x2;
  led_pair(600, 9, &y, &x);
  led_pair(600, 9, &y2, &x2);
  oc_series_free(&y2); /* only its exog is used: equal to x up to the change below */
  oc_series head = y;
  head.n = 500;
  oc_date origin = y.dates[499];
  for (size_t i = 0; i < x2.n; i++)
    if (x2.dates[i] > origin) x2.values[i] *= 1.3 + 0.01 * (double)(i % 5);
  oc_forecaster *a = fit_spec_exog("arx:exog=X", &head, &x), *b = fit_spec_exog("arx:exog=X", &head, &x2);
  oc_price_forecast fa = predict(a, 5), fb = predict(b, 5);
  assert_memory_equal(&fa, &fb, sizeof fa);
  /* the target's next date is one the exog lacks (index 499 + 1 = 500: 500 % 13 = 6, not missing;
   * step to one that is): updating through it forward-fills and still agrees */
  oc_error err = {0};
  head.n = 512; /* 512 % 13 == 5: X has no value at the last date */
  assert_int_equal(oc_forecaster_update(a, &head, &x, &err), 0);
  assert_int_equal(oc_forecaster_update(b, &head, &x, &err), 0);
  fa = predict(a, 5);
  fb = predict(b, 5);
  assert_memory_equal(&fa, &fb, sizeof fa);
  oc_forecaster_free(a);
  oc_forecaster_free(b);
  oc_series_free(&y);
  oc_series_free(&x);
  oc_series_free(&x2);
}

static void test_arx_save_load_round_trip(void **state) {
  oc_series y, x;
  led_pair(420, 11, &y, &x);
  oc_series head = y;
  head.n = 400;
  oc_forecaster *f = fit_spec_exog("arx:exog=X:max_p=3", &head, &x);
  char *text = oc_forecaster_save(f);
  oc_error err = {0};
  oc_forecaster *g = oc_forecaster_load(text, &err);
  if (!g) fail_msg("%s", err.message);
  free(text);
  oc_price_forecast a = predict(f, 7), b = predict(g, 7);
  assert_memory_equal(&a, &b, sizeof a);
  assert_int_equal(oc_forecaster_update(f, &y, &x, &err), 0);
  assert_int_equal(oc_forecaster_update(g, &y, &x, &err), 0);
  a = predict(f, 7);
  b = predict(g, 7);
  assert_memory_equal(&a, &b, sizeof a);
  oc_forecaster_free(f);
  oc_forecaster_free(g);
  oc_series_free(&y);
  oc_series_free(&x);
}

/* A damaged arx state is refused naming the array and the element. */
static void test_arx_load_names_bad_field(void **state) {
  oc_series y, x;
  led_pair(420, 11, &y, &x);
  oc_forecaster *f = fit_spec_exog("arx:exog=X:max_p=3", &y, &x);
  char *text = oc_forecaster_save(f);
  json_t *doc = json_loads(text, 0, NULL), *model = json_object_get(doc, "model");
  assert_non_null(model);
  assert_true(json_integer_value(json_object_get(model, "p")) > 0);
  json_array_set_new(json_object_get(model, "recent_e"), 0, json_string("x"));
  char *bad = json_dumps(doc, 0);
  oc_error err = {0};
  assert_null(oc_forecaster_load(bad, &err));
  if (!strstr(err.message, "recent_e[0] is not a number")) fail_msg("%s", err.message);
  json_array_append_new(json_object_get(model, "b"), json_real(1));
  free(bad);
  bad = json_dumps(doc, 0);
  assert_null(oc_forecaster_load(bad, &err));
  if (!strstr(err.message, "does not match its b array")) fail_msg("%s", err.message);
  free(bad);
  free(text);
  json_decref(doc);
  oc_forecaster_free(f);
  oc_series_free(&y);
  oc_series_free(&x);
}

static void test_arx_spec_with_exog_and_errors(void **state) {
  const struct {
    const char *spec, *exog, *want;
  } cases[] = {{"arx", "Brent", "arx:exog=Brent"},
               {"arx:max_p=2", "Brent", "arx:max_p=2:exog=Brent"},
               {"arx:exog=WTI", "Brent", "arx:exog=WTI"},
               {"mlp:epochs=3", "Brent+DUBAI", "mlp:epochs=3:exog=Brent+DUBAI"},
               {"ar", "Brent", "ar"},
               {"ensemble", "Brent", "ensemble"},
               {"arx", NULL, "arx"},
               {"nosuchkind", "Brent", "nosuchkind"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *got = oc_model_spec_with_exog(cases[i].spec, cases[i].exog);
    assert_string_equal(got, cases[i].want);
    free(got);
  }
  oc_error err = {0};
  assert_null(oc_forecaster_create("arx", &err));
  assert_non_null(strstr(err.message, "arx needs exog=SERIES"));
  assert_null(oc_forecaster_create("arx:exog=A+B", &err));
  assert_non_null(strstr(err.message, "one exogenous series"));
  oc_series y, x;
  led_pair(200, 2, &y, &x);
  oc_forecaster *f = oc_forecaster_create("arx:exog=X", &err);
  assert_int_equal(oc_forecaster_fit(f, &y, NULL, &err), -1);
  assert_non_null(strstr(err.message, "the exogenous series X was not given"));
  oc_forecaster_free(f);
  oc_series_free(&y);
  oc_series_free(&x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_naive_known_answer), cmocka_unit_test(test_drift_known_answer),
      cmocka_unit_test(test_mean_known_answer),  cmocka_unit_test(test_ar_known_answer),
      cmocka_unit_test(test_ets_matches_statsmodels), cmocka_unit_test(test_save_load_round_trip),
      cmocka_unit_test(test_spec_errors),        cmocka_unit_test(test_nonpositive_prices),
      cmocka_unit_test(test_calibration_falls_back_to_analytic), cmocka_unit_test(test_ensemble_weights),   cmocka_unit_test(test_conformal_coverage),
      cmocka_unit_test(test_arx_recovers_lagged_exog_effect), cmocka_unit_test(test_arx_refuses_its_own_target),
      cmocka_unit_test(test_arx_beats_ar_in_backtest),
      cmocka_unit_test(test_arx_alignment_never_reads_later_exog), cmocka_unit_test(test_arx_save_load_round_trip),
      cmocka_unit_test(test_arx_spec_with_exog_and_errors), cmocka_unit_test(test_arx_load_names_bad_field),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
