/* handlers.h: every route handler of `oilcast serve` (one per route in routes.c) and the server
 * services they share: a pool of store connections (one connection per thread at a time, as the store
 * requires) and readiness checks. Internal to src/serve/. */
#ifndef OC_SERVE_HANDLERS_H
#define OC_SERVE_HANDLERS_H

#include <jansson.h>
#include <stdatomic.h>

#include "core/error.h"
#include "serve/http.h"
#include "store/store.h"

/* Server services (state.c). */
int oc_serve_state_open(oc_server *s, oc_error *err);
void oc_serve_state_close(oc_server *s);
void oc_serve_streams_close(oc_server *s);
/* A store connection for this request; NULL with resp filled (503) on failure. Release it after.
 * A write through it waits at most OC_SERVE_STORE_WAIT_SECONDS for another writer (absorbing the
 * ordinary contention of concurrent requests): behind a long import it fails at once instead, so no
 * worker is held for the length of the import. */
#define OC_SERVE_STORE_WAIT_SECONDS 1.0
/* What a client is told to wait (Retry-After) when the store is busy with another writer. */
#define OC_SERVE_STORE_BUSY_RETRY_SECONDS 2
oc_store *oc_serve_store_acquire(oc_server *s, oc_response *resp);
void oc_serve_store_release(oc_server *s, oc_store *store);
/* Counts a failed store op in the metrics and fills resp naming the operation: 503 store_busy with
 * Retry-After when another writer holds the store (err->kind OC_ERROR_BUSY), else 500. */
void oc_serve_store_failed(oc_server *s, oc_response *resp, const char *operation, const oc_error *err);
int oc_serve_store_check(oc_server *s, oc_error *err);
/* Publishes a live event (SSE) with data as compact JSON; takes the reference. */
void oc_serve_publish(oc_server *s, const char *type, json_t *data);

/* A stored series shared read-only by concurrent forecasts (state.c). */
typedef struct oc_history {
  _Atomic long refs;
  oc_series series;
  double loaded_at; /* monotonic seconds; -1 once a write made it stale */
} oc_history;
/* The series' stored history (reloaded when older than a second or written since); NULL with resp
 * filled (404 unknown series, 5xx store trouble). Release with oc_serve_history_release. */
oc_history *oc_serve_history_acquire(oc_server *s, const char *series, oc_response *resp);
void oc_serve_history_release(oc_history *h);
/* Marks a series' cached history stale (after a write). */
void oc_serve_history_invalidate(oc_server *s, const char *series);

/* handlers_ops.c */
void oc_handle_healthz(const oc_request *req, oc_response *resp);
void oc_handle_readyz(const oc_request *req, oc_response *resp);
void oc_handle_metrics(const oc_request *req, oc_response *resp);
void oc_handle_index(const oc_request *req, oc_response *resp);
void oc_handle_static(const oc_request *req, oc_response *resp);
void oc_handle_vendor_plotly(const oc_request *req, oc_response *resp);
void oc_handle_openapi(const oc_request *req, oc_response *resp);
void oc_handle_stream(const oc_request *req, oc_response *resp);

/* handlers_series.c */
void oc_handle_series_list(const oc_request *req, oc_response *resp);
void oc_handle_series_show(const oc_request *req, oc_response *resp);
void oc_handle_series_append(const oc_request *req, oc_response *resp);

/* handlers_models.c */
void oc_serve_points_cache_init(oc_server *s);
void oc_serve_points_cache_free(oc_server *s);
void oc_handle_invoke(const oc_request *req, oc_response *resp);
void oc_handle_endpoints_list(const oc_request *req, oc_response *resp);
void oc_handle_endpoint_get(const oc_request *req, oc_response *resp);
void oc_handle_endpoint_put(const oc_request *req, oc_response *resp);
void oc_handle_endpoint_rollback(const oc_request *req, oc_response *resp);
void oc_handle_models_list(const oc_request *req, oc_response *resp);
void oc_handle_forecast_latest(const oc_request *req, oc_response *resp);
void oc_handle_backtest_latest(const oc_request *req, oc_response *resp);

/* handlers_monitor.c */
/* Whether the endpoint `name` exists; when not, resp is the 404 naming it. */
bool oc_serve_endpoint_known(const oc_request *req, oc_response *resp, const char *name);
void oc_handle_endpoint_performance(const oc_request *req, oc_response *resp);
void oc_handle_jobs_list(const oc_request *req, oc_response *resp);
void oc_handle_alerts_list(const oc_request *req, oc_response *resp);
void oc_handle_monitor_health(const oc_request *req, oc_response *resp);
/* Staleness, job failures, input drift and alert counts as /metrics gauges (handlers_monitor.c). */
void oc_serve_refresh_health_metrics(oc_server *s);

/* handlers_promote.c */
void oc_handle_endpoint_decisions(const oc_request *req, oc_response *resp);
void oc_handle_alerts_webhook(const oc_request *req, oc_response *resp);

/* handlers_devices.c */
void oc_handle_devices_list(const oc_request *req, oc_response *resp);
void oc_handle_device_add(const oc_request *req, oc_response *resp);
void oc_handle_device_revoke(const oc_request *req, oc_response *resp);

/* handlers_backtest_years.c */
void oc_handle_backtest_years(const oc_request *req, oc_response *resp);

#endif
