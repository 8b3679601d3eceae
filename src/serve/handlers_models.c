/* handlers_models.c: forecasts over HTTP (the reference guide's endpoint invocation) and the routes that
 * manage what endpoints serve: list, create/replace variants, roll back, list models, the latest stored
 * forecast. An invocation holds one endpoint snapshot from start to finish, so a concurrent promotion
 * or rollback never changes the model under it; its shadow challenger, if the snapshot has one,
 * forecasts beside the answer and is stored with it in one write, never returned, and never fails the
 * request. */
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/calendar.h"
#include "core/date.h"
#include "core/json.h"
#include "core/log.h"
#include "ingest/price_range.h"
#include "pipeline/forecast.h"
#include "serve/context.h"
#include "serve/endpoints.h"
#include "serve/events.h"
#include "serve/handlers.h"

#define OC_ENDPOINT_MAX_EXOGS 8

#define POINTS_CACHE_SIZE 16

/* One formatted points array, valid for exactly these points (dates and values compared bytewise). */
struct oc_points_cache {
  size_t n_points;
  oc_stored_forecast_point points[OC_STORED_FORECAST_MAX_POINTS];
  char *json;
  size_t len;
};

/* rec's points array (oc_forecast_points_json) into out, formatted once per distinct set of points (see
 * context.h). */
static void forecast_points_cached(oc_server *s, oc_buf *out, const oc_forecast_record *rec) {
  size_t bytes = rec->n_points * sizeof rec->points[0];
  pthread_mutex_lock(&s->points_lock);
  for (size_t i = 0; i < POINTS_CACHE_SIZE; i++) {
    struct oc_points_cache *c = &s->points_cache[i];
    if (c->json && c->n_points == rec->n_points && memcmp(c->points, rec->points, bytes) == 0) {
      oc_buf_append(out, c->json, c->len);
      pthread_mutex_unlock(&s->points_lock);
      return;
    }
  }
  pthread_mutex_unlock(&s->points_lock);
  oc_buf fresh = {0};
  oc_forecast_points_json(&fresh, rec);
  oc_buf_append(out, fresh.data, fresh.len);
  pthread_mutex_lock(&s->points_lock);
  struct oc_points_cache *victim = &s->points_cache[s->points_cache_next++ % POINTS_CACHE_SIZE];
  free(victim->json);
  victim->n_points = rec->n_points;
  memcpy(victim->points, rec->points, bytes);
  victim->len = fresh.len;
  victim->json = oc_buf_steal(&fresh);
  pthread_mutex_unlock(&s->points_lock);
}

/* Frees the points cache (state.c calls it when the server closes). */
void oc_serve_points_cache_free(oc_server *s) {
  for (size_t i = 0; s->points_cache && i < POINTS_CACHE_SIZE; i++) free(s->points_cache[i].json);
  free(s->points_cache);
  s->points_cache = NULL;
}

/* Allocates the points cache (state.c, at open). */
void oc_serve_points_cache_init(oc_server *s) { s->points_cache = oc_xcalloc(POINTS_CACHE_SIZE, sizeof *s->points_cache); }

/* Parses historical_prices (numbers, or {date, price} objects ascending) plus current_price into a
 * series, each price within the series' range. Returns false with resp filled (422; a store failure
 * when the range cannot be read) on a bad history. */
