/* A trained reference network beyond the local forecast. Served over HTTP: published and deployed
 * through the registry, an in-process `oilcast serve` loads the endpoint from the registry's file,
 * calibrates the network's intervals, and the client (pipeline/forecast_remote.h, what `oilcast forecast
 * --url` uses) gets exactly the local forecast (model/mlp_forecast.h), with 80%/95% bounds around each price,
 * and all of the network's horizons when the request names no forecast_days.
 * In batch (pipeline/batch_forecast.h): each row equals the local forecast from the history cut at its
 * origin, within its calibrated bounds, whatever the thread count, CSV and Parquet give the same
 * numbers, and a bad row fails the batch naming its line. */
#include "testutil.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/fsutil.h"
#include "core/csv.h"
#include "lake/parquet.h"
#include "model/mlp_forecast.h"
#include "model/registry.h"
#include "keys/apikey.h"
#include "pipeline/batch_forecast.h"
#include "pipeline/forecast_remote.h"
#include "serve/server.h"
#include "store/datadir.h"

#define DAYS 5
#define FLOAT_TOLERANCE 1e-5

/* The simulated history, stored as WTI-SIM in store and returned in *s. */
static void simulate_into(oc_store *store, oc_series *s, size_t n) {
  *s = oc_test_random_walk_series("WTI-SIM", n, 0.0002, 11);
  oc_test_store_series(store, s);
}

static size_t collect(char *data, size_t size, size_t n, void *userdata) {
  oc_buf_append(userdata, data, size * n);
  return size * n;
}

typedef struct fixture {
  char *dir;
  oc_store *store;
  oc_series history;
  oc_frame frame;
  oc_training_table table;
  oc_mlp net;
  oc_model_card card;
  int64_t version;
} fixture;

static int setup(void **state) {
  fixture *fx = oc_xcalloc(1, sizeof *fx);
  fx->dir = oc_test_tmpdir("serve-mlp");
  char *dir = fx->dir;
  oc_error err;
  bool created;
  oc_store *store = NULL;
  if (oc_datadir_init(dir, &created, &err) != 0 || oc_datadir_open(dir, &store, &err) != 0) fail_msg("%s", err.message);
  oc_series history;
  simulate_into(store, &history, 900);
  fx->store = store;

  oc_frame frame = {0};
  oc_training_table table = {0};
  oc_mlp net;
  oc_model_card card;
  oc_test_train_small_mlp(&history, DAYS, 6, &frame, &table, &net, &card);
  int64_t version;
  if (oc_registry_publish(dir, store, &net, &card, &version, &err) != 0) fail_msg("%s", err.message);
  if (oc_registry_deploy(dir, store, "oil", version, &err) != 0) fail_msg("%s", err.message);
  fx->history = history;
  fx->frame = frame;
  fx->table = table;
  fx->net = net;
  fx->card = card;
  fx->version = version;
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture *fx = *state;
  oc_mlp_free(&fx->net);
  oc_model_card_free(&fx->card);
  oc_training_table_free(&fx->table);
  oc_frame_free(&fx->frame);
  oc_series_free(&fx->history);
  oc_store_close(fx->store);
  oc_test_rmtree(fx->dir);
  free(fx->dir);
  free(fx);
  return 0;
}

/* Checks the responses the server recorded in log against docs/openapi.yaml, as the e2e serve tests do
 * (tests/api/validate_responses.mjs). Without node and the npm packages it says so, and fails in CI. */
static void validate_exchanges(const char *log) {
  char *ajv = oc_path_join(OILCAST_SOURCE_DIR, "node_modules/ajv");
  bool have_ajv = oc_is_dir(ajv);
  free(ajv);
  if (!have_ajv || system("node --version >/dev/null 2>&1") != 0) {
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0) fail_msg("node or node_modules/ajv missing (npm ci)");
    fprintf(stderr, "node or node_modules/ajv missing: responses not validated against docs/openapi.yaml\n");
    return;
  }
  oc_buf cmd = {0};
  oc_buf_printf(&cmd, "node '%s/tests/api/validate_responses.mjs' '%s/docs/openapi.yaml' '%s' >/dev/null",
                OILCAST_SOURCE_DIR, OILCAST_SOURCE_DIR, log);
  int rc = system(cmd.data);
  oc_buf_free(&cmd);
  if (rc != 0) fail_msg("the server's responses do not match docs/openapi.yaml (%s)", log);
}

