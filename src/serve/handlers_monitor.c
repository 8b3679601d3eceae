/* handlers_monitor.c: what the operations loop knows, over HTTP: how an endpoint's forecasts have
 * scored against the prices that followed (monitor/score.h; read-only: scoring is the `monitor` step's
 * job), the scheduled jobs with their recent runs (schedule/scheduler.h), data health and the
 * alerts (monitor/health.h, monitor/alerts.h; read-only: evaluating is the `alerts evaluate` step's
 * job), the same records `oilcast monitor`, `oilcast jobs` and `oilcast alerts` print. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fsutil.h"
#include "monitor/alerts.h"
#include "monitor/health.h"
#include "monitor/score.h"
#include "schedule/scheduler.h"
#include "serve/context.h"
#include "serve/endpoints.h"
#include "serve/handlers.h"

#define RECENT_JOB_RUNS 20

bool oc_serve_endpoint_known(const oc_request *req, oc_response *resp, const char *name) {
  oc_endpoint_snapshot *snap = oc_endpoints_acquire(req->server->endpoints, name);
  if (!snap) {
    oc_respond_error(resp, 404, "not_found", "no endpoint named '%s'", name);
    return false;
  }
  oc_endpoint_snapshot_release(snap);
  return true;
}

void oc_handle_endpoint_performance(const oc_request *req, oc_response *resp) {
  const char *name = oc_route_param(&req->params, "name");
  if (!oc_serve_endpoint_known(req, resp, name)) return;
  oc_monitor_options o = oc_monitor_options_default();
  o.endpoint = name;
  const char *windows = oc_request_query(req, "windows");
  if (windows && oc_monitor_parse_windows(windows, &o) != 0) {
    oc_respond_error(resp, 400, "invalid_parameter", "windows must be 1 to %d distinct whole numbers in 1..%d, not '%s'",
                     OC_MONITOR_MAX_WINDOWS, OC_MONITOR_MAX_WINDOW, windows);
    return;
  }
  const char *history = oc_request_query(req, "history");
  if (history && strcmp(history, "true") != 0 && strcmp(history, "false") != 0) {
    oc_respond_error(resp, 400, "invalid_parameter", "history must be true or false, not '%s'", history);
    return;
  }
  bool with_history = history && strcmp(history, "true") == 0;
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) return;
  oc_monitor_result r;
  oc_monitor_history h = {0};
  oc_error err;
  int rc = oc_monitor_performance(store, &o, &r, &err);
  if (rc == 0 && with_history && oc_monitor_history_read(store, &o, &h, &err) != 0) {
    oc_monitor_result_free(&r);
    rc = -1;
  }
  oc_serve_store_release(req->server, store);
  if (rc != 0) {
    oc_serve_store_failed(req->server, resp, "forecast_performance", &err);
    return;
  }
  json_t *rows = json_array();
  for (size_t i = 0; i < r.n; i++) json_array_append_new(rows, oc_monitor_row_json(&r.rows[i]));
  oc_monitor_result_free(&r);
  json_t *body = json_pack("{s:s, s:o}", "endpoint", name, "performance", rows);
  if (with_history) {
    json_t *lines = json_array();
    for (size_t i = 0; i < h.n; i++) json_array_append_new(lines, oc_monitor_line_json(&h.lines[i]));
    oc_monitor_history_free(&h);
    json_object_set_new(body, "history", lines);
  }
  oc_respond_json(resp, 200, body);
}

void oc_handle_jobs_list(const oc_request *req, oc_response *resp) {
  oc_server *s = req->server;
  char *path = oc_path_join(s->data_dir, OC_JOBS_FILE);
  oc_jobs jobs;
  oc_error err;
  int rc = oc_jobs_read(path, &jobs, &err);
  free(path);
  if (rc != 0) {
    oc_respond_error(resp, 500, "invalid_jobs", "%s", err.message);
    return;
  }
  oc_store *store = oc_serve_store_acquire(s, resp);
  if (!store) {
    oc_jobs_free(&jobs);
    return;
  }
  json_t *described = oc_scheduler_describe(store, &jobs, (int64_t)time(NULL), &err);
  oc_job_run *runs = NULL;
  size_t n = 0;
  if (described) rc = oc_store_job_runs_list(store, NULL, NULL, RECENT_JOB_RUNS, &runs, &n, &err);
  oc_serve_store_release(s, store);
  oc_jobs_free(&jobs);
  if (!described || rc != 0) {
    json_decref(described);
    oc_serve_store_failed(s, resp, "jobs", &err);
    return;
  }
  json_t *recent = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(recent, oc_job_run_json(&runs[i]));
  oc_job_run_list_free(runs, n);
  oc_respond_json(resp, 200, json_pack("{s:o, s:o}", "jobs", described, "runs", recent));
}

/* An alert's fingerprint as the evaluator makes it: OC_ALERT_FINGERPRINT_LEN lowercase hex digits. */
static bool is_fingerprint(const char *text) {
  return strlen(text) == OC_ALERT_FINGERPRINT_LEN && strspn(text, "0123456789abcdef") == OC_ALERT_FINGERPRINT_LEN;
}

