/* market_eia.c: the EIA API v2 provider of the market source (ingest/market.h): daily spot prices,
 * GET /v2/petroleum/pri/spt/data/?api_key=K&frequency=daily&data[0]=value&facets[series][]=RWTC
 * &start=D&sort[0][column]=period&sort[0][direction]=asc&offset=N&length=5000 (RWTC: WTI, RBRTE: Brent),
 * answered by {"response":{"total":..,"data":[{"period":"2020-04-20","series":"RWTC","value":"-36.98",
 * "units":"$/BBL",...}],...}}: at most 5,000 rows a page, `total` a string or a number, values strings
 * (numbers in older versions); errors {"error":"...","code":400} (or an object with a message). Only
 * builds URLs and reads answers: the driver (market.c) sends, retries and ingests. */
#include <string.h>

#include "ingest/market.h"

static void eia_page_url(const oc_market_query *q, size_t offset, oc_buf *url) {
  oc_buf_printf(url, "%s/v2/petroleum/pri/spt/data/?", q->base_url);
  oc_market_url_param(url, "api_key", q->api_key);
  oc_buf_puts(url, "&frequency=daily&data[0]=value");
  oc_market_url_param(url, "facets[series][]", q->symbol);
  if (q->since != OC_DATE_INVALID) {
    char day[OC_DATE_STRLEN];
    oc_market_url_param(url, "start", oc_date_format(q->since, day));
  }
  oc_buf_printf(url, "&sort[0][column]=period&sort[0][direction]=asc&offset=%zu&length=%zu", offset,
                oc_market_eia.page_size);
}

/* The error member's text: a string, or an object's message (older and newer API versions). */
static const char *eia_error_text(const json_t *error) {
  if (json_is_string(error)) return json_string_value(error);
  const json_t *message = json_object_get(error, "message");
  return json_is_string(message) ? json_string_value(message) : "an error without a message";
}

enum { EIA_ERROR, EIA_TOTAL };
static const oc_market_scan_spec eia_answer = {
    .rows = "response.data", .date_key = "period", .members = {[EIA_ERROR] = "error", [EIA_TOTAL] = "response.total"}};

static int eia_parse(const char *body, size_t len, oc_market_page *page, oc_error *err) {
  if (oc_market_scan(body, len, &eia_answer, page, err) != 0) return -1;
  if (page->members[EIA_ERROR]) return oc_market_page_refused(page, eia_error_text(page->members[EIA_ERROR]), err);
  if (oc_market_json_count(page->members[EIA_TOTAL], &page->total) != 0) {
    oc_market_page_free(page);
    return oc_error_set(err, "the answer has no response.total (a string or number of rows)");
  }
  return oc_market_page_rows(page, err);
}

const oc_market_provider oc_market_eia = {.name = "eia",
                                          .base_url = "https://api.eia.gov",
                                          .wti = "RWTC",
                                          .brent = "RBRTE",
                                          .page_size = 5000,
                                          .page_url = eia_page_url,
                                          .parse = eia_parse};