static void test_served_network_equals_local_forecast(void **state) {
  fixture *fx = *state;
  oc_error err;
  oc_store *store = fx->store;
  const char *dir = fx->dir;
  oc_mlp *net_ = &fx->net;
  oc_model_card *card_ = &fx->card;
  int64_t version = fx->version;
  char key[OC_APIKEY_LEN + 1];
  if (oc_apikey_create(store, "reader", OC_SCOPE_READ, NULL, key, &err) != 0) fail_msg("%s", err.message);
  oc_mlp_prediction local;
  if (oc_mlp_forecast(net_, card_, &fx->history, NULL, 0, DAYS, &local, &err) != 0) fail_msg("%s", err.message);

  char url[64];
  char *exchanges = oc_path_join(dir, "exchanges.jsonl");
  setenv("OILCAST_EXCHANGE_LOG", exchanges, 1);
  oc_server *server = oc_test_server_start(dir, url);
  unsetenv("OILCAST_EXCHANGE_LOG");
  oc_remote_request req = {.url = url, .api_key = key, .endpoint = "oil", .days = DAYS};
  oc_price_forecast remote;
  oc_remote_answer answer;
  if (oc_remote_forecast(&req, &remote, &answer, &err) != 0) fail_msg("%s", err.message);
  char expected_version[32];
  snprintf(expected_version, sizeof expected_version, "v%lld", (long long)version);
  assert_string_equal(answer.model_version, expected_version);
  assert_string_equal(answer.series, "WTI-SIM"); /* the deploy file names no series: the model's */
  assert_int_equal(remote.origin, local.as_of);
  assert_true(remote.origin_price == local.last_price);
  assert_int_equal(remote.horizon, DAYS);
  for (size_t h = 0; h < DAYS; h++) {
    assert_int_equal(oc_calendar_add_trading_days(remote.origin, (int)h + 1), local.points[h].date);
    assert_true(oc_test_close(remote.mean[h], local.points[h].price, FLOAT_TOLERANCE));
    assert_true(remote.lo95[h] < remote.lo80[h] && remote.lo80[h] < remote.mean[h] && remote.mean[h] < remote.hi80[h]);
  }

  /* Bounds: the stored forecast (what the invocation answered), ordered around each price. */
  CURL *curl = curl_easy_init();
  oc_buf body = {0}, auth = {0};
  char latest[128];
  snprintf(latest, sizeof latest, "%s/v1/forecasts/latest?series=WTI-SIM", url);
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

  /* No forecast_days: the network's own horizons (DAYS), not the server's default 7 it cannot give. */
  oc_remote_request all_horizons = req;
  all_horizons.days = 0;
  oc_price_forecast every;
  if (oc_remote_forecast(&all_horizons, &every, &answer, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(every.horizon, DAYS);
  for (size_t h = 0; h < DAYS; h++) assert_true(every.mean[h] == remote.mean[h]);

  oc_remote_request wrong = req;
  wrong.endpoint = "nope";
  oc_price_forecast ignored;
  assert_int_equal(oc_remote_forecast(&wrong, &ignored, &answer, &err), -1);
  assert_non_null(strstr(err.message, "404"));
  oc_server_stop(server, 5);
  validate_exchanges(exchanges);
  free(exchanges);

  oc_mlp_prediction_free(&local);
}

/* got (the batch output) has want's lines (series,origin,as_of,date,horizon,price,model) with bounds
 * lower80,upper80,lower95,upper95 between price and model, ordered around the price; prices equal to
 * float32 precision (the network runs in float32 and a thread's flush-to-zero state can move the last
 * bits). */
static void assert_same_forecast_csv(const char *got, const char *want) {
  char *a = oc_xstrdup(got), *b = oc_xstrdup(want), *sa, *sb;
  char *la = strtok_r(a, "\n", &sa), *lb = strtok_r(b, "\n", &sb);
  assert_string_equal(la, "series,origin,as_of,date,horizon,price,lower80,upper80,lower95,upper95,model");
  for (la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb); la && lb;
       la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb)) {
    char *fa[11], *fb[7], *s;
    size_t na = 0, nb = 0;
    for (char *f = strtok_r(la, ",", &s); f && na < 11; f = strtok_r(NULL, ",", &s)) fa[na++] = f;
    for (char *f = strtok_r(lb, ",", &s); f && nb < 7; f = strtok_r(NULL, ",", &s)) fb[nb++] = f;
    assert_int_equal(na, 11);
    assert_int_equal(nb, 7);
    for (size_t k = 0; k < 5; k++) assert_string_equal(fa[k], fb[k]);
    assert_string_equal(fa[10], fb[6]);
    double price = atof(fa[5]), lo80 = atof(fa[6]), hi80 = atof(fa[7]), lo95 = atof(fa[8]), hi95 = atof(fa[9]);
    if (!oc_test_close(price, atof(fb[5]), FLOAT_TOLERANCE)) fail_msg("price %s != %s", fa[5], fb[5]);
    assert_true(lo95 < lo80 && lo80 < price && price < hi80 && hi80 < hi95);
  }
  assert_true(!la && !lb);
  free(a);
  free(b);
}

