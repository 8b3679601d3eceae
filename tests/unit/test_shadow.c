/* Unit tests for shadow challengers (issue 16): an endpoint whose promotion loop evaluates a challenger
 * in shadow forecasts it beside every answer. The server's endpoint snapshot holds the challenger,
 * loaded with the champion from the store's challenger state and reloaded when a promotion decision
 * changes it (the change the server's follower acts on); a broken challenger leaves the endpoint
 * serving. The forecast step through an endpoint stores the shadow's forecast beside the answer, in one
 * write, from the same origin, without changing the answer; a failing challenger never fails it; the
 * two are scored on the same origins. A batch of forecasts is stored whole or not at all. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/forecast.h"
#include "pipeline/train.h"
#include "serve/endpoints.h"

#define ENDPOINT "wti"
#define SERIES "WTI"
#define DAYS 260

/* The fixture's store, lent to the endpoint table (these tests run on one thread). */
static oc_store *lend(void *ctx, oc_error *err) {
  (void)err;
  return ((oc_test_datadir_fixture *)ctx)->store;
}
static void give_back(void *ctx, oc_store *store) { (void)ctx, (void)store; }
static int load_series(void *ctx, const char *series, oc_series *out, oc_error *err) {
  return oc_store_series_load(((oc_test_datadir_fixture *)ctx)->store, series, OC_DATE_INVALID, OC_DATE_INVALID, out,
                              err);
}

/* A market of `stored` of `total` days stored; v1 (the champion, deployed at ENDPOINT) and v2 (not
 * deployed) trained on it. */
static oc_series market(oc_test_datadir_fixture *fx, size_t stored, size_t total) {
  oc_series all = oc_test_random_walk_series(SERIES, total, 0.0005, 7);
  oc_series first = all;
  first.n = stored;
  oc_test_store_series(fx->store, &first);
  const char *specs[] = {"ar:max_p=0:window=20", "ar:max_p=1:window=60"};
  for (int64_t v = 1; v <= 2; v++) {
    oc_train_options t = oc_train_options_default();
    t.series = SERIES, t.endpoint = ENDPOINT, t.model = specs[v - 1];
    t.choice.origins = 30, t.choice.horizon = 5;
    t.deploy = v == 1;
    oc_train_result r;
    oc_error err;
    if (oc_pipeline_train(fx->dir, fx->store, &t, &r, &err) != 0) fail_msg("train %s: %s", t.model, err.message);
    assert_int_equal(r.version, v);
    oc_train_result_free(&r);
  }
  return all;
}

/* The endpoint's challenger as the promotion loop would record it. */
static void put_challenger(oc_store *store, int64_t version, const char *mode) {
  oc_challenger_state st;
  bool found;
  oc_error err;
  assert_int_equal(oc_store_challenger_get(store, ENDPOINT, &st, &found, &err), 0);
  st.challenger = version;
  snprintf(st.mode, sizeof st.mode, "%s", mode);
  if (oc_store_challenger_put(store, &st, &err) != 0) fail_msg("%s", err.message);
}

