/* The operations loop of issue 16 in one run on simulated time, its trigger an alert: a simulated market
 * rallies, then slides (ingest/simulate.h's regime change); each trading day stores one price, runs the
 * promotion loop (monitor/promote.h: scoring, triggers, the day's forecasts) and evaluates
 * DIR/alerts.json (monitor/alerts.h) with the clock on that day's evening. The champion, fitted during
 * the rally, degrades; the relMAE rule fires and its Alertmanager webhook reaches a running oilcast
 * server's admin route (the test's receiver, authenticated with the key of a credentials_file), which
 * leaves the retraining trigger; the next run trains a challenger and deploys it in shadow, every
 * forecast of the endpoint then stores the challenger's beside the champion's (pipeline/forecast.h), and
 * the one-sided Diebold-Mariano rule promotes it on the same origins; a forced bad model is then rolled
 * back. The loop's own degradation and drift triggers are off, so the alert is what retrains. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "ingest/simulate.h"
#include "keys/apikey.h"
#include "model/registry.h"
#include "monitor/alerts.h"
#include "monitor/promote.h"
#include "pipeline/train.h"
#include "serve/server.h"

#define ENDPOINT "sim"
#define SERIES "WTI-SIM"
#define HISTORY 160
#define CHANGE_AT 150
#define TOTAL 300

static oc_train_options training(void) {
  oc_train_options t = oc_train_options_default();
  t.choice.origins = 40;
  t.choice.horizon = 5;
  return t;
}

/* Stores day `day` of the market; the loop's clock on its evening. */
static int64_t store_day(oc_store *store, oc_date *dates, double *values, size_t day) {
  oc_series one = {.name = SERIES, .n = 1, .dates = dates + day, .values = values + day};
  oc_test_store_series(store, &one);
  return (int64_t)dates[day] * 86400 + 22 * 3600;
}

static void write_rules(const char *dir, const char *url, const char *key) {
  char text[2048];
  free(oc_test_write_file(dir, "alertmanager.key", key));
  snprintf(text, sizeof text,
           "{\"webhooks\": [{\"name\": \"oilcast\", \"url\": \"%s/v1/admin/alerts\","
           " \"credentials_file\": \"alertmanager.key\", \"retries\": 1, \"backoff\": \"50ms\"}],"
           " \"rules\": [{\"alert\": \"ChampionDegraded\", \"metric\": \"oilcast_forecast_rel_mae\","
           " \"match\": {\"endpoint\": \"" ENDPOINT "\", \"model_version\": \"v1\", \"horizon\": \"5\","
           " \"window\": \"20\"}, \"above\": 1.1, \"for\": \"0s\","
           " \"labels\": {\"action\": \"retrain\", \"endpoint\": \"" ENDPOINT "\"},"
           " \"annotations\": {\"summary\": \"relMAE {{ $value }}\"}}]}",
           url);
  free(oc_test_write_file(dir, OC_ALERTS_FILE, text));
}

/* The decisions one run recorded, their actions joined with ','. */
static void actions_of(const oc_promote_result *r, char *out, size_t cap) {
  out[0] = '\0';
  for (size_t i = 0; i < r->n; i++)
    snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "", r->decisions[i].action);
}