static char *run_batch_to(fixture *fx, const char *in, const char *out_name, int threads, int *rc, oc_error *err) {
  char *out = oc_path_join(fx->dir, out_name);
  oc_batch_options opt = {.data_dir = fx->dir, .version = fx->version, .in_path = in, .out_path = out,
                          .days = 3, .threads = threads};
  oc_batch_report report;
  *rc = oc_batch_forecast(fx->store, &opt, &report, err);
  char *text = NULL;
  size_t len;
  if (*rc == 0 && oc_read_file(out, &text, &len, err) != 0) fail_msg("%s", err->message);
  if (*rc == 0) assert_int_equal(report.forecasts, 3 * report.rows);
  if (strcmp(out_name, "out.csv") == 0) unlink(out);
  free(out);
  return text;
}

static char *run_batch(fixture *fx, const char *in, int threads, int *rc, oc_error *err) {
  return run_batch_to(fx, in, "out.csv", threads, rc, err);
}

/* The Parquet route: rows in a Parquet file, forecasts out as typed Parquet columns. */
static void check_parquet_batch(fixture *fx, const size_t *origins, size_t n, const char *csv) {
  char *in = oc_path_join(fx->dir, "in.parquet");
  oc_pq_bytes names[8];
  int32_t dates[8];
  for (size_t i = 0; i < n; i++) {
    names[i] = (oc_pq_bytes){(const uint8_t *)"WTI-SIM", 7};
    dates[i] = fx->history.dates[origins[i]];
  }
  const oc_pq_column_spec specs[] = {{"series", OC_PQ_BYTE_ARRAY, OC_PQ_LOGICAL_STRING, false},
                                     {"origin", OC_PQ_INT32, OC_PQ_LOGICAL_DATE, false}};
  const oc_pq_column_data data[] = {{names, NULL}, {dates, NULL}};
  oc_pq_writer *w;
  oc_error err;
  if (oc_pq_writer_open(&w, in, specs, 2, NULL, &err) != 0 || oc_pq_writer_write_row_group(w, n, data, &err) != 0 ||
      oc_pq_writer_close(w, &err) != 0) {
    fail_msg("%s", err.message);
  }
  int rc;
  free(run_batch_to(fx, in, "out.parquet", 2, &rc, &err));
  if (rc != 0) fail_msg("%s", err.message);
  char *out = oc_path_join(fx->dir, "out.parquet");
  oc_pq_reader r;
  if (oc_pq_reader_open(&r, out, &err) != 0) fail_msg("%s", err.message);
  oc_pq_column price = {0}, upper95 = {0}, horizon = {0};
  assert_int_equal(oc_pq_read_column(&r, 0, (size_t)oc_pq_find_column(&r, "price"), &price, &err), 0);
  assert_int_equal(oc_pq_read_column(&r, 0, (size_t)oc_pq_find_column(&r, "upper95"), &upper95, &err), 0);
  assert_int_equal(oc_pq_read_column(&r, 0, (size_t)oc_pq_find_column(&r, "horizon"), &horizon, &err), 0);
  assert_int_equal(price.n, 3 * n);
  /* Same numbers as the CSV route (whose values are the shortest exact decimal). */
  const char *line = strchr(csv, '\n') + 1;
  for (size_t i = 0; i < price.n; i++, line = strchr(line, '\n') + 1) {
    const char *comma = line;
    for (int f = 0; f < 5; f++) comma = strchr(comma, ',') + 1;
    assert_true(strtod(comma, NULL) == ((double *)price.values)[i]);
    for (int f = 5; f < 9; f++) comma = strchr(comma, ',') + 1;
    assert_true(strtod(comma, NULL) == ((double *)upper95.values)[i]);
    assert_int_equal(((int32_t *)horizon.values)[i], (int)(i % 3) + 1);
  }
  oc_pq_column_free(&price);
  oc_pq_column_free(&upper95);
  oc_pq_column_free(&horizon);
  oc_pq_reader_close(&r);
  free(out);
  free(in);
}

