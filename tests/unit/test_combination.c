/* Unit tests for the combinations chosen on past origins only (issue 18, item 3): the `ensemble`
 * kind's scored weights (inverse MSE of the members' walk-forward validation forecasts) and the `auto`
 * kind (the candidate with the lowest validation relMAE, chosen again at every fit). Each is checked
 * for look-ahead (changing the data after the origin changes nothing at the origin, while changing
 * errors before it does) and, in a backtest, auto's row against its candidates' rows. */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/auto_select.h"
#include "model/backtest.h"
#include "model/forecaster.h"

static oc_forecaster *fit_view(const char *spec, const oc_series *s, size_t n) {
  oc_error err = {0};
  oc_series view = *s;
  view.n = n;
  oc_forecaster *f = oc_forecaster_create(spec, &err);
  if (!f) fail_msg("%s", err.message);
  if (oc_forecaster_fit(f, &view, NULL, &err) != 0) fail_msg("%s", err.message);
  return f;
}

/* The kind's own saved state ("model" of the saved forecaster). */
static json_t *model_state(const oc_forecaster *f) {
  char *text = oc_forecaster_save(f);
  json_error_t jerr;
  json_t *root = json_loads(text, 0, &jerr), *model = json_incref(json_object_get(root, "model"));
  free(text);
  json_decref(root);
  if (!model) fail_msg("no model state in the saved forecaster (%s)", jerr.text);
  return model;
}

static oc_series copy_series(const oc_series *s) {
  oc_series c = {.name = oc_xstrdup(s->name), .n = s->n, .dates = oc_xmalloc(s->n * sizeof *c.dates),
                 .values = oc_xmalloc(s->n * sizeof *c.values)};
  memcpy(c.dates, s->dates, s->n * sizeof *c.dates);
  memcpy(c.values, s->values, s->n * sizeof *c.values);
  return c;
}

#define SCORED "ensemble:members=naive+mean+ar:weights=scored:validation=100:refit=10:intervals=analytic"

static void test_scored_weights_come_from_past_errors(void **state) {
  oc_series a = oc_test_random_walk_series("RW", 600, 0, 11);
  oc_series future = copy_series(&a), past = copy_series(&a);
  size_t origin = 450; /* the fit sees observations 0..origin */
  for (size_t i = origin + 1; i < a.n; i++) future.values[i] *= 1.3;
  past.values[origin - 30] *= 1.1; /* a target (and origin) of the validation origins */
  oc_forecaster *fa = fit_view(SCORED, &a, origin + 1), *ff = fit_view(SCORED, &future, origin + 1),
                *fp = fit_view(SCORED, &past, origin + 1);
  json_t *sa = model_state(fa), *sf = model_state(ff), *sp = model_state(fp);
  json_t *wa = json_object_get(sa, "weights"), *wf = json_object_get(sf, "weights"), *wp = json_object_get(sp, "weights");
  assert_true(json_equal(wa, wf)); /* the errors after the origin are not the weights' business */
  assert_false(json_equal(wa, wp)); /* errors before it are */
  double w[3] = {0}, total = 0;
  for (size_t i = 0; i < 3; i++) total += w[i] = json_number_value(json_array_get(json_array_get(wa, 0), i));
  assert_true(oc_test_close(total, 1, 1e-12));
  assert_true(w[0] > w[1]); /* on a random walk the last price beats a 5-day mean at one step */
  json_decref(sa);
  json_decref(sf);
  json_decref(sp);
  oc_forecaster_free(fa);
  oc_forecaster_free(ff);
  oc_forecaster_free(fp);
  oc_series_free(&a);
  oc_series_free(&future);
  oc_series_free(&past);
}

#define AUTO "auto:candidates=naive+mean+ar:validation=120:intervals=analytic"

