/* store_sqlite_changes.c: the SQLite side of the change feed (table `changes`, migration 8): recording
 * a change inside the op that makes it (so it commits or rolls back with it), reading changes after an
 * id, and waiting for one. Waiting watches the database and its write-ahead log with inotify
 * (core/fswatch.h): a commit appends to the WAL (a checkpoint writes the database); without inotify it
 * polls. Must not decide what a change means to anyone: it only records and reports. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/fswatch.h"
#include "core/progress.h"
#include "store/store_sqlite_internal.h"

/* Without inotify a wait looks every POLL_SECONDS. With it, it sleeps until the watch fires, then looks
 * every SETTLE_STEP for SETTLE_SECONDS and every POLL_SECONDS after that, until LATE_COMMIT_SECONDS
 * after the watch last fired (or was opened), in this wait and the next ones. A commit becomes visible
 * to readers when its writer updates the WAL index (shared memory, no inotify event), and no file event
 * follows that: it comes after the WAL write that woke the wait and, with synchronous=FULL, after the
 * WAL's sync, usually within milliseconds, but a sync under I/O load or a descheduled writer takes up to
 * seconds. Sleeping again after a fixed settling time then left such a commit unseen until the next
 * write or the wait's timeout (`oilcast serve` published a sensor window 30 s late; tests/unit/
 * test_sqlite_changes_wait.c). The looks after a write that commits no change cost one indexed query
 * each. The watch reports a burst of writes (a long import) at most once per BURST_GAP. */
#define POLL_SECONDS 0.2
#define SETTLE_SECONDS 0.25
#define SETTLE_STEP 0.02
#define LATE_COMMIT_SECONDS 30.0
#define BURST_GAP 0.05

int oc_sqlite_change_record(oc_sqlite_store *s, oc_change_kind kind, const char *subject, oc_error *err) {
  static const char sql[] = "INSERT INTO changes(kind, subject, at) VALUES (?1, ?2, ?3)";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, oc_change_kind_name(kind), -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? 0 : oc_sqlite_fail(s, err, "recording a change");
}

void oc_sqlite_changes_forget(oc_sqlite_store *s) {
  if (s->noted_count) memset(s->noted_series, 0, s->noted_cap * sizeof *s->noted_series);
  s->noted_count = 0;
}

static size_t slot_of(int64_t id, size_t cap) {
  uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL;
  return (size_t)(h >> 32) & (cap - 1);
}

/* Adds id to the noted set; false when it was there already. */
static bool note_once(oc_sqlite_store *s, int64_t id) {
  assert(id != 0); /* 0 marks an empty slot; series ids start at 1 */
  if (2 * (s->noted_count + 1) > s->noted_cap) {
    size_t cap = s->noted_cap ? 2 * s->noted_cap : 64;
    int64_t *grown = oc_xcalloc(cap, sizeof *grown);
    for (size_t i = 0; i < s->noted_cap; i++) {
      if (!s->noted_series[i]) continue;
      size_t k = slot_of(s->noted_series[i], cap);
      while (grown[k]) k = (k + 1) & (cap - 1);
      grown[k] = s->noted_series[i];
    }
    free(s->noted_series);
    s->noted_series = grown;
    s->noted_cap = cap;
  }
  size_t k = slot_of(id, s->noted_cap);
  while (s->noted_series[k]) {
    if (s->noted_series[k] == id) return false;
    k = (k + 1) & (s->noted_cap - 1);
  }
  s->noted_series[k] = id;
  s->noted_count++;
  return true;
}

int oc_sqlite_changes_note_series(oc_sqlite_store *s, const oc_observation *obs, size_t n, oc_error *err) {
  static const char name_sql[] = "SELECT name FROM series WHERE id = ?1";
  int64_t previous = 0;
  for (size_t i = 0; i < n; i++) {
    if (obs[i].series_id == previous) continue; /* the common case: runs of one series */
    previous = obs[i].series_id;
    if (!note_once(s, previous)) continue;
    sqlite3_stmt *st = oc_sqlite_stmt(s, name_sql, err);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, previous);
    if (sqlite3_step(st) != SQLITE_ROW) {
      sqlite3_reset(st);
      return oc_sqlite_fail(s, err, "naming a changed series");
    }
    char name[OC_SERIES_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (oc_sqlite_change_record(s, OC_CHANGE_OBSERVATIONS, name, err) != 0) return -1;
  }
  return 0;
}

