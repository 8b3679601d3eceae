/* store_sqlite_leader.c: the SQLite side of several nodes on one store (issue 17). A SQLite store lives
 * on one machine, so leadership is an exclusive flock on PATH.leader beside the database, held through
 * a close-on-exec descriptor (a job's child process never inherits it) and dropped by the kernel when
 * the connection closes or the process dies. The shared rate-limit buckets are the rate_buckets rows
 * (migration 19), taken in one upsert; a server uses them only when told to (serve --rate-limits
 * store), since on one node its in-memory buckets are cheaper. Nothing here decides what a leader does. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

int oc_sqlite_leader_try_acquire(oc_store *store, bool *leader, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  *leader = false;
  if (s->in_transaction) return oc_error_set(err, "store %s: leadership is not taken inside a transaction", s->path);
  if (s->leader_fd >= 0) return *leader = true, 0;
  oc_buf path = {0};
  oc_buf_printf(&path, "%s.leader", s->path);
  int fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    oc_error_errno(err, "store %s: opening the leader lock %s", s->path, path.data);
    oc_buf_free(&path);
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
    s->leader_fd = fd;
    *leader = true;
  } else {
    int e = errno;
    close(fd);
    if (e != EWOULDBLOCK) {
      errno = e;
      oc_error_errno(err, "store %s: locking %s", s->path, path.data);
      oc_buf_free(&path);
      return -1;
    }
  }
  oc_buf_free(&path);
  return 0;
}

void oc_sqlite_leader_close(oc_sqlite_store *s) {
  if (s->leader_fd >= 0) close(s->leader_fd); /* the flock goes with its last descriptor */
  s->leader_fd = -1;
}

int oc_sqlite_rate_take(oc_store *store, const char *key_id, double per_second, double burst, bool *allowed,
                        double *tokens, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  *allowed = false;
  *tokens = 0;
  if (oc_store_rate_check(key_id, per_second, burst, err) != 0) return -1;
  if (s->in_transaction) return oc_error_set(err, "store %s: a rate-limit bucket is not taken inside a transaction", s->path);
  /* The row's old values on the right of every SET; the new row's level is what RETURNING reads. A new
   * bucket starts full and the request takes one of its burst tokens (burst >= 1). */
  static const char sql[] =
      "INSERT INTO rate_buckets(key_id, tokens, refilled_at, allowed)"
      " VALUES (?1, ?3 - 1, (julianday('now') - 2440587.5) * 86400.0, 1)"
      " ON CONFLICT(key_id) DO UPDATE SET"
      "  tokens = min(?3, tokens + max(0, excluded.refilled_at - refilled_at) * ?2)"
      "           - (min(?3, tokens + max(0, excluded.refilled_at - refilled_at) * ?2) >= 1),"
      "  allowed = min(?3, tokens + max(0, excluded.refilled_at - refilled_at) * ?2) >= 1,"
      "  refilled_at = max(refilled_at, excluded.refilled_at)"
      " RETURNING tokens, allowed";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = st != NULL;
  if (st) {
    sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, per_second);
    sqlite3_bind_double(st, 3, burst);
    ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok) {
      *tokens = sqlite3_column_double(st, 0);
      *allowed = sqlite3_column_int(st, 1) != 0;
      ok = sqlite3_step(st) == SQLITE_DONE;
    }
    if (!ok) oc_sqlite_fail(s, err, "taking a rate-limit token");
    sqlite3_reset(st);
  }
  return oc_sqlite_op_end(s, ok, err);
}