static void test_snapshot_holds_the_shadow_challenger(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_series all = market(fx, DAYS, DAYS);
  oc_error err;
  oc_endpoints *e = oc_endpoints_new(fx->dir, load_series, lend, give_back, fx);
  assert_int_equal(oc_endpoints_load_all(e, &err), 0);
  oc_endpoint_snapshot *before = oc_endpoints_acquire(e, ENDPOINT);
  assert_non_null(before);
  assert_string_equal(before->shadow_version, "");
  assert_null(before->shadow);

  /* the loop deploys v2 in shadow: its decision is the change a running server follows */
  int64_t last;
  assert_int_equal(oc_store_changes_latest(fx->store, &last, &err), 0);
  put_challenger(fx->store, 2, "shadow");
  oc_change *changes;
  size_t n;
  assert_int_equal(oc_store_changes_after(fx->store, last, 10, &changes, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(changes[0].kind, OC_CHANGE_DECISION);
  assert_string_equal(changes[0].subject, ENDPOINT);
  free(changes);
  oc_endpoints_reload(e, ENDPOINT);
  oc_endpoint_snapshot *shadowed = oc_endpoints_acquire(e, ENDPOINT);
  assert_ptr_not_equal(shadowed, before);
  assert_string_equal(shadowed->shadow_version, "v2");
  assert_non_null(shadowed->shadow);
  assert_string_equal(oc_served_model_version(shadowed->shadow), "v2");
  assert_ptr_equal(shadowed->models[0], before->models[0]); /* the champion is not loaded again */
  assert_string_equal(shadowed->spec.variants[0].model_version, "v1");
  assert_int_equal(shadowed->spec.n_variants, 1); /* a shadow is never a variant: never served */
  assert_string_equal(before->shadow_version, ""); /* a request holding the old snapshot keeps it */
  oc_endpoint_snapshot_release(before);

  /* a decision that leaves the challenger as it is keeps its loaded model */
  put_challenger(fx->store, 2, "shadow");
  oc_endpoints_reload(e, ENDPOINT);
  oc_endpoint_snapshot *same = oc_endpoints_acquire(e, ENDPOINT);
  assert_ptr_equal(same->shadow, shadowed->shadow);
  oc_endpoint_snapshot_release(same);
  oc_endpoint_snapshot_release(shadowed);

  /* a challenger served as a weighted variant is no shadow; a challenger that cannot be loaded
   * leaves the endpoint serving its champion, the problem kept */
  put_challenger(fx->store, 2, "variant");
  oc_endpoints_reload(e, ENDPOINT);
  oc_endpoint_snapshot *snap = oc_endpoints_acquire(e, ENDPOINT);
  assert_string_equal(snap->shadow_version, "");
  assert_null(snap->shadow);
  oc_endpoint_snapshot_release(snap);
  put_challenger(fx->store, 99, "shadow");
  oc_endpoints_reload(e, ENDPOINT);
  snap = oc_endpoints_acquire(e, ENDPOINT);
  assert_non_null(snap);
  assert_string_equal(snap->shadow_version, "v99");
  assert_null(snap->shadow);
  assert_non_null(strstr(snap->shadow_problem, "v99"));
  assert_non_null(snap->models[0]);
  char problem[600];
  assert_false(oc_endpoints_broken(e, ENDPOINT, problem, sizeof problem));
  oc_endpoint_snapshot_release(snap);

  /* a server starting on a store with a shadow challenger loads it with the champion */
  put_challenger(fx->store, 2, "shadow");
  oc_endpoints_free(e);
  e = oc_endpoints_new(fx->dir, load_series, lend, give_back, fx);
  assert_int_equal(oc_endpoints_load_all(e, &err), 0);
  snap = oc_endpoints_acquire(e, ENDPOINT);
  assert_non_null(snap->shadow);
  assert_string_equal(oc_served_model_version(snap->shadow), "v2");
  oc_endpoint_snapshot_release(snap);
  oc_endpoints_free(e);
  oc_series_free(&all);
}

static void test_forecast_step_stores_the_shadow(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_series all = market(fx, DAYS - 3, DAYS);
  oc_error err;
  oc_forecast_options served = oc_forecast_options_default();
  served.endpoint = ENDPOINT;
  served.days = 3;
  oc_forecast_result alone, with_shadow;
  assert_int_equal(oc_pipeline_forecast(fx->dir, fx->store, &served, &alone, &err), 0);
  assert_string_equal(alone.shadow_version, "");
  assert_int_equal(alone.shadow_stored_id, 0);

  put_challenger(fx->store, 2, "shadow");
  assert_int_equal(oc_pipeline_forecast(fx->dir, fx->store, &served, &with_shadow, &err), 0);
  /* the answer is the champion's, unchanged by its shadow */
  assert_string_equal(with_shadow.model_version, "v1");
  assert_memory_equal(&with_shadow.forecast, &alone.forecast, sizeof alone.forecast);
  assert_string_equal(with_shadow.shadow_version, "v2");
  assert_true(with_shadow.shadow_stored_id > 0);
  assert_true(with_shadow.stored_id > with_shadow.shadow_stored_id); /* the answer stays the newest */
  oc_forecast_record *latest = malloc(sizeof *latest);
  bool found;
  assert_int_equal(oc_store_forecast_latest(fx->store, SERIES, latest, &found, &err), 0);
  assert_true(found);
  assert_int_equal(latest->id, with_shadow.stored_id);
  free(latest);

  /* the actuals arrive: both are scored on the same origin */
  oc_series rest = all;
  rest.n = 3;
  rest.dates += DAYS - 3;
  rest.values += DAYS - 3;
  oc_test_store_series(fx->store, &rest);
  int64_t scored;
  assert_int_equal(oc_store_forecast_score(fx->store, 0, &scored, &err), 0);
  oc_scored_error *champion, *challenger;
  size_t nc, ns;
  assert_int_equal(oc_store_forecast_errors(fx->store, ENDPOINT, "v1", 3, OC_DATE_INVALID, 10, &champion, &nc, &err), 0);
  assert_int_equal(oc_store_forecast_errors(fx->store, ENDPOINT, "v2", 3, OC_DATE_INVALID, 10, &challenger, &ns, &err), 0);
  assert_int_equal(nc, 1);
  assert_int_equal(ns, 1);
  assert_int_equal(champion[0].origin, challenger[0].origin);
  assert_true(oc_test_close(champion[0].naive_abs_error, challenger[0].naive_abs_error, 1e-12));
  free(champion);
  free(challenger);

  /* a challenger that cannot forecast never fails the forecast served, and stores nothing */
  put_challenger(fx->store, 99, "shadow");
  oc_forecast_result broken;
  assert_int_equal(oc_pipeline_forecast(fx->dir, fx->store, &served, &broken, &err), 0);
  assert_true(broken.stored_id > 0);
  assert_int_equal(broken.shadow_stored_id, 0);
  assert_string_equal(broken.shadow_version, "v99");
  assert_non_null(strstr(broken.shadow_problem, "v99"));
  assert_int_equal(broken.stored_id, with_shadow.stored_id + 1); /* the answer alone was stored */
  oc_series_free(&all);
}

static void test_records_save_all_or_none(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_error err;
  oc_forecast_record recs[2];
  memset(recs, 0, sizeof recs);
  for (int i = 0; i < 2; i++) {
    recs[i].origin = oc_date_from_ymd(2024, 6, 3);
    recs[i].n_points = 1;
    recs[i].origin_price = NAN;
    recs[i].points[0] = (oc_stored_forecast_point){oc_date_from_ymd(2024, 6, 4), 70, 69, 71, 68, 72};
    snprintf(recs[i].series, sizeof recs[i].series, SERIES);
    snprintf(recs[i].history, sizeof recs[i].history, "stored");
    snprintf(recs[i].variant, sizeof recs[i].variant, i ? "v1" : OC_SHADOW_VARIANT);
  }
  recs[1].n_points = 0; /* refused: the shadow before it must not stay */
  int64_t changes_before, changes_after;
  assert_int_equal(oc_store_changes_latest(fx->store, &changes_before, &err), 0);
  assert_int_equal(oc_store_forecasts_save(fx->store, recs, 2, &err), -1);
  assert_int_equal(recs[0].id, 0);
  assert_int_equal(oc_store_changes_latest(fx->store, &changes_after, &err), 0);
  assert_int_equal(changes_after, changes_before);
  recs[1].n_points = 1;
  assert_int_equal(oc_store_forecasts_save(fx->store, recs, 2, &err), 0);
  assert_true(recs[0].id > 0 && recs[1].id > recs[0].id);
  oc_forecast_record *latest = malloc(sizeof *latest);
  bool found;
  assert_int_equal(oc_store_forecast_latest(fx->store, SERIES, latest, &found, &err), 0);
  assert_true(found);
  assert_int_equal(latest->id, recs[1].id);
  free(latest);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_snapshot_holds_the_shadow_challenger, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_forecast_step_stores_the_shadow, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_records_save_all_or_none, oc_test_datadir_setup, oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
