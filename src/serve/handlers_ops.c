/* handlers_ops.c: the operational routes (health, readiness, Prometheus metrics), the live event
 * stream, the dashboard's static files (web/ at / and /static/, plotly from its npm package at
 * /vendor/) and the API's specification (/openapi.yaml). Static paths are checked segment by segment so nothing outside the configured
 * directories can be named. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "monitor/score.h"
#include "serve/context.h"
#include "serve/dashboard_static.h"
#include "serve/endpoints.h"
#include "serve/events.h"
#include "serve/handlers.h"
#include "serve/mhd_lazy.h"

void oc_handle_healthz(const oc_request *req, oc_response *resp) {
  oc_respond_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

void oc_handle_readyz(const oc_request *req, oc_response *resp) {
  oc_error err;
  json_t *problems = json_array();
  if (oc_serve_store_check(req->server, &err) != 0) json_array_append_new(problems, json_string(err.message));
  oc_endpoints_problems(req->server->endpoints, problems);
  if (json_array_size(problems)) {
    oc_respond_json(resp, 503, json_pack("{s:s,s:o}", "status", "not ready", "problems", problems));
    return;
  }
  json_decref(problems);
  oc_respond_json(resp, 200, json_pack("{s:s}", "status", "ready"));
}

/* The live scores as gauges, read from the store at each scrape (a scrape every few seconds costs one
 * query; the figures change only when `oilcast monitor` scores), of the versions their endpoints serve
 * now: a retired version's gauges go (oc_monitor_keep_serving, oc_metrics_refresh_end). A store problem
 * leaves them as they were: the rest of the metrics still answer. */
static void refresh_live_scores(oc_server *s) {
  oc_response scratch = {0};
  oc_store *store = oc_serve_store_acquire(s, &scratch);
  oc_buf_free(&scratch.body);
  if (!store) return;
  oc_monitor_options o = oc_monitor_options_default();
  oc_monitor_result r;
  oc_error err;
  int rc = oc_monitor_performance(store, &o, &r, &err);
  if (rc == 0 && (rc = oc_monitor_keep_serving(store, &r, &err)) != 0) oc_monitor_result_free(&r);
  oc_serve_store_release(s, store);
  if (rc != 0) {
    const char *labels[] = {"operation", "forecast_performance"};
    oc_metrics_add(s->metrics, OC_METRIC_STORE_ERRORS, 1, 1, labels);
    return;
  }
  static const oc_metric_family_id refreshed[] = {OC_METRIC_LIVE_REL_MAE, OC_METRIC_LIVE_COVERAGE80,
                                                  OC_METRIC_LIVE_COVERAGE95, OC_METRIC_LIVE_ORIGINS,
                                                  OC_METRIC_LIVE_BIAS};
  uint64_t refresh[sizeof refreshed / sizeof refreshed[0]];
  for (size_t k = 0; k < sizeof refreshed / sizeof refreshed[0]; k++)
    refresh[k] = oc_metrics_refresh_begin(s->metrics, refreshed[k]);
  for (size_t i = 0; i < r.n; i++) {
    const oc_forecast_performance *p = &r.rows[i].perf;
    char horizon[24], window[24];
    snprintf(horizon, sizeof horizon, "%lld", (long long)p->line.horizon);
    snprintf(window, sizeof window, "%zu", r.rows[i].window);
    const char *labels[] = {"series", p->line.series, "endpoint", p->line.endpoint, "variant", p->line.variant,
                            "model_version", p->line.model_version, "horizon", horizon, "window", window};
    oc_metrics_set(s->metrics, OC_METRIC_LIVE_REL_MAE, r.rows[i].rel_mae, 6, labels);
    oc_metrics_set(s->metrics, OC_METRIC_LIVE_COVERAGE80, p->coverage80, 6, labels);
    oc_metrics_set(s->metrics, OC_METRIC_LIVE_COVERAGE95, p->coverage95, 6, labels);
    oc_metrics_set(s->metrics, OC_METRIC_LIVE_ORIGINS, (double)p->origins, 6, labels);
    oc_metrics_set(s->metrics, OC_METRIC_LIVE_BIAS, p->bias, 6, labels);
  }
  for (size_t k = 0; k < sizeof refreshed / sizeof refreshed[0]; k++)
    oc_metrics_refresh_end(s->metrics, refreshed[k], refresh[k]);
  oc_monitor_result_free(&r);
}

/* The sensor stream's totals as the store holds them (every stream process's writes). */
static void refresh_sensor_totals(oc_server *s) {
  oc_response scratch = {0};
  oc_store *store = oc_serve_store_acquire(s, &scratch);
  oc_buf_free(&scratch.body);
  if (!store) return;
  oc_sensor_stats st;
  oc_error err;
  int rc = oc_store_sensor_stats(store, &st, &err);
  oc_serve_store_release(s, store);
  if (rc != 0) {
    const char *labels[] = {"operation", "sensor_stats"};
    oc_metrics_add(s->metrics, OC_METRIC_STORE_ERRORS, 1, 1, labels);
    return;
  }
  oc_metrics_set(s->metrics, OC_METRIC_SENSOR_READINGS, (double)st.readings, 0, NULL);
  oc_metrics_set(s->metrics, OC_METRIC_SENSOR_LATE, (double)st.late_readings, 0, NULL);
  oc_metrics_set(s->metrics, OC_METRIC_SENSOR_DEAD_LETTERS, (double)st.dead_letters, 0, NULL);
  oc_metrics_set(s->metrics, OC_METRIC_SENSOR_ANOMALIES, (double)st.anomalies, 0, NULL);
}

