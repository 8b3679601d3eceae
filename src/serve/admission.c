/* admission.c: the connection admission rules of admission.h: two lists of waiting connections, each
 * ordered by the start of its phase (a connection enters at the tail with since = now, so the head is
 * always the oldest), which makes both eviction and deadline expiry a look at the heads. Never closes a
 * descriptor and never blocks while holding its lock (the closer only shuts a socket down). */
#include "serve/admission.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/progress.h" /* oc_monotonic_seconds */

size_t oc_admission_default_reserve(size_t max_connections) {
  size_t reserve = max_connections / 8;
  return reserve < 8 ? 8 : reserve;
}

static void shutdown_socket(void *ctx, int fd) {
  (void)ctx;
  shutdown(fd, SHUT_RDWR);
}

static void check_limits(const oc_admission_limits *limits) {
  assert(limits->max_connections > 0);
  assert(limits->header_seconds > 0 && limits->body_seconds > 0);
  assert(limits->evict_after >= 0);
}

void oc_admission_init(oc_admission *a, const oc_admission_limits *limits, oc_conn_closer closer, void *closer_ctx) {
  check_limits(limits);
  memset(a, 0, sizeof *a);
  oc_lock_init(&a->lock);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&a->reaper_wake, &attr);
  pthread_condattr_destroy(&attr);
  a->limits = *limits;
  a->closer = closer ? closer : shutdown_socket;
  a->closer_ctx = closer_ctx;
}

void oc_admission_free(oc_admission *a) {
  assert(!a->awaiting_headers.head && !a->receiving_body.head);
  assert(!a->reaper_running);
  pthread_cond_destroy(&a->reaper_wake);
  oc_lock_destroy(&a->lock);
}

void oc_admission_set_limits(oc_admission *a, const oc_admission_limits *limits) {
  check_limits(limits);
  oc_lock_acquire(&a->lock);
  a->limits = *limits;
  oc_lock_release(&a->lock);
}

oc_admission_stats oc_admission_stats_now(oc_admission *a) {
  oc_lock_acquire(&a->lock);
  oc_admission_stats stats = a->stats;
  oc_lock_release(&a->lock);
  return stats;
}

/* ---- the phase lists (caller holds the lock) ---- */

static oc_conn_list *list_of(oc_admission *a, oc_conn_phase phase) {
  if (phase == OC_CONN_AWAITING_HEADERS) return &a->awaiting_headers;
  if (phase == OC_CONN_RECEIVING_BODY) return &a->receiving_body;
  return NULL;
}

static void unlink_conn(oc_admission *a, oc_conn *c) {
  assert(oc_lock_held(&a->lock));
  oc_conn_list *list = list_of(a, c->phase);
  if (!list) return;
  if (c->prev) c->prev->next = c->next;
  else list->head = c->next;
  if (c->next) c->next->prev = c->prev;
  else list->tail = c->prev;
  c->prev = c->next = NULL;
}

/* Moves c to phase, starting at now: the tail of its list, which keeps the list ordered because now
 * never goes back. */
static void enter_phase(oc_admission *a, oc_conn *c, oc_conn_phase phase, double now) {
  assert(oc_lock_held(&a->lock));
  unlink_conn(a, c);
  c->phase = phase;
  c->since = now;
  oc_conn_list *list = list_of(a, phase);
  if (!list) return;
  /* Threads read the clock before taking the lock, so a later arrival may carry an earlier time by a
   * few microseconds: it takes its predecessor's, which keeps the list ordered. */
  if (list->tail && now < list->tail->since) c->since = now = list->tail->since;
  c->prev = list->tail;
  c->next = NULL;
  if (list->tail) list->tail->next = c;
  else list->head = c;
  list->tail = c;
}

/* Stops counting c and shuts it down; the library closes it and oc_admission_close forgets it. */
static void shut(oc_admission *a, oc_conn *c) {
  assert(oc_lock_held(&a->lock));
  assert(c->phase != OC_CONN_CLOSING);
  enter_phase(a, c, OC_CONN_CLOSING, c->since);
  assert(a->stats.open > 0);
  a->stats.open--;
  if (c->reserved) a->stats.reserved_open--;
  a->closer(a->closer_ctx, c->fd);
}

/* The connection that has waited longest for its header, else for its body, if it has waited at least
 * evict_after. */
static oc_conn *eviction_candidate(oc_admission *a, double now) {
  oc_conn *headers = a->awaiting_headers.head, *body = a->receiving_body.head;
  if (headers && now - headers->since >= a->limits.evict_after) return headers;
  if (body && now - body->since >= a->limits.evict_after) return body;
  return NULL;
}

/* ---- transitions ---- */