static void test_alert_retrains_shadow_promotes_and_rolls_back(void **state) {
  oc_test_datadir_fixture *fx = *state;
  static oc_date dates[TOTAL];
  static double values[TOTAL];
  oc_regime_change change = {.at = CHANGE_AT, .drift_before = 0.006, .drift_after = -0.006};
  oc_simulate_series_changed(11, 0, oc_date_from_ymd(2023, 1, 2), TOTAL, &change, dates, values);
  oc_series first = {.name = SERIES, .n = HISTORY, .dates = dates, .values = values};
  oc_test_store_series(fx->store, &first);
  oc_train_options t = training();
  t.model = "ar:max_p=0:window=20";
  t.series = SERIES;
  t.deploy = true;
  t.endpoint = ENDPOINT;
  oc_train_result tr;
  oc_error err;
  if (oc_pipeline_train(fx->dir, fx->store, &t, &tr, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(tr.version, 1);
  oc_train_result_free(&tr);

  char url[64], key[OC_APIKEY_LEN + 1];
  assert_int_equal(oc_apikey_create(fx->store, "alertmanager", OC_SCOPE_ADMIN, NULL, key, &err), 0);
  oc_server *server = oc_test_server_start(fx->dir, url);
  write_rules(fx->dir, url, key);

  oc_train_options challengers = training();
  oc_promote_options o = oc_promote_options_default();
  o.endpoint = ENDPOINT;
  o.horizon = 5;
  o.train = &challengers;
  o.degrade_rel_mae = 1e9; /* the alert retrains, not the loop's own triggers */
  o.drift_psi = 0;
  int64_t fired_on = -1, deployed_on = -1, promoted_on = -1, rolled_on = -1, challenger = 0;
  char actions[256];
  for (size_t day = HISTORY; day < TOTAL && rolled_on < 0; day++) {
    o.now = store_day(fx->store, dates, values, day);
    oc_promote_result r;
    if (oc_monitor_promote(fx->dir, fx->store, &o, &r, &err) != 0) fail_msg("day %zu: %s", day, err.message);
    actions_of(&r, actions, sizeof actions);
    if (strcmp(actions, "training,deploy") == 0) { /* the alert's trigger was recorded when it arrived */
      assert_true(fired_on > 0);
      assert_string_equal(r.decisions[0].trigger, "alert");
      challenger = r.decisions[1].version;
      deployed_on = (int64_t)day;
    } else if (strcmp(actions, "promote") == 0) {
      assert_int_equal(r.decisions[0].version, challenger);
      promoted_on = (int64_t)day;
      /* a forced bad model (the mean of 60 prices in a slide) replaces the promoted challenger */
      oc_train_options bad = training();
      bad.model = "mean:k=60";
      bad.series = SERIES;
      if (oc_pipeline_train(fx->dir, fx->store, &bad, &tr, &err) != 0) fail_msg("%s", err.message);
      oc_promote_result forced;
      assert_int_equal(oc_monitor_promote_version(fx->dir, fx->store, &o, tr.version, "test", &forced, &err), 0);
      oc_promote_result_free(&forced);
      oc_train_result_free(&tr);
    } else if (strcmp(actions, "rollback") == 0) {
      assert_int_equal(r.decisions[0].version, challenger);
      rolled_on = (int64_t)day;
    } else if (r.n > 0) {
      assert_string_equal(actions, "refusal"); /* the alert firing on while the challenger is evaluated */
    }
    /* while a shadow challenger is evaluated, each day's forecast stores its forecast beside the champion's */
    if (deployed_on >= 0 && promoted_on < 0) assert_int_equal(r.forecasts, 2);
    oc_promote_result_free(&r);
    if (fired_on < 0) {
      oc_alerts_result ar;
      if (oc_alerts_evaluate(fx->dir, fx->store, &(oc_alerts_options){.now = o.now}, &ar, &err) != 0)
        fail_msg("alerts: %s", err.message);
      assert_string_equal(ar.delivery_error, "");
      if (ar.firing > 0) {
        assert_int_equal(ar.notifications, 1); /* the server took it */
        fired_on = (int64_t)day;
      }
    }
  }
  oc_server_stop(server, 1.0);
  assert_true(fired_on > CHANGE_AT);
  assert_int_equal(deployed_on, fired_on + 1);
  assert_true(promoted_on > deployed_on + (int64_t)o.min_origins);
  assert_true(rolled_on > promoted_on);
  int64_t champion;
  assert_int_equal(oc_registry_endpoint_version(fx->store, ENDPOINT, &champion, &err), 0);
  assert_int_equal(champion, challenger);
  oc_promotion_decision *log;
  size_t n;
  assert_int_equal(oc_store_decisions_list(fx->store, ENDPOINT, 100, &log, &n, &err), 0);
  assert_true(n >= 6);
  assert_string_equal(log[n - 1].action, "trigger"); /* the oldest: the alert, as the server received it */
  assert_string_equal(log[n - 1].trigger, "alert");
  free(log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_alert_retrains_shadow_promotes_and_rolls_back, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
