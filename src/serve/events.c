/* events.c: ring buffer of recent events, the SSE wire format, and suspend/resume of caught-up streams.
 * Locking: hub->lock guards the ring, the stream list and each stream's `suspended` flag; it is always
 * taken before libmicrohttpd's own locks (suspend/resume), never the other way round. */
#include "serve/events.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/lock.h"
#include "serve/mhd_lazy.h"
#include "serve/ratelimit.h"

#define RING_SIZE 1024

typedef struct event {
  uint64_t id;
  char type[16];
  char *data;
} event;

typedef struct stream {
  oc_event_hub *hub;
  struct MHD_Connection *conn;
  uint64_t next_id;
  double last_write;
  bool suspended;
  oc_buf pending; /* bytes formatted but not yet handed to MHD */
  size_t pending_off;
  oc_event_access access; /* allowed NULL: always */
  struct stream *prev, *next;
} stream;

struct oc_event_hub {
  oc_lock lock;
  pthread_cond_t wake;
  pthread_t timer;
  event ring[RING_SIZE];
  uint64_t first_id; /* ids of this process are first_id+1 .. last_id */
  uint64_t last_id;
  double keepalive;
  bool closed, timer_stop;
  stream *streams; /* every open stream */
};

/* Resumes every suspended stream. Caller holds hub->lock. */
static void resume_all_locked(oc_event_hub *hub) {
  assert(oc_lock_held(&hub->lock));
  for (stream *st = hub->streams; st; st = st->next) {
    if (st->suspended) {
      st->suspended = false;
      MHD_resume_connection(st->conn);
    }
  }
}

static void *keepalive_timer(void *arg) {
  oc_event_hub *hub = arg;
  oc_lock_acquire(&hub->lock);
  while (!hub->timer_stop) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    double step = hub->keepalive / 4 < 1 ? hub->keepalive / 4 : 1;
    until.tv_sec += (time_t)step;
    until.tv_nsec += (long)((step - (double)(time_t)step) * 1e9);
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    oc_lock_wait_until(&hub->lock, &hub->wake, &until);
    double now = oc_monotonic_seconds();
    for (stream *st = hub->streams; st; st = st->next) {
      if (st->suspended && now - st->last_write >= hub->keepalive) {
        st->suspended = false;
        MHD_resume_connection(st->conn);
      }
    }
  }
  oc_lock_release(&hub->lock);
  return NULL;
}

oc_event_hub *oc_event_hub_new(double keepalive_seconds) {
  oc_event_hub *hub = oc_xcalloc(1, sizeof *hub);
  oc_lock_init(&hub->lock);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_cond_init(&hub->wake, &attr);
  pthread_condattr_destroy(&attr);
  hub->keepalive = keepalive_seconds;
  /* Ids start at the wall-clock microsecond of start-up so they keep growing across restarts: a
   * client reconnecting with a Last-Event-ID from the previous process is then recognisably behind
   * this one and gets everything this process has, instead of having its first events skipped. */
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  hub->first_id = hub->last_id = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
  pthread_create(&hub->timer, NULL, keepalive_timer, hub);
  return hub;
}

void oc_event_hub_recheck(oc_event_hub *hub) {
  oc_lock_acquire(&hub->lock);
  resume_all_locked(hub);
  oc_lock_release(&hub->lock);
}

void oc_event_hub_close(oc_event_hub *hub) {
  oc_lock_acquire(&hub->lock);
  hub->closed = true;
  resume_all_locked(hub);
  oc_lock_release(&hub->lock);
}

void oc_event_hub_free(oc_event_hub *hub) {
  if (!hub) return;
  oc_lock_acquire(&hub->lock);
  hub->timer_stop = true;
  pthread_cond_signal(&hub->wake);
  oc_lock_release(&hub->lock);
  pthread_join(hub->timer, NULL);
  for (size_t i = 0; i < RING_SIZE; i++) free(hub->ring[i].data);
  pthread_cond_destroy(&hub->wake);
  oc_lock_destroy(&hub->lock);
  free(hub);
}

