/* state.c: the services a running server shares across handlers: the store connection pool, the API
 * key table, the live event hub, readiness checks, and the follower of the store's change feed that
 * keeps them (and the endpoint snapshots) up to date with what any process commits. Opened before the
 * HTTP daemon starts and closed after it stops, so handlers never see a half-built server. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "serve/context.h"
#include "serve/endpoints.h"
#include "serve/events.h"
#include "serve/handlers.h"
#include "serve/sensor_feed.h"
#include "model/registry.h"
#include "store/datadir.h"

/* A pooled store connection for work outside any request (no response to fill): NULL when the store
 * cannot be opened (the failure is counted in the metrics). */
static oc_store *store_acquire_unattended(oc_server *s) {
  oc_response scratch = {0};
  oc_store *store = oc_serve_store_acquire(s, &scratch);
  oc_buf_free(&scratch.body);
  return store;
}

/* The connection the API key table and the endpoint table borrow (their loads and saves). */
static oc_store *lend_store(void *ctx, oc_error *err) {
  oc_server *s = ctx;
  oc_store *store = store_acquire_unattended(s);
  if (!store) oc_error_set(err, "no store connection: the store %s cannot be opened", s->store_uri);
  return store;
}

static void return_store(void *ctx, oc_store *store) { oc_serve_store_release(ctx, store); }

static int load_history(void *ctx, const char *series, oc_series *out, oc_error *err) {
  oc_server *s = ctx;
  oc_store *store = store_acquire_unattended(s);
  if (!store) return oc_error_set(err, "no store connection to load the %s history", series);
  int rc = oc_store_series_load(store, series, OC_DATE_INVALID, OC_DATE_INVALID, out, err);
  oc_serve_store_release(s, store);
  return rc;
}

/* A "backtest" event for the newest stored report of the series: a window backtest or a by-year report
 * (both record the same change kind), named by "report" ("window" or "by_year") with its creation time. */
static void publish_backtest(oc_server *s, oc_store *store, const char *series) {
  oc_backtest_record window;
  oc_backtest_years_record years;
  bool have_window = false, have_years = false;
  oc_error err;
  if (oc_store_backtest_latest(store, series, &window, &have_window, &err) != 0 ||
      oc_store_backtest_years_latest(store, series, &years, &have_years, &err) != 0) {
    oc_warn("serve: following backtests: %s", err.message);
    if (have_window) oc_backtest_record_free(&window);
    return;
  }
  if (have_window || have_years) {
    bool by_year = have_years && (!have_window || years.created_at > window.created_at);
    char created[32];
    oc_timestamp_format(by_year ? years.created_at : window.created_at, created);
    oc_serve_publish(s, "backtest", json_pack("{s:s,s:s,s:s}", "series", series, "created_at", created, "report",
                                              by_year ? "by_year" : "window"));
  }
  if (have_window) oc_backtest_record_free(&window);
  if (have_years) oc_backtest_years_record_free(&years);
}

/* At most this many series named by one "ingest" event: a 10-million-row import is still one small event. */
#define INGEST_EVENT_SERIES 16

/* An import recorded by another process (`oilcast ingest`) becomes an "ingest" event when it succeeded
 * and wrote rows. API posts ("api" runs) already published their observations. */
static void publish_ingest(oc_server *s, oc_store *store, int64_t run_id) {
  oc_ingest_run_info *runs = NULL;
  size_t n = 0;
  int64_t newest = 0;
  oc_error err;
  if (oc_store_ingest_runs_after(store, run_id - 1, 1, INGEST_EVENT_SERIES, &runs, &n, &newest, &err) != 0) {
    oc_warn("serve: following ingest runs: %s", err.message);
    return;
  }
  const oc_ingest_run_info *run = n == 1 && runs[0].id == run_id ? &runs[0] : NULL;
  if (run && strcmp(run->status, "ok") == 0 && strcmp(run->source_kind, "api") != 0 &&
      run->rows_inserted + run->rows_updated > 0) {
    json_t *names = json_array(), *last = json_object();
    for (size_t k = 0; k < run->listed; k++) {
      const oc_ingest_run_series *rs = &run->series[k];
      char date[OC_DATE_STRLEN];
      json_array_append_new(names, json_string(rs->name));
      json_object_set_new(last, rs->name,
                          json_pack("{s:s,s:o}", "date", oc_date_format(rs->last_date, date), "value", oc_json_number(rs->last_value)));
    }
    oc_serve_publish(s, "ingest",
                     json_pack("{s:I,s:s,s:o,s:I,s:I,s:I,s:o}", "run_id", (json_int_t)run->id, "source",
                               run->source_kind, "series", names, "series_total", (json_int_t)run->nseries,
                               "inserted", (json_int_t)run->rows_inserted, "updated", (json_int_t)run->rows_updated,
                               "last", last));
  }
  oc_ingest_run_info_list_free(runs, n);
}

