/* market_alphavantage.c: the Alpha Vantage provider of the market source (ingest/market.h):
 * GET /query?function=WTI|BRENT&interval=daily&datatype=json&apikey=K, answered by {"name":..,
 * "interval":"daily","unit":"dollars per barrel","data":[{"date":"...","value":"..."}]}, newest first,
 * "." missing, the whole history in one answer (no paging, no start date: the driver drops rows
 * before the date it wants). When throttled it answers HTTP 200 with {"Information":"..."} (older:
 * {"Note":"..."}; a bad call: {"Error Message":"..."}): an error carrying the provider's words, never
 * an empty success. Only builds URLs and reads answers. */
#include "ingest/market.h"

static void alphavantage_page_url(const oc_market_query *q, size_t offset, oc_buf *url) {
  (void)offset; /* one page */
  oc_buf_printf(url, "%s/query?", q->base_url);
  oc_market_url_param(url, "function", q->symbol);
  oc_buf_puts(url, "&interval=daily&datatype=json");
  oc_market_url_param(url, "apikey", q->api_key);
}

static const oc_market_scan_spec alphavantage_answer = {
    .rows = "data", .date_key = "date", .members = {"Information", "Note", "Error Message"}};

static int alphavantage_parse(const char *body, size_t len, oc_market_page *page, oc_error *err) {
  if (oc_market_scan(body, len, &alphavantage_answer, page, err) != 0) return -1;
  for (int i = 0; i < OC_MARKET_SCAN_MEMBERS && alphavantage_answer.members[i]; i++) {
    const json_t *said = page->members[i];
    if (said) return oc_market_page_refused(page, json_is_string(said) ? json_string_value(said) : alphavantage_answer.members[i], err);
  }
  return oc_market_page_rows(page, err);
}

const oc_market_provider oc_market_alphavantage = {.name = "alphavantage",
                                                   .base_url = "https://www.alphavantage.co",
                                                   .wti = "WTI",
                                                   .brent = "BRENT",
                                                   .page_size = 0,
                                                   .page_url = alphavantage_page_url,
                                                   .parse = alphavantage_parse};
