/* market.c (fuzz target "market"): the market-API answers (issue 13's "market-API responses"), each
 * read by a provider's parse (ingest/market_scan.h's one-pass reader). The first input byte picks the
 * provider (mod 3: EIA, FRED, Alpha Vantage), the rest is the HTTP body. Beyond "no crash, no leak" it
 * holds the reader to jansson, the strict DOM parser it replaced:
 *   - what jansson refuses, the reader refuses, as malformed or as not an object (only a number jansson
 *     cannot hold, "1e999", passes the reader: such a value is refused per row by the number check);
 *   - what jansson accepts as an object, the reader accepts, unless nested deeper than
 *     OC_MARKET_SCAN_DEPTH, repeating a member the provider reads (jansson keeps the last one) or
 *     holding a NUL byte (jansson lets one pass after a number: "{\"a\":1<NUL>}");
 *   - a page of rows has as many rows as jansson's array, each with the date string jansson reads;
 *   - a refusal (1) and an error (-1) leave a message. */
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "ingest/market.h"

static const oc_market_provider *const providers[] = {&oc_market_eia, &oc_market_fred, &oc_market_alphavantage};
static const char *const rows_path[][2] = {{"response", "data"}, {"observations", NULL}, {"data", NULL}};

static const json_t *rows_of(const json_t *root, size_t which) {
  const json_t *v = json_object_get(root, rows_path[which][0]);
  return rows_path[which][1] ? json_object_get(v, rows_path[which][1]) : v;
}

static void check_rows(const json_t *rows, const oc_market_page *page) {
  FUZZ_CHECK(json_is_array(rows) && json_array_size(rows) == page->nrows, "%zu rows read, jansson has %zu",
             page->nrows, json_array_size(rows));
  for (size_t i = 0; i < page->nrows; i++) {
    const oc_market_row *row = &page->rows[i];
    if (row->repeated) continue;
    const json_t *date = json_object_get(json_array_get(rows, i), page->date_key);
    FUZZ_CHECK(json_is_string(date) == (row->date_kind == OC_MARKET_STRING), "row %zu: date kind differs", i);
    if (json_is_string(date))
      FUZZ_CHECK(json_string_length(date) == row->date_len &&
                     memcmp(json_string_value(date), page->text.data + row->date_at, row->date_len) == 0,
                 "row %zu: the date text differs from jansson's", i);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  size_t which = data[0] % 3;
  const char *body = (const char *)data + 1;
  size_t len = size - 1;
  oc_market_page page;
  oc_error err;
  err.message[0] = '\0';
  int rc = providers[which]->parse(body, len, &page, &err);
  json_error_t jerr;
  /* the reader skips a leading UTF-8 byte order mark (RFC 8259 8.1 allows it); jansson does not */
  size_t bom = len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
  json_t *root = json_loadb(body + bom, len - bom, 0, &jerr);
  bool malformed = rc == -1 && strncmp(err.message, "malformed JSON", 14) == 0;
  if (!root) {
    bool number_range = strstr(jerr.text, "overflow") || strstr(jerr.text, "too big");
    bool not_object = rc == -1 && strcmp(err.message, "the answer is not a JSON object") == 0; /* "1", "\"s\"" */
    FUZZ_CHECK(malformed || not_object || number_range, "jansson refuses (%s) what the reader took (rc %d: %s)",
               jerr.text, rc, err.message);
  } else if (json_is_object(root) && !memchr(body, '\0', len)) { /* jansson takes {"a":1<NUL>}: the reader does not */
    FUZZ_CHECK(!malformed || strstr(err.message, "nested too deep") || strstr(err.message, "repeated member"),
               "the reader refuses what jansson accepts: %s", err.message);
  }
  if (rc == 0) {
    if (root) check_rows(rows_of(root, which), &page); /* no root: a number beyond a double (see above) */
    oc_market_page_free(&page);
  } else {
    FUZZ_CHECK(err.message[0], "a refusal without a message (rc %d)", rc);
  }
  json_decref(root);
  return 0;
}
