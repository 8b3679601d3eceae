/* context.h: the running server's shared state, as handlers in src/serve/ see it. Internal to
 * src/serve/: nothing outside this folder includes it. Every field is either immutable after start,
 * atomic, or guarded by the lock named beside it. */
#ifndef OC_SERVE_CONTEXT_H
#define OC_SERVE_CONTEXT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "keys/apikey.h"
#include "serve/admission.h"
#include "serve/metrics.h"
#include "serve/ratelimit.h"
#include "serve/server.h"

struct MHD_Daemon;

struct oc_server {
  oc_serve_config cfg;
  char *data_dir, *web_dir, *vendor_dir; /* owned copies of the config's strings */
  struct MHD_Daemon *daemon;
  unsigned short port;
  const oc_route *routes;
  size_t route_count;
  oc_metrics *metrics;
  /* $OILCAST_EXCHANGE_LOG, opened for appending at start (-1: not set): one JSON line per response
   * {"method","route","status","content_type","body"}, which the API tests validate against
   * docs/openapi.yaml (tests/api/validate_responses.mjs). */
  int exchange_log_fd;
  oc_rate_limiter limiter;
  oc_admission admission; /* which connections are kept (admission.h) */
  oc_apikey_table keys;
  char id_prefix[9]; /* random per process, so generated request ids differ across restarts */
  _Atomic uint64_t request_seq;
  _Atomic long in_flight;
  _Atomic bool draining;
  /* Store connections not in use (a connection serves one thread at a time). */
  pthread_mutex_t store_lock;
  struct oc_store **idle_stores; /* guarded by store_lock */
  size_t idle_count, idle_cap;   /* guarded by store_lock */
  char *store_uri;
  struct oc_event_hub *events;
  struct oc_endpoints *endpoints;
  /* Stored histories shared by forecasts (reloaded when stale or written through the API). */
  pthread_mutex_t history_lock;
  struct oc_history **histories; /* guarded by history_lock */
  size_t history_count, history_cap;
  /* Keys of the stored-history forecasts saved most recently, so identical forecasts are stored once. */
  pthread_mutex_t saved_lock;
  char saved_keys[64][256]; /* guarded by saved_lock */
  size_t saved_next;
  /* Formatted forecast points, reused while a model keeps answering the same numbers (formatting 35
   * doubles exactly costs more than the rest of a cached forecast request). */
  pthread_mutex_t points_lock;
  struct oc_points_cache *points_cache; /* guarded by points_lock */
  size_t points_cache_next;             /* guarded by points_lock */
  /* Follows the store's change feed: what other processes (and this one) commit reaches the key
   * table, the endpoint snapshots, the history cache and the live events. The follower thread owns
   * feed_store (its own connection, interrupted to stop it) and starts after change feed_start. */
  pthread_t follower;
  struct oc_store *feed_store;
  int64_t feed_start;
  _Atomic bool follower_stopping;
  /* The sensor stream inside the server (cfg.stream): its thread owns stream_store and stream_opt from
   * start until stream_stop is set and it is joined (oc_server_stop). */
  bool stream_running;
  pthread_t stream_thread;
  struct oc_store *stream_store;
  struct oc_stream_options *stream_opt;
  atomic_bool stream_stop;
};

#endif
