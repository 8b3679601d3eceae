/* ratelimit.h: token buckets for per-key request limits (the API Gateway usage plan). A bucket holds
 * up to `burst` tokens, refills at `rate` tokens per second and starts full, so exactly `burst`
 * back-to-back requests pass and the next one is refused. Time is passed in (seconds, monotonic) so the
 * arithmetic is testable without sleeping. Not thread-safe by itself: the limiter table locks.
 * Several nodes: a limiter placed in the store (oc_rate_limiter_place) keeps no bucket of its own but
 * takes each token from the key's row in the store (store.h, rate_take: one statement per request, the
 * store's clock), so a key gets burst requests through the whole cluster, whichever node each reaches.
 * When the store cannot answer, the request is judged by this node's own bucket (and a warning logged),
 * so an outage of the store's rate table neither blocks every key nor lifts every limit. */
#ifndef OC_SERVE_RATELIMIT_H
#define OC_SERVE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/lock.h"
#include "core/progress.h" /* oc_monotonic_seconds */

typedef struct oc_rate {
  double per_second; /* refill rate; 0 = unlimited */
  double burst;      /* capacity */
} oc_rate;

/* Parses "50/s", "300/m", "1000/h" (or a bare number, per second). */
int oc_rate_parse(const char *text, double *per_second, oc_error *err);

typedef struct oc_token_bucket {
  double tokens;
  double last; /* time of the last refill, seconds */
} oc_token_bucket;

typedef struct oc_rate_decision {
  bool allowed;
  long limit;       /* X-RateLimit-Limit: the burst */
  long remaining;   /* X-RateLimit-Remaining: whole tokens left after this request */
  long reset;       /* X-RateLimit-Reset: seconds until the bucket is full again */
  long retry_after; /* Retry-After when refused: seconds until one token is available (>= 1) */
} oc_rate_decision;

void oc_token_bucket_init(oc_token_bucket *b, const oc_rate *rate, double now);
/* Refills for the time elapsed since the last call, then takes one token if there is one. */
oc_rate_decision oc_token_bucket_take(oc_token_bucket *b, const oc_rate *rate, double now);

/* The longest a request waits for its bucket in a busy store (SQLite: the write lock), and how often a
 * store that fails is reported. */
#define OC_RATE_STORE_WAIT_SECONDS 1.0
#define OC_RATE_STORE_WARN_SECONDS 10.0

/* A thread-safe table of buckets keyed by API key id (shorter than OC_RATE_KEY_ID_SIZE bytes). */
#define OC_RATE_KEY_ID_SIZE 64
typedef struct oc_rate_limiter {
  oc_lock lock;
  struct oc_rate_slot *slots; /* guarded by lock */
  size_t count, cap;          /* guarded by lock */
  /* Placed in the store: its URI (immutable once placed, NULL: buckets in this process) and the
   * connections not in use (a connection serves one request at a time). */
  char *store_uri;
  struct oc_store **idle_stores; /* guarded by lock */
  size_t idle_count, idle_cap;   /* guarded by lock */
  double store_warned_at;        /* guarded by lock: monotonic time of the last store failure logged */
} oc_rate_limiter;

void oc_rate_limiter_init(oc_rate_limiter *l);
void oc_rate_limiter_free(oc_rate_limiter *l);
/* Where the buckets live, by `where`: "node" (this process: one server), "store" (the store at
 * store_uri, shared by every server on it) or "auto" (the store unless it is SQLite, which one machine
 * holds). Before the first take; -1 with err for another word or a store that cannot be opened. */
int oc_rate_limiter_place(oc_rate_limiter *l, const char *where, const char *store_uri, oc_error *err);
bool oc_rate_limiter_in_store(const oc_rate_limiter *l);
/* now: monotonic seconds, for this node's buckets (the store's go by the store's clock). */
oc_rate_decision oc_rate_limiter_take(oc_rate_limiter *l, const char *key_id, const oc_rate *rate, double now);

#endif