static bool given_history(oc_server *s, json_t *body, const char *series, oc_series *out, oc_response *resp) {
  oc_price_range range;
  oc_error err;
  oc_store *store = oc_serve_store_acquire(s, resp);
  if (!store) return false;
  int got = oc_price_range_get(store, series, &range, &err);
  oc_serve_store_release(s, store);
  if (got != 0) {
    oc_serve_store_failed(s, resp, "reading a series' price range", &err);
    return false;
  }
  json_t *prices = json_object_get(body, "historical_prices"), *current = json_object_get(body, "current_price");
  if (current && !json_is_number(current)) {
    oc_respond_error(resp, 422, "invalid_request", "current_price must be a number");
    return false;
  }
  size_t n = json_array_size(prices), total = n + (current ? 1 : 0);
  if (!json_is_array(prices) || total == 0) {
    oc_respond_error(resp, 422, "invalid_request", "historical_prices must be a non-empty array of numbers or of {\"date\",\"price\"}");
    return false;
  }
  oc_series_init(out, series, total);
  bool dated = n && json_is_object(json_array_get(prices, 0));
  oc_date origin = oc_calendar_trading_day_on_or_before(oc_date_today_utc());
  for (size_t i = 0; i < n; i++) {
    json_t *item = json_array_get(prices, i);
    json_t *price = dated ? json_object_get(item, "price") : item;
    if (!json_is_number(price) || !isfinite(json_number_value(price))) {
      oc_respond_error(resp, 422, "invalid_request", "historical_prices[%zu]: expected %s", i,
                       dated ? "{\"date\":\"YYYY-MM-DD\",\"price\":N}" : "a finite number");
      oc_series_free(out);
      return false;
    }
    out->values[i] = json_number_value(price);
    char outside[256];
    if (!oc_price_range_check(&range, series, out->values[i], outside, sizeof outside)) {
      oc_respond_error(resp, 422, "invalid_request", "historical_prices[%zu]%s: %s", i, dated ? ".price" : "", outside);
      oc_series_free(out);
      return false;
    }
    if (dated) {
      json_t *date = json_object_get(item, "date");
      const char *reason = "missing";
      if (!json_is_string(date) ||
          oc_date_parse(json_string_value(date), json_string_length(date), &out->dates[i], &reason) != 0) {
        oc_respond_error(resp, 422, "invalid_request", "historical_prices[%zu].date: %s", i, reason);
        oc_series_free(out);
        return false;
      }
      if (i && out->dates[i] <= out->dates[i - 1]) {
        oc_respond_error(resp, 422, "invalid_request", "historical_prices[%zu].date: dates must be ascending", i);
        oc_series_free(out);
        return false;
      }
    } else {
      out->dates[i] = oc_calendar_add_trading_days(origin, -(int)(total - 1 - i));
    }
  }
  char outside[256];
  if (current && !oc_price_range_check(&range, series, json_number_value(current), outside, sizeof outside)) {
    oc_respond_error(resp, 422, "invalid_request", "current_price: %s", outside);
    oc_series_free(out);
    return false;
  }
  if (current) {
    out->values[n] = json_number_value(current);
    out->dates[n] = dated ? oc_calendar_next_trading_day(out->dates[n - 1]) : origin;
  }
  return true;
}

/* Whether rec, a stored-history forecast, is one stored recently (the same request again); otherwise
 * it is remembered as stored now. */
static bool saved_recently(oc_server *s, const oc_forecast_record *rec) {
  if (strcmp(rec->history, "stored") != 0) return false;
  char key[256];
  snprintf(key, sizeof key, "%s|%s|%s|%s|%d|%zu|%s", rec->endpoint, rec->variant, rec->model_version, rec->series,
           (int)rec->origin, rec->n_points, rec->history);
  pthread_mutex_lock(&s->saved_lock);
  for (size_t i = 0; i < sizeof s->saved_keys / sizeof s->saved_keys[0]; i++) {
    if (strcmp(s->saved_keys[i], key) == 0) {
      pthread_mutex_unlock(&s->saved_lock);
      return true;
    }
  }
  snprintf(s->saved_keys[s->saved_next], sizeof s->saved_keys[0], "%s", key);
  s->saved_next = (s->saved_next + 1) % (sizeof s->saved_keys / sizeof s->saved_keys[0]);
  pthread_mutex_unlock(&s->saved_lock);
  return false;
}

/* Stores recs[0..n) (the answer last, its shadow before it) in one write, leaving out those stored
 * recently; publishes the answer live. recs[n - 1] is left as it is. */
static void store_forecasts(oc_server *s, oc_forecast_record *recs, size_t n) {
  assert(n >= 1);
  size_t kept = 0;
  bool answer_kept = false;
  for (size_t i = 0; i < n; i++) {
    if (saved_recently(s, &recs[i])) continue;
    if (kept != i) recs[kept] = recs[i]; /* kept < i: never the answer's slot */
    answer_kept = i == n - 1;
    kept++;
  }
  if (!kept) return;
  oc_response scratch = {0};
  oc_store *store = oc_serve_store_acquire(s, &scratch);
  oc_buf_free(&scratch.body);
  if (!store) return;
  oc_error err;
  int rc = oc_store_forecasts_save(store, recs, kept, &err);
  oc_serve_store_release(s, store);
  if (rc != 0) {
    oc_serve_store_failed(s, &scratch, "forecast_save", &err);
    oc_buf_free(&scratch.body);
    return;
  }
  if (answer_kept && strcmp(recs[kept - 1].history, "stored") == 0) {
    oc_buf event = {0};
    oc_forecast_object_json(&event, &recs[kept - 1], NULL, 0);
    oc_event_publish(s->events, "forecast", event.data);
    oc_buf_free(&event);
  }
}

