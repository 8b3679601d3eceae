/* The reference network served over HTTP: a model trained here is published and deployed through the
 * registry, an in-process `oilcast serve` loads the endpoint from the registry's file, calibrates the
 * network's intervals, and the client (serve/client.h, what `oilcast forecast --url` uses) gets exactly
 * the local forecast (model/forecast.h) from it, with 80%/95% bounds around each price. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/rng.h"
#include "features/etl.h"
#include "model/forecast.h"
#include "model/registry.h"
#include "model/trainer.h"
#include "serve/apikey.h"
#include "serve/client.h"
#include "serve/server.h"
#include "store/datadir.h"

#define DAYS 5

static void simulate_into(oc_store *store, oc_series *s, size_t n) {
  oc_series_init(s, "WTI", n);
  oc_rng rng;
  oc_rng_seed(&rng, 11);
  oc_date d = oc_date_from_ymd(2020, 1, 6);
  double logp = log(60.0);
  oc_observation *obs = oc_xcalloc(n, sizeof *obs);
  int64_t id;
  oc_error err;
  if (oc_store_series_ensure(store, "WTI", "USD/bbl", "simulated", &id, &err) != 0) fail_msg("%s", err.message);
  for (size_t i = 0; i < n; i++) {
    s->dates[i] = d;
    s->values[i] = exp(logp);
    obs[i] = (oc_observation){id, d, s->values[i]};
    logp += 0.0002 + 0.015 * oc_rng_normal(&rng);
    d = oc_date_add_business_days(d, 1);
  }
  oc_upsert_counts counts = {0};
  if (oc_store_observations_upsert(store, obs, n, "simulated", 0, &counts, &err) != 0) fail_msg("%s", err.message);
  free(obs);
}

static size_t collect(char *data, size_t size, size_t n, void *userdata) {
  oc_buf_append(userdata, data, size * n);
  return size * n;
}

static void test_served_network_equals_local_forecast(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("serve-mlp");
  oc_error err;
  bool created;
  oc_store *store = NULL;
  if (oc_datadir_init(dir, &created, &err) != 0 || oc_datadir_open(dir, &store, &err) != 0) fail_msg("%s", err.message);
  oc_series history;
  simulate_into(store, &history, 900);

  oc_etl_options eopt;
  oc_etl_options_default(&eopt);
  eopt.horizon = DAYS;
  oc_frame frame;
  oc_training_table table;
  if (oc_etl_build(&history, NULL, 0, &eopt, &frame, NULL, &err) != 0) fail_msg("%s", err.message);
  if (oc_training_table_from_frame(&frame, &table, &err) != 0) fail_msg("%s", err.message);
  oc_mlp_arch arch = oc_mlp_arch_default(1, 1);
  arch.h1 = 16;
  arch.h2 = 8;
  oc_train_params params = oc_train_params_default();
  params.epochs = 6;
  oc_mlp net;
  oc_model_card card;
  oc_fit_result fit;
  if (oc_train_on_table(&table, &arch, &params, "table.parquet", NULL, NULL, &net, &card, &fit, &err) != 0)
    fail_msg("%s", err.message);
  int64_t version;
  if (oc_registry_publish(dir, store, &net, &card, &version, &err) != 0) fail_msg("%s", err.message);
  if (oc_registry_deploy(dir, store, "oil", version, &err) != 0) fail_msg("%s", err.message);
  char key[OC_APIKEY_LEN + 1];
  if (oc_apikey_create(store, "reader", OC_SCOPE_READ, NULL, key, &err) != 0) fail_msg("%s", err.message);
  oc_forecast local;
  if (oc_mlp_forecast(&net, &card, &history, NULL, 0, DAYS, &local, &err) != 0) fail_msg("%s", err.message);

  oc_serve_config cfg;
  oc_serve_config_defaults(&cfg);
  cfg.data_dir = dir;
  cfg.listen = "127.0.0.1:0";
  cfg.access_log_fd = -1;
  oc_server *server;
  if (oc_server_start(&cfg, &server, &err) != 0) fail_msg("%s", err.message);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u", oc_server_port(server));
  oc_remote_request req = {.url = url, .api_key = key, .endpoint = "oil", .days = DAYS};
  oc_forecast remote;
  oc_remote_answer answer;
  if (oc_remote_forecast(&req, &remote, &answer, &err) != 0) fail_msg("%s", err.message);
  char expected_version[32];
  snprintf(expected_version, sizeof expected_version, "v%lld", (long long)version);
  assert_string_equal(answer.model_version, expected_version);
  assert_string_equal(answer.series, "WTI");
  assert_int_equal(remote.as_of, local.as_of);
  assert_true(remote.last_price == local.last_price);
  assert_int_equal(remote.n, DAYS);
  for (size_t h = 0; h < DAYS; h++) {
    assert_int_equal(remote.points[h].date, local.points[h].date);
    assert_true(remote.points[h].price == local.points[h].price); /* %.17g round-trips doubles */
  }

  /* Bounds: the stored forecast (what the invocation answered), ordered around each price. */
  CURL *curl = curl_easy_init();
  oc_buf body = {0}, auth = {0};
  char latest[128];
  snprintf(latest, sizeof latest, "%s/v1/forecasts/latest?series=WTI", url);
  oc_buf_printf(&auth, "Authorization: Bearer %s", key);
  struct curl_slist *headers = curl_slist_append(NULL, auth.data);
  curl_easy_setopt(curl, CURLOPT_URL, latest);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  assert_int_equal(curl_easy_perform(curl), CURLE_OK);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  json_t *doc = json_loadb(body.data, body.len, 0, NULL);
  assert_non_null(doc);
  json_t *points = json_object_get(doc, "points");
  assert_int_equal(json_array_size(points), DAYS);
  for (size_t h = 0; h < DAYS; h++) {
    double lo95, lo80, price, hi80, hi95;
    assert_int_equal(json_unpack(json_array_get(points, h), "{s:F,s:F,s:F,s:F,s:F}", "lower95", &lo95, "lower80",
                                 &lo80, "price", &price, "upper80", &hi80, "upper95", &hi95), 0);
    assert_true(lo95 < lo80 && lo80 < price && price < hi80 && hi80 < hi95);
  }
  json_decref(doc);
  oc_buf_free(&body);
  oc_buf_free(&auth);

  oc_remote_request wrong = req;
  wrong.endpoint = "nope";
  oc_forecast ignored;
  assert_int_equal(oc_remote_forecast(&wrong, &ignored, &answer, &err), -1);
  assert_non_null(strstr(err.message, "404"));
  oc_server_stop(server, 5);

  oc_forecast_free(&remote);
  oc_forecast_free(&local);
  oc_mlp_free(&net);
  oc_model_card_free(&card);
  oc_training_table_free(&table);
  oc_frame_free(&frame);
  oc_series_free(&history);
  oc_store_close(store);
  oc_test_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_served_network_equals_local_forecast)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
