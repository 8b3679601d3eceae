/* client.c: the HTTP call (libcurl, one easy handle per call) and the mapping of the invocation answer
 * onto model/forecast.h's oc_forecast. */
#include "serve/client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static size_t collect(char *data, size_t size, size_t n, void *userdata) {
  oc_buf_append(userdata, data, size * n);
  return size * n;
}

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
  char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(17));
  json_decref(body);
  return text;
}

static int parse_answer(const char *text, size_t len, oc_forecast *out, oc_remote_answer *answer, oc_error *err) {
  json_error_t jerr;
  json_t *doc = json_loadb(text, len, 0, &jerr);
  if (!doc) return oc_error_set(err, "the server's answer is not JSON: %s", jerr.text);
  const char *origin, *version, *series;
  double last_price;
  json_t *points;
  if (json_unpack_ex(doc, &jerr, 0, "{s:s,s:s,s:s,s:F,s:o}", "series", &series, "origin", &origin, "model_version",
                     &version, "last_price", &last_price, "points", &points) != 0 ||
      !json_is_array(points)) {
    json_decref(doc);
    return oc_error_set(err, "unexpected answer from the server: %s", jerr.text);
  }
  memset(out, 0, sizeof *out);
  int rc = oc_date_parse(origin, strlen(origin), &out->as_of, NULL) == 0 ? 0 : oc_error_set(err, "bad origin '%s'", origin);
  out->last_price = last_price;
  out->n = json_array_size(points);
  out->points = oc_xcalloc(out->n ? out->n : 1, sizeof *out->points);
  for (size_t i = 0; rc == 0 && i < out->n; i++) {
    const char *date;
    double price;
    if (json_unpack_ex(json_array_get(points, i), &jerr, 0, "{s:s,s:F}", "date", &date, "price", &price) != 0 ||
        oc_date_parse(date, strlen(date), &out->points[i].date, NULL) != 0) {
      rc = oc_error_set(err, "unexpected point %zu in the server's answer", i);
      break;
    }
    out->points[i].horizon = (int)i + 1;
    out->points[i].price = price;
    out->points[i].log_return = log(price / last_price);
  }
  snprintf(answer->model_version, sizeof answer->model_version, "%s", version);
  snprintf(answer->series, sizeof answer->series, "%s", series);
  json_decref(doc);
  if (rc != 0) oc_forecast_free(out);
  return rc;
}

int oc_remote_forecast(const oc_remote_request *req, oc_forecast *out, oc_remote_answer *answer, oc_error *err) {
  CURL *curl = curl_easy_init();
  if (!curl) return oc_error_set(err, "libcurl could not start");
  oc_buf url = {0}, reply = {0}, auth = {0};
  size_t base = strlen(req->url);
  while (base && req->url[base - 1] == '/') base--;
  char *escaped = curl_easy_escape(curl, req->endpoint, 0);
  oc_buf_printf(&url, "%.*s/v1/endpoints/%s/invocations", (int)base, req->url, escaped);
  curl_free(escaped);
  char *body = request_body(req);
  struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
  if (req->api_key) {
    oc_buf_printf(&auth, "Authorization: Bearer %s", req->api_key);
    headers = curl_slist_append(headers, auth.data);
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.data);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  int rc = 0;
  if (code != CURLE_OK) {
    rc = oc_error_set(err, "calling %s: %s", url.data, curl_easy_strerror(code));
  } else if (status != 200) {
    json_error_t jerr;
    json_t *doc = json_loadb(reply.data ? reply.data : "", reply.len, 0, &jerr);
    const char *message = doc ? json_string_value(json_object_get(json_object_get(doc, "error"), "message")) : NULL;
    rc = oc_error_set(err, "%s answered %ld: %s", url.data, status, message ? message : "(no error message)");
    json_decref(doc);
  } else {
    rc = parse_answer(reply.data ? reply.data : "", reply.len, out, answer, err);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  free(body);
  oc_buf_free(&url);
  oc_buf_free(&reply);
  oc_buf_free(&auth);
  return rc;
}
