/* routes.c: the route table of `oilcast serve`: method, path pattern, handler and who may call it.
 * Every GET route answers HEAD too (server.c).
 * docs/openapi.yaml must describe exactly these routes (tests/unit/test_openapi.c checks both ways). */
#include "serve/handlers.h"

#define SPEC(handler, access) (&(const oc_route_spec){handler, access, false})
#define SPEC_QUERY_KEY(handler, access) (&(const oc_route_spec){handler, access, true})

static const oc_route routes[] = {
    {"GET", "/healthz", SPEC(oc_handle_healthz, OC_ACCESS_OPERATIONS)},
    {"GET", "/readyz", SPEC(oc_handle_readyz, OC_ACCESS_OPERATIONS)},
    {"GET", "/metrics", SPEC(oc_handle_metrics, OC_ACCESS_OPERATIONS)},
    {"GET", "/", SPEC(oc_handle_index, OC_ACCESS_OPEN)},
    {"GET", "/static/{path*}", SPEC(oc_handle_static, OC_ACCESS_OPEN)},
    {"GET", "/vendor/plotly.min.js", SPEC(oc_handle_vendor_plotly, OC_ACCESS_OPEN)},
    {"GET", "/openapi.yaml", SPEC(oc_handle_openapi, OC_ACCESS_OPEN)},
    {"GET", "/v1/series", SPEC(oc_handle_series_list, OC_ACCESS_PUBLIC_READ)},
    {"GET", "/v1/series/{name}", SPEC(oc_handle_series_show, OC_ACCESS_PUBLIC_READ)},
    {"POST", "/v1/series/{name}/observations", SPEC(oc_handle_series_append, OC_ACCESS_WRITE)},
    {"POST", "/v1/endpoints/{name}/invocations", SPEC(oc_handle_invoke, OC_ACCESS_READ)},
    {"GET", "/v1/endpoints", SPEC(oc_handle_endpoints_list, OC_ACCESS_PUBLIC_READ)},
    {"GET", "/v1/endpoints/{name}", SPEC(oc_handle_endpoint_get, OC_ACCESS_PUBLIC_READ)},
    {"GET", "/v1/endpoints/{name}/performance", SPEC(oc_handle_endpoint_performance, OC_ACCESS_PUBLIC_READ)},
    {"PUT", "/v1/endpoints/{name}", SPEC(oc_handle_endpoint_put, OC_ACCESS_ADMIN)},
    {"POST", "/v1/endpoints/{name}/rollback", SPEC(oc_handle_endpoint_rollback, OC_ACCESS_ADMIN)},
    {"GET", "/v1/models", SPEC(oc_handle_models_list, OC_ACCESS_PUBLIC_READ)},
    {"GET", "/v1/forecasts/latest", SPEC(oc_handle_forecast_latest, OC_ACCESS_PUBLIC_READ)},
    {"GET", "/v1/backtests/latest", SPEC(oc_handle_backtest_latest, OC_ACCESS_PUBLIC_READ)},
    {"GET", "/v1/backtests/years", SPEC(oc_handle_backtest_years, OC_ACCESS_PUBLIC_READ)},
    {"GET", "/v1/jobs", SPEC(oc_handle_jobs_list, OC_ACCESS_READ)},
    {"GET", "/v1/endpoints/{name}/decisions", SPEC(oc_handle_endpoint_decisions, OC_ACCESS_PUBLIC_READ)},
    {"POST", "/v1/admin/alerts", SPEC(oc_handle_alerts_webhook, OC_ACCESS_ADMIN)},
    {"GET", "/v1/alerts", SPEC(oc_handle_alerts_list, OC_ACCESS_READ)},
    {"GET", "/v1/monitor/health", SPEC(oc_handle_monitor_health, OC_ACCESS_READ)},
    {"GET", "/v1/stream", SPEC_QUERY_KEY(oc_handle_stream, OC_ACCESS_PUBLIC_READ)},
    {"GET", "/v1/devices", SPEC(oc_handle_devices_list, OC_ACCESS_ADMIN)},
    {"POST", "/v1/devices", SPEC(oc_handle_device_add, OC_ACCESS_ADMIN)},
    {"DELETE", "/v1/devices/{id}", SPEC(oc_handle_device_revoke, OC_ACCESS_ADMIN)},
};

const oc_route *oc_serve_routes(size_t *count) {
  *count = sizeof routes / sizeof routes[0];
  return routes;
}