/* Whether changes[0..i) already holds a change of the same kind and subject (handled once per batch). */
static bool seen_before(const oc_change *changes, size_t i) {
  for (size_t k = 0; k < i; k++) {
    if (changes[k].kind == changes[i].kind && strcmp(changes[k].subject, changes[i].subject) == 0) return true;
  }
  return false;
}

/* What one batch of changes means to the running server. */
static void apply_changes(oc_server *s, oc_store *store, const oc_change *changes, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const oc_change *c = &changes[i];
    if (c->kind != OC_CHANGE_INGEST_RUN && seen_before(changes, i)) continue;
    oc_error err;
    switch (c->kind) {
    case OC_CHANGE_API_KEY:
      if (oc_apikey_table_reload(&s->keys, &err) != 0) oc_warn("serve: reloading API keys: %s", err.message);
      oc_event_hub_recheck(s->events); /* a revoked key's open stream ends now */
      break;
    case OC_CHANGE_ENDPOINT: oc_endpoints_reload(s->endpoints, c->subject); break;
    case OC_CHANGE_MODEL: oc_endpoints_reload_serving(s->endpoints, c->subject); break;
    case OC_CHANGE_OBSERVATIONS: oc_serve_history_invalidate(s, c->subject); break;
    case OC_CHANGE_BACKTEST: publish_backtest(s, store, c->subject); break;
    case OC_CHANGE_INGEST_RUN: publish_ingest(s, store, strtoll(c->subject, NULL, 10)); break;
    case OC_CHANGE_FORECAST: break; /* this server publishes its own forecasts as it makes them */
    case OC_CHANGE_JOB: break;      /* job runs are read when asked for */
    case OC_CHANGE_DECISION: /* a promotion decision: the endpoint's shadow challenger may have changed */
      oc_endpoints_reload(s->endpoints, c->subject);
      break;
    case OC_CHANGE_ALERT: break;    /* so are alerts (GET /v1/alerts) */
    case OC_CHANGE_DEVICE: break;   /* devices are read when asked for */
    case OC_CHANGE_SENSOR_ANOMALY:
    case OC_CHANGE_SENSOR_WINDOW: oc_serve_publish_sensor_change(s, store, c); break;
    }
  }
}

/* Changes handled per look; more wait for the next look, which comes at once. */
#define FOLLOW_BATCH 256
/* A wait with no change ends after this long (and is simply waited again). */
#define FOLLOW_IDLE_SECONDS 30.0
/* After a failing look, the follower tries again this much later. */
#define FOLLOW_RETRY_SECONDS 1.0

static void *follow_store(void *arg) {
  oc_server *s = arg;
  oc_store *store = s->feed_store;
  int64_t last = s->feed_start;
  const struct timespec retry_step = {0, (long)(FOLLOW_RETRY_SECONDS / 20 * 1e9)};
  while (!atomic_load(&s->follower_stopping)) {
    int64_t latest = last;
    oc_change *changes = NULL;
    size_t n = 0;
    oc_error err;
    if (oc_store_changes_wait(store, last, FOLLOW_IDLE_SECONDS, &latest, &err) != 0 ||
        (latest > last && oc_store_changes_after(store, last, FOLLOW_BATCH, &changes, &n, &err) != 0)) {
      oc_warn("serve: following the store: %s (trying again in %.0f s)", err.message, FOLLOW_RETRY_SECONDS);
      for (int i = 0; i < 20 && !atomic_load(&s->follower_stopping); i++) nanosleep(&retry_step, NULL);
      continue;
    }
    if (atomic_load(&s->follower_stopping)) {
      free(changes);
      break;
    }
    apply_changes(s, store, changes, n);
    if (n) last = changes[n - 1].id;
    free(changes);
  }
  return NULL;
}

