/* Unit tests for src/pipeline/train and src/pipeline/forecast on a fresh data directory holding a
 * simulated series: train fits and registers a forecaster (and the network, on the ETL table that
 * oc_pipeline_etl writes), deploys it, and says what it did; forecast answers through the endpoint or a
 * named version of either kind with ordered 80%/95% intervals, bit for bit what the registered
 * forecaster gives on the same history, stores what it answered, appends a current price, forecasts
 * from a given history as a fresh fit does, refuses days beyond a network's horizon (OC_PIPELINE_BAD_OPTION),
 * and bad names fail with a clear message, storing and registering nothing. Deploying stores the
 * deployed version's forecast from the last observation. A served model follows exogenous prices that
 * arrive after its target's. */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "ingest/simulate.h"
#include "model/registry.h"
#include "pipeline/etl.h"
#include "pipeline/forecast.h"
#include "pipeline/served_model.h"
#include "pipeline/pipeline.h"
#include "pipeline/train.h"

enum { DAYS = 900 };

typedef struct fixture {
  char *dir;
  oc_store *store;
  oc_series sim; /* what the store holds as SIM */
} fixture;

static int setup(void **state) {
  fixture *fx = oc_xcalloc(1, sizeof *fx);
  fx->dir = oc_test_datadir("pipeline-forecast", &fx->store);
  oc_series_init(&fx->sim, "SIM", DAYS);
  oc_simulate_series(5, 0, oc_date_from_ymd(2020, 1, 6), DAYS, fx->sim.dates, fx->sim.values);
  oc_test_store_series(fx->store, &fx->sim);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture *fx = *state;
  oc_series_free(&fx->sim);
  oc_store_close(fx->store);
  oc_test_rmtree(fx->dir);
  free(fx->dir);
  free(fx);
  return 0;
}

static int64_t count_forecasts(fixture *fx) {
  oc_forecast_record rec;
  bool found;
  oc_error err;
  if (oc_store_forecast_latest(fx->store, "SIM", &rec, &found, &err) != 0) fail_msg("%s", err.message);
  return found ? rec.id : 0;
}

static void assert_ordered(const oc_price_forecast *f) {
  for (size_t h = 0; h < f->horizon; h++)
    assert_true(f->lo95[h] < f->lo80[h] && f->lo80[h] < f->mean[h] && f->mean[h] < f->hi80[h] && f->hi80[h] < f->hi95[h]);
}

