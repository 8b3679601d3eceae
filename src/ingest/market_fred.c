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

enum { FRED_MESSAGE, FRED_CODE, FRED_COUNT };
static const oc_market_scan_spec fred_answer = {
    .rows = "observations",
    .date_key = "date",
    .members = {[FRED_MESSAGE] = "error_message", [FRED_CODE] = "error_code", [FRED_COUNT] = "count"}};

static int fred_parse(const char *body, size_t len, oc_market_page *page, oc_error *err) {
  if (oc_market_scan(body, len, &fred_answer, page, err) != 0) return -1;
  const json_t *message = page->members[FRED_MESSAGE];
  if (message || page->members[FRED_CODE])
    return oc_market_page_refused(page, json_is_string(message) ? json_string_value(message) : "an error without a message",
                                  err);
  if (oc_market_json_count(page->members[FRED_COUNT], &page->total) != 0) {
    oc_market_page_free(page);
    return oc_error_set(err, "the answer has no count (the number of observations)");
  }
  return oc_market_page_rows(page, err);
}

const oc_market_provider oc_market_fred = {.name = "fred",
                                           .base_url = "https://api.stlouisfed.org",
                                           .wti = "DCOILWTICO",
                                           .brent = "DCOILBRENTEU",
                                           .page_size = 100000,
                                           .page_url = fred_page_url,
                                           .parse = fred_parse};