static void test_batch_equals_local_forecasts_at_each_origin(void **state) {
  fixture *fx = *state;
  const oc_series *h = &fx->history;
  size_t origins[] = {h->n - 1, h->n - 40, h->n - 200, h->n - 41};
  oc_buf in = {0};
  oc_buf_puts(&in, "note,origin,series\n");
  char date[OC_DATE_STRLEN];
  for (size_t i = 0; i < 4; i++) oc_buf_printf(&in, "row%zu,%s,WTI-SIM\n", i, oc_date_format(h->dates[origins[i]], date));
  char *in_path = oc_test_write_file(fx->dir, "in.csv", in.data);
  oc_error err;
  int rc;
  char *one = run_batch(fx, in_path, 1, &rc, &err);
  if (rc != 0) fail_msg("%s", err.message);
  char *three = run_batch(fx, in_path, 3, &rc, &err);
  assert_int_equal(rc, 0);
  assert_string_equal(one, three);
  /* Each row: the local forecast from the history cut at its origin. */
  oc_buf expected = {0};
  oc_buf_puts(&expected, "series,origin,as_of,date,horizon,price,model\n");
  for (size_t i = 0; i < 4; i++) {
    oc_series cut = {.name = h->name, .n = origins[i] + 1, .dates = h->dates, .values = h->values};
    oc_mlp_prediction f;
    if (oc_mlp_forecast(&fx->net, &fx->card, &cut, NULL, 0, 3, &f, &err) != 0) fail_msg("%s", err.message);
    char origin[OC_DATE_STRLEN], as_of[OC_DATE_STRLEN], price[OC_NUMBER_STRLEN];
    oc_date_format(h->dates[origins[i]], origin);
    for (size_t k = 0; k < f.n; k++) {
      oc_buf_printf(&expected, "WTI-SIM,%s,%s,%s,%d,%s,%s\n", origin, oc_date_format(f.as_of, as_of),
                    oc_date_format(f.points[k].date, date), f.points[k].horizon,
                    oc_format_number(f.points[k].price, price), fx->card.version);
    }
    oc_mlp_prediction_free(&f);
  }
  assert_same_forecast_csv(one, expected.data);
  check_parquet_batch(fx, origins, 4, one);
  free(one);
  free(three);
  free(in_path);

  /* A bad date or an origin before enough history fails the whole batch, naming the line. */
  char *bad = oc_test_write_file(fx->dir, "bad.csv", "series,origin\nWTI-SIM,2021-02-30\n");
  char *none = run_batch(fx, bad, 2, &rc, &err);
  if (none) fail_msg("a bad date was accepted:\n%s", none);
  assert_non_null(strstr(err.message, "bad.csv:2"));
  free(bad);
  oc_buf early = {0};
  char first[OC_DATE_STRLEN];
  oc_buf_printf(&early, "series,origin\nWTI-SIM,%s\nWTI-SIM,%s\n", oc_date_format(h->dates[h->n - 1], date),
                oc_date_format(h->dates[3], first));
  bad = oc_test_write_file(fx->dir, "early.csv", early.data);
  none = run_batch(fx, bad, 2, &rc, &err);
  if (none) fail_msg("an origin with too little history was accepted:\n%.300s", none);
  assert_non_null(strstr(err.message, "early.csv:3"));
  free(bad);
  oc_buf_free(&early);
  oc_buf_free(&expected);
  oc_buf_free(&in);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_served_network_equals_local_forecast),
                                     cmocka_unit_test(test_batch_equals_local_forecasts_at_each_origin)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
