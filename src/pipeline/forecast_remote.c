/* forecast_remote.c: the invocation's request body, the call (core/http_client.h) and the mapping of
 * its answer onto oc_price_forecast. */
#include "pipeline/forecast_remote.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/http_client.h"
#include "core/json.h"

static char *request_body(const oc_remote_request *req) {
  json_t *body = json_object();
  if (req->days > 0) json_object_set_new(body, "forecast_days", json_integer(req->days));
  if (req->history) {
    json_t *prices = json_array();
    char date[OC_DATE_STRLEN];
    for (size_t i = 0; i < req->history->n; i++) {
      json_array_append_new(prices, json_pack("{s:s,s:f}", "date", oc_date_format(req->history->dates[i], date),
                                              "price", req->history->values[i]));
    }
    json_object_set_new(body, "historical_prices", prices);
  }
  char *text = oc_json_dumps(body, OC_JSON_COMPACT);
  json_decref(body);
  return text;
}

static int parse_answer(const char *text, size_t len, oc_price_forecast *out, oc_remote_answer *answer, oc_error *err) {
  json_error_t jerr;
  json_t *doc = json_loadb(text, len, 0, &jerr);
  if (!doc) return oc_error_set(err, "the server's answer is not JSON: %s", jerr.text);
  const char *origin, *version, *series, *kind;
  double last_price;
  json_t *points;
  if (json_unpack_ex(doc, &jerr, 0, "{s:s,s:s,s:s,s:s,s:F,s:o}", "series", &series, "origin", &origin, "model_version",
                     &version, "model", &kind, "last_price", &last_price, "points", &points) != 0 ||
      !json_is_array(points)) {
    json_decref(doc);
    return oc_error_set(err, "unexpected answer from the server: %s", jerr.text);
  }
  memset(out, 0, sizeof *out);
  int rc = oc_date_parse(origin, strlen(origin), &out->origin, NULL) == 0 ? 0 : oc_error_set(err, "bad origin '%s'", origin);
  out->origin_price = last_price;
  out->horizon = json_array_size(points);
  if (rc == 0 && (out->horizon < 1 || out->horizon > OC_FORECAST_MAX_HORIZON))
    rc = oc_error_set(err, "the server's answer has %zu points (expected 1..%d)", out->horizon, OC_FORECAST_MAX_HORIZON);
  for (size_t i = 0; rc == 0 && i < out->horizon; i++) {
    const char *date;
    oc_date day;
    if (json_unpack_ex(json_array_get(points, i), &jerr, 0, "{s:s,s:F,s:F,s:F,s:F,s:F}", "date", &date, "price",
                       &out->mean[i], "lower80", &out->lo80[i], "upper80", &out->hi80[i], "lower95", &out->lo95[i],
                       "upper95", &out->hi95[i]) != 0 ||
        oc_date_parse(date, strlen(date), &day, NULL) != 0 || day != oc_calendar_add_trading_days(out->origin, (int)i + 1))
      rc = oc_error_set(err, "unexpected point %zu in the server's answer", i);
  }
  snprintf(answer->model_version, sizeof answer->model_version, "%s", version);
  snprintf(answer->model_kind, sizeof answer->model_kind, "%s", kind);
  snprintf(answer->series, sizeof answer->series, "%s", series);
  json_decref(doc);
  return rc;
}

int oc_remote_forecast(const oc_remote_request *req, oc_price_forecast *out, oc_remote_answer *answer, oc_error *err) {
  oc_buf url = {0}, reply = {0}, auth = {0};
  size_t base = strlen(req->url);
  while (base && req->url[base - 1] == '/') base--;
  char *escaped = oc_http_escape(req->endpoint);
  oc_buf_printf(&url, "%.*s/v1/endpoints/%s/invocations", (int)base, req->url, escaped);
  free(escaped);
  if (req->api_key) oc_buf_printf(&auth, "Authorization: Bearer %s", req->api_key);
  const char *headers[] = {"Content-Type: application/json", req->api_key ? auth.data : NULL, NULL};
  char *body = request_body(req);
  oc_http_request call = {.method = "POST", .url = url.data, .headers = headers, .body = body, .timeout_seconds = 30};
  long status;
  int rc = oc_http_send(&call, &status, &reply, err);
  if (rc == 0 && status != 200) {
    json_error_t jerr;
    json_t *doc = json_loadb(reply.data ? reply.data : "", reply.len, 0, &jerr);
    const char *message = doc ? json_string_value(json_object_get(json_object_get(doc, "error"), "message")) : NULL;
    rc = oc_error_set(err, "%s answered %ld: %s", url.data, status, message ? message : "(no error message)");
    json_decref(doc);
  } else if (rc == 0) {
    rc = parse_answer(reply.data ? reply.data : "", reply.len, out, answer, err);
  }
  free(body);
  oc_buf_free(&url);
  oc_buf_free(&reply);
  oc_buf_free(&auth);
  return rc;
}
