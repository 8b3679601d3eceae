/* store_sqlite_internal.h: what the SQLite backend's source files (store_sqlite*.c) share: the
 * connection struct that embeds oc_store, a prepared-statement cache, and helpers that turn SQLite
 * errors into oc_error messages and make an op atomic. Only src/store/store_sqlite*.c may include
 * this; everything else goes through store.h. */
#ifndef OC_STORE_SQLITE_INTERNAL_H
#define OC_STORE_SQLITE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "store/store.h"

typedef struct oc_sqlite_cached_stmt {
  const char *sql; /* identity: the string literal's address */
  sqlite3_stmt *stmt;
} oc_sqlite_cached_stmt;

typedef struct oc_sqlite_store {
  oc_store base; /* first member: an oc_store * is an oc_sqlite_store * */
  sqlite3 *db;
  char *path;
  bool in_transaction; /* an explicit oc_store_begin is open */
  bool read_only;      /* opened immutable: its folder cannot be written (writes fail as OC_ERROR_READ_ONLY) */
  oc_sqlite_cached_stmt *stmts;
  size_t nstmts, stmts_cap;
  /* Series whose observations the open write transaction already recorded as changed: a set of ids
   * (open addressing, 0 = empty slot, capacity a power of two), emptied when the transaction ends. */
  int64_t *noted_series;
  size_t noted_count, noted_cap;
  /* changes_wait's watch on the database and its WAL, opened by the first wait; changes_interrupt may
   * come from another thread, hence the lock. */
  pthread_mutex_t watch_lock;
  struct oc_fswatch *watch; /* guarded by watch_lock */
  atomic_bool interrupted;
  double watch_fired; /* monotonic time the watch last reported a write, or opened (the waiting thread's) */
  oc_store_wait wait;  /* the write-lock wait policy (set_wait) */
  struct oc_store_turn *turn;      /* the process's write turn for this database (store_turn.h) */
  bool holds_write_turn;           /* this connection took the process's write turn (store_sqlite.c) */
  double busy_since;   /* monotonic time the current wait began (valid while SQLite retries) */
  double busy_reported; /* waited seconds at the last waiting() call */
  double busy_waited;  /* how long the last wait lasted, for the error message */
  int leader_fd;       /* PATH.leader, flocked while this connection leads (store_sqlite_leader.c); -1 */
  /* Staged imports (store_sqlite_stage.c): rows staged per key since the staging area was last emptied
   * (staged_keys entries, 0 when it is empty), and whether it still holds rows it could not empty. */
  int64_t *staged_rows;
  size_t staged_keys, staged_cap;
  bool stage_table;  /* temp.oc_stage exists on this connection */
  bool stage_dirty;  /* the last clear failed: the next stage empties it first */
} oc_sqlite_store;

static inline oc_sqlite_store *oc_sqlite_of(oc_store *store) { return (oc_sqlite_store *)store; }

/* Sets *err to "store PATH: what: <SQLite's message>" and returns -1; when the write lock stayed
 * taken past the wait policy, to a message of kind OC_ERROR_BUSY saying so. */
int oc_sqlite_fail(oc_sqlite_store *s, oc_error *err, const char *what);
/* The prepared statement for sql (a string literal: cached by address), reset and with bindings
 * cleared, ready to bind. NULL with *err set when it does not compile. */
sqlite3_stmt *oc_sqlite_stmt(oc_sqlite_store *s, const char *sql, oc_error *err);
/* The newest stored record of a series: sql (a string literal) selects at most one row WHERE series =
 * ?1 (newest first, LIMIT 1); decode fills out from it and *found says whether there was one. 0, or -1
 * with *err "store PATH: reading the latest <what>: ...". */
int oc_sqlite_newest_of_series(oc_sqlite_store *s, const char *sql, const char *series,
                               void (*decode)(sqlite3_stmt *st, void *out), void *out, bool *found, const char *what,
                               oc_error *err);
/* Makes one op atomic: opens a write transaction when none is open, else a savepoint inside the
 * caller's transaction. Pair every successful oc_sqlite_op_begin with one oc_sqlite_op_end(ok). */
int oc_sqlite_op_begin(oc_sqlite_store *s, oc_error *err);
/* ok: commit/release; !ok: roll back what the op did (keeps *err as it is). Returns 0 or -1. */
int oc_sqlite_op_end(oc_sqlite_store *s, bool ok, oc_error *err);
/* Runs sql (no result rows); -1 with *err in the words of oc_sqlite_fail. */
int oc_sqlite_exec(oc_sqlite_store *s, const char *sql, oc_error *err);
/* Rows per multi-row INSERT of observations: one statement step for 64 rows cuts the per-row VDBE
 * and call overhead that dominates large imports. */
