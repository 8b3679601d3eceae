/* Unit tests for src/pipeline/backtest: oc_pipeline_backtest on a fresh data directory holding a
 * simulated series (ingest/simulate.h): the default window is the last 500 possible origins and the
 * metrics are bit for bit oc_backtest_run's on the stored series; the run is saved and reads back as
 * the dashboard's document (oc_backtest_to_json) with the models as given; an explicit window, the
 * progress callback, save = false; the by-year report stored as its own record; no model cache left
 * after a run; and bad options, series and model specs fail with a clear message and store nothing. */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "ingest/simulate.h"
#include "model/backtest.h"
#include "model/fc_mlp.h"
#include "pipeline/backtest.h"
#include "store/datadir.h"

enum { DAYS = 700 };

typedef struct fixture {
  char *dir; /* an initialised data directory */
  oc_store *store;
  oc_series wti; /* what the store holds as WTI */
} fixture;

static int setup(void **state) {
  fixture *fx = oc_xcalloc(1, sizeof *fx);
  fx->dir = oc_test_tmpdir("pipeline-backtest");
  oc_error err;
  bool created;
  if (oc_datadir_init(fx->dir, &created, &err) != 0 || oc_datadir_open(fx->dir, &fx->store, &err) != 0)
    fail_msg("%s", err.message);
  oc_series_init(&fx->wti, "WTI", DAYS);
  oc_simulate_series(11, 0, oc_date_from_ymd(2021, 1, 4), DAYS, fx->wti.dates, fx->wti.values);
  oc_test_store_series(fx->store, &fx->wti);
  oc_series tiny;
  oc_series_init(&tiny, "TINY", 4);
  oc_simulate_series(11, 1, oc_date_from_ymd(2021, 1, 4), 4, tiny.dates, tiny.values);
  oc_test_store_series(fx->store, &tiny);
  oc_series_free(&tiny);
  oc_series brent; /* an exogenous series, on the same dates */
  oc_series_init(&brent, "BRENT", DAYS);
  oc_simulate_series(12, 0, oc_date_from_ymd(2021, 1, 4), DAYS, brent.dates, brent.values);
  oc_test_store_series(fx->store, &brent);
  oc_series_free(&brent);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture *fx = *state;
  oc_series_free(&fx->wti);
  oc_store_close(fx->store);
  oc_test_rmtree(fx->dir);
  free(fx->dir);
  free(fx);
  return 0;
}

static void assert_same_run(const oc_backtest_result *a, const oc_backtest_result *b) {
  assert_int_equal(a->n_origins, b->n_origins);
  assert_int_equal(a->n_models, b->n_models);
  assert_int_equal(a->horizon, b->horizon);
  assert_memory_equal(a->origin_dates, b->origin_dates, a->n_origins * sizeof *a->origin_dates);
  assert_memory_equal(a->rows, b->rows, a->n_models * a->horizon * sizeof *a->rows);
}

/* The latest stored run of series (fails the test when there is none). */
static oc_backtest_record latest(const fixture *fx, const char *series) {
  oc_backtest_record rec;
  bool found;
  oc_error err;
  if (oc_store_backtest_latest(fx->store, series, &rec, &found, &err) != 0) fail_msg("%s", err.message);
  if (!found) fail_msg("no stored backtest of %s", series);
  return rec;
}

static bool any_stored(const fixture *fx) {
  oc_backtest_record rec;
  bool found;
  oc_error err;
  if (oc_store_backtest_latest(fx->store, "WTI", &rec, &found, &err) != 0) fail_msg("%s", err.message);
  if (found) oc_backtest_record_free(&rec);
  return found;
}

static void count_progress(void *ctx, size_t done, size_t total) {
  size_t *calls = ctx;
  assert_true(done >= 1 && done <= total);
  (*calls)++;
}