void oc_handle_alerts_list(const oc_request *req, oc_response *resp) {
  const char *state = oc_request_query(req, "state"), *fingerprint = oc_request_query(req, "fingerprint");
  if (state && strcmp(state, "pending") != 0 && strcmp(state, "firing") != 0 && strcmp(state, "resolved") != 0) {
    oc_respond_error(resp, 400, "invalid_parameter", "state must be pending, firing or resolved, not '%s'", state);
    return;
  }
  if (fingerprint && !is_fingerprint(fingerprint)) { /* the generatorURL of a webhook payload names one alert */
    oc_respond_error(resp, 400, "invalid_parameter", "fingerprint must be %d hex digits, not '%s'",
                     OC_ALERT_FINGERPRINT_LEN, fingerprint);
    return;
  }
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) return;
  oc_alert *alerts;
  size_t n;
  oc_error err;
  int rc = oc_store_alerts_list(store, state, &alerts, &n, &err);
  oc_serve_store_release(req->server, store);
  if (rc != 0) {
    oc_serve_store_failed(req->server, resp, "alerts", &err);
    return;
  }
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++)
    if (!fingerprint || strcmp(alerts[i].fingerprint, fingerprint) == 0)
      json_array_append_new(list, oc_alert_json(&alerts[i]));
  oc_alert_list_free(alerts, n);
  oc_respond_json(resp, 200, json_pack("{s:o}", "alerts", list));
}

void oc_handle_monitor_health(const oc_request *req, oc_response *resp) {
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) return;
  oc_monitor_health health;
  oc_error err;
  int rc = oc_monitor_health_read(req->server->data_dir, store, (int64_t)time(NULL), &health, &err);
  oc_serve_store_release(req->server, store);
  if (rc != 0) {
    oc_serve_store_failed(req->server, resp, "monitor_health", &err);
    return;
  }
  oc_respond_json(resp, 200, oc_monitor_health_json(&health));
  oc_monitor_health_free(&health);
}

/* The figures of monitor/health.h that /metrics does not already carry (the live scores are
 * refresh_live_scores' in handlers_ops.c: read once per scrape, there), and the alerts per state; a
 * series, job or version the health read no longer gives loses its gauge. A store problem leaves them
 * as they were, as for the live scores. */
void oc_serve_refresh_health_metrics(oc_server *s) {
  oc_response scratch = {0};
  oc_store *store = oc_serve_store_acquire(s, &scratch);
  oc_buf_free(&scratch.body);
  if (!store) return;
  oc_monitor_health h;
  oc_alert *alerts = NULL;
  size_t nalerts = 0;
  oc_error err;
  int rc = oc_monitor_health_read(s->data_dir, store, (int64_t)time(NULL), &h, &err);
  if (rc == 0 && oc_store_alerts_list(store, NULL, &alerts, &nalerts, &err) != 0) {
    oc_monitor_health_free(&h);
    rc = -1;
  }
  oc_serve_store_release(s, store);
  if (rc != 0) {
    const char *labels[] = {"operation", "monitor_health"};
    oc_metrics_add(s->metrics, OC_METRIC_STORE_ERRORS, 1, 1, labels);
    return;
  }
  static const oc_metric_family_id refreshed[] = {OC_METRIC_SERIES_STALENESS, OC_METRIC_JOB_FAILURES,
                                                  OC_METRIC_FEATURE_PSI, OC_METRIC_FEATURE_KS};
  uint64_t refresh[sizeof refreshed / sizeof refreshed[0]];
  for (size_t k = 0; k < sizeof refreshed / sizeof refreshed[0]; k++)
    refresh[k] = oc_metrics_refresh_begin(s->metrics, refreshed[k]);
  for (size_t i = 0; i < h.nstale; i++) {
    const char *labels[] = {"series", h.stale[i].series};
    oc_metrics_set(s->metrics, OC_METRIC_SERIES_STALENESS, (double)h.stale[i].behind, 1, labels);
  }
  for (size_t i = 0; i < h.njobs; i++) {
    const char *labels[] = {"job", h.jobs[i].job};
    oc_metrics_set(s->metrics, OC_METRIC_JOB_FAILURES, (double)h.jobs[i].consecutive, 1, labels);
  }
  for (size_t i = 0; i < h.ndrift; i++) {
    const oc_feature_drift *d = &h.drift[i];
    const char *labels[] = {"series", d->series, "model_version", d->model_version, "feature", d->feature};
    oc_metrics_set(s->metrics, OC_METRIC_FEATURE_PSI, d->psi, 3, labels);
    oc_metrics_set(s->metrics, OC_METRIC_FEATURE_KS, d->ks, 3, labels);
  }
  for (size_t k = 0; k < sizeof refreshed / sizeof refreshed[0]; k++)
    oc_metrics_refresh_end(s->metrics, refreshed[k], refresh[k]);
  oc_monitor_health_free(&h);
  static const char *const states[] = {"pending", "firing", "resolved"};
  for (size_t k = 0; k < 3; k++) {
    size_t count = 0;
    for (size_t i = 0; i < nalerts; i++) count += strcmp(alerts[i].state, states[k]) == 0;
    const char *labels[] = {"state", states[k]};
    oc_metrics_set(s->metrics, OC_METRIC_ALERTS, (double)count, 1, labels);
  }
  oc_alert_list_free(alerts, nalerts);
}
