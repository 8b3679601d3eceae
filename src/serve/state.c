/* state.c: the services a running server shares across handlers: the store connection pool, the API
 * key table (reloaded from the store), the live event hub, and readiness checks. Opened before the
 * HTTP daemon starts and closed after it stops, so handlers never see a half-built server. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/fswatch.h"
#include "core/log.h"
#include "serve/context.h"
#include "serve/endpoints.h"
#include "serve/events.h"
#include "serve/handlers.h"
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

static int load_keys(void *ctx, oc_apikey_record **records, size_t *count, oc_error *err) {
  oc_server *s = ctx;
  oc_store *store = store_acquire_unattended(s);
  if (!store) return oc_error_set(err, "no store connection for the API key table");
  oc_api_key_row *rows = NULL;
  size_t n = 0;
  int rc = oc_store_api_key_list(store, &rows, &n, err);
  oc_serve_store_release(s, store);
  if (rc != 0) return -1;
  *records = oc_xcalloc(n ? n : 1, sizeof **records);
  for (size_t i = 0; i < n; i++) {
    oc_apikey_record *r = &(*records)[i];
    snprintf(r->id, sizeof r->id, "%s", rows[i].id);
    snprintf(r->name, sizeof r->name, "%s", rows[i].name);
    snprintf(r->hash_hex, sizeof r->hash_hex, "%s", rows[i].hash);
    if (oc_scope_parse(rows[i].scope, &r->scope, NULL) != 0) r->scope = OC_SCOPE_NONE;
    r->rate.per_second = rows[i].rate_per_second;
    r->rate.burst = rows[i].burst;
    r->revoked = rows[i].revoked_at != 0;
  }
  *count = n;
  free(rows);
  return 0;
}

static int load_history(void *ctx, const char *series, oc_series *out, oc_error *err) {
  oc_server *s = ctx;
  oc_store *store = store_acquire_unattended(s);
  if (!store) return oc_error_set(err, "no store connection to load the %s history", series);
  int rc = oc_store_series_load(store, series, OC_DATE_INVALID, OC_DATE_INVALID, out, err);
  oc_serve_store_release(s, store);
  return rc;
}

/* Mirrors an endpoint configuration into the registry's rows when every variant is a registered
 * version ("v3"); configurations that serve forecaster specs ("naive") live in the endpoint file only. */
static int sync_endpoint(void *ctx, const oc_endpoint_spec *spec, oc_error *err) {
  oc_server *s = ctx;
  oc_endpoint_variant variants[OC_ENDPOINT_MAX_VARIANTS];
  for (size_t i = 0; i < spec->n_variants; i++) {
    if (oc_model_version_parse(spec->variants[i].model_version, &variants[i].version) != 0) return 0;
    variants[i].weight = spec->variants[i].weight;
    if (variants[i].weight <= 0) return 0;
    for (size_t k = 0; k < i; k++) {
      if (variants[k].version == variants[i].version) return 0;
    }
  }
  oc_store *store = store_acquire_unattended(s);
  if (!store) return oc_error_set(err, "no store connection to record endpoint %s", spec->name);
  int rc = oc_store_endpoint_set(store, spec->name, variants, spec->n_variants, (int64_t)time(NULL), err);
  oc_serve_store_release(s, store);
  return rc;
}

/* The newest backtest seen per series: a change is published as a "backtest" event. */
typedef struct backtest_seen {
  char series[OC_SERIES_NAME_MAX + 1];
  int64_t created_at;
} backtest_seen;

