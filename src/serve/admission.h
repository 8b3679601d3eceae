/* admission.h: which connections the server keeps, so that a flood of slow or idle connections
 * (slowloris, idle sockets) cannot take every slot. Every connection is in one phase: awaiting the
 * headers of its next request (just accepted, or idle between keep-alive requests), receiving a body,
 * or being handled. The first two have TOTAL deadlines counted from the start of the phase (a trickled
 * line does not reset them), and at the connection limit a new connection evicts the one that has
 * waited longest in them. When nothing may be evicted, a reserve of slots beyond the limit still takes
 * connections, whose requests are answered only when they are health checks or carry credentials.
 * Time is passed in and closing a connection is a callback, so the rules are testable without sockets.
 * Knows no HTTP and no libmicrohttpd; must not close descriptors itself (the HTTP library owns them:
 * the default callback only shuts the socket down, and the library closes it). */
#ifndef OC_SERVE_ADMISSION_H
#define OC_SERVE_ADMISSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/lock.h"

typedef struct oc_admission_limits {
  size_t max_connections;  /* connections served normally; > 0 */
  size_t reserve;          /* further connections that only health checks and authenticated requests use */
  double header_seconds;   /* from accept (or the end of the previous response) to a complete header; > 0 */
  double body_seconds;     /* from a complete header to a complete body; > 0 */
  double evict_after;      /* a connection younger than this in its phase is never evicted (its header is
                              probably on the way) */
} oc_admission_limits;

/* The reserve for a connection limit: an eighth of it, at least 8. */
size_t oc_admission_default_reserve(size_t max_connections);

typedef enum {
  OC_CONN_AWAITING_HEADERS,
  OC_CONN_RECEIVING_BODY,
  OC_CONN_HANDLED,
  OC_CONN_CLOSING, /* refused, evicted or past its deadline: shut down, waiting for the library to close it */
} oc_conn_phase;

/* One connection; the HTTP glue allocates it when the library accepts a connection and frees it after
 * oc_admission_close. */
typedef struct oc_conn {
  struct oc_conn *prev, *next; /* in the list of its phase (waiting phases only), oldest first */
  oc_conn_phase phase;         /* guarded by the admission lock */
  double since;                /* start of the phase, monotonic seconds; guarded by the admission lock */
  int fd;
  bool reserved;               /* admitted beyond the limit; set once at open */
  bool nul_in_request;         /* the current request's URL decoded to a NUL byte (refused with 400); touched
                                  only by the thread that serves the connection */
} oc_conn;

typedef struct oc_conn_list {
  oc_conn *head, *tail;
} oc_conn_list;

typedef void (*oc_conn_closer)(void *ctx, int fd);

typedef struct oc_admission_stats {
  size_t open;           /* connections counted (closing ones excepted) */
  size_t reserved_open;  /* of which in the reserve */
  uint64_t refused;      /* turned away at once: the limit and the reserve full, nothing to evict */
  uint64_t evicted;      /* shut down to make room for a newer connection */
  uint64_t header_timeouts, body_timeouts;
} oc_admission_stats;

typedef struct oc_admission {
  oc_lock lock;
  oc_admission_limits limits;             /* guarded by lock */
  oc_conn_list awaiting_headers, receiving_body; /* guarded by lock; ordered by since */
  oc_admission_stats stats;               /* guarded by lock */
  oc_conn_closer closer;
  void *closer_ctx;
  /* The thread that enforces the deadlines (oc_admission_reaper_start). */
  pthread_t reaper;
  pthread_cond_t reaper_wake;
  bool reaper_running, reaper_stopping; /* guarded by lock */
} oc_admission;

/* closer NULL: shutdown(fd, SHUT_RDWR). */
void oc_admission_init(oc_admission *a, const oc_admission_limits *limits, oc_conn_closer closer, void *closer_ctx);
/* Every connection must have been closed (oc_admission_close) first. */
void oc_admission_free(oc_admission *a);
void oc_admission_set_limits(oc_admission *a, const oc_admission_limits *limits);
oc_admission_stats oc_admission_stats_now(oc_admission *a);

typedef enum { OC_ADMIT, OC_ADMIT_RESERVED, OC_ADMIT_REFUSED } oc_admit_decision;

/* A new connection: admits it (evicting the longest-waiting connection when at the limit), admits it into
 * the reserve, or refuses it (and shuts it down). Either way c is registered until oc_admission_close. */
oc_admit_decision oc_admission_open(oc_admission *a, oc_conn *c, int fd, double now);
/* The request's header is complete; has_body: a body follows. */
void oc_admission_headers_done(oc_admission *a, oc_conn *c, bool has_body, double now);
/* The request's body is complete: it is being handled (no deadline, never evicted). */
void oc_admission_body_done(oc_admission *a, oc_conn *c);
/* The response was sent: the connection awaits its next request's header from now. */
void oc_admission_request_done(oc_admission *a, oc_conn *c, double now);
/* The library closes the connection: c is forgotten and may be freed. */
void oc_admission_close(oc_admission *a, oc_conn *c);
/* Shuts down every connection past its header or body deadline; returns how many. */
size_t oc_admission_expire(oc_admission *a, double now);

/* A thread that calls oc_admission_expire often enough that no deadline is overrun by more than a
 * twentieth of it (at most 0.25 s). 0, or -1 with errno. Stop it before oc_admission_free. */
int oc_admission_reaper_start(oc_admission *a);
void oc_admission_reaper_stop(oc_admission *a);

#endif
