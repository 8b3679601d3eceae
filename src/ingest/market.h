/* market.h: the market-API source of the ingest path (`oilcast ingest --source market`): prices pulled
 * from a provider's web API (EIA API v2, FRED, Alpha Vantage) into ONE ingest batch (ingest/batch.h).
 * A provider is one table entry (oc_market_provider): how to ask for a page and how to read an
 * answer. The driver (market.c) does the rest for every provider alike:
 *   - incremental: from the last stored date minus an overlap of trading days (late revisions are
 *     caught; the batch counts a changed value as an update, i.e. a revision);
 *   - paging until the provider's total, retries with exponential backoff and jitter on timeouts,
 *     connection errors, 5xx and 429 (Retry-After honoured), none on other 4xx, a limit on total time;
 *   - every answer (retried ones too) kept in memory until the whole fetch succeeded, then written to
 *     the raw zone as DIR/raw/market_data/<provider>/YYYY-MM-DD/<sha256>.json, described by a manifest
 *     (request URL with the key redacted, status, headers, time, SHA-256, file) that is the batch's
 *     lineage copy (<sha256>.manifest.json beside them): so all pages or nothing, and a kill during the
 *     fetch leaves the store and the raw zone as they were;
 *   - a replay: the same rows read again from a manifest and its files alone, without the network;
 *   - the API key never appears in a message, a log line, a manifest or a stored answer.
 * Knows no CLI: reads the store (the last stored date), never writes to it except through
 * oc_ingest_batch. Prints nothing. */
#ifndef OC_INGEST_MARKET_H
#define OC_INGEST_MARKET_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/error.h"
#include "ingest/batch.h"
#include "ingest/market_scan.h"
#include "store/store.h"

/* What one request asks for. base_url has no trailing slash. */
typedef struct oc_market_query {
  const char *base_url;
  const char *symbol;  /* the provider's id of the series: RWTC, DCOILWTICO, WTI */
  const char *api_key; /* as sent; the driver builds every URL a second time with a mask to show it */
  oc_date since;       /* first date wanted; OC_DATE_INVALID: the whole history */
} oc_market_query;

typedef struct oc_market_provider {
  const char *name;       /* "eia": --provider, the raw folder, the series' recorded provider */
  const char *base_url;   /* the real API's root */
  const char *wti, *brent; /* provider ids of the WTI and Brent spot prices (the --symbol defaults) */
  size_t page_size;       /* rows asked per page; 0: one request answers everything */
  /* Appends the URL of the page whose first row is row `offset` of the query's answer. */
  void (*page_url)(const oc_market_query *q, size_t offset, oc_buf *url);
  /* Reads an answer's body: 0 with *page for a page of data; 1 with err holding the provider's own
   * words when the body is the provider's error (EIA {"error":..}, FRED {"error_message":..}, Alpha
   * Vantage's HTTP 200 {"Information":..}); -1 with err when it is not JSON or not shaped as documented. */
  int (*parse)(const char *body, size_t len, oc_market_page *page, oc_error *err);
} oc_market_provider;

extern const oc_market_provider oc_market_eia, oc_market_fred, oc_market_alphavantage;

/* The provider named name ("eia", "fred", "alphavantage"), or NULL; names lists them ("a, b or c"). */
const oc_market_provider *oc_market_provider_find(const char *name);
extern const char oc_market_provider_names[];

/* Endings of a provider's parse (market_<provider>.c), after oc_market_scan: the provider's refusal
 * (err = said, the page freed, 1); a page that must hold its rows array (0, or -1 with the page freed). */
int oc_market_page_refused(oc_market_page *page, const char *said, oc_error *err);
int oc_market_page_rows(oc_market_page *page, oc_error *err);
/* total as the provider wrote it: a JSON number or a string of digits (EIA writes both). */
int oc_market_json_count(const json_t *value, size_t *count);
/* Appends "&name=value" ("name=value" right after the "?"), value percent-encoded, name as given. */
void oc_market_url_param(oc_buf *url, const char *name, const char *value);

/* text with every occurrence of key, as given and as a URL carries it (percent-encoded), replaced by a
 * mask of the same length (in place). */
void oc_market_mask_key(char *text, size_t len, const char *key);

/* The retry policy of one fetch. */
typedef struct oc_market_retry {
  int max_attempts;     /* per request, the first included (default 5) */
  double backoff_base;  /* seconds before the first retry, doubled for each next one (default 1) */
  double backoff_max;   /* the longest single wait (default 60 s) */
  double total_seconds; /* the whole fetch gives up past this (default 300 s) */
  long timeout_ms;      /* one request (default 30 s) */
} oc_market_retry;

typedef struct oc_market_options {
  const oc_market_provider *provider;
  const char *series;   /* the store's name of the series ("WTI") */
  const char *symbol;   /* the provider's id; NULL: the provider's id of WTI or Brent for those names */
  const char *api_key;  /* required unless replaying */
  const char *base_url; /* NULL: the provider's real API */
  const char *unit;     /* unit of a new series */
  oc_date since;        /* OC_DATE_INVALID: the last stored date minus `overlap` trading days, or all */
  int overlap;          /* trading days fetched again before the last stored date (default 10) */
  oc_market_retry retry;
  oc_on_error on_error;
  const char *raw_dir;  /* DIR/raw/market_data: answers go under <provider>/ */
  const char *replay;   /* a manifest path: the rows come from it and its files, not from the network */
} oc_market_options;

/* Defaults for everything but provider, series, api_key and raw_dir. */
oc_market_options oc_market_options_default(void);

#define OC_MARKET_REVISIONS_LISTED 20

typedef struct oc_market_revision {
  oc_date date;
  double before, after;
} oc_market_revision;

/* What the fetch did, beside the batch's own report (rows, run id, lineage: raw_path = the manifest). */
typedef struct oc_market_report {
  const oc_market_provider *provider;
  char series[OC_SERIES_NAME_MAX + 1];
  char symbol[64];
  oc_date since;              /* first date asked for (OC_DATE_INVALID: all) */
  size_t pages, requests;     /* pages of data read; requests sent (retries included; 0 for a replay) */
  oc_market_revision revisions[OC_MARKET_REVISIONS_LISTED];
  size_t nrevisions;          /* listed; the batch's rows_updated is the total */
} oc_market_report;

/* Fetches (or replays) and ingests as one batch. 0 when the batch committed; -1 with err (provider,
 * HTTP status, the provider's text, the key redacted) when nothing was written. Free *batch with
 * oc_ingest_report_free either way. */
int oc_market_ingest(oc_store *store, const oc_market_options *opt, oc_ingest_report *batch,
                     oc_market_report *report, oc_error *err);

/* How long to wait before retry number `attempt` (1 = the first retry): base * 2^(attempt-1), capped
 * at max, with "equal jitter" (half fixed, half uniform in [0, half)), jitter01 in [0, 1). */
double oc_market_backoff(const oc_market_retry *retry, int attempt, double jitter01);
/* Retry-After as seconds (delta-seconds or an HTTP-date relative to now); -1 when absent or unreadable. */
double oc_market_retry_after(const char *value, time_t now);

#endif