static void test_auto_picks_on_validation_and_ignores_the_future(void **state) {
  /* log returns with strong autocorrelation: ar wins the validation, and auto then is ar */
  oc_series s = oc_test_ar1_series(700, 0.6, 0.02, 5), future = copy_series(&s);
  size_t origin = 600;
  for (size_t i = origin + 1; i < s.n; i++) future.values[i] *= 0.8;
  oc_forecaster *a = fit_view(AUTO, &s, origin + 1), *af = fit_view(AUTO, &future, origin + 1);
  oc_forecaster *ar = fit_view("ar:intervals=analytic", &s, origin + 1);
  json_t *state_a = model_state(a), *state_f = model_state(af);
  assert_string_equal(json_string_value(json_object_get(state_a, "chosen")), "ar:intervals=analytic");
  assert_true(json_equal(state_a, state_f));
  oc_error err = {0};
  oc_price_forecast fa, fr;
  if (oc_forecaster_predict(a, 5, &fa, &err) != 0 || oc_forecaster_predict(ar, 5, &fr, &err) != 0) fail_msg("%s", err.message);
  assert_memory_equal(fa.mean, fr.mean, 5 * sizeof fa.mean[0]);
  /* saved and loaded, it forecasts the same */
  char *text = oc_forecaster_save(a);
  oc_forecaster *loaded = oc_forecaster_load(text, &err);
  free(text);
  if (!loaded) fail_msg("%s", err.message);
  oc_price_forecast fl;
  if (oc_forecaster_predict(loaded, 5, &fl, &err) != 0) fail_msg("%s", err.message);
  assert_memory_equal(fa.mean, fl.mean, 5 * sizeof fa.mean[0]);
  assert_memory_equal(fa.lo80, fl.lo80, 5 * sizeof fa.lo80[0]);
  assert_memory_equal(fa.hi95, fl.hi95, 5 * sizeof fa.hi95[0]);
  json_decref(state_a);
  json_decref(state_f);
  oc_forecaster_free(a);
  oc_forecaster_free(af);
  oc_forecaster_free(ar);
  oc_forecaster_free(loaded);
  oc_series_free(&s);
  oc_series_free(&future);
}

static void test_auto_row_is_a_candidate_per_refit_block(void **state) {
  oc_series s = oc_test_ar1_series(520, 0.25, 0.02, 8);
  const char *specs[] = {"naive", "mean", "ar", "auto:candidates=naive+mean+ar:validation=60"};
  oc_backtest_config cfg = {.start = s.dates[400], .end = s.dates[510], .horizon = 3, .refit_every = 10, .threads = 2};
  oc_backtest_result r;
  oc_error err = {0};
  if (oc_backtest_run(&s, specs, 4, &cfg, &r, &err) != 0) fail_msg("%s", err.message);
  size_t chose_ar = 0;
  for (size_t block = 0; block * cfg.refit_every < r.n_origins; block++) {
    size_t first = block * cfg.refit_every, picked = 3;
    for (size_t m = 0; m < 3 && picked == 3; m++)
      if (memcmp(r.forecasts[3 * r.n_origins + first].mean, r.forecasts[m * r.n_origins + first].mean, 3 * sizeof(double)) == 0)
        picked = m;
    if (picked == 3) fail_msg("block %zu: auto's forecast is none of its candidates'", block);
    chose_ar += picked == 2;
    /* the whole block follows the candidate chosen at its refit */
    for (size_t o = first; o < first + cfg.refit_every && o < r.n_origins; o++)
      assert_memory_equal(r.forecasts[3 * r.n_origins + o].mean, r.forecasts[picked * r.n_origins + o].mean, 3 * sizeof(double));
  }
  assert_true(chose_ar > 0);
  oc_backtest_result_free(&r);
  oc_series_free(&s);
}

#define AUTO_YEARS "auto:candidates=naive+mean+ar:validation=60:years=3:intervals=analytic"

/* The comparison oc_auto_select makes on s's first n observations (60 origins a block, 3 blocks). */
static json_t *choice_on(const oc_series *s, size_t n) {
  const char *candidates[] = {"naive", "mean", "ar"};
  oc_auto_config c = oc_test_auto_config(60, 3, 7, 20);
  oc_series view = *s;
  view.n = n;
  oc_auto_choice choice;
  oc_error err = {0};
  if (oc_auto_select(&view, candidates, 3, &c, &choice, &err) != 0) fail_msg("%s", err.message);
  json_t *j = oc_auto_choice_to_json(&choice);
  oc_auto_choice_free(&choice);
  return j;
}

/* relMAE of candidate m in validation block b of a comparison. */
static double block_rel(const json_t *choice, size_t m, size_t b) {
  return json_number_value(json_array_get(json_object_get(json_array_get(json_object_get(choice, "candidates"), m), "years"), b));
}

static void test_auto_by_years_ignores_the_future(void **state) {
  oc_series s = oc_test_ar1_series(700, 0.6, 0.02, 5), future = copy_series(&s), past = copy_series(&s);
  size_t origin = 600;
  for (size_t i = origin + 1; i < s.n; i++) future.values[i] *= 0.8;
  /* the oldest block's origins are observations 414..473 (the last origin is 600 - 7, blocks of 60) */
  past.values[430] *= 1.1;
  oc_forecaster *a = fit_view(AUTO_YEARS, &s, origin + 1), *af = fit_view(AUTO_YEARS, &future, origin + 1);
  json_t *state_a = model_state(a), *state_f = model_state(af);
  assert_string_equal(json_string_value(json_object_get(state_a, "chosen")), "ar:intervals=analytic");
  assert_true(json_equal(state_a, state_f));
  json_t *ca = choice_on(&s, origin + 1), *cf = choice_on(&future, origin + 1), *cp = choice_on(&past, origin + 1);
  assert_true(json_equal(ca, cf)); /* every block's figures: nothing after the origin */
  assert_int_equal(json_array_size(json_object_get(ca, "validation_years")), 3);
  for (size_t m = 1; m < 3; m++) assert_true(block_rel(ca, m, 0) != block_rel(cp, m, 0)); /* the oldest block counts */
  json_decref(ca);
  json_decref(cf);
  json_decref(cp);
  json_decref(state_a);
  json_decref(state_f);
  oc_forecaster_free(a);
  oc_forecaster_free(af);
  oc_series_free(&s);
  oc_series_free(&future);
  oc_series_free(&past);
}