#define OC_SQLITE_ROWS_PER_INSERT 64
/* The text "HEAD(?1, ?2, ?3EXTRA), (?4, ?5, ?6EXTRA), ...TAIL" of a rows-row INSERT: row i's series,
 * date and value are parameters 3i+1..3i+3 (oc_sqlite_bind_observations), EXTRA is the same for every
 * row. malloc'd. */
char *oc_sqlite_rows_sql(const char *head, size_t rows, const char *extra, const char *tail);
/* Binds obs[0..k) as parameters 3i+1..3i+3: series id, date as text, value. dates[i] receives the
 * date's text, bound in place: it must outlive the step. */
void oc_sqlite_bind_observations(sqlite3_stmt *st, const oc_observation *obs, size_t k,
                                 char (*dates)[OC_DATE_STRLEN]);
/* Binds a civil date as ISO text "YYYY-MM-DD" (how dates are stored: readable in any SQL tool). */
int oc_sqlite_bind_date(sqlite3_stmt *stmt, int index, oc_date date);
/* Parses a stored ISO date column; OC_DATE_INVALID for NULL or malformed text. */
oc_date oc_sqlite_column_date(sqlite3_stmt *stmt, int index);
/* A copy of a text column ("" for NULL). */
char *oc_sqlite_column_strdup(sqlite3_stmt *stmt, int index);
/* A text column into out (cap bytes, truncated, "" for NULL). */
void oc_sqlite_column_copy(char *out, size_t cap, sqlite3_stmt *stmt, int index);
/* Columns 0..4 of the row, series, endpoint, variant, model_version and horizon, as a forecast line
 * (the scores' and the performance readers' rows; store_sqlite_scores.c). */
void oc_sqlite_column_line(sqlite3_stmt *stmt, oc_forecast_line *out);

/* The change feed (store_sqlite_changes.c). change_record appends one change inside the current op;
 * changes_note_series records the series of obs (once per series and transaction); changes_forget
 * empties that per-transaction memory (at every transaction end, and when a savepoint is rolled back). */
int oc_sqlite_change_record(oc_sqlite_store *s, oc_change_kind kind, const char *subject, oc_error *err);
int oc_sqlite_changes_note_series(oc_sqlite_store *s, const oc_observation *obs, size_t n, oc_error *err);
void oc_sqlite_changes_forget(oc_sqlite_store *s);
void oc_sqlite_changes_close(oc_sqlite_store *s);
int oc_sqlite_changes_after(oc_store *store, int64_t after_id, size_t max, oc_change **changes, size_t *n,
                            oc_error *err);
int oc_sqlite_changes_latest(oc_store *store, int64_t *id, oc_error *err);
int oc_sqlite_changes_wait(oc_store *store, int64_t after_id, double timeout, int64_t *latest, oc_error *err);
void oc_sqlite_changes_interrupt(oc_store *store);
int oc_sqlite_change_note(oc_store *store, oc_change_kind kind, const char *subject, oc_error *err);

/* API-key ops (store_sqlite_apikeys.c). */
int oc_sqlite_api_key_insert(oc_store *store, const oc_api_key_row *row, oc_error *err);
int oc_sqlite_api_key_list(oc_store *store, oc_api_key_row **rows, size_t *n, oc_error *err);
int oc_sqlite_api_key_revoke(oc_store *store, const char *id_or_name, int64_t at, bool *found, oc_error *err);
/* Backtest runs (store_sqlite_backtests.c). */
int oc_sqlite_backtest_save(oc_store *store, oc_backtest_record *rec, oc_error *err);
int oc_sqlite_backtest_latest(oc_store *store, const char *series, oc_backtest_record *out, bool *found, oc_error *err);

/* The series of ingest runs (store_sqlite_ingest_runs.c): recording them with their run, listing runs. */
int oc_sqlite_ingest_run_series_record(oc_sqlite_store *s, const oc_ingest_run *run, oc_error *err);
int oc_sqlite_ingest_runs_after(oc_store *store, int64_t after_id, size_t max_runs, size_t max_series,
                                oc_ingest_run_info **runs, size_t *n, int64_t *newest_id, oc_error *err);

/* Model registry ops (store_sqlite_models.c). */
int oc_sqlite_model_version_register(oc_store *store, const oc_model_version *v, oc_error *err);
int oc_sqlite_model_version_get(oc_store *store, int64_t version, oc_model_version *v, bool *found, oc_error *err);
int oc_sqlite_model_version_list(oc_store *store, oc_model_version **list, size_t *n, oc_error *err);
int oc_sqlite_endpoint_set(oc_store *store, const char *name, const oc_endpoint_variant *variants, size_t n,
                           int64_t now, oc_error *err);
