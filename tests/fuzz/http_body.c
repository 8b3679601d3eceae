/* http_body.c (fuzz target "http_body"): the JSON request bodies of `oilcast serve`, each through the
 * code a request runs. The first input byte picks the body (mod 3), the rest is the body:
 *   0  POST /v1/series/OBS/observations: the real handler (its rows go through ingest/batch.h's
 *      oc_ingest_batch into the store);
 *   1  PUT /v1/endpoints/{name}: the strict body parser (serve/http.h) and oc_endpoint_spec_parse
 *      (serve/endpoints.h), not the put itself (loading models per input would be all of the time);
 *   2  POST /v1/endpoints/fuzz/invocations: the real handler, on an endpoint serving the "naive" spec
 *      for FUZZ (the given-history parser is static in handlers_models.c, so the handler is the way in).
 * Handlers are called in-process on a started server (handlers.h, the route table for their path
 * parameters), as libmicrohttpd would after auth. Beyond "no crash, no leak" it asserts:
 *   - every answer is an HTTP status 200..599 whose body is valid JSON (issue 13: no `inf`/`nan`),
 *     and every 4xx/5xx is the error envelope {"error":{"code","message"}};
 *   - an accepted observations body stored every row (inserted + updated + unchanged = rows);
 *   - an accepted endpoint spec has 1..8 variants with valid, distinct names, non-empty model
 *     versions and finite weights >= 0 adding up to more than 0; a rejected one says why.
 * The server and its store are shared by the inputs of a run. Observations go to their own series, OBS,
 * so that what an input answers does not depend on earlier inputs: the endpoint forecasts FUZZ, whose
 * stored history never changes (only OBS's inserted/updated/unchanged split depends on the past). */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "serve/endpoints.h"
#include "serve/handlers.h"
#include "serve/server.h"
#include "testutil.h"

static char *scratch_dir;
static oc_server *server;

static void scratch_close(void) {
  oc_server_stop(server, 0);
  oc_test_rmtree(scratch_dir);
  free(scratch_dir);
}

/* Runs the route's handler for method and path with body, as the server would after auth. */
static void call(const char *method, const char *path, const void *body, size_t len, oc_response *resp) {
  size_t nroutes, index;
  const oc_route *routes = oc_serve_routes(&nroutes);
  oc_request req = {.server = server, .method = method, .path = path, .body = body, .body_len = len,
                    .request_id = "fuzz-request"};
  FUZZ_CHECK(oc_route_match(routes, nroutes, method, path, &index, &req.params, NULL, 0) == OC_ROUTE_FOUND,
             "no route %s %s", method, path);
  *resp = (oc_response){0};
  ((const oc_route_spec *)routes[index].data)->handler(&req, resp);
}

static void scratch_open(void) {
  oc_store *store;
  scratch_dir = oc_test_datadir("fuzz-http", &store);
  const char *names[] = {"FUZZ", "OBS"};
  for (size_t i = 0; i < 2; i++) {
    oc_series history = oc_test_random_walk_series(names[i], 60, 0.0, 1 + i);
    oc_test_store_series(store, &history);
    oc_series_free(&history);
  }
  oc_store_close(store);
  char url[64];
  server = oc_test_server_start(scratch_dir, url);
  static const char put[] = "{\"series\":\"FUZZ\",\"model_version\":\"naive\"}";
  oc_response resp;
  call("PUT", "/v1/endpoints/fuzz", put, strlen(put), &resp);
  FUZZ_CHECK(resp.status == 201, "creating the endpoint answered %d: %s", resp.status, resp.body.data);
  oc_buf_free(&resp.body);
  atexit(scratch_close);
}

/* The answer's JSON (a new reference), checked: status, valid JSON, the error envelope. */
static json_t *checked_answer(const oc_response *resp) {
  FUZZ_CHECK(resp->status >= 200 && resp->status <= 599, "status %d", resp->status);
  json_error_t jerr;
  json_t *json = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, &jerr);
  FUZZ_CHECK(json, "status %d, body is not JSON (%s): %.*s", resp->status, jerr.text, (int)resp->body.len,
             resp->body.data);
  if (resp->status >= 400) {
    json_t *error = json_object_get(json, "error");
    FUZZ_CHECK(json_is_string(json_object_get(error, "code")) && json_is_string(json_object_get(error, "message")),
               "status %d without the error envelope: %s", resp->status, resp->body.data);
  }
  return json;
}

static void observations(const uint8_t *body, size_t len) {
  oc_response resp;
  call("POST", "/v1/series/OBS/observations", body, len, &resp);
  json_t *answer = checked_answer(&resp);
  if (resp.status == 200) {
    json_t *sent = json_loadb((const char *)body, len, 0, NULL);
    json_int_t stored = json_integer_value(json_object_get(answer, "inserted")) +
                        json_integer_value(json_object_get(answer, "updated")) +
                        json_integer_value(json_object_get(answer, "unchanged"));
    FUZZ_CHECK(stored == (json_int_t)json_array_size(json_object_get(sent, "observations")),
               "%lld rows stored of %zu sent", (long long)stored, json_array_size(json_object_get(sent, "observations")));
    json_decref(sent);
  }
  json_decref(answer);
  oc_buf_free(&resp.body);
}

static bool valid_variant_name(const char *name) {
  size_t n = strlen(name);
  return n >= 1 && n <= 63 && name[0] != '.' &&
         strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static void endpoint_spec(const uint8_t *body, size_t len) {
  oc_request req = {.body = (const char *)body, .body_len = len};
  oc_response resp = {0};
  json_t *json = oc_request_json_object(&req, &resp);
  if (!json) {
    FUZZ_CHECK(resp.status == 400, "a body that does not parse answered %d", resp.status);
    json_decref(checked_answer(&resp));
    oc_buf_free(&resp.body);
    return;
  }
  oc_endpoint_spec spec;
  oc_error err;
  if (oc_endpoint_spec_parse(json, "fuzz-put", &spec, &err) != 0) {
    FUZZ_CHECK(strstr(err.message, "fuzz-put"), "the error does not name the endpoint: %s", err.message);
  } else {
    FUZZ_CHECK(spec.n_variants >= 1 && spec.n_variants <= OC_ENDPOINT_MAX_VARIANTS, "%zu variants", spec.n_variants);
    double total = 0;
    for (size_t i = 0; i < spec.n_variants; i++) {
      const oc_variant_spec *v = &spec.variants[i];
      FUZZ_CHECK(valid_variant_name(v->name), "variant %zu is named '%s'", i, v->name);
      FUZZ_CHECK(v->model_version[0], "variant %zu has an empty model version", i);
      FUZZ_CHECK(isfinite(v->weight) && v->weight >= 0, "variant %zu weighs %g", i, v->weight);
      for (size_t k = 0; k < i; k++) FUZZ_CHECK(strcmp(spec.variants[k].name, v->name), "two variants '%s'", v->name);
      total += v->weight;
    }
    FUZZ_CHECK(total > 0, "the weights add up to %g", total);
  }
  json_decref(json);
}

static void invocation(const uint8_t *body, size_t len) {
  oc_response resp;
  call("POST", "/v1/endpoints/fuzz/invocations", body, len, &resp);
  json_decref(checked_answer(&resp));
  oc_buf_free(&resp.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  if (!server) scratch_open();
  switch (data[0] % 3) {
  case 0: observations(data + 1, size - 1); break;
  case 1: endpoint_spec(data + 1, size - 1); break;
  default: invocation(data + 1, size - 1); break;
  }
  return 0;
}
