/* Unit tests for the walk-forward backtest (model/backtest.h): naive must win on a random walk and
 * `ar` must beat it on an AR(1) in returns; no look-ahead (changing the future leaves every forecast
 * made at or before the change bit-identical); results independent of the thread count; the
 * Diebold–Mariano p-value against scipy; the output formats; and the stored-run ops of the store. */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/rng.h"
#include "model/auto_select.h"
#include "model/backtest.h"
#include "model/backtest_years.h"
#include "store/store.h"

static const char *const all_models[] = {"naive", "drift", "mean", "ets", "ar", "ensemble:validation=60"};
#define N_ALL (sizeof all_models / sizeof all_models[0])
/* every kind, the network kept tiny (and with its analytic bounds, so no calibration warm-up) */
static const char *const every_kind[] = {"naive", "drift", "mean", "ets", "ar", "arx:exog=X", "ensemble:validation=60",
                                         "mlp:epochs=2:h1=8:h2=4:intervals=analytic",
                                         "mlp:epochs=2:h1=8:h2=4:intervals=analytic:exog=X",
                                         "auto:candidates=naive+ar+arx:validation=30:exog=X"};
#define N_KINDS (sizeof every_kind / sizeof every_kind[0])

/* The exogenous series "X" of every_kind: another AR(1) path on the same dates, with every 11th date
 * missing (a holiday of its own market). */
static oc_series exog_series(size_t n, uint64_t seed) {
  oc_series x = oc_test_ar1_series(n, 0.1, 0.02, seed);
  free(x.name);
  x.name = oc_xstrdup("X");
  size_t kept = 0;
  for (size_t i = 0; i < x.n; i++)
    if (i % 11 != 7) {
      x.dates[kept] = x.dates[i];
      x.values[kept++] = x.values[i];
    }
  x.n = kept;
  return x;
}

static void run_or_fail(const oc_series *s, const char *const *specs, size_t n, oc_backtest_config *cfg, oc_backtest_result *r) {
  oc_error err = {0};
  if (oc_backtest_run(s, specs, n, cfg, r, &err) != 0) fail_msg("%s", err.message);
}

static void test_random_walk_naive_wins(void **state) {
  oc_series s = oc_test_ar1_series(700, 0, 0.02, 21);
  oc_backtest_config cfg = {.start = s.dates[450], .end = s.dates[699], .horizon = 5, .refit_every = 25, .threads = 2};
  oc_backtest_result r;
  run_or_fail(&s, all_models, N_ALL, &cfg, &r);
  assert_int_equal(r.n_origins, 245); /* the last 5 observations have no 5-step future */
  for (size_t m = 0; m < r.n_models; m++) {
    oc_backtest_summary sm = oc_backtest_summarize(&r, m);
    /* nothing beats the no-change forecast on a random walk by more than noise, and no model is
     * significantly better at any horizon */
    if (sm.rel_mae < 0.99) fail_msg("%s beats naive on a random walk: relMAE %.4f", r.models[m], sm.rel_mae);
    for (size_t h = 0; h < r.horizon; h++) {
      const oc_backtest_row *row = &r.rows[m * r.horizon + h];
      if (row->rel_mae < 1 && row->dm_pvalue < 0.05) fail_msg("%s h=%zu significantly better than naive", row->model, h + 1);
    }
  }
  assert_true(oc_backtest_summarize(&r, 2).rel_mae > 1.05); /* the 5-day mean lags */
  assert_true(r.rows[0].rel_mae == 1.0 && r.rows[0].dm_pvalue == 1.0);
  oc_backtest_result_free(&r);
  oc_series_free(&s);
}

static void test_ar1_beats_naive(void **state) {
  oc_series s = oc_test_ar1_series(700, 0.5, 0.02, 8);
  const char *specs[] = {"naive", "ar"};
  oc_backtest_config cfg = {.start = s.dates[400], .end = s.dates[699], .horizon = 3, .refit_every = 30, .threads = 2};
  oc_backtest_result r;
  run_or_fail(&s, specs, 2, &cfg, &r);
  const oc_backtest_row *ar1 = &r.rows[1 * r.horizon + 0];
  assert_true(ar1->rel_mae < 0.92);
  assert_true(ar1->dm_pvalue < 0.01);
  assert_true(ar1->direction_hit > 0.6);
  assert_true(oc_backtest_summarize(&r, 1).rel_mae < 0.95);
  oc_backtest_result_free(&r);
  oc_series_free(&s);
}