oc_admit_decision oc_admission_open(oc_admission *a, oc_conn *c, int fd, double now) {
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->phase = OC_CONN_CLOSING;
  oc_lock_acquire(&a->lock);
  oc_admit_decision decision = OC_ADMIT;
  if (a->stats.open >= a->limits.max_connections) {
    oc_conn *victim = eviction_candidate(a, now);
    if (victim) {
      shut(a, victim);
      a->stats.evicted++;
    }
    if (a->stats.open >= a->limits.max_connections) {
      decision = a->stats.open < a->limits.max_connections + a->limits.reserve ? OC_ADMIT_RESERVED : OC_ADMIT_REFUSED;
    }
  }
  if (decision == OC_ADMIT_REFUSED) {
    a->stats.refused++;
    a->closer(a->closer_ctx, fd);
  } else {
    c->reserved = decision == OC_ADMIT_RESERVED;
    a->stats.open++;
    if (c->reserved) a->stats.reserved_open++;
    enter_phase(a, c, OC_CONN_AWAITING_HEADERS, now);
  }
  oc_lock_release(&a->lock);
  return decision;
}

void oc_admission_headers_done(oc_admission *a, oc_conn *c, bool has_body, double now) {
  oc_lock_acquire(&a->lock);
  /* A connection shut down meanwhile stays closing: the library is about to see it closed. */
  if (c->phase == OC_CONN_AWAITING_HEADERS) enter_phase(a, c, has_body ? OC_CONN_RECEIVING_BODY : OC_CONN_HANDLED, now);
  oc_lock_release(&a->lock);
}

void oc_admission_body_done(oc_admission *a, oc_conn *c) {
  oc_lock_acquire(&a->lock);
  if (c->phase == OC_CONN_RECEIVING_BODY) enter_phase(a, c, OC_CONN_HANDLED, c->since);
  oc_lock_release(&a->lock);
}

void oc_admission_request_done(oc_admission *a, oc_conn *c, double now) {
  c->nul_in_request = false;
  oc_lock_acquire(&a->lock);
  if (c->phase != OC_CONN_CLOSING) enter_phase(a, c, OC_CONN_AWAITING_HEADERS, now);
  oc_lock_release(&a->lock);
}

void oc_admission_close(oc_admission *a, oc_conn *c) {
  oc_lock_acquire(&a->lock);
  if (c->phase != OC_CONN_CLOSING) {
    unlink_conn(a, c);
    c->phase = OC_CONN_CLOSING;
    assert(a->stats.open > 0);
    a->stats.open--;
    if (c->reserved) a->stats.reserved_open--;
  }
  oc_lock_release(&a->lock);
}

/* Shuts down the connections at the head of list that have been in it longer than seconds. */
static size_t expire_list(oc_admission *a, oc_conn_list *list, double seconds, double now) {
  size_t n = 0;
  while (list->head && now - list->head->since > seconds) {
    shut(a, list->head);
    n++;
  }
  return n;
}

size_t oc_admission_expire(oc_admission *a, double now) {
  oc_lock_acquire(&a->lock);
  size_t headers = expire_list(a, &a->awaiting_headers, a->limits.header_seconds, now);
  size_t body = expire_list(a, &a->receiving_body, a->limits.body_seconds, now);
  a->stats.header_timeouts += headers;
  a->stats.body_timeouts += body;
  oc_lock_release(&a->lock);
  return headers + body;
}

/* ---- the reaper thread ---- */

static void *reap(void *arg) {
  oc_admission *a = arg;
  oc_lock_acquire(&a->lock);
  while (!a->reaper_stopping) {
    double shortest = fmin(a->limits.header_seconds, a->limits.body_seconds);
    oc_lock_release(&a->lock);
    oc_admission_expire(a, oc_monotonic_seconds());
    oc_lock_acquire(&a->lock);
    double pause = fmax(0.005, fmin(0.25, shortest / 20));
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    long nanos = until.tv_nsec + (long)(pause * 1e9);
    until.tv_sec += nanos / 1000000000L;
    until.tv_nsec = nanos % 1000000000L;
    if (!a->reaper_stopping) oc_lock_wait_until(&a->lock, &a->reaper_wake, &until);
  }
  oc_lock_release(&a->lock);
  return NULL;
}

int oc_admission_reaper_start(oc_admission *a) {
  assert(!a->reaper_running);
  a->reaper_stopping = false;
  int rc = pthread_create(&a->reaper, NULL, reap, a);
  if (rc != 0) {
    errno = rc;
    return -1;
  }
  a->reaper_running = true;
  return 0;
}

void oc_admission_reaper_stop(oc_admission *a) {
  if (!a->reaper_running) return;
  oc_lock_acquire(&a->lock);
  a->reaper_stopping = true;
  pthread_cond_signal(&a->reaper_wake);
  oc_lock_release(&a->lock);
  pthread_join(a->reaper, NULL);
  a->reaper_running = false;
}
