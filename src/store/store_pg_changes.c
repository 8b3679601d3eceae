/* store_pg_changes.c: the PostgreSQL side of the change feed (table `changes`, migration 8): recording a
 * change inside the op that makes it (so it commits or rolls back with it), reading changes after an
 * id, and waiting for one with LISTEN: a trigger on `changes` NOTIFYs the channel oilcast_changes,
 * which PostgreSQL delivers at commit (never for a rollback) to every listening session of any node.
 * Must not decide what a change means to anyone: it only records and reports. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/progress.h"
#include "store/store_pg.h"
#include "store/store_pg_internal.h"

int oc_pg_change_record(oc_pg_store *s, oc_change_kind kind, const char *subject, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_text(&p, oc_change_kind_name(kind));
  oc_pg_text(&p, subject);
  oc_pg_int(&p, (int64_t)time(NULL));
  /* The largest id + 1: writers hold the write lock, so ids grow in commit order. */
  return oc_pg_run(s, "INSERT INTO changes(id, kind, subject, at) SELECT coalesce(max(id), 0) + 1, $1, $2, $3 FROM changes",
                   &p, "recording a change", NULL, err);
}

int oc_pg_changes_note_series(oc_pg_store *s, const oc_observation *obs, size_t n, oc_error *err) {
  /* The distinct series in order of first appearance (a batch holds few series, in runs). */
  int64_t *ids = NULL;
  size_t count = 0, cap = 0;
  for (size_t i = 0; i < n; i++) {
    if (count && ids[count - 1] == obs[i].series_id) continue;
    size_t k = 0;
    while (k < count && ids[k] != obs[i].series_id) k++;
    if (k < count) continue;
    oc_xgrow((void **)&ids, &cap, count + 1, sizeof *ids);
    ids[count++] = obs[i].series_id;
  }
  oc_buf array = {0};
  oc_buf_putc(&array, '{');
  for (size_t i = 0; i < count; i++) oc_buf_printf(&array, "%s%lld", i ? "," : "", (long long)ids[i]);
  oc_buf_putc(&array, '}');
  free(ids);
  oc_pg_params p = {0};
  oc_pg_text(&p, array.data);
  oc_pg_int(&p, (int64_t)time(NULL));
  /* A series named by this transaction already (in an earlier op) is not named again. */
  int rc = oc_pg_run(s,
                     "INSERT INTO changes(id, kind, subject, at)"
                     " SELECT (SELECT coalesce(max(id), 0) FROM changes) + row_number() OVER (ORDER BY u.nth),"
                     "  'observations', se.name, $2"
                     " FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, nth) JOIN series se ON se.id = u.id"
                     " WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.txid = txid_current()"
                     "  AND c.kind = 'observations' AND c.subject = se.name)",
                     &p, "naming the changed series", NULL, err);
  oc_buf_free(&array);
  return rc;
}