static void check_backtests(oc_server *s, backtest_seen **seen, size_t *n_seen, size_t *cap, bool publish) {
  oc_store *store = store_acquire_unattended(s);
  if (!store) return;
  oc_series_info *list = NULL;
  size_t n = 0;
  oc_error err;
  if (oc_store_series_list(store, &list, &n, &err) == 0) {
    for (size_t i = 0; i < n; i++) {
      oc_backtest_record rec;
      bool found = false;
      if (oc_store_backtest_latest(store, list[i].name, &rec, &found, &err) != 0 || !found) continue;
      size_t k = 0;
      while (k < *n_seen && strcmp((*seen)[k].series, list[i].name) != 0) k++;
      if (k == *n_seen) {
        oc_xgrow((void **)seen, cap, *n_seen + 1, sizeof **seen);
        snprintf((*seen)[k].series, sizeof (*seen)[k].series, "%s", list[i].name);
        (*seen)[k].created_at = 0;
        (*n_seen)++;
      }
      if (rec.created_at != (*seen)[k].created_at) {
        (*seen)[k].created_at = rec.created_at;
        if (publish) {
          json_error_t jerr;
          json_t *doc = json_loads(rec.result_json, 0, &jerr);
          json_t *created = doc ? json_object_get(doc, "created_at") : NULL;
          oc_serve_publish(s, "backtest", json_pack("{s:s,s:O}", "series", list[i].name, "created_at",
                                                    created ? created : json_null()));
          json_decref(doc);
        }
      }
      oc_backtest_record_free(&rec);
    }
    oc_series_info_list_free(list, n);
  }
  oc_serve_store_release(s, store);
}

/* Bounds of one poll and one "ingest" event: a 10-million-row import is still one small event. */
#define INGEST_RUNS_PER_POLL 64
#define INGEST_EVENT_SERIES 16

/* Imports recorded after *last_run (by `oilcast ingest` in another process) become "ingest" events:
 * successful runs that wrote rows. API posts ("api" runs) already published their observations.
 * *last_run < 0: not primed yet; the first successful look only moves the cursor to the newest run
 * (what was there before the server started is not news), even when the store opened late. */
static void check_ingests(oc_server *s, int64_t *last_run) {
  bool publish = *last_run >= 0;
  oc_store *store = store_acquire_unattended(s);
  if (!store) return;
  oc_ingest_run_info *runs = NULL;
  size_t n = 0;
  int64_t newest = 0;
  oc_error err;
  if (oc_store_ingest_runs_after(store, *last_run, publish ? INGEST_RUNS_PER_POLL : 0, INGEST_EVENT_SERIES, &runs,
                                 &n, &newest, &err) != 0) {
    oc_serve_store_release(s, store);
    oc_warn("serve: watching ingest runs: %s", err.message);
    return;
  }
  oc_serve_store_release(s, store);
  if (!publish) *last_run = newest;
  for (size_t i = 0; i < n; i++) {
    const oc_ingest_run_info *run = &runs[i];
    *last_run = run->id;
    if (strcmp(run->status, "ok") != 0 || strcmp(run->source_kind, "api") == 0) continue;
    if (run->rows_inserted + run->rows_updated == 0) continue;
    json_t *names = json_array(), *last = json_object();
    for (size_t k = 0; k < run->listed; k++) {
      const oc_ingest_run_series *rs = &run->series[k];
      char date[OC_DATE_STRLEN];
      json_array_append_new(names, json_string(rs->name));
      json_object_set_new(last, rs->name,
                          json_pack("{s:s,s:f}", "date", oc_date_format(rs->last_date, date), "value", rs->last_value));
      oc_serve_history_invalidate(s, rs->name);
    }
    oc_serve_publish(s, "ingest",
                     json_pack("{s:I,s:s,s:o,s:I,s:I,s:I,s:o}", "run_id", (json_int_t)run->id, "source",
                               run->source_kind, "series", names, "series_total", (json_int_t)run->nseries,
                               "inserted", (json_int_t)run->rows_inserted, "updated", (json_int_t)run->rows_updated,
                               "last", last));
  }
  oc_ingest_run_info_list_free(runs, n);
}

/* Without inotify the store is polled this often. */
#define WATCH_POLL_SECONDS 2.0
/* With it: at most one look per burst of writes every WATCH_MIN_GAP, one more WATCH_SETTLE after a
 * change (a commit becomes visible to readers only when its writer updates the WAL index, just after the
 * write that woke the watcher), and one every WATCH_IDLE_SECONDS for writers inotify cannot see (another
 * host on a network filesystem). */