int oc_sqlite_endpoint_get(oc_store *store, const char *name, oc_endpoint *ep, bool *found, oc_error *err);
/* endpoint_set's writes inside an open op (n may be 0): the endpoint row, its variants, every version's
 * status and the endpoint change. */
bool oc_sqlite_endpoint_rows_set(oc_sqlite_store *s, const char *name, const oc_endpoint_variant *variants, size_t n,
                                 int64_t now, oc_error *err);
/* Endpoint configurations (store_sqlite_endpoint_config.c). */
int oc_sqlite_endpoint_config_set(oc_store *store, const char *name, const char *config,
                                  const oc_endpoint_variant *variants, size_t n, int64_t now, oc_error *err);
int oc_sqlite_endpoint_config_get(oc_store *store, const char *name, char **config, bool *found, oc_error *err);
int oc_sqlite_endpoint_names(oc_store *store, char ***names, size_t *n, oc_error *err);
/* Staged imports (store_sqlite_stage.c, issue 13). */
int oc_sqlite_observations_stage(oc_store *store, const oc_observation *obs, size_t n, oc_error *err);
int oc_sqlite_observations_stage_move(oc_store *store, const int64_t *series_ids, size_t nkeys, const char *source,
                                      int64_t ingested_at, oc_upsert_counts *counts, oc_error *err);
void oc_sqlite_observations_stage_clear(oc_store *store);
/* Per-series price ranges (store_sqlite_series_range.c). */
int oc_sqlite_series_range_set(oc_store *store, const char *name, bool set, double min, double max, oc_error *err);
int oc_sqlite_series_range_get(oc_store *store, const char *name, bool *set, double *min, double *max, oc_error *err);

/* Forecast ops (store_sqlite_forecasts.c). */
int oc_sqlite_forecast_save(oc_store *store, oc_forecast_record *rec, oc_error *err);
int oc_sqlite_forecasts_save(oc_store *store, oc_forecast_record *recs, size_t n, oc_error *err);
/* store_sqlite_scores.c */
int oc_sqlite_forecast_score(oc_store *store, int64_t now, int64_t *scored, oc_error *err);
int oc_sqlite_forecast_performance(oc_store *store, const char *endpoint, size_t window, oc_forecast_performance **rows,
                                   size_t *n, oc_error *err);
/* store_sqlite_jobs.c */
int oc_sqlite_job_run_start(oc_store *store, oc_job_run *run, bool *claimed, oc_error *err);
int oc_sqlite_job_run_finish(oc_store *store, const oc_job_run *run, oc_error *err);
int oc_sqlite_job_runs_list(oc_store *store, const char *job, const char *status, size_t limit, oc_job_run **runs,
                            size_t *n, oc_error *err);
int oc_sqlite_job_last_slot(oc_store *store, const char *job, int64_t *slot, oc_error *err);
int oc_sqlite_job_state_get(oc_store *store, const char *job, int64_t now, oc_job_state *out, oc_error *err);
int oc_sqlite_job_pause(oc_store *store, const char *job, bool paused, int64_t now, oc_error *err);
int oc_sqlite_job_failures(oc_store *store, oc_job_failures **rows, size_t *n, oc_error *err);
int oc_sqlite_forecast_latest(oc_store *store, const char *series, oc_forecast_record *out, bool *found,
                              oc_error *err);
/* store_sqlite_promote.c: champion/challenger promotion (migration 17) */
int oc_sqlite_decision_record(oc_store *store, oc_promotion_decision *d, oc_error *err);
int oc_sqlite_decisions_list(oc_store *store, const char *endpoint, size_t limit, oc_promotion_decision **out,
                             size_t *n, oc_error *err);
int oc_sqlite_challenger_get(oc_store *store, const char *endpoint, oc_challenger_state *st, bool *found,
                             oc_error *err);
int oc_sqlite_challenger_put(oc_store *store, const oc_challenger_state *st, oc_error *err);
int oc_sqlite_forecast_errors(oc_store *store, const char *endpoint, const char *model_version, int64_t horizon,
                              oc_date after, size_t limit, oc_scored_error **rows, size_t *n, oc_error *err);
/* store_sqlite_perfhistory.c */
int oc_sqlite_forecast_scored_points(oc_store *store, const char *endpoint, oc_scored_point **points, size_t *n,
                                     oc_error *err);

/* Alerts (store_sqlite_alerts.c). */
int oc_sqlite_alert_save(oc_store *store, const oc_alert *alert, bool record_event, oc_error *err);
int oc_sqlite_alerts_list(oc_store *store, const char *state, oc_alert **list, size_t *n, oc_error *err);
int oc_sqlite_alert_history(oc_store *store, const char *fingerprint, size_t limit, oc_alert_event **events,
                            size_t *n, oc_error *err);