/* The stored histories of the other series model reads (its features need them, for a given history
 * too) into histories and exogs (room for OC_ENDPOINT_MAX_EXOGS each); false with resp filled when one
 * cannot be had. Release them with release_exogs whatever the answer. */
static bool acquire_exogs(oc_server *s, const oc_served_model *model, oc_history **histories, oc_series *exogs,
                          size_t *n, oc_response *resp) {
  const char *const *names;
  size_t nexog = oc_served_model_exogs(model, &names);
  *n = 0;
  if (nexog > OC_ENDPOINT_MAX_EXOGS) {
    oc_respond_error(resp, 500, "model_error", "model %s needs %zu other series; at most %d are supported",
                     oc_served_model_version(model), nexog, OC_ENDPOINT_MAX_EXOGS);
    return false;
  }
  for (; *n < nexog; (*n)++) {
    histories[*n] = oc_serve_history_acquire(s, names[*n], resp);
    if (!histories[*n]) return false;
    exogs[*n] = histories[*n]->series;
  }
  return true;
}

static void release_exogs(oc_history **histories, size_t n) {
  for (size_t i = 0; i < n; i++) oc_serve_history_release(histories[i]);
}

/* The snapshot's shadow challenger's forecast beside `served` into *out: true when made. Counted by
 * outcome in /metrics; a failure is logged and never reaches the caller. */
static bool shadow_forecast(oc_server *s, const oc_endpoint_snapshot *snap, const oc_series *history, bool stored,
                            const oc_forecast_record *served, oc_forecast_record *out) {
  if (!snap->shadow_version[0]) return false;
  const char *labels[] = {"endpoint", snap->spec.name, "model_version", snap->shadow_version, "outcome",
                          "unavailable"};
  bool made = false;
  if (snap->shadow) {
    oc_history *exog_histories[OC_ENDPOINT_MAX_EXOGS];
    oc_series exogs[OC_ENDPOINT_MAX_EXOGS];
    size_t nexog;
    oc_response scratch = {0};
    oc_error err;
    if (!acquire_exogs(s, snap->shadow, exog_histories, exogs, &nexog, &scratch))
      oc_error_set(&err, "%.*s", (int)scratch.body.len, scratch.body.data ? scratch.body.data : "");
    else
      made = oc_forecast_shadow(snap->shadow, history, exogs, stored, served, out, &err) == 0;
    release_exogs(exog_histories, nexog);
    oc_buf_free(&scratch.body);
    if (!made) oc_warn("serve: endpoint %s: %s", snap->spec.name, err.message);
    labels[5] = made ? "made" : "failed";
  }
  oc_metrics_add(s->metrics, OC_METRIC_SHADOW_FORECASTS, 1, 3, labels);
  return made;
}

