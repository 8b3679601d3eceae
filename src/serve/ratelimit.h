/* ratelimit.h: token buckets for per-key request limits (the API Gateway usage plan). A bucket holds
 * up to `burst` tokens, refills at `rate` tokens per second and starts full, so exactly `burst`
 * back-to-back requests pass and the next one is refused. Time is passed in (seconds, monotonic) so the
 * arithmetic is testable without sleeping. Not thread-safe by itself: the limiter table locks. */
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

/* A thread-safe table of buckets keyed by API key id (shorter than OC_RATE_KEY_ID_SIZE bytes). */
#define OC_RATE_KEY_ID_SIZE 64
typedef struct oc_rate_limiter {
  oc_lock lock;
  struct oc_rate_slot *slots; /* guarded by lock */
  size_t count, cap;          /* guarded by lock */
} oc_rate_limiter;

void oc_rate_limiter_init(oc_rate_limiter *l);
void oc_rate_limiter_free(oc_rate_limiter *l);
oc_rate_decision oc_rate_limiter_take(oc_rate_limiter *l, const char *key_id, const oc_rate *rate, double now);

#endif