#define AUTO60 "auto:candidates=naive+mean+ar:validation=60:years=1:intervals=analytic"

static void test_auto_falls_back_on_a_short_history(void **state) {
  oc_series s = oc_test_ar1_series(200, 0.6, 0.02, 5);
  /* 60 origins at horizon 7 with 60 observations before them need 129: with 50 (or 128), auto fits its
   * first candidate and says why */
  oc_forecaster *shortf = fit_view(AUTO60, &s, 50);
  json_t *st = model_state(shortf);
  assert_string_equal(json_string_value(json_object_get(st, "chosen")), "naive:intervals=analytic");
  assert_non_null(strstr(json_string_value(json_object_get(st, "fallback")), "too few to validate"));
  char *text = oc_forecaster_save(shortf);
  oc_error err = {0};
  oc_forecaster *loaded = oc_forecaster_load(text, &err);
  free(text);
  if (!loaded) fail_msg("%s", err.message);
  json_t *sl = model_state(loaded);
  assert_true(json_equal(st, sl));
  json_decref(sl);
  oc_forecaster_free(loaded);
  json_decref(st);
  oc_forecaster_free(shortf);
  oc_forecaster *edge = fit_view(AUTO60, &s, 128);
  json_t *se = model_state(edge);
  assert_non_null(json_object_get(se, "fallback"));
  json_decref(se);
  oc_forecaster_free(edge);
  /* long enough: a choice, no fallback */
  oc_forecaster *longf = fit_view(AUTO60, &s, 129);
  st = model_state(longf);
  assert_null(json_object_get(st, "fallback"));
  json_decref(st);
  oc_forecaster_free(longf);
  /* in a backtest whose first origins are too early for the validation the row is still made: naive's
   * forecasts until the history is long enough, then a candidate's */
  const char *specs[] = {"naive", "auto:candidates=naive+mean+ar:validation=60:years=1"};
  oc_backtest_config cfg = {.start = s.dates[30], .end = s.dates[190], .horizon = 3, .refit_every = 10, .threads = 2};
  oc_backtest_result r;
  if (oc_backtest_run(&s, specs, 2, &cfg, &r, &err) != 0) fail_msg("%s", err.message);
  /* refits at origins 30, 40, ..., 120 see 31..121 observations (< 129): naive until origin 129 */
  for (size_t o = 0; o < 100; o++)
    assert_memory_equal(r.forecasts[r.n_origins + o].mean, r.forecasts[o].mean, 3 * sizeof(double));
  bool chose = false;
  for (size_t o = 100; o < r.n_origins; o++) chose |= memcmp(r.forecasts[r.n_origins + o].mean, r.forecasts[o].mean, 3 * sizeof(double)) != 0;
  assert_true(chose);
  assert_true(isfinite(r.rows[3].rel_mae));
  oc_backtest_result_free(&r);
  oc_series_free(&s);
}

static void test_auto_refuses_bad_candidates(void **state) {
  oc_error err = {0};
  assert_null(oc_forecaster_create("auto:candidates=naive", &err));
  assert_non_null(strstr(err.message, "at least two"));
  assert_null(oc_forecaster_create("auto:candidates=naive+auto", &err));
  assert_non_null(strstr(err.message, "auto cannot contain auto"));
  assert_null(oc_forecaster_create("auto:candidates=naive+nosuchkind", &err));
  assert_null(oc_forecaster_create("ensemble:weights=best", &err));
  assert_non_null(strstr(err.message, "learned, scored or equal"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scored_weights_come_from_past_errors),
      cmocka_unit_test(test_auto_picks_on_validation_and_ignores_the_future),
      cmocka_unit_test(test_auto_row_is_a_candidate_per_refit_block),
      cmocka_unit_test(test_auto_by_years_ignores_the_future),
      cmocka_unit_test(test_auto_falls_back_on_a_short_history),
      cmocka_unit_test(test_auto_refuses_bad_candidates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