void oc_handle_invoke(const oc_request *req, oc_response *resp) {
  oc_server *s = req->server;
  const char *name = oc_route_param(&req->params, "name");
  json_t *body = oc_request_json_object(req, resp);
  if (!body) return;
  json_t *days_json = json_object_get(body, "forecast_days");
  /* 0 until the variant is picked: its model's default horizon */
  json_int_t days = days_json ? (json_is_integer(days_json) ? json_integer_value(days_json) : -1) : 0;
  if ((days_json && days < 1) || days > OC_FORECAST_MAX_HORIZON) {
    json_decref(body);
    oc_respond_error(resp, 422, "invalid_request", "forecast_days must be an integer in 1..%d", OC_FORECAST_MAX_HORIZON);
    return;
  }
  oc_endpoint_snapshot *snap = oc_endpoints_acquire(s->endpoints, name);
  if (!snap) {
    json_decref(body);
    char problem[600];
    if (oc_endpoints_broken(s->endpoints, name, problem, sizeof problem)) /* what /readyz reports too */
      oc_respond_error(resp, 503, "endpoint_unavailable", "%s", problem);
    else
      oc_respond_error(resp, 404, "not_found", "no endpoint named '%s'", name);
    return;
  }
  const char *forced = oc_request_header(req, "X-Oilcast-Variant");
  int v = oc_endpoint_pick_variant(snap, req->request_id, forced);
  if (v < 0) {
    oc_respond_error(resp, 400, "unknown_variant", "endpoint %s has no variant '%s'", name, forced);
    json_decref(body);
    oc_endpoint_snapshot_release(snap);
    return;
  }
  oc_served_model *model = snap->models[v];
  if (!days) days = (json_int_t)oc_served_model_default_horizon(model);
  bool given = json_object_get(body, "historical_prices") || json_object_get(body, "current_price");
  oc_series own = {0};
  oc_history *stored = NULL;
  const oc_series *history = NULL;
  if (given) {
    if (given_history(s, body, snap->spec.series, &own, resp)) history = &own;
  } else {
    stored = oc_serve_history_acquire(s, snap->spec.series, resp);
    if (stored) history = &stored->series;
  }
  json_decref(body);
  /* The other series the model's features need come from the store in both cases. */
  oc_history *exog_histories[OC_ENDPOINT_MAX_EXOGS];
  oc_series exogs[OC_ENDPOINT_MAX_EXOGS];
  size_t nexog = 0;
  if (history && !acquire_exogs(s, model, exog_histories, exogs, &nexog, resp)) history = NULL;
  oc_price_forecast fc;
  oc_error err;
  if (history && oc_served_model_forecast(model, history, exogs, !given, (size_t)days, &fc, &err) != 0) {
    oc_respond_error(resp, 422, "forecast_failed", "endpoint %s, variant %s, model %s: %s", name,
                     snap->spec.variants[v].name, oc_served_model_version(model), err.message);
    history = NULL;
  }
  if (history) {
    /* recs[n - 1]: the answer; its shadow's goes first, so the answer stays the series' newest */
    oc_forecast_record recs[2], *rec = &recs[1];
    oc_forecast_record_fill(rec, &fc, snap->spec.series, oc_served_model_version(model), oc_served_model_kind(model),
                            given ? "given" : "stored", req->request_id);
    snprintf(rec->endpoint, sizeof rec->endpoint, "%s", name);
    snprintf(rec->variant, sizeof rec->variant, "%s", snap->spec.variants[v].name);
    bool shadowed = shadow_forecast(s, snap, history, !given, rec, &recs[0]);
    store_forecasts(s, shadowed ? recs : rec, shadowed ? 2 : 1);
    oc_buf points = {0};
    forecast_points_cached(s, &points, rec);
    oc_forecast_object_json(&resp->body, rec, points.data, points.len);
    oc_buf_putc(&resp->body, '\n');
    oc_buf_free(&points);
    resp->status = 200;
    resp->content_type = "application/json";
    oc_response_header(resp, "X-Oilcast-Variant", "%s", rec->variant);
    oc_response_header(resp, "X-Oilcast-Model-Version", "%s", rec->model_version);
    snprintf(resp->variant, sizeof resp->variant, "%s", rec->variant);
    const char *labels[] = {"endpoint", name, "variant", rec->variant, "model_version", rec->model_version};
    oc_metrics_add(s->metrics, OC_METRIC_FORECASTS, 1, 3, labels);
  }
  if (given) oc_series_free(&own);
  release_exogs(exog_histories, nexog);
  oc_serve_history_release(stored);
  oc_endpoint_snapshot_release(snap);
}

void oc_handle_endpoints_list(const oc_request *req, oc_response *resp) {
  oc_respond_json(resp, 200, oc_endpoints_describe(req->server->endpoints));
}

/* Registered versions (the registry's rows) merged with what endpoints serve: a registered version
 * gains "endpoints" and "load_seconds" when loaded; forecaster specs in use are listed after them. */
