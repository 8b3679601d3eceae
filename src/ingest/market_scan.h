/* market_scan.h: the one reader of market-API answers (EIA, FRED and Alpha Vantage all answer with an
 * object holding an "array of small objects", each a date and a value). One pass over the bytes, no
 * document tree: the whole answer is checked as strict JSON (RFC 8259: grammar, escapes, UTF-8, no
 * \u0000, no lone surrogate, nothing after the value, nesting at most OC_MARKET_SCAN_DEPTH; a leading
 * UTF-8 byte order mark is skipped, as RFC 8259 allows), the rows
 * of the array at spec->rows are kept as (date, value) text, and the few other members a provider
 * reads (its error text, its total) are handed back as small jansson values.
 * A malformed answer is refused with its line, column and byte offset. Never modifies the bytes (the
 * raw zone keeps them exact), knows no provider, no store, no network. */
#ifndef OC_INGEST_MARKET_SCAN_H
#define OC_INGEST_MARKET_SCAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

#define OC_MARKET_SCAN_DEPTH 256
#define OC_MARKET_SCAN_MEMBERS 4

/* What a row's value (or date) was in the answer. */
typedef enum {
  OC_MARKET_ABSENT = 0,
  OC_MARKET_STRING,
  OC_MARKET_NUMBER,
  OC_MARKET_NULL,
  OC_MARKET_OTHER /* true, false, an object or an array */
} oc_market_kind;

/* One element of the rows array. The texts are decoded (escapes resolved) into the page's text,
 * at [date_at, date_at + date_len) and [value_at, value_at + value_len); a number's text is its JSON
 * spelling. */
typedef struct oc_market_row {
  size_t offset; /* byte offset of the element in the answer */
  oc_market_kind date_kind, value_kind;
  size_t date_at, date_len, value_at, value_len;
  const char *repeated; /* the date key or "value" when the object holds it twice; else NULL */
} oc_market_row;

/* What a provider reads: dotted paths from the root object ("response.data"). */
typedef struct oc_market_scan_spec {
  const char *rows;     /* the array of observations */
  const char *date_key; /* the date member of each row: "period" (EIA) or "date" */
  const char *members[OC_MARKET_SCAN_MEMBERS]; /* other values wanted (NULL-terminated when fewer) */
} oc_market_scan_spec;

/* One answer read. */
typedef struct oc_market_page {
  oc_market_row *rows;
  size_t nrows;
  bool has_rows;        /* the answer holds an array at spec->rows */
  oc_buf text;          /* the rows' decoded texts */
  const char *date_key; /* "period" or "date" */
  size_t total;         /* rows the query matches over all pages; 0: the provider does not page */
  json_t *members[OC_MARKET_SCAN_MEMBERS]; /* spec->members' values, NULL where absent */
} oc_market_page;

/* Reads body against spec into *page (all of it freed on failure). -1 with err: "malformed JSON at
 * line L column C (byte B): why", "the answer is not a JSON object", or a repeated member of a path
 * the spec reads. A missing rows array is not an error here (has_rows says it). */
int oc_market_scan(const char *body, size_t len, const oc_market_scan_spec *spec, oc_market_page *page,
                   oc_error *err);
void oc_market_page_free(oc_market_page *page);

#endif