static void test_default_window_saved_and_equal_to_the_library(void **state) {
  fixture *fx = *state;
  oc_pipeline_backtest_options opt;
  oc_pipeline_backtest_options_default(&opt);
  opt.models = "naive,ar";
  opt.horizon = 3;
  opt.refit_every = 25;
  opt.threads = 2;
  size_t progress_calls = 0;
  opt.on_progress = count_progress;
  opt.progress_ctx = &progress_calls;
  oc_pipeline_backtest_result r;
  oc_error err;
  if (oc_pipeline_backtest(fx->dir, fx->store, &opt, &r, &err) != 0) fail_msg("%s", err.message);

  /* the last 500 origins with 3 observations after them */
  size_t last = DAYS - 1 - 3;
  assert_int_equal(r.run.n_origins, OC_PIPELINE_BACKTEST_DEFAULT_ORIGINS);
  assert_int_equal(r.run.origin_dates[0], fx->wti.dates[last - 499]);
  assert_int_equal(r.run.origin_dates[r.run.n_origins - 1], fx->wti.dates[last]);
  assert_true(progress_calls > 0);
  const char *specs[] = {"naive", "ar"};
  oc_backtest_config cfg = {.start = fx->wti.dates[last - 499], .end = fx->wti.dates[last], .horizon = 3,
                            .refit_every = 25, .threads = 1};
  oc_backtest_result direct;
  if (oc_backtest_run(&fx->wti, specs, 2, &cfg, &direct, &err) != 0) fail_msg("%s", err.message);
  assert_same_run(&r.run, &direct);
  oc_backtest_result_free(&direct);

  /* saved: the dashboard's document of this very result, with the models as given */
  assert_true(r.saved_id > 0);
  oc_backtest_record rec = latest(fx, "WTI");
  assert_int_equal(rec.id, r.saved_id);
  assert_string_equal(rec.models, "naive,ar");
  assert_int_equal(rec.origins, 500);
  assert_int_equal(rec.horizon, 3);
  assert_int_equal(rec.refit_every, 25);
  assert_int_equal(rec.start, fx->wti.dates[last - 499]);
  assert_int_equal(rec.end, fx->wti.dates[last]);
  assert_int_equal(rec.created_at, r.created_at);
  json_t *doc = oc_backtest_to_json(&r.run, r.created_at_iso);
  json_t *stored = json_loads(rec.result_json, 0, NULL);
  assert_non_null(stored);
  assert_true(json_equal(doc, stored));
  assert_string_equal(json_string_value(json_object_get(stored, "created_at")), r.created_at_iso);
  json_decref(doc);
  json_decref(stored);
  oc_backtest_record_free(&rec);
  oc_pipeline_backtest_result_free(&r);
}

/* The default models include auto; on a history too short for its validation (700 observations, the
 * first origin at the 197th) the run is not an error: auto serves naive's forecasts until a refit sees
 * the 2 x 250 validation origins, their horizon and 60 observations before them (569), then chooses. */
