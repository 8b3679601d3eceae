/* store_sqlite_stage.c: staged imports on SQLite (store.h, issue 13). A batch's observations first go
 * into temp.oc_stage, a TEMP table of the connection: SQLite keeps it in a file of its own, unlinked as
 * soon as it is created (a killed import leaves nothing behind to clean up), and writing it takes no
 * lock of the store, whose readers and writers go on meanwhile. Its key (the caller's key of a series,
 * the date as stored) keeps the rows sorted however the input came. Then one write transaction moves
 * them into observations, series by series in date order, with the conflict rules of
 * observations_upsert: the store's write lock is held for that move only, not while the input is read
 * and validated. Must not write the store anywhere but in the move, and must not judge the rows (the
 * batch does). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

static char *stage_chunk_sql;

static void build_stage_chunk_sql(void) {
  stage_chunk_sql =
      oc_sqlite_rows_sql("INSERT INTO temp.oc_stage(key, date, value) VALUES ", OC_SQLITE_ROWS_PER_INSERT, "", "");
}

/* The staging table, once per connection. Its pages get a cache of their own as large as the store's
 * (allocated only as used), so staging an input that is not in key order (long format: one row per
 * series per date) does not spill pages to the temporary file and read them back. */
static int stage_table(oc_sqlite_store *s, oc_error *err) {
  if (s->stage_table) return 0;
  if (oc_sqlite_exec(s,
                     "CREATE TEMP TABLE IF NOT EXISTS oc_stage (\n"
                     "  key INTEGER NOT NULL,\n"
                     "  date TEXT NOT NULL,\n"
                     "  value REAL NOT NULL,\n"
                     "  PRIMARY KEY (key, date)\n"
                     ") WITHOUT ROWID;\n"
                     "PRAGMA temp.cache_size = -65536",
                     err) != 0)
    return -1;
  s->stage_table = true;
  return 0;
}

/* Forgets the staged rows and deletes them; a failed delete leaves stage_dirty set. */
static int empty_stage(oc_sqlite_store *s, oc_error *err) {
  bool staged = s->staged_keys > 0 || s->stage_dirty;
  if (s->staged_keys) memset(s->staged_rows, 0, s->staged_keys * sizeof *s->staged_rows);
  s->staged_keys = 0;
  if (!staged || !s->stage_table) return 0;
  s->stage_dirty = oc_sqlite_exec(s, "DELETE FROM temp.oc_stage", err) != 0;
  return s->stage_dirty ? -1 : 0;
}

static int stage_rows(oc_sqlite_store *s, sqlite3_stmt *st, const oc_observation *obs, size_t k, oc_error *err) {
  char dates[OC_SQLITE_ROWS_PER_INSERT][OC_DATE_STRLEN];
  oc_sqlite_bind_observations(st, obs, k, dates);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? 0 : oc_sqlite_fail(s, err, "staging observations");
}

static void count_staged(oc_sqlite_store *s, const oc_observation *obs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t key = (size_t)obs[i].series_id;
    if (key >= s->staged_keys) {
      size_t old_cap = s->staged_cap;
      oc_xgrow((void **)&s->staged_rows, &s->staged_cap, key + 1, sizeof *s->staged_rows);
      memset(s->staged_rows + old_cap, 0, (s->staged_cap - old_cap) * sizeof *s->staged_rows);
      s->staged_keys = key + 1;
    }
    s->staged_rows[key]++;
  }
}