static void test_no_look_ahead(void **state) {
  /* every kind of the model table is checked: a new kind fails here until every_kind names it */
  for (const oc_model_type *const *t = oc_model_types; *t; t++) {
    bool listed = false;
    for (size_t k = 0; k < N_KINDS; k++) {
      size_t len = strcspn(every_kind[k], ":");
      listed |= strlen((*t)->kind) == len && strncmp(every_kind[k], (*t)->kind, len) == 0;
    }
    if (!listed) fail_msg("model kind %s is not in every_kind: its look-ahead is untested", (*t)->kind);
  }
  oc_series a = oc_test_ar1_series(520, 0.2, 0.02, 4), b = oc_test_ar1_series(520, 0.2, 0.02, 4);
  oc_series xa = exog_series(520, 5), xb = exog_series(520, 5);
  size_t change = 430; /* values after this index differ, the exogenous series' too */
  for (size_t i = change + 1; i < b.n; i++) b.values[i] *= 1.5 + 0.01 * (double)(i % 3);
  for (size_t i = 0; i < xb.n; i++)
    if (xb.dates[i] > a.dates[change]) xb.values[i] *= 0.7 + 0.01 * (double)(i % 4);
  oc_backtest_config cfg = {.start = a.dates[380], .end = a.dates[510], .horizon = 4, .refit_every = 9, .threads = 2,
                            .exogs = &xa, .nexog = 1};
  oc_backtest_result ra, rb;
  run_or_fail(&a, every_kind, N_KINDS, &cfg, &ra);
  cfg.exogs = &xb;
  run_or_fail(&b, every_kind, N_KINDS, &cfg, &rb);
  assert_int_equal(ra.n_origins, rb.n_origins);
  size_t checked = 0, differ = 0;
  for (size_t m = 0; m < ra.n_models; m++)
    for (size_t o = 0; o < ra.n_origins; o++) {
      const oc_price_forecast *fa = &ra.forecasts[m * ra.n_origins + o], *fb = &rb.forecasts[m * rb.n_origins + o];
      if (ra.origin_index[o] <= change) {
        if (memcmp(fa, fb, sizeof *fa) != 0) fail_msg("%s: forecast at origin %zu changed with the future", ra.models[m], o);
        checked++;
      } else if (memcmp(fa, fb, sizeof *fa) != 0) {
        differ++;
      }
    }
  assert_int_equal(checked, N_KINDS * (change - 380 + 1));
  assert_true(differ > 0); /* the test can see a change when there is one */
  oc_backtest_result_free(&ra);
  oc_backtest_result_free(&rb);
  oc_series_free(&a);
  oc_series_free(&b);
  oc_series_free(&xa);
  oc_series_free(&xb);
}

static void test_threads_do_not_change_results(void **state) {
  oc_series s = oc_test_ar1_series(450, 0.1, 0.02, 9), x = exog_series(450, 10);
  oc_backtest_config cfg = {.start = s.dates[350], .end = s.dates[449], .horizon = 3, .refit_every = 10, .threads = 1,
                            .exogs = &x, .nexog = 1};
  oc_backtest_result r1, r3;
  run_or_fail(&s, every_kind, N_KINDS, &cfg, &r1);
  cfg.threads = 3;
  run_or_fail(&s, every_kind, N_KINDS, &cfg, &r3);
  assert_memory_equal(r1.forecasts, r3.forecasts, r1.n_models * r1.n_origins * sizeof *r1.forecasts);
  assert_memory_equal(r1.rows, r3.rows, r1.n_models * r1.horizon * sizeof *r1.rows);
  oc_backtest_result_free(&r1);
  oc_backtest_result_free(&r3);
  oc_series_free(&s);
  oc_series_free(&x);
}

/* --by-year: each year is the same protocol on that year's origins (equal to a run on its bounds), the
 * summary counts its years against naive, CSV rows carry the year; a year without origins is named. */