uint64_t oc_event_publish(oc_event_hub *hub, const char *type, const char *data) {
  oc_lock_acquire(&hub->lock);
  uint64_t id = ++hub->last_id;
  event *e = &hub->ring[id % RING_SIZE];
  free(e->data);
  e->id = id;
  snprintf(e->type, sizeof e->type, "%s", type);
  e->data = oc_xstrdup(data);
  resume_all_locked(hub);
  oc_lock_release(&hub->lock);
  return id;
}

/* Formats every event the stream has not seen into st->pending. Caller holds hub->lock. */
static void collect_locked(oc_event_hub *hub, stream *st) {
  assert(oc_lock_held(&hub->lock));
  uint64_t oldest = hub->last_id - hub->first_id >= RING_SIZE ? hub->last_id - RING_SIZE + 1 : hub->first_id + 1;
  if (st->next_id < oldest) st->next_id = oldest; /* fell behind the ring: skip what was dropped */
  for (; st->next_id <= hub->last_id; st->next_id++) {
    const event *e = &hub->ring[st->next_id % RING_SIZE];
    oc_buf_printf(&st->pending, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)e->id, e->type, e->data);
  }
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max) {
  stream *st = cls;
  oc_event_hub *hub = st->hub;
  /* Admitted once, a stream would outlive its key's revocation: asked before it takes more events. Only
   * this connection's thread touches pending, so it is read without the lock (and access is asked
   * without it: a key check may read the store). */
  if (st->access.allowed && st->pending_off == st->pending.len && !st->access.allowed(st->access.ctx)) {
    return MHD_CONTENT_READER_END_OF_STREAM;
  }
  oc_lock_acquire(&hub->lock);
  if (st->pending_off == st->pending.len) {
    oc_buf_clear(&st->pending);
    st->pending_off = 0;
    if (hub->closed) {
      oc_lock_release(&hub->lock);
      return MHD_CONTENT_READER_END_OF_STREAM;
    }
    collect_locked(hub, st);
    if (st->pending.len == 0 && oc_monotonic_seconds() - st->last_write >= hub->keepalive) {
      oc_buf_puts(&st->pending, ": keepalive\n\n");
    }
    if (st->pending.len == 0) {
      st->suspended = true;
      MHD_suspend_connection(st->conn);
      oc_lock_release(&hub->lock);
      return 0;
    }
  }
  size_t n = st->pending.len - st->pending_off;
  if (n > max) n = max;
  memcpy(buf, st->pending.data + st->pending_off, n);
  st->pending_off += n;
  st->last_write = oc_monotonic_seconds();
  oc_lock_release(&hub->lock);
  return (ssize_t)n;
}

static void free_stream(void *cls) {
  stream *st = cls;
  oc_event_hub *hub = st->hub;
  oc_lock_acquire(&hub->lock);
  if (st->prev) st->prev->next = st->next;
  else hub->streams = st->next;
  if (st->next) st->next->prev = st->prev;
  oc_lock_release(&hub->lock);
  oc_buf_free(&st->pending);
  free(st->access.ctx);
  free(st);
}

struct MHD_Response *oc_event_stream_response(oc_event_hub *hub, struct MHD_Connection *conn, uint64_t last_event_id,
                                              int has_last_event_id, const oc_event_access *access) {
  stream *st = oc_xcalloc(1, sizeof *st);
  st->hub = hub;
  if (access) st->access = *access;
  st->conn = conn;
  st->last_write = oc_monotonic_seconds();
  oc_lock_acquire(&hub->lock);
  /* A Last-Event-ID from an earlier process (below first_id) replays all this process has (collect_locked
   * clamps to the ring); one beyond last_id cannot be ours, so the stream starts from now. */
  if (!has_last_event_id || last_event_id > hub->last_id) {
    st->next_id = hub->last_id + 1;
  } else {
    st->next_id = last_event_id + 1;
  }
  /* An opening comment flushes the headers to the client at once. */
  oc_buf_puts(&st->pending, ": connected\nretry: 2000\n\n");
  st->next = hub->streams;
  if (st->next) st->next->prev = st;
  hub->streams = st;
  oc_lock_release(&hub->lock);
  struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, read_stream, st, free_stream);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
  return r;
}
