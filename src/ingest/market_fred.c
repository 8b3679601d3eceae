/* market_fred.c: the FRED provider of the market source (ingest/market.h): GET /fred/series/observations
 * ?series_id=DCOILWTICO&api_key=K&file_type=json&observation_start=D&offset=N&limit=100000 (Brent:
 * DCOILBRENTEU), answered by {"count":N,"offset":0,"limit":100000,"observations":[{"date":"...",
 * "value":"."},...]} where "." is a missing day (counted, never stored as 0); errors
 * {"error_code":400,"error_message":"..."}. Only builds URLs and reads answers. */
#include "ingest/market.h"

static void fred_page_url(const oc_market_query *q, size_t offset, oc_buf *url) {
  oc_buf_printf(url, "%s/fred/series/observations?", q->base_url);
  oc_market_url_param(url, "series_id", q->symbol);
  oc_market_url_param(url, "api_key", q->api_key);
  oc_buf_puts(url, "&file_type=json");
  if (q->since != OC_DATE_INVALID) {
    char day[OC_DATE_STRLEN];
    oc_market_url_param(url, "observation_start", oc_date_format(q->since, day));
  }
  oc_buf_printf(url, "&offset=%zu&limit=%zu", offset, oc_market_fred.page_size);
}

static int fred_parse(const char *body, size_t len, oc_market_page *page, oc_error *err) {
  json_t *root = oc_market_json_load(body, len, err);
  if (!root) return -1;
  const json_t *message = json_object_get(root, "error_message");
  if (message || json_object_get(root, "error_code")) {
    oc_error_set(err, "%s", json_is_string(message) ? json_string_value(message) : "an error without a message");
    json_decref(root);
    return 1;
  }
  size_t total = 0;
  if (oc_market_json_count(json_object_get(root, "count"), &total) != 0) {
    json_decref(root);
    return oc_error_set(err, "the answer has no count (the number of observations)");
  }
  return oc_market_page_set(page, root, json_object_get(root, "observations"), "date", total, err);
}

const oc_market_provider oc_market_fred = {.name = "fred",
                                           .base_url = "https://api.stlouisfed.org",
                                           .wti = "DCOILWTICO",
                                           .brent = "DCOILBRENTEU",
                                           .page_size = 100000,
                                           .page_url = fred_page_url,
                                           .parse = fred_parse};
