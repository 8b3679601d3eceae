/* Unit tests for the server's pure parts: route matching (literals, parameters, rest-of-path, 404 vs
 * 405 with Allow), token-bucket arithmetic (exact burst, refill, headers) and the Prometheus text
 * format of the metrics. No sockets here: the end-to-end tests run a real server. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "serve/metrics.h"
#include "serve/ratelimit.h"
#include "serve/router.h"

static const oc_route table[] = {
    {"GET", "/healthz", NULL},
    {"GET", "/v1/series", NULL},
    {"GET", "/v1/series/{name}", NULL},
    {"POST", "/v1/series/{name}/observations", NULL},
    {"PUT", "/v1/endpoints/{name}", NULL},
    {"GET", "/v1/endpoints", NULL},
    {"GET", "/static/{path*}", NULL},
    {"GET", "/", NULL},
};
#define N_ROUTES (sizeof table / sizeof table[0])

static void test_route_literals_and_params(void **state) {
  (void)state;
  size_t i;
  oc_route_params p;
  assert_int_equal(oc_route_match(table, N_ROUTES, "GET", "/healthz", &i, &p, NULL, 0), OC_ROUTE_FOUND);
  assert_int_equal(i, 0);
  assert_int_equal(oc_route_match(table, N_ROUTES, "GET", "/", &i, &p, NULL, 0), OC_ROUTE_FOUND);
  assert_int_equal(i, 7);
  assert_int_equal(oc_route_match(table, N_ROUTES, "GET", "/v1/series/WTI", &i, &p, NULL, 0), OC_ROUTE_FOUND);
  assert_int_equal(i, 2);
  assert_string_equal(oc_route_param(&p, "name"), "WTI");
  assert_null(oc_route_param(&p, "nam"));
  assert_int_equal(oc_route_match(table, N_ROUTES, "POST", "/v1/series/Brent%20Crude/observations", &i, &p, NULL, 0),
                   OC_ROUTE_FOUND);
  assert_int_equal(i, 3);
  assert_string_equal(oc_route_param(&p, "name"), "Brent Crude");
  assert_int_equal(oc_route_match(table, N_ROUTES, "GET", "/static/js/app.js", &i, &p, NULL, 0), OC_ROUTE_FOUND);
  assert_string_equal(oc_route_param(&p, "path"), "js/app.js");
}

static void test_route_not_found_and_method_mismatch(void **state) {
  (void)state;
  size_t i;
  oc_route_params p;
  char allow[64];
  const char *missing[] = {"/v1/series/", "/v1/series//observations", "/v1/seriesX", "/healthz/", "/v1",
                           "/static/",    "/v1/series/a/b",           "/v1/series/%zz", "/v1/series/a%00b"};
  for (size_t k = 0; k < sizeof missing / sizeof missing[0]; k++) {
    oc_route_result r = oc_route_match(table, N_ROUTES, "GET", missing[k], &i, &p, allow, sizeof allow);
    if (r != OC_ROUTE_NOT_FOUND) fail_msg("%s should be 404, got %d", missing[k], (int)r);
  }
  assert_int_equal(oc_route_match(table, N_ROUTES, "DELETE", "/v1/series/WTI", &i, &p, allow, sizeof allow),
                   OC_ROUTE_METHOD_MISMATCH);
  assert_string_equal(allow, "GET");
  assert_int_equal(oc_route_match(table, N_ROUTES, "POST", "/v1/endpoints/x", &i, &p, allow, sizeof allow),
                   OC_ROUTE_METHOD_MISMATCH);
  assert_string_equal(allow, "PUT");
}

static void test_token_bucket_exact_burst_and_refill(void **state) {
  (void)state;
  oc_rate rate = {.per_second = 2, .burst = 5};
  oc_token_bucket b;
  oc_token_bucket_init(&b, &rate, 100.0);
  for (int i = 0; i < 5; i++) {
    oc_rate_decision d = oc_token_bucket_take(&b, &rate, 100.0);
    assert_true(d.allowed);
    assert_int_equal(d.limit, 5);
    assert_int_equal(d.remaining, 4 - i);
  }
  oc_rate_decision refused = oc_token_bucket_take(&b, &rate, 100.0);
  assert_false(refused.allowed);
  assert_int_equal(refused.remaining, 0);
  assert_int_equal(refused.retry_after, 1); /* 0.5 s for one token, rounded up */
  assert_int_equal(refused.reset, 3);       /* 2.5 s to refill 5 tokens, rounded up */
  assert_false(oc_token_bucket_take(&b, &rate, 100.4).allowed);
  assert_true(oc_token_bucket_take(&b, &rate, 100.5).allowed);
  /* A long pause refills to the burst, not beyond. */
  for (int i = 0; i < 5; i++) assert_true(oc_token_bucket_take(&b, &rate, 1000.0).allowed);
  assert_false(oc_token_bucket_take(&b, &rate, 1000.0).allowed);
}