int oc_sqlite_observations_stage(oc_store *store, const oc_observation *obs, size_t n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  enum { ROWS = OC_SQLITE_ROWS_PER_INSERT };
  static const char one_sql[] = "INSERT INTO temp.oc_stage(key, date, value) VALUES (?1, ?2, ?3)";
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, build_stage_chunk_sql);
  if (s->in_transaction) /* its rollback would take staged rows back behind staged_rows' back */
    return oc_error_set(err, "store %s: staging observations inside a transaction", s->path);
  for (size_t i = 0; i < n; i++)
    if (obs[i].series_id < 0)
      return oc_error_set(err, "store %s: staging observations: key %lld of row %zu is negative", s->path,
                          (long long)obs[i].series_id, i);
  if ((s->stage_dirty && empty_stage(s, err) != 0) || stage_table(s, err) != 0) return -1;
  /* The savepoint is a deferred transaction of its own that writes only the temporary database: the
   * store's write lock is never asked for. */
  if (oc_sqlite_exec(s, "SAVEPOINT oc_stage", err) != 0) return -1;
  sqlite3_stmt *chunk = n >= ROWS ? oc_sqlite_stmt(s, stage_chunk_sql, err) : NULL;
  sqlite3_stmt *one = n < ROWS || chunk ? oc_sqlite_stmt(s, one_sql, err) : NULL;
  bool ok = one != NULL;
  size_t i = 0;
  for (; ok && i + ROWS <= n; i += ROWS) ok = stage_rows(s, chunk, obs + i, ROWS, err) == 0;
  for (; ok && i < n; i++) ok = stage_rows(s, one, obs + i, 1, err) == 0;
  if (ok) ok = oc_sqlite_exec(s, "RELEASE oc_stage", err) == 0;
  if (!ok) {
    oc_error ignored;
    oc_sqlite_exec(s, "ROLLBACK TO oc_stage; RELEASE oc_stage", &ignored);
    return -1;
  }
  count_staged(s, obs, n);
  return 0;
}

/* The move of one series' staged rows: insert the new dates (DO NOTHING), then, only when some dates
 * were stored already, update those whose value differs (DO UPDATE ... WHERE): rows just inserted are
 * equal and untouched, so the two statements count inserted and updated rows apart. */
#define MOVE_SQL(conflict)                                                                          \
  "INSERT INTO main.observations(series_id, date, value, source, ingested_at)"                      \
  " SELECT ?2, date, value, ?3, ?4 FROM temp.oc_stage WHERE key = ?1 ORDER BY date"                 \
  " ON CONFLICT(series_id, date) " conflict
static const char move_insert_sql[] = MOVE_SQL("DO NOTHING");
static const char move_update_sql[] = MOVE_SQL("DO UPDATE SET value = excluded.value, source = excluded.source,"
                                               " ingested_at = excluded.ingested_at WHERE value IS NOT excluded.value");

static int move_rows(oc_sqlite_store *s, const char *sql, size_t key, int64_t series_id, const char *source,
                     int64_t ingested_at, int64_t *changed, oc_error *err) {
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_int64(st, 1, (sqlite3_int64)key);
  sqlite3_bind_int64(st, 2, series_id);
  sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, ingested_at);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return oc_sqlite_fail(s, err, "moving staged observations in");
  *changed = sqlite3_changes(s->db);
  return 0;
}

int oc_sqlite_observations_stage_move(oc_store *store, const int64_t *series_ids, size_t nkeys, const char *source,
                                      int64_t ingested_at, oc_upsert_counts *counts, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  if (s->staged_keys > nkeys)
    return oc_error_set(err, "store %s: rows are staged for %zu series, but only %zu series to move them to", s->path,
                        s->staged_keys, nkeys);
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  oc_upsert_counts local = {0};
  bool ok = true;
  for (size_t key = 0; ok && key < s->staged_keys; key++) {
    int64_t staged = s->staged_rows[key], inserted = 0, updated = 0;
    if (staged == 0) continue;
    ok = move_rows(s, move_insert_sql, key, series_ids[key], source, ingested_at, &inserted, err) == 0;
    if (ok && inserted < staged)
      ok = move_rows(s, move_update_sql, key, series_ids[key], source, ingested_at, &updated, err) == 0;
    if (ok && inserted + updated > 0) {
      const oc_observation changed = {.series_id = series_ids[key]};
      ok = oc_sqlite_changes_note_series(s, &changed, 1, err) == 0;
    }
    local.inserted += inserted;
    local.updated += updated;
    local.unchanged += staged - inserted - updated;
  }
  if (oc_sqlite_op_end(s, ok, err) != 0) return -1;
  counts->inserted += local.inserted;
  counts->updated += local.updated;
  counts->unchanged += local.unchanged;
  return 0;
}

void oc_sqlite_observations_stage_clear(oc_store *store) {
  oc_error ignored; /* a staging area left full is emptied by the next stage (stage_dirty) */
  empty_stage(oc_sqlite_of(store), &ignored);
}