/* Backups (store_sqlite_backup.c). */
int oc_sqlite_snapshot_to(oc_store *store, const char *path, oc_error *err);
int oc_sqlite_integrity_check(oc_store *store, oc_error *err);

/* Device registry (store_sqlite_devices.c). */
int oc_sqlite_device_put(oc_store *store, const oc_device *device, oc_error *err);
int oc_sqlite_device_get(oc_store *store, const char *id, oc_device *out, bool *found, oc_error *err);
int oc_sqlite_device_list(oc_store *store, bool include_revoked, oc_device **rows, size_t *n, oc_error *err);
int oc_sqlite_device_revoke(oc_store *store, const char *id, int64_t at, bool *found, oc_error *err);
/* store_sqlite_copy.c: the store copy (oilcast migrate). */
int oc_sqlite_table_read(oc_store *store, const oc_store_table *table,
                         int (*row)(void *ctx, const char *const *values), void *ctx, oc_error *err);
int oc_sqlite_table_write(oc_store *store, const oc_store_table *table, const char *const *values, size_t nrows,
                          oc_error *err);
/* store_sqlite_stream.c: the sensor stream (issue 15, mqttstream). */
int oc_sqlite_sensor_reading_get(oc_store *store, const char *device_id, int64_t seq, const char *measurement,
                                 oc_sensor_reading *out, bool *found, oc_error *err);
int oc_sqlite_sensor_reading_insert(oc_store *store, const oc_sensor_reading *r, bool late, bool *inserted,
                                    oc_error *err);
int oc_sqlite_sensor_watermark_get(oc_store *store, const char *device_id, int64_t *event_ms, bool *found,
                                   oc_error *err);
int oc_sqlite_sensor_watermark_set(oc_store *store, const char *device_id, int64_t event_ms, oc_error *err);
int oc_sqlite_sensor_window_recompute(oc_store *store, const char *device_id, const char *measurement,
                                      int64_t width_ms, int64_t start_ms, int64_t part_ms, oc_error *err);
int oc_sqlite_dead_letter_insert(oc_store *store, oc_dead_letter *dl, oc_error *err);
int oc_sqlite_dead_letters_list(oc_store *store, size_t limit, oc_dead_letter **rows, size_t *n, oc_error *err);
int oc_sqlite_sensor_windows_list(oc_store *store, const char *device_id, const char *measurement,
                                  int64_t width_ms, oc_sensor_window **rows, size_t *n, oc_error *err);
int oc_sqlite_sensor_stats(oc_store *store, oc_sensor_stats *out, oc_error *err);
int oc_sqlite_sensor_readings_recent(oc_store *store, const char *device_id, const char *measurement, size_t limit,
                                     oc_sensor_reading **rows, size_t *n, oc_error *err);
int oc_sqlite_sensor_anomaly_insert(oc_store *store, const oc_sensor_anomaly *a, bool *inserted, oc_error *err);

/* Sensor silence and the live sensor feed (store_sqlite_sensors_live.c, issue 15 sensorslive). */
int oc_sqlite_sensor_last_raise(oc_store *store, const oc_sensor_reading *r, oc_error *err);
int oc_sqlite_sensor_watch_list(oc_store *store, oc_sensor_watch **rows, size_t *n, oc_error *err);
int oc_sqlite_sensor_anomaly_end(oc_store *store, const char *device_id, const char *measurement, const char *kind,
                            int64_t event_ms, int64_t ended_ms, bool *ended, oc_error *err);
int oc_sqlite_sensor_anomaly_get(oc_store *store, const char *device_id, const char *measurement, const char *kind,
                            int64_t event_ms, oc_sensor_anomaly *out, bool *found, oc_error *err);
int oc_sqlite_sensor_window_get(oc_store *store, const char *device_id, const char *measurement, int64_t width_ms,
                           int64_t start_ms, oc_sensor_window *out, bool *found, oc_error *err);
/* Several nodes on one store (store_sqlite_leader.c): leadership and shared rate-limit buckets;
 * leader_close gives leadership up with the connection. */
int oc_sqlite_leader_try_acquire(oc_store *store, bool *leader, oc_error *err);
int oc_sqlite_rate_take(oc_store *store, const char *key_id, double per_second, double burst, bool *allowed,
                        double *tokens, oc_error *err);
void oc_sqlite_leader_close(oc_sqlite_store *s);

/* The by-year robustness report (store_sqlite_backtest_years.c, issue 18 item 4). */
int oc_sqlite_backtest_years_save(oc_store *store, oc_backtest_years_record *rec, oc_error *err);
int oc_sqlite_backtest_years_latest(oc_store *store, const char *series, oc_backtest_years_record *out, bool *found,
                                    oc_error *err);

#endif