static void test_by_year(void **state) {
  oc_series s = oc_test_ar1_series(1000, 0.3, 0.02, 12); /* 2018-01-01 .. early 2021 */
  const char *specs[] = {"naive", "ar", "mean:k=3"};
  oc_backtest_config base = {.horizon = 3, .refit_every = 40, .threads = 2};
  oc_backtest_years y;
  oc_error err = {0};
  if (oc_backtest_by_year(&s, specs, 3, &base, 2019, 2020, &y, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(y.n_years, 2);
  for (size_t i = 0; i < y.n_years; i++) {
    oc_backtest_config cfg = base;
    cfg.start = oc_date_from_ymd(y.years[i], 1, 1);
    cfg.end = oc_date_from_ymd(y.years[i], 12, 31);
    oc_backtest_result one;
    run_or_fail(&s, specs, 3, &cfg, &one);
    assert_int_equal(one.n_origins, y.runs[i].n_origins);
    assert_memory_equal(one.rows, y.runs[i].rows, 3 * 3 * sizeof *one.rows);
    oc_backtest_result_free(&one);
  }
  oc_backtest_years_summary ar = oc_backtest_years_summarize(&y, 1), mean = oc_backtest_years_summarize(&y, 2);
  size_t ar_wins = 0;
  for (size_t i = 0; i < y.n_years; i++) ar_wins += oc_backtest_summarize(&y.runs[i], 1).rel_mae < 1;
  assert_int_equal(ar.wins, ar_wins);
  assert_int_equal(ar.wins + ar.losses, 2);
  assert_int_equal(mean.losses, 2); /* the 3-day mean lags a trending path in both years */
  double a = oc_backtest_summarize(&y.runs[0], 2).rel_mae, b = oc_backtest_summarize(&y.runs[1], 2).rel_mae;
  assert_true(mean.worst == (a > b ? a : b) && mean.worst_year == (a > b ? 2019 : 2020));
  assert_true(oc_test_close(mean.median, (a + b) / 2, 1e-15));
  oc_buf csv = {0};
  assert_int_equal(oc_backtest_years_format(&y, "csv", NULL, &csv, &err), 0);
  assert_true(strncmp(csv.data, OC_BACKTEST_YEARS_CSV_HEADER "\n2019,naive,1,", strlen(OC_BACKTEST_YEARS_CSV_HEADER) + 14) == 0);
  size_t lines = 0;
  for (size_t i = 0; i < csv.len; i++) lines += csv.data[i] == '\n';
  assert_int_equal(lines, 1 + 2 * 3 * 3);
  oc_buf table = {0};
  assert_int_equal(oc_backtest_years_format(&y, "table", NULL, &table, &err), 0);
  assert_non_null(strstr(table.data, "mean:k=3"));
  assert_non_null(strstr(table.data, "better than naive in 0 of 2 years, worse in 2"));
  oc_buf_free(&csv);
  oc_buf_free(&table);
  oc_backtest_years_free(&y);
  assert_int_equal(oc_backtest_by_year(&s, specs, 3, &base, 2019, 2022, &y, &err), -1);
  assert_non_null(strstr(err.message, "year 2022: "));
  assert_int_equal(y.n_years, 0);
  oc_series_free(&s);
}

/* The report's document (stored, served, --format json): every figure is the library's (per model and
 * year relMAE overall and per horizon, the smallest DM p, coverage; per model wins, losses, worst and
 * median year, coverage range), the years' origins, the models as run and the series they read. */
static void test_by_year_document(void **state) {
  (void)state;
  oc_series s = oc_test_ar1_series(1000, 0.3, 0.02, 12), x = exog_series(1000, 13);
  const char *specs[] = {"naive", "ar", "arx:exog=X"};
  oc_backtest_config base = {.horizon = 3, .refit_every = 40, .threads = 2, .exogs = &x, .nexog = 1};
  oc_backtest_years y;
  oc_error err = {0};
  if (oc_backtest_by_year(&s, specs, 3, &base, 2019, 2020, &y, &err) != 0) fail_msg("%s", err.message);
  oc_buf text = {0};
  assert_int_equal(oc_backtest_years_format(&y, "json", "2026-12-04T05:00:00Z", &text, &err), 0);
  json_error_t jerr;
  json_t *doc = json_loads(text.data, 0, &jerr);
  if (!doc) fail_msg("not JSON: %s", jerr.text);
  json_t *again = oc_backtest_years_to_json(&y, "2026-12-04T05:00:00Z");
  assert_true(json_equal(doc, again)); /* the printed document is the one stored */
  json_decref(again);
  assert_string_equal(json_string_value(json_object_get(doc, "series")), s.name);
  assert_string_equal(json_string_value(json_object_get(doc, "created_at")), "2026-12-04T05:00:00Z");
  assert_int_equal(json_integer_value(json_object_get(doc, "from_year")), 2019);
  assert_int_equal(json_integer_value(json_object_get(doc, "to_year")), 2020);
  assert_int_equal(json_integer_value(json_object_get(doc, "horizon")), 3);
  assert_int_equal(json_integer_value(json_object_get(doc, "refit_every")), 40);
  assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "models"), 2)), "arx:exog=X");
  assert_int_equal(json_array_size(json_object_get(doc, "exog")), 1);
  assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "exog"), 0)), "X");
  json_t *years = json_object_get(doc, "years"), *results = json_object_get(doc, "results");
  assert_int_equal(json_array_size(years), 2);
  assert_int_equal(json_array_size(results), 3);
  for (size_t i = 0; i < 2; i++) {
    json_t *year = json_array_get(years, i);
    assert_int_equal(json_integer_value(json_object_get(year, "year")), y.years[i]);
    assert_int_equal(json_integer_value(json_object_get(year, "origins")), y.runs[i].n_origins);
    char first[OC_DATE_STRLEN];
    assert_string_equal(json_string_value(json_object_get(year, "first_origin")), oc_date_format(y.runs[i].origin_dates[0], first));
  }
  for (size_t m = 0; m < 3; m++) {
    json_t *r = json_array_get(results, m);
    oc_backtest_years_summary sum = oc_backtest_years_summarize(&y, m);
    assert_string_equal(json_string_value(json_object_get(r, "model")), specs[m]);
    assert_int_equal(json_integer_value(json_object_get(r, "wins")), sum.wins);
    assert_int_equal(json_integer_value(json_object_get(r, "losses")), sum.losses);
    assert_int_equal(json_integer_value(json_object_get(r, "worst_year")), sum.worst_year);
    assert_true(json_real_value(json_object_get(r, "worst_rel_mae")) == sum.worst);
    assert_true(json_real_value(json_object_get(r, "median_rel_mae")) == sum.median);
    double lo80 = INFINITY, hi95 = -INFINITY;
    for (size_t i = 0; i < 2; i++) {
      const oc_backtest_result *run = &y.runs[i];
      oc_backtest_summary sm = oc_backtest_summarize(run, m);
      json_t *cell = json_array_get(json_object_get(r, "years"), i);
      assert_int_equal(json_integer_value(json_object_get(cell, "year")), y.years[i]);
      assert_true(json_real_value(json_object_get(cell, "rel_mae")) == sm.rel_mae);
      assert_true(json_real_value(json_object_get(cell, "coverage80")) == sm.coverage80);
      assert_true(json_real_value(json_object_get(cell, "coverage95")) == sm.coverage95);
      double min_p = 1;
      for (size_t h = 0; h < 3; h++) {
        const oc_backtest_row *row = &run->rows[m * 3 + h];
        assert_true(json_real_value(json_array_get(json_object_get(cell, "rel_mae_by_horizon"), h)) == row->rel_mae);
        min_p = fmin(min_p, row->dm_pvalue);
      }
      assert_true(json_real_value(json_object_get(cell, "min_dm_pvalue")) == min_p);
      lo80 = fmin(lo80, sm.coverage80);
      hi95 = fmax(hi95, sm.coverage95);
    }
    assert_true(json_real_value(json_object_get(r, "coverage80_min")) == lo80 && sum.coverage80_min == lo80);
    assert_true(json_real_value(json_object_get(r, "coverage95_max")) == hi95 && sum.coverage95_max == hi95);
  }
  /* naive against itself: neither a win nor a loss, every DM p 1 */
  json_t *naive = json_array_get(results, 0);
  assert_int_equal(json_integer_value(json_object_get(naive, "wins")) + json_integer_value(json_object_get(naive, "losses")), 0);
  json_decref(doc);
  oc_buf_free(&text);
  oc_backtest_years_free(&y);
  oc_series_free(&x);
  oc_series_free(&s);
}

