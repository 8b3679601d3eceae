/* handlers_promote.c: retraining and promotion over HTTP: an endpoint's decisions log (the same
 * records as `oilcast decisions --format json`) and the admin-scoped receiver of Alertmanager v4
 * webhooks, whose firing alerts labelled action="retrain" leave a retraining trigger for the
 * endpoint's next `oilcast retrain` run (monitor/promote.h). HTTP only: the rules are the monitor's;
 * nothing here trains (a webhook must be answered quickly). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/promote.h"
#include "pipeline/pipeline.h"
#include "serve/context.h"
#include "serve/handlers.h"

#define DECISIONS_DEFAULT 50
#define DECISIONS_MAX 1000

void oc_handle_endpoint_decisions(const oc_request *req, oc_response *resp) {
  const char *name = oc_route_param(&req->params, "name");
  if (!oc_serve_endpoint_known(req, resp, name)) return;
  long last = DECISIONS_DEFAULT;
  const char *text = oc_request_query(req, "last");
  char *end = NULL;
  if (text && ((last = strtol(text, &end, 10)) < 1 || last > DECISIONS_MAX || *end || *text == '+')) {
    oc_respond_error(resp, 400, "invalid_parameter", "last must be a whole number in 1..%d, not '%s'", DECISIONS_MAX,
                     text);
    return;
  }
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) return;
  oc_promotion_decision *d;
  size_t n;
  oc_error err;
  int rc = oc_store_decisions_list(store, name, (size_t)last, &d, &n, &err);
  oc_serve_store_release(req->server, store);
  if (rc != 0) {
    oc_serve_store_failed(req->server, resp, "decisions", &err);
    return;
  }
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(list, oc_promotion_decision_json(&d[i]));
  free(d);
  oc_respond_json(resp, 200, json_pack("{s:s, s:o}", "endpoint", name, "decisions", list));
}

void oc_handle_alerts_webhook(const oc_request *req, oc_response *resp) {
  json_t *body = oc_request_json_object(req, resp);
  if (!body) return;
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) {
    json_decref(body);
    return;
  }
  json_t *accepted, *ignored;
  oc_error err;
  int rc = oc_monitor_alerts_receive(store, body, (int64_t)time(NULL), &accepted, &ignored, &err);
  oc_serve_store_release(req->server, store);
  json_decref(body);
  if (rc == OC_PIPELINE_BAD_OPTION) {
    oc_respond_error(resp, 422, "invalid_request", "%s", err.message);
    return;
  }
  if (rc != 0) {
    oc_serve_store_failed(req->server, resp, "alerts", &err);
    return;
  }
  oc_respond_json(resp, 202, json_pack("{s:o, s:o}", "accepted", accepted, "ignored", ignored));
}
