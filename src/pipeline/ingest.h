/* pipeline/ingest.h: the pipeline step "ingest from a source" as one call, for the CLI (`oilcast
 * ingest`), and next the scheduler and the server. A source is one entry of a table keyed by its name
 * (`--source NAME`): what it reads, and the lineage zone under DIR/raw/ its raw input is kept in.
 * Every source ends in the one ingest path, oc_ingest_batch (ingest/batch.h). Today's sources:
 *   historical   a CSV or JSON price file (ingest/import.h), kept under raw/historical_data/
 *   simulated    the same, a file written by `oilcast simulate market`, labelled simulated and kept
 *                under raw/market_data/ (simulated market data never mixes with real history)
 *   market       a market API (ingest/market.h: EIA, FRED, Alpha Vantage), fetched incrementally,
 *                every answer kept under raw/market_data/<provider>/; or replayed from such a manifest.
 *                The series then records its provider and provider id.
 * Never prints. */
#ifndef OC_PIPELINE_INGEST_H
#define OC_PIPELINE_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/date.h"
#include "core/error.h"
#include "ingest/batch.h"
#include "ingest/market.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

typedef struct oc_pipeline_ingest_options {
  const char *source;   /* a name in the source table (default "historical") */
  const char *path;     /* the input file of a file source */
  const char *series;   /* the series of a single-series input (default "WTI") */
  const char *unit;     /* unit of newly created series (default "USD/bbl") */
  const char *date_col, *value_col, *series_col; /* file sources; NULL: detected from the header */
  oc_date start_date;   /* first date of a bare JSON number array; OC_DATE_INVALID otherwise */
  oc_on_error on_error; /* default OC_ON_ERROR_ABORT */
  /* the market source */
  const char *provider; /* "eia", "fred" or "alphavantage" (not needed with replay) */
  const char *symbol;   /* the provider's id of the series; NULL: its id of WTI or Brent */
  const char *api_key;  /* NULL: env OILCAST_<PROVIDER>_API_KEY, then <provider>_api_key in oilcast.conf */
  const char *base_url; /* NULL: the provider's real API */
  oc_date since;        /* OC_DATE_INVALID: from the last stored date minus `overlap` trading days */
  int overlap;          /* default 10 */
  const char *replay;   /* a manifest under raw/market_data/: ingest it again without the network */
  oc_market_retry retry;
} oc_pipeline_ingest_options;

oc_pipeline_ingest_options oc_pipeline_ingest_options_default(void);

typedef struct oc_pipeline_ingest_result {
  oc_ingest_report report; /* also filled when the step fails: the bad rows, for the caller to list */
  oc_market_report market; /* the market source: provider, pages, requests, revisions */
  double seconds;          /* wall-clock time of the step */
} oc_pipeline_ingest_result;

/* True when name is in the source table. Otherwise, with known != NULL, writes the table's names
 * into known as "a, b or c" (for the caller's usage message). */
bool oc_pipeline_ingest_source_known(const char *name, char *known, size_t known_cap);

/* Starts, on another thread, what opt's source will need before the caller opens the store (a market
 * fetch: libcurl loaded and set up, core/http_client.h's warm-up); oc_pipeline_ingest waits for it at
 * its end, and a caller that does not get as far calls oc_pipeline_ingest_prepare_end (no thread may
 * still be setting up a library while the process exits). */
void oc_pipeline_ingest_prepare(const oc_pipeline_ingest_options *opt);
void oc_pipeline_ingest_prepare_end(void);

/* Ingests from opt->source into store, keeping lineage under data_dir/raw/<zone>/. 0 when the batch
 * committed; -1 with err otherwise (an unknown source, or see oc_ingest_batch). Free the result with
 * oc_pipeline_ingest_result_free either way. */
int oc_pipeline_ingest(const char *data_dir, oc_store *store, const oc_pipeline_ingest_options *opt,
                       oc_pipeline_ingest_result *out, oc_error *err);
void oc_pipeline_ingest_result_free(oc_pipeline_ingest_result *result);

#endif