int oc_pg_change_note(oc_store *store, oc_change_kind kind, const char *subject, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  bool ok = oc_pg_change_record(s, kind, subject, err) == 0;
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_changes_latest(oc_store *store, int64_t *id, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  PGresult *r = oc_pg_query(s, "SELECT coalesce(max(id), 0) FROM changes", NULL, "reading the latest change", err);
  if (!r) return -1;
  *id = oc_pg_get_int(r, 0, 0);
  PQclear(r);
  return 0;
}

int oc_pg_changes_after(oc_store *store, int64_t after_id, size_t max, oc_change **changes, size_t *n,
                        oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  *changes = NULL;
  *n = 0;
  oc_pg_params p = {0};
  oc_pg_int(&p, after_id);
  oc_pg_int(&p, oc_pg_limit(max));
  PGresult *r = oc_pg_query(s, "SELECT id, kind, subject, at FROM changes WHERE id > $1 ORDER BY id LIMIT $2", &p,
                            "reading changes", err);
  if (!r) return -1;
  int rows = PQntuples(r);
  oc_change *out = rows ? oc_xcalloc((size_t)rows, sizeof *out) : NULL;
  for (int i = 0; i < rows; i++) {
    out[i].id = oc_pg_get_int(r, i, 0);
    out[i].at = oc_pg_get_int(r, i, 3);
    if (oc_change_kind_parse(oc_pg_get(r, i, 1), &out[i].kind) != 0) {
      oc_error_set(err, "store %s: change %lld has an unknown kind '%s'", s->display, (long long)out[i].id,
                   oc_pg_get(r, i, 1));
      PQclear(r);
      free(out);
      return -1;
    }
    oc_pg_get_copy(out[i].subject, sizeof out[i].subject, r, i, 2);
  }
  PQclear(r);
  *changes = out;
  *n = (size_t)rows;
  return 0;
}

int oc_pg_changes_relisten(oc_pg_store *s, oc_error *err) {
  if (!s->listening) return 0;
  return oc_pg_run(s, "LISTEN oilcast_changes", NULL, "listening for changes", NULL, err);
}

/* Reads what arrived on the session's socket and drops the notifications (the wait re-reads the
 * latest id: a notification only says "look"); true when there was one. */
static bool drain_notifications(oc_pg_store *s) {
  PQconsumeInput(s->conn);
  PGnotify *note;
  bool any = false;
  while ((note = PQnotifies(s->conn)) != NULL) {
    PQfreemem(note);
    any = true;
  }
  return any;
}

static void (*changes_wait_hook)(oc_store *store, void *ctx);
static void *changes_wait_hook_ctx;

void oc_store_pg_set_changes_wait_hook(void (*hook)(oc_store *store, void *ctx), void *ctx) {
  changes_wait_hook = hook;
  changes_wait_hook_ctx = ctx;
}

bool oc_store_pg_pull_notification(oc_store *store, double timeout) {
  oc_pg_store *s = oc_pg_of(store);
  struct pollfd fd = {.fd = PQsocket(s->conn), .events = POLLIN};
  if (fd.fd < 0 || poll(&fd, 1, (int)(timeout * 1000)) <= 0) return false;
  return PQconsumeInput(s->conn) == 1;
}

int oc_pg_changes_wait(oc_store *store, int64_t after_id, double timeout, int64_t *latest, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  if (s->in_transaction)
    return oc_error_set(err, "store %s: waiting for changes inside a transaction would never see another's commit",
                        s->display);
  if (!s->listening) {
    s->listening = true; /* before reading the latest id: nothing committed in between is missed */
    if (oc_pg_changes_relisten(s, err) != 0) {
      s->listening = false;
      return -1;
    }
  }
  double deadline = oc_monotonic_seconds() + timeout;
  for (;;) {
    drain_notifications(s);
    if (oc_pg_changes_latest(store, latest, err) != 0) return -1;
    if (*latest > after_id || atomic_load(&s->interrupted)) return 0;
    double left = deadline - oc_monotonic_seconds();
    if (left <= 0) return 0;
    if (changes_wait_hook) changes_wait_hook(store, changes_wait_hook_ctx);
    /* A NOTIFY of a commit the look just missed may have come in behind its answer: libpq read it off
     * the socket with the answer, so poll() would not see it and the change would wait for the
     * timeout. Look again instead. */
    if (drain_notifications(s)) continue;
    struct pollfd fds[2] = {{.fd = PQsocket(s->conn), .events = POLLIN}, {.fd = s->wake_pipe[0], .events = POLLIN}};
    int ms = left > 3600 ? 3600 * 1000 : (int)(left * 1000) + 1;
    /* A lost connection (no socket, or one that hung up) is re-established, or reported, by the next
     * read of the latest id, after a short pause. */
    if (fds[0].fd < 0 || PQstatus(s->conn) == CONNECTION_BAD) ms = ms < 50 ? ms : 50;
    if (poll(fds, 2, ms) < 0 && errno != EINTR) return oc_error_errno(err, "store %s: waiting for changes", s->display);
    if ((fds[0].revents & (POLLHUP | POLLERR)) && !(fds[0].revents & POLLIN)) {
      struct timespec pause = {0, 50 * 1000 * 1000};
      nanosleep(&pause, NULL);
    }
  }
}

void oc_pg_changes_interrupt(oc_store *store) {
  oc_pg_store *s = oc_pg_of(store);
  atomic_store(&s->interrupted, true);
  if (write(s->wake_pipe[1], "x", 1) < 0) {
    /* the pipe is full: a byte is already waiting to wake the wait */
  }
}