int oc_sqlite_change_note(oc_store *store, oc_change_kind kind, const char *subject, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  bool ok = oc_sqlite_change_record(s, kind, subject, err) == 0;
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_changes_latest(oc_store *store, int64_t *id, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "SELECT coalesce(max(id), 0) FROM changes";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  return rc == SQLITE_ROW ? 0 : oc_sqlite_fail(s, err, "reading the latest change");
}

int oc_sqlite_changes_after(oc_store *store, int64_t after_id, size_t max, oc_change **changes, size_t *n,
                            oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "SELECT id, kind, subject, at FROM changes WHERE id > ?1 ORDER BY id LIMIT ?2";
  *changes = NULL;
  *n = 0;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_int64(st, 1, after_id);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
  oc_change *out = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_change c = {.id = sqlite3_column_int64(st, 0), .at = sqlite3_column_int64(st, 3)};
    const char *kind = (const char *)sqlite3_column_text(st, 1);
    if (!kind || oc_change_kind_parse(kind, &c.kind) != 0) {
      sqlite3_reset(st);
      free(out);
      return oc_error_set(err, "store %s: change %lld has an unknown kind '%s'", s->path, (long long)c.id,
                          kind ? kind : "");
    }
    snprintf(c.subject, sizeof c.subject, "%s", (const char *)sqlite3_column_text(st, 2));
    oc_xgrow((void **)&out, &cap, count + 1, sizeof *out);
    out[count++] = c;
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    free(out);
    return oc_sqlite_fail(s, err, "reading changes");
  }
  *changes = out;
  *n = count;
  return 0;
}

/* The watch on the database and its WAL, opened on first use (inactive where inotify is unavailable).
 * A write just before it opened went unreported, and its commit may show only later: the waits look
 * for it as for a write the watch reported. */
static oc_fswatch *watch_of(oc_sqlite_store *s) {
  pthread_mutex_lock(&s->watch_lock);
  if (!s->watch) {
    oc_buf wal = {0};
    oc_buf_printf(&wal, "%s-wal", s->path);
    const char *files[] = {s->path, wal.data};
    s->watch = oc_fswatch_open(files, 2, NULL);
    oc_buf_free(&wal);
    if (atomic_load(&s->interrupted)) oc_fswatch_interrupt(s->watch);
    s->watch_fired = oc_monotonic_seconds();
  }
  oc_fswatch *w = s->watch;
  pthread_mutex_unlock(&s->watch_lock);
  return w;
}

int oc_sqlite_changes_wait(oc_store *store, int64_t after_id, double timeout, int64_t *latest, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  assert(!s->in_transaction); /* a reader inside a transaction would never see another's commit */
  oc_fswatch *w = watch_of(s);
  double now = oc_monotonic_seconds(), deadline = now + timeout;
  for (;;) {
    if (oc_sqlite_changes_latest(store, latest, err) != 0) return -1;
    if (*latest > after_id || atomic_load(&s->interrupted)) return 0;
    now = oc_monotonic_seconds();
    double left = deadline - now;
    if (left <= 0) return 0;
    double since_fired = now - s->watch_fired;
    double step = !oc_fswatch_active(w)               ? POLL_SECONDS
                  : since_fired < SETTLE_SECONDS      ? SETTLE_STEP
                  : since_fired < LATE_COMMIT_SECONDS ? POLL_SECONDS
                                                      : left; /* quiet: only the watch wakes it */
    if (oc_fswatch_wait(w, step < left ? step : left, BURST_GAP) == OC_FSWATCH_CHANGED)
      s->watch_fired = oc_monotonic_seconds();
  }
}

void oc_sqlite_changes_interrupt(oc_store *store) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  pthread_mutex_lock(&s->watch_lock);
  atomic_store(&s->interrupted, true);
  if (s->watch) oc_fswatch_interrupt(s->watch);
  pthread_mutex_unlock(&s->watch_lock);
}

void oc_sqlite_changes_close(oc_sqlite_store *s) {
  oc_fswatch_close(s->watch);
  free(s->noted_series);
}