static void test_diebold_mariano(void **state) {
  /* reference: the same formula in numpy with scipy.stats.t (two-sided), see docs/evaluation.md */
  const double d[] = {1, -1, 2, 0, 1, 3, -2, 1, 0, 1, 2, -1};
  assert_true(oc_test_close(oc_diebold_mariano_p(d, 12, 1), 0.1890805351596201, 1e-9));
  assert_true(oc_test_close(oc_diebold_mariano_p(d, 12, 3), 0.05887854325128304, 1e-9));
  const double zero[] = {0, 0, 0, 0};
  assert_true(oc_diebold_mariano_p(zero, 4, 2) == 1.0);
}

static void test_formats_and_errors(void **state) {
  oc_series s = oc_test_ar1_series(300, 0, 0.02, 2);
  const char *specs[] = {"ar", "mean:k=3"};
  oc_backtest_config cfg = {.start = s.dates[250], .end = s.dates[290], .horizon = 2, .refit_every = 20, .threads = 1};
  oc_backtest_result r;
  run_or_fail(&s, specs, 2, &cfg, &r);
  assert_int_equal(r.n_models, 2); /* the naive baseline runs but is not reported */
  oc_buf out = {0};
  oc_error err = {0};
  assert_int_equal(oc_backtest_format(&r, "csv", NULL, &out, &err), 0);
  assert_true(strncmp(out.data,
                      "model,horizon,origins,mae,rmse,mape,mase,rel_mae,direction_hit,coverage80,coverage95,width80,"
                      "winkler80,dm_pvalue\nar,1,41,",
                      strlen(OC_BACKTEST_CSV_HEADER) + 9) == 0);
  size_t lines = 0;
  for (size_t i = 0; i < out.len; i++) lines += out.data[i] == '\n';
  assert_int_equal(lines, 1 + 2 * 2);
  oc_buf_clear(&out);
  assert_int_equal(oc_backtest_format(&r, "json", "2026-01-01T00:00:00Z", &out, &err), 0);
  json_t *j = json_loads(out.data, 0, NULL);
  assert_non_null(j);
  assert_int_equal(json_array_size(json_object_get(j, "rows")), 4);
  assert_string_equal(json_string_value(json_object_get(j, "created_at")), "2026-01-01T00:00:00Z");
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "rows"), 3), "model")), "mean:k=3");
  json_decref(j);
  oc_buf_clear(&out);
  assert_int_equal(oc_backtest_format(&r, "table", NULL, &out, &err), 0);
  assert_non_null(strstr(out.data, "relMAE"));
  assert_int_equal(oc_backtest_format(&r, "xml", NULL, &out, &err), -1);
  oc_buf_free(&out);
  oc_backtest_result_free(&r);

  const char *bad[] = {"naive", "arima"};
  assert_int_equal(oc_backtest_run(&s, bad, 2, &cfg, &r, &err), -1);
  assert_non_null(strstr(err.message, "arima"));
  cfg.start = cfg.end = oc_date_from_ymd(2030, 1, 1);
  assert_int_equal(oc_backtest_run(&s, specs, 2, &cfg, &r, &err), -1);
  assert_non_null(strstr(err.message, "0 origins"));
  oc_series_free(&s);
}