static void test_train_a_forecaster_and_forecast_with_it(void **state) {
  fixture *fx = *state;
  oc_error err;
  oc_train_options topt = oc_train_options_default();
  topt.model = "ar";
  topt.series = "SIM";
  topt.deploy = true;
  topt.endpoint = "ar-ep";
  oc_train_result trained;
  if (oc_pipeline_train(fx->dir, fx->store, &topt, &trained, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(trained.version, 1);
  assert_string_equal(trained.kind, "ar");
  assert_non_null(strstr(trained.summary.data, "trained v1: ar on SIM, 900 observations"));
  assert_string_equal(trained.calibration_error, "");
  /* deployed: its forecast from the last observation is stored at once (the dashboard's first fan) */
  assert_string_equal(trained.forecast_error, "");
  assert_true(trained.forecast_id > 0);
  assert_int_equal(count_forecasts(fx), trained.forecast_id);
  oc_forecast_record stored;
  bool found;
  if (oc_store_forecast_latest(fx->store, "SIM", &stored, &found, &err) != 0) fail_msg("%s", err.message);
  assert_string_equal(stored.model_version, "v1");
  assert_int_equal(stored.origin, fx->sim.dates[DAYS - 1]);
  assert_non_null(strstr(trained.summary.data, "stored (id"));
  /* a named kind is validated against no-change on the same origins: the registry's relMAE */
  assert_non_null(trained.selection);
  assert_string_equal(json_string_value(json_object_get(trained.selection, "chosen")), "ar");
  oc_model_version *rows;
  size_t n_rows;
  if (oc_store_model_version_list(fx->store, &rows, &n_rows, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(n_rows, 1);
  assert_true(rows[0].naive_mae > 0 && rows[0].val_mae > 0);
  assert_true(oc_test_close(rows[0].val_loss, rows[0].val_mae / rows[0].naive_mae, 1e-9));
  oc_model_version_list_free(rows, n_rows);
  oc_train_result_free(&trained);

  /* through the endpoint: the registered forecaster on the stored history, stored */
  oc_forecast_options fopt = oc_forecast_options_default();
  fopt.endpoint = "ar-ep";
  oc_forecast_result a;
  if (oc_pipeline_forecast(fx->dir, fx->store, &fopt, &a, &err) != 0) fail_msg("%s", err.message);
  assert_string_equal(a.model_version, "v1");
  assert_string_equal(a.model_kind, "ar");
  assert_string_equal(a.series, "SIM");
  assert_int_equal(a.forecast.horizon, 7);
  assert_int_equal(a.forecast.origin, fx->sim.dates[DAYS - 1]);
  assert_true(a.forecast.origin_price == fx->sim.values[DAYS - 1]);
  assert_int_equal(a.dates[0], oc_calendar_next_trading_day(a.forecast.origin));
  assert_ordered(&a.forecast);
  oc_forecaster *f;
  json_t *card;
  oc_price_forecast own;
  if (oc_registry_load_forecaster(fx->dir, fx->store, 1, &f, &card, &err) != 0 ||
      oc_forecaster_advance(f, &fx->sim, NULL, &err) != 0 || oc_forecaster_predict(f, 7, &own, &err) != 0)
    fail_msg("%s", err.message);
  assert_memory_equal(own.mean, a.forecast.mean, 7 * sizeof *own.mean);
  assert_memory_equal(own.lo95, a.forecast.lo95, 7 * sizeof *own.lo95);
  json_decref(card);
  oc_forecaster_free(f);
  oc_forecast_record rec;
  if (oc_store_forecast_latest(fx->store, "SIM", &rec, &found, &err) != 0) fail_msg("%s", err.message);
  assert_true(found && rec.id == a.stored_id && rec.n_points == 7 && rec.origin == a.forecast.origin);
  assert_string_equal(rec.model_version, "v1");
  assert_string_equal(rec.history, "stored");
  assert_true(rec.points[6].price == a.forecast.mean[6] && rec.points[6].upper95 == a.forecast.hi95[6]);

  /* a current price: one trading day after the stored history */
  fopt.current_price = 61.25;
  fopt.days = 3;
  oc_forecast_result b;
  if (oc_pipeline_forecast(fx->dir, fx->store, &fopt, &b, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(b.forecast.origin, oc_calendar_next_trading_day(fx->sim.dates[DAYS - 1]));
  assert_true(b.forecast.origin_price == 61.25);
  assert_int_equal(b.forecast.horizon, 3);
  /* a price outside the series' range, as the server refuses it: no forecast of infinities stored */
  int64_t forecasts = count_forecasts(fx);
  fopt.current_price = 1e308;
  assert_int_equal(oc_pipeline_forecast(fx->dir, fx->store, &fopt, &b, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "outside SIM's default range"));
  assert_int_equal(count_forecasts(fx), forecasts);
  fopt.current_price = NAN;

  /* a given history: a fresh fit of the version's spec on it, nothing saved when asked so */
  oc_series given = {.name = "SIM", .n = 600, .dates = fx->sim.dates, .values = fx->sim.values};
  oc_forecast_options gopt = oc_forecast_options_default();
  gopt.version = 1;
  gopt.history = &given;
  gopt.save = false;
  int64_t before = count_forecasts(fx);
  oc_forecast_result c;
  double kept = fx->sim.values[300];
  fx->sim.values[300] = 1e308; /* a given history's price outside the range: refused the same way */
  assert_int_equal(oc_pipeline_forecast(fx->dir, fx->store, &gopt, &c, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "outside SIM's default range"));
  fx->sim.values[300] = kept;
  if (oc_pipeline_forecast(fx->dir, fx->store, &gopt, &c, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(count_forecasts(fx), before);
  assert_int_equal(c.stored_id, 0);
  oc_forecaster *fresh = oc_forecaster_create("ar", &err);
  if (!fresh || oc_forecaster_fit(fresh, &given, NULL, &err) != 0 || oc_forecaster_predict(fresh, 7, &own, &err) != 0)
    fail_msg("%s", err.message);
  assert_memory_equal(own.mean, c.forecast.mean, 7 * sizeof *own.mean);
  assert_int_equal(c.forecast.origin, fx->sim.dates[599]);
  oc_forecaster_free(fresh);
}

static void test_network_forecasts_with_intervals_and_refuses_days_beyond_its_horizon(void **state) {
  fixture *fx = *state;
  oc_error err;
  oc_pipeline_etl_options eopt;
  oc_pipeline_etl_options_default(&eopt);
  eopt.series = "SIM";
  eopt.etl.horizon = 4;
  oc_pipeline_etl_result table;
  if (oc_pipeline_etl(fx->dir, fx->store, &eopt, &table, &err) != 0) fail_msg("%s", err.message);
  oc_pipeline_etl_result_free(&table);
  oc_train_options topt = oc_train_options_default();
  topt.model = "mlp"; /* the network is named since the default became ets */
  topt.params.epochs = 3;
  topt.deploy = true;
  topt.endpoint = "net-ep";
  oc_train_result trained;
  if (oc_pipeline_train(fx->dir, fx->store, &topt, &trained, &err) != 0) fail_msg("%s", err.message);
  assert_string_equal(trained.kind, "mlp");
  assert_string_equal(trained.calibration_error, "");
  assert_non_null(strstr(trained.summary.data, "no-change forecast on the same rows"));
  int64_t version = trained.version;
  oc_train_result_free(&trained);

  /* by version: the network's own horizons by default, each with ordered bounds */
  oc_forecast_options fopt = oc_forecast_options_default();
  fopt.version = version;
  oc_forecast_result a;
  if (oc_pipeline_forecast(fx->dir, fx->store, &fopt, &a, &err) != 0) fail_msg("%s", err.message);
  assert_string_equal(a.model_kind, "mlp");
  assert_int_equal(a.forecast.horizon, 4);
  assert_int_equal(a.forecast.origin, fx->sim.dates[DAYS - 1]);
  assert_ordered(&a.forecast);

  /* beyond H: refused as the caller's option, nothing stored */
  int64_t before = count_forecasts(fx);
  fopt.days = 5;
  oc_forecast_result b;
  assert_int_equal(oc_pipeline_forecast(fx->dir, fx->store, &fopt, &b, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "horizon H = 4"));
  assert_int_equal(count_forecasts(fx), before);

  /* a series named for the network that is not its table's: refused, nothing registered (it trained
   * the table's SIM and registered it, whatever --series said) */
  topt.series = "WTI";
  topt.deploy = false;
  assert_int_equal(oc_pipeline_train(fx->dir, fx->store, &topt, &trained, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "holds SIM, not WTI"));
  oc_model_version *rows;
  size_t nrows;
  if (oc_store_model_version_list(fx->store, &rows, &nrows, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(rows[nrows - 1].version, version);
  oc_model_version_list_free(rows, nrows);
  /* --exog for the network: its exogenous series are its table's; refused, not ignored */
  topt.series = NULL;
  topt.exog = "BRENT";
  assert_int_equal(oc_pipeline_train(fx->dir, fx->store, &topt, &trained, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "oilcast etl --exog"));
}

/* train --exog: arx fitted with the stored exogenous series, deployed; the served forecast reads that
 * series from the store at the origin (the model's state names it). */
static void test_train_arx_with_exog_and_serve_it(void **state) {
  fixture *fx = *state;
  oc_error err;
  oc_series brent;
  oc_series_init(&brent, "BRENT", DAYS);
  oc_simulate_series(6, 0, oc_date_from_ymd(2020, 1, 6), DAYS, brent.dates, brent.values);
  oc_test_store_series(fx->store, &brent);
  oc_series_free(&brent);
  oc_train_options topt = oc_train_options_default();
  topt.model = "arx";
  topt.exog = "BRENT";
  topt.series = "SIM";
  topt.deploy = true;
  topt.endpoint = "arx-ep";
  oc_train_result trained;
  if (oc_pipeline_train(fx->dir, fx->store, &topt, &trained, &err) != 0) fail_msg("%s", err.message);
  assert_string_equal(trained.spec, "arx:exog=BRENT");
  assert_string_equal(trained.forecast_error, "");
  oc_train_result_free(&trained);
  oc_forecast_options fopt = oc_forecast_options_default();
  fopt.endpoint = "arx-ep";
  oc_forecast_result a;
  if (oc_pipeline_forecast(fx->dir, fx->store, &fopt, &a, &err) != 0) fail_msg("%s", err.message);
  assert_string_equal(a.model_kind, "arx");
  assert_int_equal(a.forecast.origin, fx->sim.dates[DAYS - 1]);
  assert_ordered(&a.forecast);
  /* without --exog the kind says what it needs, and nothing is trained */
  topt.exog = NULL;
  assert_int_equal(oc_pipeline_train(fx->dir, fx->store, &topt, &trained, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "arx needs exog=SERIES"));
}

/* The series a served model's loader reads (ctx: a NULL-terminated array), copied as the store would. */
static int load_listed(void *ctx, const char *name, oc_series *out, oc_error *err) {
  for (const oc_series *const *s = ctx; *s; s++)
    if (strcmp((*s)->name, name) == 0) {
      oc_series_init(out, name, (*s)->n);
      memcpy(out->dates, (*s)->dates, (*s)->n * sizeof *out->dates);
      memcpy(out->values, (*s)->values, (*s)->n * sizeof *out->values);
      return 0;
    }
  return oc_error_set(err, "no series %s", name);
}

/* A served arx model forecasts with the exogenous series as they are now: BRENT's price of SIM's last
 * day, stored after the model first answered, moves its next answer to what a model loaded after it
 * gives (the server's cached answer and the forecaster's state followed SIM only, and kept the
 * forward-filled BRENT price they were loaded with). */
static void test_served_model_follows_late_exogenous_prices(void **state) {
  fixture *fx = *state;
  oc_error err;
  oc_series brent, brent_late;
  oc_series_init(&brent, "BRENT", DAYS);
  oc_simulate_series(6, 0, oc_date_from_ymd(2020, 1, 6), DAYS, brent.dates, brent.values);
  brent_late = brent;
  brent_late.n = DAYS - 1; /* SIM's last day has no BRENT price yet */
  const oc_series *before[] = {&fx->sim, &brent_late, NULL}, *after[] = {&fx->sim, &brent, NULL};
  oc_served_model *served = oc_served_model_load(fx->dir, "arx:exog=BRENT", "SIM", load_listed, before, &err);
  if (!served) fail_msg("%s", err.message);
  oc_price_forecast early, late, fresh_answer;
  if (oc_served_model_forecast(served, &fx->sim, &brent_late, true, 7, &early, &err) != 0) fail_msg("%s", err.message);
  if (oc_served_model_forecast(served, &fx->sim, &brent, true, 7, &late, &err) != 0) fail_msg("%s", err.message);
  oc_served_model *fresh = oc_served_model_load(fx->dir, "arx:exog=BRENT", "SIM", load_listed, after, &err);
  if (!fresh) fail_msg("%s", err.message);
  if (oc_served_model_forecast(fresh, &fx->sim, &brent, true, 7, &fresh_answer, &err) != 0) fail_msg("%s", err.message);
  assert_true(early.mean[0] != fresh_answer.mean[0]); /* the late price matters */
  assert_memory_equal(late.mean, fresh_answer.mean, 7 * sizeof *late.mean);
  assert_memory_equal(late.lo80, fresh_answer.lo80, 7 * sizeof *late.lo80);
  assert_memory_equal(late.hi95, fresh_answer.hi95, 7 * sizeof *late.hi95);
  oc_served_model_release(fresh);
  oc_served_model_release(served);
  oc_series_free(&brent);
}

static void test_bad_names_fail_and_leave_nothing(void **state) {
  fixture *fx = *state;
  oc_error err;
  int64_t before = count_forecasts(fx);
  oc_forecast_options fopt = oc_forecast_options_default();
  fopt.endpoint = "nowhere";
  oc_forecast_result r;
  assert_int_equal(oc_pipeline_forecast(fx->dir, fx->store, &fopt, &r, &err), -1);
  assert_non_null(strstr(err.message, "no endpoint named 'nowhere'"));
  fopt = oc_forecast_options_default();
  fopt.version = 99;
  assert_int_equal(oc_pipeline_forecast(fx->dir, fx->store, &fopt, &r, &err), -1);
  assert_non_null(strstr(err.message, "v99"));
  assert_int_equal(count_forecasts(fx), before);

  oc_model_version *versions;
  size_t n_before, n_after;
  if (oc_store_model_version_list(fx->store, &versions, &n_before, &err) != 0) fail_msg("%s", err.message);
  oc_model_version_list_free(versions, n_before);
  oc_train_options topt = oc_train_options_default();
  topt.series = "SIM";
  oc_train_result t;
  topt.model = "arima";
  assert_int_equal(oc_pipeline_train(fx->dir, fx->store, &topt, &t, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "unknown model 'arima'"));
  oc_train_result_free(&t);
  topt.model = "ar";
  topt.series = "NOPE";
  assert_int_equal(oc_pipeline_train(fx->dir, fx->store, &topt, &t, &err), -1);
  oc_train_result_free(&t);
  topt.series = "SIM";
  topt.deploy = true;
  topt.endpoint = "bad name!";
  assert_int_equal(oc_pipeline_train(fx->dir, fx->store, &topt, &t, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "endpoint name"));
  oc_train_result_free(&t);
  if (oc_store_model_version_list(fx->store, &versions, &n_after, &err) != 0) fail_msg("%s", err.message);
  oc_model_version_list_free(versions, n_after);
  assert_int_equal(n_after, n_before); /* the endpoint name is checked before anything is fitted */
}

/* A step reads each stored series once: the second get is the first read, the loader copies it. */
static void test_series_memo_reads_once(void **state) {
  fixture *fx = *state;
  oc_error err;
  oc_series_memo memo = {.store = fx->store};
  const oc_series *a = oc_series_memo_get(&memo, "SIM", &err);
  assert_non_null(a);
  const oc_date *dates = a->dates;
  assert_int_equal(a->n, DAYS);
  assert_memory_equal(a->values, fx->sim.values, DAYS * sizeof *a->values);
  oc_series copy;
  assert_int_equal(oc_series_memo_loader(&memo, "SIM", &copy, &err), 0);
  assert_int_equal(memo.n, 1);
  assert_true(oc_series_memo_get(&memo, "SIM", &err)->dates == dates);
  assert_true(copy.dates != dates && copy.n == DAYS);
  assert_memory_equal(copy.dates, dates, DAYS * sizeof *dates);
  oc_series_free(&copy);
  assert_null(oc_series_memo_get(&memo, "NOPE", &err));
  assert_non_null(strstr(err.message, "NOPE"));
  oc_series_memo_free(&memo);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_series_memo_reads_once),
      cmocka_unit_test(test_train_a_forecaster_and_forecast_with_it),
      cmocka_unit_test(test_network_forecasts_with_intervals_and_refuses_days_beyond_its_horizon),
      cmocka_unit_test(test_bad_names_fail_and_leave_nothing),
      cmocka_unit_test(test_train_arx_with_exog_and_serve_it),
      cmocka_unit_test(test_served_model_follows_late_exogenous_prices),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