int oc_serve_state_open(oc_server *s, oc_error *err) {
  pthread_mutex_init(&s->store_lock, NULL);
  oc_store *first = NULL;
  if (oc_datadir_open(s->data_dir, &first, err) != 0 || oc_datadir_store_uri(s->data_dir, &s->store_uri, err) != 0) {
    oc_store_close(first);
    pthread_mutex_destroy(&s->store_lock);
    return -1;
  }
  /* The follower's own connection, and where it starts: what is committed from here on is followed. */
  s->feed_store = first;
  if (oc_store_changes_latest(s->feed_store, &s->feed_start, err) != 0) {
    oc_store_close(s->feed_store);
    s->feed_store = NULL;
    free(s->store_uri);
    pthread_mutex_destroy(&s->store_lock);
    return -1;
  }
  oc_apikey_table_init(&s->keys, &(oc_apikey_source){lend_store, return_store, s}, s->cfg.key_reload_interval);
  if (oc_apikey_table_reload(&s->keys, err) != 0) {
    oc_serve_state_close(s);
    return -1;
  }
  s->events = oc_event_hub_new(15.0);
  pthread_mutex_init(&s->history_lock, NULL);
  pthread_mutex_init(&s->saved_lock, NULL);
  pthread_mutex_init(&s->points_lock, NULL);
  oc_serve_points_cache_init(s);
  s->endpoints = oc_endpoints_new(s->data_dir, load_history, lend_store, return_store, s);
  int listed = oc_endpoints_load_all(s->endpoints, err);
  json_t *loaded = oc_endpoints_models(s->endpoints);
  size_t i;
  json_t *model;
  json_array_foreach(json_object_get(loaded, "models"), i, model) {
    const char *labels[] = {"model_version", json_string_value(json_object_get(model, "version"))};
    oc_metrics_set(s->metrics, OC_METRIC_MODEL_LOAD, json_real_value(json_object_get(model, "load_seconds")), 1, labels);
  }
  json_decref(loaded);
  atomic_init(&s->follower_stopping, false);
  pthread_create(&s->follower, NULL, follow_store, s);
  if (listed != 0) { /* the store could not list its endpoints: closed as a whole, follower included */
    oc_serve_state_close(s);
    return -1;
  }
  return 0;
}

void oc_serve_streams_close(oc_server *s) {
  if (s->events) oc_event_hub_close(s->events);
}

void oc_serve_state_close(oc_server *s) {
  if (s->events) {
    atomic_store(&s->follower_stopping, true);
    oc_store_changes_interrupt(s->feed_store);
    pthread_join(s->follower, NULL);
    oc_endpoints_free(s->endpoints);
    for (size_t i = 0; i < s->history_count; i++) oc_serve_history_release(s->histories[i]);
    free(s->histories);
    pthread_mutex_destroy(&s->history_lock);
    pthread_mutex_destroy(&s->saved_lock);
    oc_serve_points_cache_free(s);
    pthread_mutex_destroy(&s->points_lock);
  }
  oc_event_hub_free(s->events);
  s->events = NULL;
  oc_apikey_table_free(&s->keys);
  oc_store_close(s->feed_store);
  s->feed_store = NULL;
  for (size_t i = 0; i < s->idle_count; i++) oc_store_close(s->idle_stores[i]);
  free(s->idle_stores);
  free(s->store_uri);
  pthread_mutex_destroy(&s->store_lock);
}

oc_store *oc_serve_store_acquire(oc_server *s, oc_response *resp) {
  pthread_mutex_lock(&s->store_lock);
  oc_store *store = s->idle_count ? s->idle_stores[--s->idle_count] : NULL;
  pthread_mutex_unlock(&s->store_lock);
  if (store) return store;
  oc_error err;
  store = oc_store_open(s->store_uri, &err);
  if (store) oc_store_set_wait(store, &(oc_store_wait){.max_seconds = OC_SERVE_STORE_WAIT_SECONDS, .report_every = 1});
  if (!store) {
    const char *labels[] = {"operation", "open"};
    oc_metrics_add(s->metrics, OC_METRIC_STORE_ERRORS, 1, 1, labels);
    oc_respond_error(resp, 503, "store_unavailable", "%s", err.message);
  }
  return store;
}

void oc_serve_store_release(oc_server *s, oc_store *store) {
  pthread_mutex_lock(&s->store_lock);
  oc_xgrow((void **)&s->idle_stores, &s->idle_cap, s->idle_count + 1, sizeof *s->idle_stores);
  s->idle_stores[s->idle_count++] = store;
  pthread_mutex_unlock(&s->store_lock);
}