static void test_rate_parse(void **state) {
  (void)state;
  double r;
  assert_int_equal(oc_rate_parse("50/s", &r, NULL), 0);
  assert_true(r == 50);
  assert_int_equal(oc_rate_parse("120/m", &r, NULL), 0);
  assert_true(r == 2);
  assert_int_equal(oc_rate_parse("7200/h", &r, NULL), 0);
  assert_true(r == 2);
  assert_int_equal(oc_rate_parse("3", &r, NULL), 0);
  assert_true(r == 3);
  oc_error err;
  const char *bad[] = {"", "x", "0/s", "-1/s", "5/d", "5/", "5 /s", "nan/s"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_int_equal(oc_rate_parse(bad[i], &r, &err), -1);
}

static void test_rate_limiter_keys_are_independent(void **state) {
  (void)state;
  oc_rate_limiter l;
  oc_rate_limiter_init(&l);
  oc_rate rate = {.per_second = 1.0 / 3600, .burst = 2};
  assert_true(oc_rate_limiter_take(&l, "a", &rate, 0).allowed);
  assert_true(oc_rate_limiter_take(&l, "a", &rate, 0).allowed);
  assert_false(oc_rate_limiter_take(&l, "a", &rate, 0).allowed);
  assert_true(oc_rate_limiter_take(&l, "b", &rate, 0).allowed);
  oc_rate unlimited = {0};
  for (int i = 0; i < 100; i++) assert_true(oc_rate_limiter_take(&l, "c", &unlimited, 0).allowed);
  oc_rate_limiter_free(&l);
}

static void test_metrics_exposition(void **state) {
  (void)state;
  oc_metrics *m = oc_metrics_new(table, N_ROUTES);
  oc_metrics_observe_request(m, 2, 200, 0.0003);
  oc_metrics_observe_request(m, 2, 200, 0.002);
  oc_metrics_observe_request(m, 2, 404, 0.00005);
  oc_metrics_observe_request(m, N_ROUTES, 405, 0.00001);
  const char *labels[] = {"endpoint", "oil", "variant", "canary \"b\"", "model_version", "v2"};
  oc_metrics_add(m, OC_METRIC_FORECASTS, 1, 3, labels);
  oc_metrics_add(m, OC_METRIC_FORECASTS, 2, 3, labels);
  const char *load[] = {"model_version", "v2"};
  oc_metrics_set(m, OC_METRIC_MODEL_LOAD, 0.25, 1, load);
  oc_buf out = {0};
  oc_metrics_render(m, &out);
  const char *expected[] = {
      "# TYPE oilcast_http_requests_total counter\n",
      "oilcast_http_requests_total{method=\"GET\",route=\"/v1/series/{name}\",status=\"200\"} 2\n",
      "oilcast_http_requests_total{method=\"GET\",route=\"/v1/series/{name}\",status=\"404\"} 1\n",
      "oilcast_http_requests_total{method=\"\",route=\"unmatched\",status=\"405\"} 1\n",
      "# TYPE oilcast_http_request_duration_seconds histogram\n",
      "oilcast_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/series/{name}\",le=\"0.0001\"} 1\n",
      "oilcast_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/series/{name}\",le=\"0.0005\"} 2\n",
      "oilcast_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/series/{name}\",le=\"+Inf\"} 3\n",
      "oilcast_http_request_duration_seconds_count{method=\"GET\",route=\"/v1/series/{name}\"} 3\n",
      "oilcast_forecasts_total{endpoint=\"oil\",variant=\"canary \\\"b\\\"\",model_version=\"v2\"} 3\n",
      "oilcast_model_load_seconds{model_version=\"v2\"} 0.25\n",
      "# TYPE process_resident_memory_bytes gauge\n",
      "oilcast_uptime_seconds ",
  };
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
    if (!strstr(out.data, expected[i])) fail_msg("missing from the exposition: %s\n---\n%s", expected[i], out.data);
  }
  /* Every non-comment line is "name{labels} value" or "name value". */
  for (char *line = out.data; *line;) {
    char *end = strchr(line, '\n');
    assert_non_null(end);
    if (*line != '#') {
      char *space = memrchr(line, ' ', (size_t)(end - line));
      assert_non_null(space);
      char *num_end;
      strtod(space + 1, &num_end);
      assert_ptr_equal(num_end, end);
    }
    line = end + 1;
  }
  oc_buf_free(&out);
  oc_metrics_free(m);
}