static void test_auto_select(void **state) {
  oc_series s = oc_test_ar1_series(600, 0.5, 0.02, 13);
  const char *candidates[] = {"naive", "mean", "ar"};
  oc_auto_config c = oc_test_auto_config(150, 1, 3, 50);
  oc_auto_choice choice;
  oc_error err = {0};
  if (oc_auto_select(&s, candidates, 3, &c, &choice, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(choice.best, 2); /* AR(1) returns: ar wins */
  const oc_backtest_result *recent = &choice.blocks.runs[choice.blocks.n_years - 1];
  assert_int_equal(recent->n_origins, 150);
  /* the validation origins are the last ones with 3 observations after them */
  assert_int_equal(recent->origin_index[149], s.n - 1 - 3);
  json_t *j = oc_auto_choice_to_json(&choice);
  assert_string_equal(json_string_value(json_object_get(j, "chosen")), "ar");
  assert_int_equal(json_array_size(json_object_get(j, "candidates")), 3);
  json_decref(j);
  oc_auto_choice_free(&choice);
  c.origins = 1000;
  assert_int_equal(oc_auto_select(&s, candidates, 3, &c, &choice, &err), -1);
  assert_non_null(strstr(err.message, "validation origins"));
  oc_series_free(&s);
}

/* Blocks of made-up relMAEs (horizon 1, MAE 1) for the rule: rel[b][m] of candidate m in block b. */
enum { RULE_BLOCKS = 3, RULE_MODELS = 4 };
static oc_backtest_years rule_blocks(const double rel[][RULE_MODELS], size_t n_blocks, oc_backtest_result *runs,
                                     oc_backtest_row rows[][RULE_MODELS], int *years) {
  for (size_t b = 0; b < n_blocks; b++) {
    runs[b] = (oc_backtest_result){.horizon = 1, .n_models = RULE_MODELS, .rows = rows[b]};
    for (size_t m = 0; m < RULE_MODELS; m++) rows[b][m] = (oc_backtest_row){.horizon = 1, .mae = 1, .rel_mae = rel[b][m]};
    years[b] = 2020 + (int)b;
  }
  return (oc_backtest_years){.n_years = n_blocks, .years = years, .runs = runs};
}

static void test_auto_rule_worst_then_median_year(void **state) {
  /* candidates: 0 naive, 1 best in the most recent block but bad two years ago, 2 a near-tie of
   * naive's worst with a better median, 3 the same figures as 2 */
  const double rel[RULE_BLOCKS][RULE_MODELS] = {{1, 1.03, 0.999, 0.999}, {1, 0.99, 1.0005, 1.0005}, {1, 0.97, 0.995, 0.995}};
  oc_backtest_result runs[RULE_BLOCKS];
  oc_backtest_row rows[RULE_BLOCKS][RULE_MODELS];
  int years[RULE_BLOCKS];
  oc_backtest_years y = rule_blocks(rel, RULE_BLOCKS, runs, rows, years);
  assert_int_equal(oc_auto_rule(&y, RULE_MODELS), 2); /* worst 1.0005 is within 0.001 of 1; median 0.999 < 1 */
  /* one block (the most recent window alone): the lowest relMAE, the old rule */
  oc_backtest_years last = {.n_years = 1, .years = &years[2], .runs = &runs[2]};
  assert_int_equal(oc_auto_rule(&last, RULE_MODELS), 1);
  /* outside the near-tie the worst year decides, whatever the median */
  rows[1][2].rel_mae = rows[1][3].rel_mae = 1.0015;
  assert_int_equal(oc_auto_rule(&y, RULE_MODELS), 0);
  /* exact ties go to the earlier candidate */
  rows[1][2].rel_mae = rows[1][3].rel_mae = 0.998;
  assert_int_equal(oc_auto_rule(&y, RULE_MODELS), 2);
}

static void test_auto_select_by_years(void **state) {
  oc_series s = oc_test_ar1_series(400, 0.6, 0.02, 5);
  const char *candidates[] = {"naive", "mean", "ar"};
  oc_auto_config c = oc_test_auto_config(60, 3, 3, 60);
  oc_auto_choice choice;
  oc_error err = {0};
  if (oc_auto_select(&s, candidates, 3, &c, &choice, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(choice.best, 2);
  /* three blocks of 60 origins, back to back, the last one ending at the last origin */
  assert_int_equal(choice.blocks.n_years, 3);
  for (size_t b = 0; b < 3; b++) {
    assert_int_equal(choice.blocks.runs[b].n_origins, 60);
    assert_int_equal(choice.blocks.runs[b].origin_index[59], s.n - 1 - 3 - (2 - b) * 60);
  }
  oc_date start, end;
  assert_int_equal(oc_auto_choice_origins(&choice, &start, &end), 180);
  assert_int_equal(start, s.dates[s.n - 3 - 180]);
  assert_int_equal(end, s.dates[s.n - 1 - 3]);
  /* the most recent block alone is the one-window validation */
  oc_backtest_result window;
  if (oc_auto_validate(&s, candidates, 3, &c, &window, &err) != 0) fail_msg("%s", err.message);
  assert_memory_equal(window.rows, choice.blocks.runs[2].rows, 3 * 3 * sizeof *window.rows);
  oc_backtest_result_free(&window);
  json_t *j = oc_auto_choice_to_json(&choice);
  assert_int_equal(json_array_size(json_object_get(j, "validation_years")), 3);
  json_t *ar = json_array_get(json_object_get(j, "candidates"), 2);
  assert_int_equal(json_array_size(json_object_get(ar, "years")), 3);
  assert_true(json_number_value(json_object_get(ar, "worst")) >= json_number_value(json_object_get(ar, "median")));
  assert_non_null(strstr(json_string_value(json_object_get(j, "criterion")), "the worst of 3 years"));
  json_decref(j);
  oc_auto_choice_free(&choice);
  c.years = 7; /* 420 origins and their horizon do not fit in 400 observations */
  assert_int_equal(oc_auto_select(&s, candidates, 3, &c, &choice, &err), -1);
  assert_non_null(strstr(err.message, "420 validation origins"));
  oc_series_free(&s);
}

static void test_store_backtest_runs(void **state) {
  char *dir = oc_test_tmpdir("backtest-store");
  char *db = oc_path_join(dir, "oilcast.db");
  oc_buf uri = {0};
  oc_buf_printf(&uri, "sqlite:%s", db);
  oc_error err = {0};
  oc_store *store = oc_store_open(uri.data, &err);
  if (!store) fail_msg("%s", err.message);
  oc_backtest_record rec = {.series = "WTI", .start = oc_date_from_ymd(2023, 1, 1), .end = oc_date_from_ymd(2024, 12, 31),
                            .horizon = 7, .refit_every = 20, .origins = 491, .models = "naive,ar", .created_at = 100,
                            .result_json = "{\"rows\":[1]}"};
  assert_int_equal(oc_store_backtest_save(store, &rec, &err), 0);
  int64_t first = rec.id;
  rec.created_at = 200;
  rec.result_json = "{\"rows\":[2]}";
  assert_int_equal(oc_store_backtest_save(store, &rec, &err), 0);
  assert_true(rec.id > first);
  /* an invalid document is refused and leaves nothing behind */
  rec.created_at = 300;
  rec.result_json = "{broken";
  assert_int_equal(oc_store_backtest_save(store, &rec, &err), -1);
  oc_backtest_record got;
  bool found;
  assert_int_equal(oc_store_backtest_latest(store, "WTI", &got, &found, &err), 0);
  assert_true(found);
  assert_string_equal(got.result_json, "{\"rows\":[2]}");
  assert_string_equal(got.models, "naive,ar");
  assert_int_equal(got.origins, 491);
  assert_int_equal(got.start, oc_date_from_ymd(2023, 1, 1));
  oc_backtest_record_free(&got);
  assert_int_equal(oc_store_backtest_latest(store, "BRENT", &got, &found, &err), 0);
  assert_false(found);
  oc_store_close(store);
  oc_test_rmtree(dir);
  free(dir);
  free(db);
  oc_buf_free(&uri);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_walk_naive_wins), cmocka_unit_test(test_ar1_beats_naive),
      cmocka_unit_test(test_no_look_ahead),          cmocka_unit_test(test_threads_do_not_change_results),
      cmocka_unit_test(test_by_year),
      cmocka_unit_test(test_by_year_document),
      cmocka_unit_test(test_diebold_mariano),        cmocka_unit_test(test_formats_and_errors),
      cmocka_unit_test(test_auto_select),
      cmocka_unit_test(test_auto_rule_worst_then_median_year),
      cmocka_unit_test(test_auto_select_by_years),
      cmocka_unit_test(test_store_backtest_runs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