void oc_handle_models_list(const oc_request *req, oc_response *resp) {
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) return;
  oc_model_version *versions = NULL;
  size_t n = 0;
  oc_error err;
  int rc = oc_store_model_version_list(store, &versions, &n, &err);
  oc_serve_store_release(req->server, store);
  if (rc != 0) {
    oc_serve_store_failed(req->server, resp, "model_version_list", &err);
    return;
  }
  json_t *models = json_array();
  for (size_t i = 0; i < n; i++) {
    char version[32], created[OC_TIMESTAMP_STRLEN];
    snprintf(version, sizeof version, "v%lld", (long long)versions[i].version);
    oc_timestamp_format(versions[i].created_at, created);
    json_array_append_new(models, json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:o,s:o,s:o},s:[]}", "version", version, "kind",
                                            versions[i].kind, "series", versions[i].series, "status",
                                            versions[i].status, "created_at", created, "metrics", "val_loss",
                                            oc_json_number(versions[i].val_loss), "val_mae",
                                            oc_json_number(versions[i].val_mae), "naive_mae",
                                            oc_json_number(versions[i].naive_mae), "endpoints"));
  }
  oc_model_version_list_free(versions, n);
  json_t *serving = oc_endpoints_models(req->server->endpoints);
  size_t k;
  json_t *loaded;
  json_array_foreach(json_object_get(serving, "models"), k, loaded) {
    const char *version = json_string_value(json_object_get(loaded, "version"));
    json_t *match = NULL, *item;
    size_t j;
    json_array_foreach(models, j, item) {
      if (strcmp(json_string_value(json_object_get(item, "version")), version) == 0) match = item;
    }
    if (match) {
      json_object_set(match, "endpoints", json_object_get(loaded, "endpoints"));
      json_object_set(match, "load_seconds", json_object_get(loaded, "load_seconds"));
    } else {
      json_object_set_new(loaded, "created_at", json_null());
      json_object_set_new(loaded, "metrics", json_object());
      json_array_append(models, loaded);
    }
  }
  json_decref(serving);
  oc_respond_json(resp, 200, json_pack("{s:o}", "models", models));
}

/* The endpoint as GET /v1/endpoints lists it; 404 when there is none of that name. */
static void respond_endpoint(const oc_request *req, oc_response *resp, int status, const char *name) {
  json_t *all = oc_endpoints_describe(req->server->endpoints);
  size_t i;
  json_t *item, *found = NULL;
  json_array_foreach(json_object_get(all, "endpoints"), i, item) {
    if (strcmp(json_string_value(json_object_get(item, "name")), name) == 0) found = item;
  }
  if (found) oc_respond_json(resp, status, json_incref(found));
  else oc_respond_error(resp, 404, "not_found", "no endpoint named '%s'", name);
  json_decref(all);
}

void oc_handle_endpoint_get(const oc_request *req, oc_response *resp) {
  respond_endpoint(req, resp, 200, oc_route_param(&req->params, "name"));
}

static void record_model_loads(oc_server *s, const char *name) {
  oc_endpoint_snapshot *snap = oc_endpoints_acquire(s->endpoints, name);
  if (!snap) return;
  for (size_t i = 0; i < snap->spec.n_variants; i++) {
    const char *labels[] = {"model_version", oc_served_model_version(snap->models[i])};
    oc_metrics_set(s->metrics, OC_METRIC_MODEL_LOAD, oc_served_model_load_seconds(snap->models[i]), 1, labels);
  }
  oc_endpoint_snapshot_release(snap);
}

/* A member of a PUT body that docs/openapi.yaml's EndpointIn does not have, as "variants[1].wieght", into
 * where; false when there is none. Checked here, not by oc_endpoint_spec_parse, which also reads stored
 * configurations and the registry's deploy files (with members of their own). A misspelt "series" made
 * an endpoint on the default series, a misspelt "weight" a variant of weight 1. */
static bool unknown_endpoint_member(json_t *body, char *where, size_t cap) {
  static const char *const endpoint_members[] = {"series", "model_version", "variants", NULL};
  static const char *const variant_members[] = {"name", "model_version", "version", "weight", NULL};
  const char *member = oc_json_unknown_member(body, endpoint_members);
  if (member) {
    snprintf(where, cap, "%s", member);
    return true;
  }
  json_t *variants = json_object_get(body, "variants");
  for (size_t i = 0; i < json_array_size(variants); i++) {
    json_t *variant = json_array_get(variants, i);
    member = json_is_object(variant) ? oc_json_unknown_member(variant, variant_members) : NULL;
    if (member) {
      snprintf(where, cap, "variants[%zu].%s", i, member);
      return true;
    }
  }
  return false;
}

/* Whether a failed PUT or rollback failed at the store (another writer holds it, or it is read-only):
 * 503 with Retry-After as any write (oc_serve_store_failed), not the configuration's fault. It was
 * answered 422 invalid_endpoint (or 409 no_previous_configuration), which a client does not retry. */
