/* ratelimit.c: token-bucket arithmetic, the per-key bucket table, and the limiter placed in the store
 * (its buckets taken through store.h, one statement per request on a pooled connection). Buckets are
 * created on a key's first request; a key whose rate changes (re-created) simply keeps its bucket level.
 * Knows no HTTP: the server turns a decision into headers. */
#include "serve/ratelimit.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "store/store.h"

int oc_rate_parse(const char *text, double *per_second, oc_error *err) {
  char *end;
  errno = 0;
  double n = strtod(text, &end);
  if (errno || end == text || !isfinite(n) || n <= 0) {
    return oc_error_set(err, "rate '%s': expected a positive number of requests, as 50/s, 300/m or 1000/h", text);
  }
  double unit = 1;
  if (*end == '/') {
    if (strcmp(end + 1, "s") == 0) unit = 1;
    else if (strcmp(end + 1, "m") == 0) unit = 60;
    else if (strcmp(end + 1, "h") == 0) unit = 3600;
    else return oc_error_set(err, "rate '%s': the unit after '/' must be s, m or h", text);
  } else if (*end) {
    return oc_error_set(err, "rate '%s': unexpected '%s' (write 50/s, 300/m or 1000/h)", text, end);
  }
  *per_second = n / unit;
  return 0;
}

void oc_token_bucket_init(oc_token_bucket *b, const oc_rate *rate, double now) {
  b->tokens = rate->burst;
  b->last = now;
}

/* The decision for a request that was (or was not) allowed, leaving tokens in its bucket. */
static oc_rate_decision decide(const oc_rate *rate, bool allowed, double tokens) {
  oc_rate_decision d = {.allowed = allowed, .limit = (long)rate->burst};
  if (!allowed) {
    d.retry_after = (long)ceil((1.0 - tokens) / rate->per_second);
    if (d.retry_after < 1) d.retry_after = 1;
  }
  d.remaining = (long)floor(tokens);
  d.reset = (long)ceil((rate->burst - tokens) / rate->per_second);
  return d;
}

oc_rate_decision oc_token_bucket_take(oc_token_bucket *b, const oc_rate *rate, double now) {
  if (now > b->last) {
    b->tokens = fmin(rate->burst, b->tokens + (now - b->last) * rate->per_second);
    b->last = now;
  }
  bool allowed = b->tokens >= 1.0;
  if (allowed) b->tokens -= 1.0;
  return decide(rate, allowed, b->tokens);
}

struct oc_rate_slot {
  char key_id[OC_RATE_KEY_ID_SIZE];
  oc_token_bucket bucket;
};

void oc_rate_limiter_init(oc_rate_limiter *l) {
  memset(l, 0, sizeof *l);
  oc_lock_init(&l->lock);
}

void oc_rate_limiter_free(oc_rate_limiter *l) {
  free(l->slots);
  for (size_t i = 0; i < l->idle_count; i++) oc_store_close(l->idle_stores[i]);
  free(l->idle_stores);
  free(l->store_uri);
  oc_lock_destroy(&l->lock);
}

/* A connection for one take: an idle one, else a new one (NULL with err when the store is unreachable). */
static oc_store *store_borrow(oc_rate_limiter *l, oc_error *err) {
  oc_lock_acquire(&l->lock);
  oc_store *store = l->idle_count ? l->idle_stores[--l->idle_count] : NULL;
  oc_lock_release(&l->lock);
  if (store) return store;
  store = oc_store_open(l->store_uri, err);
  /* A request never waits long for the bucket: beyond this it is judged by this node's bucket. */
  if (store) oc_store_set_wait(store, &(oc_store_wait){.max_seconds = OC_RATE_STORE_WAIT_SECONDS, .report_every = 1});
  return store;
}