void oc_handle_metrics(const oc_request *req, oc_response *resp) {
  refresh_live_scores(req->server);
  oc_serve_refresh_health_metrics(req->server);
  refresh_sensor_totals(req->server);
  oc_metrics_render(req->server->metrics, &resp->body);
  resp->status = 200;
  resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* What a keyed stream re-checks (events.h): its key, against the server's key table. */
typedef struct stream_key {
  oc_server *server;
  char key[OC_APIKEY_LEN + 1];
} stream_key;

static bool stream_key_valid(void *ctx) {
  stream_key *k = ctx;
  oc_apikey_record who;
  return oc_apikey_verify(&k->server->keys, k->key, &who) == OC_AUTH_OK;
}

void oc_handle_stream(const oc_request *req, oc_response *resp) {
  const char *last = oc_request_header(req, "Last-Event-ID");
  char *end = NULL;
  unsigned long long id = last ? strtoull(last, &end, 10) : 0;
  int has_last = last && *last && end && *end == '\0';
  if (strcmp(req->method, MHD_HTTP_METHOD_HEAD) == 0) { /* the headers a stream would have, and no stream */
    resp->status = 200;
    resp->content_type = "text/event-stream";
    oc_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return;
  }
  oc_event_access access = {0};
  if (req->caller) { /* a stream opened with a key lasts as long as the key does */
    stream_key *k = oc_xmalloc(sizeof *k);
    k->server = req->server;
    snprintf(k->key, sizeof k->key, "%s", req->caller->key);
    access = (oc_event_access){stream_key_valid, k};
  }
  resp->prepared = oc_event_stream_response(req->server->events, req->conn, id, has_last, &access);
  resp->status = 200;
}

static const char *content_type_for(const char *path) {
  static const struct {
    const char *ext, *type;
  } types[] = {{".html", "text/html; charset=utf-8"},
               {".js", "text/javascript; charset=utf-8"},
               {".mjs", "text/javascript; charset=utf-8"},
               {".css", "text/css; charset=utf-8"},
               {".json", "application/json"},
               {".svg", "image/svg+xml"},
               {".png", "image/png"},
               {".ico", "image/x-icon"},
               {".txt", "text/plain; charset=utf-8"},
               {".yaml", "application/yaml"},
               {".map", "application/json"}};
  const char *dot = strrchr(path, '.');
  if (dot && !strchr(dot, '/')) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
      if (strcmp(dot, types[i].ext) == 0) return types[i].type;
    }
  }
  return "application/octet-stream";
}

/* A relative path whose every segment is a plain, visible name (no "", ".", "..", ".hidden"). */
static bool safe_relative_path(const char *path) {
  const char *seg = path;
  for (;;) {
    const char *end = strchr(seg, '/');
    size_t len = end ? (size_t)(end - seg) : strlen(seg);
    if (len == 0 || seg[0] == '.' || memchr(seg, '\\', len)) return false;
    if (!end) return true;
    seg = end + 1;
  }
}

static void serve_file(oc_response *resp, const char *dir, const char *relative) {
  if (!safe_relative_path(relative)) {
    oc_respond_error(resp, 404, "not_found", "no such file: %s", relative);
    return;
  }
  char *path = oc_path_join(dir, relative);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) close(fd);
    oc_respond_error(resp, 404, "not_found", "no such file: %s", relative);
    free(path);
    return;
  }
  resp->prepared = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
  MHD_add_response_header(resp->prepared, MHD_HTTP_HEADER_CONTENT_TYPE, content_type_for(path));
  MHD_add_response_header(resp->prepared, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
  resp->status = 200;
  free(path);
}

/* Without the dashboard's files, / says which one is missing and how to get it (a page that loads
 * without them, not one that waits for plotly forever). */
void oc_handle_index(const oc_request *req, oc_response *resp) {
  char *missing = oc_dashboard_missing_assets(req->server->web_dir, req->server->vendor_dir);
  if (!missing) {
    serve_file(resp, req->server->web_dir, "index.html");
    return;
  }
  char *page = oc_dashboard_missing_page(missing);
  free(missing);
  resp->prepared = MHD_create_response_from_buffer(strlen(page), page, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(resp->prepared, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
  MHD_add_response_header(resp->prepared, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
  resp->status = 503;
}

void oc_handle_static(const oc_request *req, oc_response *resp) {
  serve_file(resp, req->server->web_dir, oc_route_param(&req->params, "path"));
}

void oc_handle_vendor_plotly(const oc_request *req, oc_response *resp) {
  serve_file(resp, req->server->vendor_dir, "plotly.min.js");
}

/* The specification sits beside the dashboard in an installed tree (PREFIX/share/oilcast/openapi.yaml,
 * next to its web/), else in the source tree's docs/. */
void oc_handle_openapi(const oc_request *req, oc_response *resp) {
  char *share = oc_path_join(req->server->web_dir, "..");
  char *installed = oc_path_join(share, "openapi.yaml");
  bool beside_web = access(installed, R_OK) == 0;
  free(installed);
  serve_file(resp, beside_web ? share : OILCAST_SOURCE_DIR "/docs", "openapi.yaml");
  free(share);
}