void oc_serve_store_failed(oc_server *s, oc_response *resp, const char *operation, const oc_error *err) {
  const char *labels[] = {"operation", operation};
  oc_metrics_add(s->metrics, OC_METRIC_STORE_ERRORS, 1, 1, labels);
  if (err->kind == OC_ERROR_BUSY) {
    oc_warn("serve: store %s: %s", operation, err->message);
    oc_respond_error(resp, 503, "store_busy", "%s: %s; try again in %d s", operation, err->message,
                     OC_SERVE_STORE_BUSY_RETRY_SECONDS);
    oc_response_header(resp, "Retry-After", "%d", OC_SERVE_STORE_BUSY_RETRY_SECONDS);
    return;
  }
  if (err->kind == OC_ERROR_READ_ONLY) { /* a server on a read-only data directory: reads only */
    oc_respond_error(resp, 503, "store_read_only", "%s: %s", operation, err->message);
    return;
  }
  oc_err("serve: store %s failed: %s", operation, err->message);
  oc_respond_error(resp, 500, "store_error", "%s: %s", operation, err->message);
}

int oc_serve_store_check(oc_server *s, oc_error *err) {
  oc_store *store = store_acquire_unattended(s);
  if (!store) return oc_error_set(err, "the store %s cannot be opened", s->store_uri);
  int version = 0;
  int rc = oc_store_schema_version(store, &version, err);
  oc_serve_store_release(s, store);
  return rc;
}

void oc_serve_publish(oc_server *s, const char *type, json_t *data) {
  char *text = oc_json_dumps(data, OC_JSON_COMPACT);
  json_decref(data);
  oc_event_publish(s->events, type, text);
  free(text);
}

void oc_serve_history_release(oc_history *h) {
  if (!h || atomic_fetch_sub(&h->refs, 1) != 1) return;
  oc_series_free(&h->series);
  free(h);
}

oc_history *oc_serve_history_acquire(oc_server *s, const char *series, oc_response *resp) {
  double now = oc_monotonic_seconds();
  pthread_mutex_lock(&s->history_lock);
  for (size_t i = 0; i < s->history_count; i++) {
    oc_history *h = s->histories[i];
    if (strcmp(h->series.name, series) == 0 && h->loaded_at >= 0 && now - h->loaded_at < 1.0) {
      atomic_fetch_add(&h->refs, 1);
      pthread_mutex_unlock(&s->history_lock);
      return h;
    }
  }
  pthread_mutex_unlock(&s->history_lock);
  oc_store *store = oc_serve_store_acquire(s, resp);
  if (!store) return NULL;
  oc_history *fresh = oc_xcalloc(1, sizeof *fresh);
  atomic_init(&fresh->refs, 2); /* the cache's and the caller's */
  fresh->loaded_at = now;
  oc_series_info info;
  bool found = false;
  oc_error err;
  int rc = oc_store_series_get(store, series, &info, &found, &err);
  if (rc == 0 && found) rc = oc_store_series_load(store, series, OC_DATE_INVALID, OC_DATE_INVALID, &fresh->series, &err);
  oc_serve_store_release(s, store);
  if (rc == 0 && found) oc_series_info_free(&info);
  if (rc != 0 || !found) {
    free(fresh);
    if (rc != 0) oc_serve_store_failed(s, resp, "series_load", &err);
    else oc_respond_error(resp, 404, "not_found", "no series named '%s'", series);
    return NULL;
  }
  pthread_mutex_lock(&s->history_lock);
  size_t i = 0;
  while (i < s->history_count && strcmp(s->histories[i]->series.name, series) != 0) i++;
  if (i == s->history_count) {
    oc_xgrow((void **)&s->histories, &s->history_cap, s->history_count + 1, sizeof *s->histories);
    s->history_count++;
  } else {
    oc_serve_history_release(s->histories[i]);
  }
  s->histories[i] = fresh;
  pthread_mutex_unlock(&s->history_lock);
  return fresh;
}

void oc_serve_history_invalidate(oc_server *s, const char *series) {
  pthread_mutex_lock(&s->history_lock);
  for (size_t i = 0; i < s->history_count; i++) {
    if (strcmp(s->histories[i]->series.name, series) == 0) s->histories[i]->loaded_at = -1;
  }
  pthread_mutex_unlock(&s->history_lock);
}