static void store_give_back(oc_rate_limiter *l, oc_store *store) {
  oc_lock_acquire(&l->lock);
  oc_xgrow((void **)&l->idle_stores, &l->idle_cap, l->idle_count + 1, sizeof *l->idle_stores);
  l->idle_stores[l->idle_count++] = store;
  oc_lock_release(&l->lock);
}

int oc_rate_limiter_place(oc_rate_limiter *l, const char *where, const char *store_uri, oc_error *err) {
  assert(!l->store_uri && l->count == 0); /* before the first take */
  if (strcmp(where, "node") != 0 && strcmp(where, "store") != 0 && strcmp(where, "auto") != 0)
    return oc_error_set(err, "rate limits '%s': expected node, store or auto", where);
  if (strcmp(where, "node") == 0) return 0;
  l->store_uri = oc_xstrdup(store_uri);
  oc_store *store = store_borrow(l, err);
  if (!store) {
    free(l->store_uri);
    l->store_uri = NULL;
    return -1;
  }
  if (strcmp(where, "auto") == 0 && strcmp(store->ops->backend, "sqlite") == 0) { /* one machine: one node */
    oc_store_close(store);
    free(l->store_uri);
    l->store_uri = NULL;
    return 0;
  }
  store_give_back(l, store);
  return 0;
}

bool oc_rate_limiter_in_store(const oc_rate_limiter *l) { return l->store_uri != NULL; }

/* Takes key_id's token from the store into *d; false (logged at most every OC_RATE_STORE_WARN_SECONDS)
 * when the store could not answer. */
static bool take_from_store(oc_rate_limiter *l, const char *key_id, const oc_rate *rate, oc_rate_decision *d) {
  oc_error err;
  oc_store *store = store_borrow(l, &err);
  bool allowed = false;
  double tokens = 0;
  if (store && oc_store_rate_take(store, key_id, rate->per_second, rate->burst, &allowed, &tokens, &err) == 0) {
    store_give_back(l, store);
    *d = decide(rate, allowed, tokens);
    return true;
  }
  if (store) oc_store_close(store); /* a connection that failed is not reused */
  double now = oc_monotonic_seconds();
  oc_lock_acquire(&l->lock);
  bool warn = l->store_warned_at == 0 || now - l->store_warned_at >= OC_RATE_STORE_WARN_SECONDS;
  if (warn) l->store_warned_at = now;
  oc_lock_release(&l->lock);
  if (warn) oc_warn("rate limits: the store did not answer, this node's own buckets decide meanwhile: %s", err.message);
  return false;
}

/* key_id's bucket, created full at now when new. Caller holds l->lock. */
static oc_token_bucket *bucket_locked(oc_rate_limiter *l, const char *key_id, const oc_rate *rate, double now) {
  assert(oc_lock_held(&l->lock));
  for (size_t i = 0; i < l->count; i++)
    if (strcmp(l->slots[i].key_id, key_id) == 0) return &l->slots[i].bucket;
  oc_xgrow((void **)&l->slots, &l->cap, l->count + 1, sizeof *l->slots);
  struct oc_rate_slot *slot = &l->slots[l->count++];
  snprintf(slot->key_id, sizeof slot->key_id, "%s", key_id);
  oc_token_bucket_init(&slot->bucket, rate, now);
  return &slot->bucket;
}

oc_rate_decision oc_rate_limiter_take(oc_rate_limiter *l, const char *key_id, const oc_rate *rate, double now) {
  /* A longer id would be cut short and share its bucket with every key of the same prefix. */
  assert(strlen(key_id) < OC_RATE_KEY_ID_SIZE);
  if (rate->per_second <= 0) return (oc_rate_decision){.allowed = true, .limit = -1};
  oc_rate_decision d;
  if (l->store_uri && take_from_store(l, key_id, rate, &d)) return d;
  oc_lock_acquire(&l->lock);
  d = oc_token_bucket_take(bucket_locked(l, key_id, rate, now), rate, now);
  oc_lock_release(&l->lock);
  return d;
}
