/* store_sqlite_jobs.c: the SQLite side of the scheduler's records (tables `job_runs` and `job_state`,
 * migration 9). Two partial unique indexes do the claiming: one scheduled or catch-up run per job and
 * slot, one running run per job; a claim that would break either is refused without an error, so
 * processes sharing the store never run a slot twice nor a job twice at once. Must not know what a
 * job's steps do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

void oc_job_run_list_free(oc_job_run *runs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(runs[i].error);
    free(runs[i].steps_json);
  }
  free(runs);
}

int oc_sqlite_job_run_start(oc_store *store, oc_job_run *run, bool *claimed, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "INSERT OR IGNORE INTO job_runs(job, slot, trigger, status, started_at, runner) VALUES (?1, ?2, ?3, 'running', ?4, ?5)";
  *claimed = false;
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = false;
  if (st) {
    sqlite3_bind_text(st, 1, run->job, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, run->slot);
    sqlite3_bind_text(st, 3, run->trigger, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, run->started_at);
    sqlite3_bind_text(st, 5, run->runner, -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) oc_sqlite_fail(s, err, "starting a job run");
    else if ((*claimed = sqlite3_changes(s->db) == 1)) run->id = sqlite3_last_insert_rowid(s->db);
    sqlite3_reset(st);
  }
  snprintf(run->status, sizeof run->status, "%s", *claimed ? "running" : "");
  if (ok && *claimed) ok = oc_sqlite_change_record(s, OC_CHANGE_JOB, run->job, err) == 0;
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_job_run_finish(oc_store *store, const oc_job_run *run, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "UPDATE job_runs SET status = ?2, finished_at = ?3, error = ?4, steps_json = ?5 WHERE id = ?1";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = false;
  if (st) {
    sqlite3_bind_int64(st, 1, run->id);
    sqlite3_bind_text(st, 2, run->status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, run->finished_at);
    sqlite3_bind_text(st, 4, run->error ? run->error : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, run->steps_json ? run->steps_json : "[]", -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) {
      oc_sqlite_fail(s, err, "finishing a job run");
    } else if (sqlite3_changes(s->db) != 1) {
      oc_error_set(err, "job run %lld does not exist", (long long)run->id);
      ok = false;
    }
    sqlite3_reset(st);
  }
  if (ok) ok = oc_sqlite_change_record(s, OC_CHANGE_JOB, run->job, err) == 0;
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_job_runs_list(oc_store *store, const char *job, const char *status, size_t limit, oc_job_run **runs,
                            size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "SELECT id, job, slot, trigger, status, started_at, finished_at, runner, error, steps_json FROM job_runs"
      " WHERE (?1 IS NULL OR job = ?1) AND (?2 IS NULL OR status = ?2) ORDER BY id DESC LIMIT ?3";
  *runs = NULL;
  *n = 0;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  if (job) sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
  if (status) sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
  oc_job_run *out = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&out, &cap, count + 1, sizeof *out);
    oc_job_run *r = &out[count++];
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    oc_sqlite_column_copy(r->job, sizeof r->job, st, 1);
    r->slot = sqlite3_column_int64(st, 2);
    oc_sqlite_column_copy(r->trigger, sizeof r->trigger, st, 3);
    oc_sqlite_column_copy(r->status, sizeof r->status, st, 4);
    r->started_at = sqlite3_column_int64(st, 5);
    r->finished_at = sqlite3_column_int64(st, 6);
    oc_sqlite_column_copy(r->runner, sizeof r->runner, st, 7);
    r->error = oc_sqlite_column_strdup(st, 8);
    r->steps_json = oc_sqlite_column_strdup(st, 9);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    oc_job_run_list_free(out, count);
    return oc_sqlite_fail(s, err, "listing job runs");
  }
  *runs = out;
  *n = count;
  return 0;
}

int oc_sqlite_job_last_slot(oc_store *store, const char *job, int64_t *slot, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "SELECT coalesce(max(slot), 0) FROM job_runs WHERE job = ?1 AND trigger != 'manual'";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) *slot = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  return rc == SQLITE_ROW ? 0 : oc_sqlite_fail(s, err, "reading a job's last slot");
}

int oc_sqlite_job_state_get(oc_store *store, const char *job, int64_t now, oc_job_state *out, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char read[] = "SELECT paused, first_seen FROM job_state WHERE job = ?1";
  static const char create[] = "INSERT INTO job_state(job, paused, first_seen, updated_at) VALUES (?1, 0, ?2, ?2)";
  sqlite3_stmt *st = oc_sqlite_stmt(s, read, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) *out = (oc_job_state){sqlite3_column_int(st, 0) != 0, sqlite3_column_int64(st, 1)};
  sqlite3_reset(st);
  if (rc == SQLITE_ROW) return 0;
  if (rc != SQLITE_DONE) return oc_sqlite_fail(s, err, "reading a job's state");
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  bool ok = (st = oc_sqlite_stmt(s, create, err)) != NULL;
  if (ok) {
    sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) oc_sqlite_fail(s, err, "recording a new job");
    sqlite3_reset(st);
  }
  if (ok) *out = (oc_job_state){false, now};
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_job_pause(oc_store *store, const char *job, bool paused, int64_t now, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "INSERT INTO job_state(job, paused, first_seen, updated_at) VALUES (?1, ?2, ?3, ?3)"
                            " ON CONFLICT(job) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = false;
  if (st) {
    sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, paused ? 1 : 0);
    sqlite3_bind_int64(st, 3, now);
    ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) oc_sqlite_fail(s, err, "pausing or resuming a job");
    sqlite3_reset(st);
  }
  if (ok) ok = oc_sqlite_change_record(s, OC_CHANGE_JOB, job, err) == 0;
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_job_failures(oc_store *store, oc_job_failures **rows, size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  /* a job's streak: its finished runs that did not succeed, after its latest one that did */
  static const char sql[] =
      "SELECT j.job, (SELECT count(*) FROM job_runs f WHERE f.job = j.job AND f.status NOT IN ('running', 'ok')"
      " AND f.id > coalesce((SELECT max(o.id) FROM job_runs o WHERE o.job = j.job AND o.status = 'ok'), 0))"
      " FROM (SELECT DISTINCT job FROM job_runs WHERE status != 'running') j ORDER BY j.job";
  *rows = NULL;
  *n = 0;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  oc_job_failures *out = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&out, &cap, count + 1, sizeof *out);
    oc_sqlite_column_copy(out[count].job, sizeof out[count].job, st, 0);
    out[count++].consecutive = sqlite3_column_int64(st, 1);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    free(out);
    return oc_sqlite_fail(s, err, "counting jobs' failing runs");
  }
  *rows = out;
  *n = count;
  return 0;
}
