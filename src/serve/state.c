/* state.c: the services a running server shares across handlers: the store connection pool, the API
 * key table (reloaded from the store), the live event hub, and readiness checks. Opened before the
 * HTTP daemon starts and closed after it stops, so handlers never see a half-built server. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "serve/context.h"
#include "serve/events.h"
#include "serve/handlers.h"
#include "store/datadir.h"

static int load_keys(void *ctx, oc_apikey_record **records, size_t *count, oc_error *err) {
  oc_server *s = ctx;
  oc_response scratch = {0};
  oc_store *store = oc_serve_store_acquire(s, &scratch);
  oc_buf_free(&scratch.body);
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
  return 0;
}

void oc_serve_streams_close(oc_server *s) {
  if (s->events) oc_event_hub_close(s->events);
}

void oc_serve_state_close(oc_server *s) {
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
  oc_response scratch = {0};
  oc_store *store = oc_serve_store_acquire(s, &scratch);
  oc_buf_free(&scratch.body);
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
