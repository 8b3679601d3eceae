/* handlers_monitor.c: what the operations loop knows, over HTTP: how an endpoint's forecasts have
 * scored against the prices that followed (monitor/score.h; read-only: scoring is the `monitor` step's
 * job) and the scheduled jobs with their recent runs (schedule/scheduler.h), the same records
 * `oilcast monitor` and `oilcast jobs` print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fsutil.h"
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
    oc_respond_error(resp, 400, "invalid_parameter", "windows must be 1 to %d whole numbers in 1..%d, not '%s'",
                     OC_MONITOR_MAX_WINDOWS, OC_MONITOR_MAX_WINDOW, windows);
    return;
  }
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) return;
  oc_monitor_result r;
  oc_error err;
  int rc = oc_monitor_performance(store, &o, &r, &err);
  oc_serve_store_release(req->server, store);
  if (rc != 0) {
    oc_serve_store_failed(req->server, resp, "forecast_performance", &err);
    return;
  }
  json_t *rows = json_array();
  for (size_t i = 0; i < r.n; i++) json_array_append_new(rows, oc_monitor_row_json(&r.rows[i]));
  oc_monitor_result_free(&r);
  oc_respond_json(resp, 200, json_pack("{s:s, s:o}", "endpoint", name, "performance", rows));
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
