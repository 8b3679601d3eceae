/* ratelimit.c: token-bucket arithmetic and the per-key bucket table. Buckets are created on a key's
 * first request; a key whose rate changes (re-created) simply keeps its bucket level. */
#include "serve/ratelimit.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

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

oc_rate_decision oc_token_bucket_take(oc_token_bucket *b, const oc_rate *rate, double now) {
  if (now > b->last) {
    b->tokens = fmin(rate->burst, b->tokens + (now - b->last) * rate->per_second);
    b->last = now;
  }
  oc_rate_decision d = {.limit = (long)rate->burst};
  if (b->tokens >= 1.0) {
    b->tokens -= 1.0;
    d.allowed = true;
  } else {
    d.retry_after = (long)ceil((1.0 - b->tokens) / rate->per_second);
    if (d.retry_after < 1) d.retry_after = 1;
  }
  d.remaining = (long)floor(b->tokens);
  d.reset = (long)ceil((rate->burst - b->tokens) / rate->per_second);
  return d;
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
  oc_lock_destroy(&l->lock);
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
  oc_lock_acquire(&l->lock);
  oc_rate_decision d = oc_token_bucket_take(bucket_locked(l, key_id, rate, now), rate, now);
  oc_lock_release(&l->lock);
  return d;
}
