/* handlers_backtest_years.c: GET /v1/backtests/years: the newest stored by-year robustness report of a
 * series (`oilcast backtest --by-year`; model/backtest_years.h describes the document), for the
 * dashboard's Models panel. HTTP only: reads the store, never runs a backtest (one costs seconds to
 * minutes: that is the CLI's or a job's work). */
#include <stdlib.h>

#include "serve/context.h"
#include "serve/handlers.h"

void oc_handle_backtest_years(const oc_request *req, oc_response *resp) {
  const char *series = oc_request_query(req, "series");
  if (!series || !*series) series = "WTI";
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) return;
  oc_backtest_years_record rec;
  bool found = false;
  oc_error err;
  int rc = oc_store_backtest_years_latest(store, series, &rec, &found, &err);
  oc_serve_store_release(req->server, store);
  if (rc != 0) {
    oc_serve_store_failed(req->server, resp, "backtest_years_latest", &err);
  } else if (!found) {
    oc_respond_error(resp, 404, "not_found",
                     "no by-year backtest report of %s has been stored yet (oilcast backtest --series %s --by-year)",
                     series, series);
  } else {
    /* Stored as the API document; rewritten by the one JSON writer, as GET /v1/backtests/latest is. */
    json_error_t jerr;
    json_t *doc = json_loads(rec.report_json, 0, &jerr);
    if (doc) oc_respond_json(resp, 200, doc);
    else oc_respond_error(resp, 500, "store_error", "the stored by-year report %lld is not JSON: %s", (long long)rec.id, jerr.text);
  }
  oc_backtest_years_record_free(&rec);
}