static void test_default_models_with_auto_on_a_short_series(void **state) {
  fixture *fx = *state;
  oc_pipeline_backtest_options opt;
  oc_pipeline_backtest_options_default(&opt);
  assert_string_equal(opt.models, "naive,drift,mean,ets,ar,ensemble,auto");
  opt.horizon = 3;
  opt.refit_every = 50;
  opt.threads = 2;
  opt.save = false;
  oc_pipeline_backtest_result r;
  oc_error err;
  if (oc_pipeline_backtest(fx->dir, fx->store, &opt, &r, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(r.run.n_models, 7);
  assert_string_equal(r.run.models[6], "auto");
  size_t n = r.run.n_origins, first = r.run.origin_index[0];
  assert_int_equal(first, DAYS - 3 - 500);
  const oc_price_forecast *naive = &r.run.forecasts[0], *autof = &r.run.forecasts[6 * n];
  for (size_t o = 0; o < n; o++) {
    size_t refit_history = first + (o / 50) * 50 + 1; /* observations the block's fit saw */
    if (refit_history < 569) assert_memory_equal(autof[o].mean, naive[o].mean, 3 * sizeof(double));
  }
  assert_true(isfinite(r.run.rows[6 * 3].rel_mae));
  oc_pipeline_backtest_result_free(&r);
}

static void test_explicit_window_and_no_save(void **state) {
  fixture *fx = *state;
  oc_pipeline_backtest_options opt;
  oc_pipeline_backtest_options_default(&opt);
  opt.models = "naive,,mean:k=10";
  opt.horizon = 2;
  opt.start = fx->wti.dates[400];
  opt.end = fx->wti.dates[449];
  opt.save = false;
  oc_pipeline_backtest_result r;
  oc_error err;
  if (oc_pipeline_backtest(fx->dir, fx->store, &opt, &r, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(r.run.n_origins, 50);
  assert_int_equal(r.run.n_models, 2);
  assert_string_equal(r.run.models[1], "mean:k=10");
  assert_int_equal(r.saved_id, 0);
  assert_false(any_stored(fx));
  oc_pipeline_backtest_result_free(&r);
  /* the same run saved keeps the model list as given */
  opt.save = true;
  if (oc_pipeline_backtest(fx->dir, fx->store, &opt, &r, &err) != 0) fail_msg("%s", err.message);
  oc_backtest_record rec = latest(fx, "WTI");
  assert_string_equal(rec.models, "naive,,mean:k=10");
  assert_int_equal(rec.origins, 50);
  oc_backtest_record_free(&rec);
  oc_pipeline_backtest_result_free(&r);
}

/* --exog: kinds that read other series get them (arx becomes arx:exog=BRENT), the others are left
 * as given, and the run equals the library's with the stored BRENT as its exogenous series. */
static void test_exog_given_to_the_kinds_that_read_it(void **state) {
  fixture *fx = *state;
  oc_pipeline_backtest_options opt;
  oc_pipeline_backtest_options_default(&opt);
  opt.models = "naive,ar,arx";
  opt.exog = "BRENT";
  opt.horizon = 3;
  opt.start = fx->wti.dates[600];
  opt.save = false;
  oc_pipeline_backtest_result r;
  oc_error err;
  if (oc_pipeline_backtest(fx->dir, fx->store, &opt, &r, &err) != 0) fail_msg("%s", err.message);
  assert_string_equal(r.run.models[1], "ar");
  assert_string_equal(r.run.models[2], "arx:exog=BRENT");
  oc_series brent;
  if (oc_store_series_load(fx->store, "BRENT", OC_DATE_INVALID, OC_DATE_INVALID, &brent, &err) != 0) fail_msg("%s", err.message);
  const char *specs[] = {"naive", "ar", "arx:exog=BRENT"};
  oc_backtest_config cfg = {.start = r.run.start, .end = r.run.end, .horizon = 3, .refit_every = 20, .exogs = &brent, .nexog = 1};
  oc_backtest_result lib;
  if (oc_backtest_run(&fx->wti, specs, 3, &cfg, &lib, &err) != 0) fail_msg("%s", err.message);
  assert_same_run(&r.run, &lib);
  oc_backtest_result_free(&lib);
  oc_series_free(&brent);
  oc_pipeline_backtest_result_free(&r);
  /* without --exog, arx names no series: refused before anything runs; a series that is not stored */
  opt.exog = NULL;
  assert_int_equal(oc_pipeline_backtest(fx->dir, fx->store, &opt, &r, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "arx needs exog=SERIES"));
  opt.exog = "NOPE";
  assert_int_equal(oc_pipeline_backtest(fx->dir, fx->store, &opt, &r, &err), -1);
  assert_non_null(strstr(err.message, "NOPE"));
}

/* A backtest leaves nothing of its refits' caches behind (a server runs backtests now and then). */
static void test_caches_released_after_the_run(void **state) {
  fixture *fx = *state;
  oc_pipeline_backtest_options opt;
  oc_pipeline_backtest_options_default(&opt);
  opt.models = "mlp:epochs=2:h1=8:h2=4:horizon=3";
  opt.horizon = 3;
  opt.refit_every = 10;
  opt.start = fx->wti.dates[660];
  opt.save = false;
  oc_pipeline_backtest_result r;
  oc_error err;
  if (oc_pipeline_backtest(fx->dir, fx->store, &opt, &r, &err) != 0) fail_msg("%s", err.message);
  assert_true(r.run.n_origins >= 30);
  assert_int_equal(oc_mlp_etl_sessions_kept(), 0);
  oc_pipeline_backtest_result_free(&r);
}

/* The newest stored by-year report of series; *found says whether there is one. */
static oc_backtest_years_record latest_years(const fixture *fx, const char *series, bool *found) {
  oc_backtest_years_record rec;
  oc_error err;
  if (oc_store_backtest_years_latest(fx->store, series, &rec, found, &err) != 0) fail_msg("%s", err.message);
  return rec;
}

/* --by-year: the library's report on the stored series, stored as its own record (issue 18 item 4: it
 * was not stored before) with its configuration as given and the document --format json prints;
 * save = false and every failure (a year without origins, --start with it) store nothing. */
static void test_by_year_stored(void **state) {
  fixture *fx = *state;
  oc_pipeline_backtest_options opt;
  oc_pipeline_backtest_options_default(&opt);
  opt.models = "naive,ar,arx";
  opt.exog = "BRENT";
  opt.by_year = true;
  opt.from_year = 2022;
  opt.to_year = 2022;
  opt.horizon = 2;
  opt.save = false;
  oc_pipeline_backtest_result r;
  oc_error err;
  if (oc_pipeline_backtest(fx->dir, fx->store, &opt, &r, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(r.years.n_years, 1);
  assert_int_equal(r.years.years[0], 2022);
  assert_true(r.years.runs[0].n_origins > 240);
  assert_int_equal(r.saved_id, 0);
  bool found;
  oc_backtest_years_record rec = latest_years(fx, "WTI", &found);
  assert_false(found);
  assert_false(any_stored(fx));
  oc_pipeline_backtest_result_free(&r);

  opt.save = true;
  if (oc_pipeline_backtest(fx->dir, fx->store, &opt, &r, &err) != 0) fail_msg("%s", err.message);
  assert_true(r.saved_id > 0);
  rec = latest_years(fx, "WTI", &found);
  assert_true(found);
  assert_int_equal(rec.id, r.saved_id);
  assert_string_equal(rec.series, "WTI");
  assert_string_equal(rec.models, "naive,ar,arx");
  assert_string_equal(rec.exog, "BRENT");
  assert_int_equal(rec.horizon, 2);
  assert_int_equal(rec.refit_every, 20);
  assert_int_equal(rec.from_year, 2022);
  assert_int_equal(rec.to_year, 2022);
  assert_int_equal(rec.created_at, r.created_at);
  json_t *stored = json_loads(rec.report_json, 0, NULL), *expected = oc_backtest_years_to_json(&r.years, r.created_at_iso);
  assert_non_null(stored);
  assert_true(json_equal(stored, expected));
  assert_string_equal(json_string_value(json_array_get(json_object_get(stored, "models"), 2)), "arx:exog=BRENT");
  json_decref(stored);
  json_decref(expected);
  oc_backtest_years_record_free(&rec);
  assert_false(any_stored(fx)); /* the window's record is another one */
  oc_pipeline_backtest_result_free(&r);

  /* failures: the newest report stays the one above */
  opt.to_year = 2024; /* the series ends in 2023 */
  assert_int_equal(oc_pipeline_backtest(fx->dir, fx->store, &opt, &r, &err), -1);
  assert_non_null(strstr(err.message, "year 2024"));
  assert_int_equal(r.saved_id, 0);
  opt.to_year = 2022;
  opt.start = fx->wti.dates[300];
  assert_int_equal(oc_pipeline_backtest(fx->dir, fx->store, &opt, &r, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "not --start/--end"));
  opt.start = OC_DATE_INVALID;
  opt.from_year = 2023;
  assert_int_equal(oc_pipeline_backtest(fx->dir, fx->store, &opt, &r, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "2023..2022 is not a range of years"));
  rec = latest_years(fx, "WTI", &found);
  assert_true(found && rec.to_year == 2022);
  oc_backtest_years_record_free(&rec);
}

/* Every failure: -1, the message names the culprit, the result is empty, and nothing is stored. */
static void test_bad_options_store_nothing(void **state) {
  fixture *fx = *state;
  oc_date d300 = fx->wti.dates[300], d200 = fx->wti.dates[200];
  struct {
    const char *series, *models;
    oc_date start, end;
    size_t horizon, refit_every;
    const char *expect;
    int rc; /* the option's fault (OC_PIPELINE_BAD_OPTION) or the data's (-1) */
  } cases[] = {
      {"WTI", ",", OC_DATE_INVALID, OC_DATE_INVALID, 7, 20, "names no model", OC_PIPELINE_BAD_OPTION},
      {"WTI", "", OC_DATE_INVALID, OC_DATE_INVALID, 7, 20, "names no model", OC_PIPELINE_BAD_OPTION},
      {"WTI", "naive", d300, d200, 7, 20, "is after the end date", OC_PIPELINE_BAD_OPTION},
      {"WTI", "naive,arima", OC_DATE_INVALID, OC_DATE_INVALID, 7, 20, "unknown model 'arima'", OC_PIPELINE_BAD_OPTION},
      /* a model named twice: it was run and reported twice */
      {"WTI", "naive,ar,naive", OC_DATE_INVALID, OC_DATE_INVALID, 7, 20, "names naive twice", OC_PIPELINE_BAD_OPTION},
      {"NOPE", "naive", OC_DATE_INVALID, OC_DATE_INVALID, 7, 20, "NOPE", -1},
      {"WTI", "naive", OC_DATE_INVALID, OC_DATE_INVALID, 0, 20, "horizon 0", OC_PIPELINE_BAD_OPTION},
      {"WTI", "naive", OC_DATE_INVALID, OC_DATE_INVALID, 7, 0, "refit-every", OC_PIPELINE_BAD_OPTION},
      {"WTI", "naive", oc_date_from_ymd(1990, 1, 1), oc_date_from_ymd(1990, 2, 1), 7, 20, "0 origins", -1},
      {"TINY", "naive", OC_DATE_INVALID, OC_DATE_INVALID, 7, 20, "TINY", -1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    oc_pipeline_backtest_options opt;
    oc_pipeline_backtest_options_default(&opt);
    opt.series = cases[i].series;
    opt.models = cases[i].models;
    opt.start = cases[i].start;
    opt.end = cases[i].end;
    opt.horizon = cases[i].horizon;
    opt.refit_every = cases[i].refit_every;
    oc_pipeline_backtest_result r;
    oc_error err = {0};
    assert_int_equal(oc_pipeline_backtest(fx->dir, fx->store, &opt, &r, &err), cases[i].rc);
    if (!strstr(err.message, cases[i].expect)) fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].expect);
    assert_int_equal(r.run.n_origins, 0);
    assert_null(r.run.rows);
    assert_int_equal(r.saved_id, 0);
    assert_false(any_stored(fx));
  }
  /* the early check says the same without touching the store */
  oc_pipeline_backtest_options opt;
  oc_pipeline_backtest_options_default(&opt);
  assert_int_equal(oc_pipeline_backtest_check(&opt, NULL), 0);
  opt.models = ",,";
  oc_error err;
  assert_int_equal(oc_pipeline_backtest_check(&opt, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "names no model"));
  opt.models = "naive,foo";
  assert_int_equal(oc_pipeline_backtest_check(&opt, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "unknown model 'foo'"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_default_window_saved_and_equal_to_the_library, setup, teardown),
      cmocka_unit_test_setup_teardown(test_default_models_with_auto_on_a_short_series, setup, teardown),
      cmocka_unit_test_setup_teardown(test_explicit_window_and_no_save, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_options_store_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_exog_given_to_the_kinds_that_read_it, setup, teardown),
      cmocka_unit_test_setup_teardown(test_caches_released_after_the_run, setup, teardown),
      cmocka_unit_test_setup_teardown(test_by_year_stored, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