static bool failed_at_store(const oc_error *err) {
  return err->kind == OC_ERROR_BUSY || err->kind == OC_ERROR_READ_ONLY;
}

void oc_handle_endpoint_put(const oc_request *req, oc_response *resp) {
  const char *name = oc_route_param(&req->params, "name");
  json_t *body = oc_request_json_object(req, resp);
  if (!body) return;
  char unknown[320];
  if (unknown_endpoint_member(body, unknown, sizeof unknown)) {
    json_decref(body);
    oc_respond_error(resp, 422, "invalid_endpoint",
                     "endpoint %s: unknown member '%s' (members: series, model_version, variants of name, "
                     "model_version, version, weight)",
                     name, unknown);
    return;
  }
  oc_endpoint_spec spec;
  oc_error err;
  int rc = oc_endpoint_spec_parse(body, name, &spec, &err);
  json_decref(body);
  if (rc != 0) {
    oc_respond_error(resp, 422, "invalid_endpoint", "%s", err.message);
    return;
  }
  bool created = false;
  if (oc_endpoints_put(req->server->endpoints, &spec, &created, &err) != 0) {
    if (failed_at_store(&err)) oc_serve_store_failed(req->server, resp, "endpoint_save", &err);
    else oc_respond_error(resp, 422, "invalid_endpoint", "%s", err.message);
    return;
  }
  record_model_loads(req->server, name);
  /* 201 and where it lives only when the endpoint is new; a replaced one is 200 (its URL was known). */
  if (created) oc_response_header(resp, "Location", "/v1/endpoints/%s", name); /* names need no escaping */
  respond_endpoint(req, resp, created ? 201 : 200, name);
}

void oc_handle_endpoint_rollback(const oc_request *req, oc_response *resp) {
  const char *name = oc_route_param(&req->params, "name");
  bool found = false;
  oc_error err;
  if (oc_endpoints_rollback(req->server->endpoints, name, &found, &err) != 0) {
    if (failed_at_store(&err)) oc_serve_store_failed(req->server, resp, "endpoint_save", &err);
    else oc_respond_error(resp, 409, "no_previous_configuration", "%s", err.message);
    return;
  }
  if (!found) {
    oc_respond_error(resp, 404, "not_found", "no endpoint named '%s'", name);
    return;
  }
  record_model_loads(req->server, name);
  respond_endpoint(req, resp, 200, name);
}

void oc_handle_forecast_latest(const oc_request *req, oc_response *resp) {
  const char *series = oc_request_query(req, "series");
  if (!series || !*series) series = "WTI";
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) return;
  oc_forecast_record *rec = oc_xmalloc(sizeof *rec);
  bool found = false;
  oc_error err;
  int rc = oc_store_forecast_latest(store, series, rec, &found, &err);
  oc_serve_store_release(req->server, store);
  if (rc != 0) {
    oc_serve_store_failed(req->server, resp, "forecast_latest", &err);
  } else if (!found) {
    oc_respond_error(resp, 404, "not_found", "no forecast of %s has been made yet", series);
  } else {
    oc_forecast_object_json(&resp->body, rec, NULL, 0);
    oc_buf_putc(&resp->body, '\n');
    resp->status = 200;
    resp->content_type = "application/json";
  }
  free(rec);
}

void oc_handle_backtest_latest(const oc_request *req, oc_response *resp) {
  const char *series = oc_request_query(req, "series");
  if (!series || !*series) series = "WTI";
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) return;
  oc_backtest_record rec;
  bool found = false;
  oc_error err;
  int rc = oc_store_backtest_latest(store, series, &rec, &found, &err);
  oc_serve_store_release(req->server, store);
  if (rc != 0) {
    oc_serve_store_failed(req->server, resp, "backtest_latest", &err);
    return;
  }
  if (!found) {
    oc_respond_error(resp, 404, "not_found", "no backtest of %s has been run yet (oilcast backtest --series %s)", series,
                     series);
    return;
  }
  /* Stored as the API document (model/backtest.h); rewritten by the one JSON writer, so its numbers
   * read as every other answer's do. */
  json_error_t jerr;
  json_t *doc = json_loads(rec.result_json, 0, &jerr);
  if (doc) oc_respond_json(resp, 200, doc);
  else oc_respond_error(resp, 500, "store_error", "the stored backtest %lld is not JSON: %s", (long long)rec.id, jerr.text);
  oc_backtest_record_free(&rec);
}