/* A refreshed gauge family keeps what the refresh set and drops what it no longer gives; a refresh that
 * never ends (the store failed) leaves the family as it was; other families are untouched. */
static void test_metrics_refresh_drops_gone_values(void **state) {
  (void)state;
  oc_metrics *m = oc_metrics_new(table, N_ROUTES);
  const char *v1[] = {"job", "nightly"}, *v2[] = {"job", "weekly"}, *load[] = {"model_version", "v2"};
  oc_metrics_set(m, OC_METRIC_JOB_FAILURES, 3, 1, v1);
  oc_metrics_set(m, OC_METRIC_JOB_FAILURES, 1, 1, v2);
  oc_metrics_set(m, OC_METRIC_MODEL_LOAD, 0.25, 1, load);
  uint64_t refresh = oc_metrics_refresh_begin(m, OC_METRIC_JOB_FAILURES);
  oc_metrics_set(m, OC_METRIC_JOB_FAILURES, 0, 1, v2); /* weekly ran again; nightly was taken out */
  oc_buf out = {0};
  oc_metrics_render(m, &out); /* during the refresh: old or new values, nothing missing */
  assert_non_null(strstr(out.data, "oilcast_job_consecutive_failures{job=\"nightly\"} 3\n"));
  assert_non_null(strstr(out.data, "oilcast_job_consecutive_failures{job=\"weekly\"} 0\n"));
  oc_metrics_refresh_end(m, OC_METRIC_JOB_FAILURES, refresh);
  oc_buf_clear(&out);
  oc_metrics_render(m, &out);
  assert_null(strstr(out.data, "job=\"nightly\""));
  assert_non_null(strstr(out.data, "oilcast_job_consecutive_failures{job=\"weekly\"} 0\n"));
  assert_non_null(strstr(out.data, "oilcast_model_load_seconds{model_version=\"v2\"} 0.25\n"));
  oc_metrics_refresh_begin(m, OC_METRIC_JOB_FAILURES); /* a refresh that fails before its end */
  oc_buf_clear(&out);
  oc_metrics_render(m, &out);
  assert_non_null(strstr(out.data, "oilcast_job_consecutive_failures{job=\"weekly\"} 0\n"));
  oc_buf_free(&out);
  oc_metrics_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_metrics_refresh_drops_gone_values),
      cmocka_unit_test(test_route_literals_and_params),
      cmocka_unit_test(test_route_not_found_and_method_mismatch),
      cmocka_unit_test(test_token_bucket_exact_burst_and_refill),
      cmocka_unit_test(test_rate_parse),
      cmocka_unit_test(test_rate_limiter_keys_are_independent),
      cmocka_unit_test(test_metrics_exposition),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