#define WATCH_MIN_GAP 0.05
#define WATCH_SETTLE 0.25
#define WATCH_IDLE_SECONDS 30.0

static void *watch_store(void *arg) {
  oc_server *s = arg;
  backtest_seen *seen = NULL;
  size_t n_seen = 0, cap = 0;
  int64_t last_run = -1;
  /* The watch is already open: a commit from here on is either seen by these first looks or reported. */
  check_backtests(s, &seen, &n_seen, &cap, false);
  check_ingests(s, &last_run);
  const double idle = oc_fswatch_active(s->store_watch) ? WATCH_IDLE_SECONDS : WATCH_POLL_SECONDS;
  double timeout = idle;
  for (;;) {
    oc_fswatch_event e = oc_fswatch_wait(s->store_watch, timeout, WATCH_MIN_GAP);
    if (e == OC_FSWATCH_INTERRUPTED) break;
    check_backtests(s, &seen, &n_seen, &cap, true);
    check_ingests(s, &last_run);
    timeout = e == OC_FSWATCH_CHANGED ? WATCH_SETTLE : idle;
  }
  free(seen);
  return NULL;
}

/* The watch on the store's files; inactive (polling) where inotify cannot be used. */
static oc_fswatch *watch_store_files(const char *uri) {
  char **paths = NULL;
  size_t n = 0;
  oc_error why;
  oc_fswatch *w = oc_store_commit_files(uri, &paths, &n, &why) == 0
                      ? oc_fswatch_open((const char *const *)paths, n, &why)
                      : oc_fswatch_open(NULL, 0, NULL);
  if (oc_fswatch_active(w)) oc_debug("serve: watching %s and %zu more file(s) with inotify", paths[0], n - 1);
  else oc_info("serve: imports and backtests by other processes are noticed within %.0f s (%s)", WATCH_POLL_SECONDS,
               why.message);
  for (size_t i = 0; i < n; i++) free(paths[i]);
  free(paths);
  return w;
}

int oc_serve_state_open(oc_server *s, oc_error *err) {
  pthread_mutex_init(&s->store_lock, NULL);
  oc_store *first = NULL;
  if (oc_datadir_open(s->data_dir, &first, err) != 0 || oc_datadir_store_uri(s->data_dir, &s->store_uri, err) != 0) {
    oc_store_close(first);
    pthread_mutex_destroy(&s->store_lock);
    return -1;
  }
  oc_serve_store_release(s, first);
  oc_apikey_table_init(&s->keys, load_keys, s, s->cfg.key_reload_interval);
  if (oc_apikey_table_reload(&s->keys, err) != 0) {
    oc_serve_state_close(s);
    return -1;
  }
  s->events = oc_event_hub_new(15.0);
  pthread_mutex_init(&s->history_lock, NULL);
  pthread_mutex_init(&s->saved_lock, NULL);
  pthread_mutex_init(&s->points_lock, NULL);
  oc_serve_points_cache_init(s);
  s->endpoints = oc_endpoints_new(s->data_dir, load_history, sync_endpoint, s);
  oc_endpoints_load_all(s->endpoints);
  json_t *loaded = oc_endpoints_models(s->endpoints);
  size_t i;
  json_t *model;
  json_array_foreach(json_object_get(loaded, "models"), i, model) {
    const char *labels[] = {"model_version", json_string_value(json_object_get(model, "version"))};
    oc_metrics_set(s->metrics, OC_METRIC_MODEL_LOAD, json_real_value(json_object_get(model, "load_seconds")), 1, labels);
  }
  json_decref(loaded);
  s->store_watch = watch_store_files(s->store_uri);
  pthread_create(&s->watcher, NULL, watch_store, s);
  return 0;
}

void oc_serve_streams_close(oc_server *s) {
  if (s->events) oc_event_hub_close(s->events);
}

void oc_serve_state_close(oc_server *s) {
  if (s->events) {
    oc_fswatch_interrupt(s->store_watch);
    pthread_join(s->watcher, NULL);
    oc_fswatch_close(s->store_watch);
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
  char *text = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(10));
  json_decref(data);
  if (!text) return;
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
