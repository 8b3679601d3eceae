/* store_pg_internal.h: what the PostgreSQL backend's source files (store_pg*.c) share: the connection
 * struct that embeds oc_store, parameter lists for libpq's text protocol, one query call that turns
 * libpq failures into oc_error messages (and reconnects after a lost connection when no transaction
 * was open), column readers, and the helpers that make an op atomic. Only src/store/store_pg*.c may
 * include this; everything else goes through store.h. */
#ifndef OC_STORE_PG_INTERNAL_H
#define OC_STORE_PG_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>

#include "store/libpq_lazy.h"
#include "store/store.h"

typedef struct oc_pg_store {
  oc_store base; /* first member: an oc_store * is an oc_pg_store * */
  PGconn *conn;
  char *conninfo; /* the URI as libpq takes it ("postgresql://...") */
  char *display;  /* the same without a password, for messages */
  bool in_transaction; /* an explicit oc_store_begin is open */
  bool in_op;          /* an op opened its own transaction (no explicit one was open) */
  bool listening;      /* LISTEN issued on this session (changes_wait), renewed after a reconnect */
  struct oc_store_turn *turn;  /* the process's write turn for this database (store_turn.h) */
  bool holds_write_turn;       /* this connection took the process's write turn */
  oc_store_wait wait;          /* the write-lock wait policy (set_wait) */
  atomic_bool interrupted;     /* changes_interrupt was called */
  int wake_pipe[2];            /* changes_interrupt writes a byte to [1]: a wait polls [0] */
  /* A bulk load into an empty observations table (store_pg_series.c) goes in without the table's
   * primary key, built once at commit: the series it loaded, each with its latest date. */
  bool key_deferred;
  bool observations_held; /* this transaction found rows in observations: no bulk load, asked once */
  bool loaded_untracked;  /* the store copy deferred the key: loaded does not know the rows' dates */
  struct oc_pg_loaded_series *loaded;
  size_t loaded_count, loaded_cap;
} oc_pg_store;

static inline oc_pg_store *oc_pg_of(oc_store *store) { return (oc_pg_store *)store; }

/* Parameters of one statement, as text (libpq's text protocol); a NULL value is SQL NULL. */
#define OC_PG_MAX_PARAMS 16
typedef struct oc_pg_params {
  int n;
  const char *values[OC_PG_MAX_PARAMS];
  char text[OC_PG_MAX_PARAMS][40]; /* numbers and dates are formatted here */
} oc_pg_params;

void oc_pg_text(oc_pg_params *p, const char *value); /* NULL: SQL NULL */
void oc_pg_int(oc_pg_params *p, int64_t value);
void oc_pg_double(oc_pg_params *p, double value); /* NaN: SQL NULL; infinities kept */
void oc_pg_date(oc_pg_params *p, oc_date date);

/* Runs sql (with p, or none when p is NULL). Returns the result (PQclear it) when the statement
 * succeeded; NULL with *err = "store URI: what: <PostgreSQL's message>" otherwise. A connection
 * found lost outside a transaction is re-established (a few tries, growing pauses) and the statement
 * run again; inside a transaction, or when the server stays unreachable, the error says so. */
PGresult *oc_pg_query(oc_pg_store *s, const char *sql, const oc_pg_params *p, const char *what, oc_error *err);
/* oc_pg_query for a statement whose rows are not needed: 0 (and *affected = rows changed, when not
 * NULL) or -1. */
int oc_pg_run(oc_pg_store *s, const char *sql, const oc_pg_params *p, const char *what, int64_t *affected,
              oc_error *err);
/* Runs a COPY ... FROM STDIN statement with data (COPY text format rows). 0 or -1. */
int oc_pg_copy_in(oc_pg_store *s, const char *sql, const char *data, size_t len, const char *what, oc_error *err);
/* Sets *err to "store URI: what: message" and returns -1 (for failures found by the caller). */
int oc_pg_fail(oc_pg_store *s, oc_error *err, const char *what, const char *message);

/* Column readers ("" / 0 / OC_DATE_INVALID for NULL). */
const char *oc_pg_get(const PGresult *r, int row, int col);
bool oc_pg_is_null(const PGresult *r, int row, int col);
int64_t oc_pg_get_int(const PGresult *r, int row, int col);
double oc_pg_get_double(const PGresult *r, int row, int col);
oc_date oc_pg_get_date(const PGresult *r, int row, int col);
char *oc_pg_get_strdup(const PGresult *r, int row, int col);
void oc_pg_get_copy(char *out, size_t cap, const PGresult *r, int row, int col);
/* Columns 0..4 of the row, series, endpoint, variant, model_version and horizon, as a forecast line
 * (the scores' and the performance readers' rows; store_pg_forecasts.c). */
void oc_pg_get_line(const PGresult *r, int row, oc_forecast_line *out);

/* Makes one op atomic: opens a write transaction (the process's turn, then the store-wide write lock
 * by the wait policy) when none is open, else a savepoint inside the caller's transaction. Pair every
 * successful oc_pg_op_begin with one oc_pg_op_end(ok). */
int oc_pg_op_begin(oc_pg_store *s, oc_error *err);
/* ok: commit/release; !ok: roll back what the op did (keeps *err as it is). Returns 0 or -1. */
int oc_pg_op_end(oc_pg_store *s, bool ok, oc_error *err);

/* The change feed (store_pg_changes.c). change_record appends one change inside the current op;
 * changes_note_series records the series of obs, once per series and transaction (the changes table
 * remembers which transaction wrote each row, so a rolled-back savepoint forgets by itself). */
int oc_pg_change_record(oc_pg_store *s, oc_change_kind kind, const char *subject, oc_error *err);
int oc_pg_changes_note_series(oc_pg_store *s, const oc_observation *obs, size_t n, oc_error *err);
/* LISTEN again after a reconnect, when the session was listening. */
int oc_pg_changes_relisten(oc_pg_store *s, oc_error *err);
int oc_pg_changes_after(oc_store *store, int64_t after_id, size_t max, oc_change **changes, size_t *n,
                        oc_error *err);
int oc_pg_changes_latest(oc_store *store, int64_t *id, oc_error *err);
int oc_pg_changes_wait(oc_store *store, int64_t after_id, double timeout, int64_t *latest, oc_error *err);
void oc_pg_changes_interrupt(oc_store *store);
int oc_pg_change_note(oc_store *store, oc_change_kind kind, const char *subject, oc_error *err);

/* Series, observations, ingest runs (store_pg_series.c). */
int oc_pg_series_ensure(oc_store *store, const char *name, const char *unit, const char *source, int64_t *id,
                        oc_error *err);
int oc_pg_series_get(oc_store *store, const char *name, oc_series_info *info, bool *found, oc_error *err);
int oc_pg_series_list(oc_store *store, oc_series_info **list, size_t *n, oc_error *err);
int oc_pg_series_provider_set(oc_store *store, const char *name, const char *provider, const char *provider_id,
                              oc_error *err);
int oc_pg_observations_upsert(oc_store *store, const oc_observation *obs, size_t n, const char *source,
                              int64_t ingested_at, oc_upsert_counts *counts, oc_error *err);
int oc_pg_series_load(oc_store *store, const char *name, oc_date from, oc_date to, oc_series *out, oc_error *err);
int oc_pg_observations_count(oc_store *store, int64_t *count, oc_error *err);
int oc_pg_ingest_run_record(oc_store *store, oc_ingest_run *run, oc_error *err);
int oc_pg_ingest_runs_after(oc_store *store, int64_t after_id, size_t max_runs, size_t max_series,
                            oc_ingest_run_info **runs, size_t *n, int64_t *newest_id, oc_error *err);
/* Builds the primary key of observations that a bulk load of this transaction deferred (nothing to
 * do when none did), before the transaction commits. 0 or -1 (the transaction must then roll back). */
int oc_pg_deferred_key_build(oc_pg_store *s, oc_error *err);
/* The store copy's rows of observations go in without the key too, when the table is empty (inside
 * the transaction; oc_pg_deferred_key_build at commit). 0 or -1. */
int oc_pg_defer_key_for_copy(oc_pg_store *s, oc_error *err);
/* The transaction ended: what it knew of observations is forgotten (a deferred key that was not built
 * is back with the rollback). */
void oc_pg_deferred_key_forget(oc_pg_store *s);
/* The session's staging table for observations_upsert (created once per session, outside transactions). */
int oc_pg_series_session_setup(oc_pg_store *s, oc_error *err);

/* API keys, backtests, the model registry (store_pg_registry.c). */
int oc_pg_api_key_insert(oc_store *store, const oc_api_key_row *row, oc_error *err);
int oc_pg_api_key_list(oc_store *store, oc_api_key_row **rows, size_t *n, oc_error *err);
int oc_pg_api_key_revoke(oc_store *store, const char *id_or_name, int64_t at, bool *found, oc_error *err);
int oc_pg_backtest_save(oc_store *store, oc_backtest_record *rec, oc_error *err);
int oc_pg_backtest_latest(oc_store *store, const char *series, oc_backtest_record *out, bool *found, oc_error *err);
int oc_pg_model_version_register(oc_store *store, const oc_model_version *v, oc_error *err);
int oc_pg_model_version_get(oc_store *store, int64_t version, oc_model_version *v, bool *found, oc_error *err);
int oc_pg_model_version_list(oc_store *store, oc_model_version **list, size_t *n, oc_error *err);
int oc_pg_endpoint_set(oc_store *store, const char *name, const oc_endpoint_variant *variants, size_t n, int64_t now,
                       oc_error *err);
int oc_pg_endpoint_get(oc_store *store, const char *name, oc_endpoint *ep, bool *found, oc_error *err);

/* Forecasts, scores, scheduled jobs (store_pg_forecasts.c). */
int oc_pg_forecast_save(oc_store *store, oc_forecast_record *rec, oc_error *err);
int oc_pg_forecasts_save(oc_store *store, oc_forecast_record *recs, size_t n, oc_error *err);
int oc_pg_forecast_latest(oc_store *store, const char *series, oc_forecast_record *out, bool *found, oc_error *err);
int oc_pg_forecast_score(oc_store *store, int64_t now, int64_t *scored, oc_error *err);
int oc_pg_forecast_performance(oc_store *store, const char *endpoint, size_t window, oc_forecast_performance **rows,
                               size_t *n, oc_error *err);
int oc_pg_job_run_start(oc_store *store, oc_job_run *run, bool *claimed, oc_error *err);
int oc_pg_job_run_finish(oc_store *store, const oc_job_run *run, oc_error *err);
int oc_pg_job_runs_list(oc_store *store, const char *job, const char *status, size_t limit, oc_job_run **runs,
                        size_t *n, oc_error *err);
int oc_pg_job_last_slot(oc_store *store, const char *job, int64_t *slot, oc_error *err);
int oc_pg_job_state_get(oc_store *store, const char *job, int64_t now, oc_job_state *out, oc_error *err);
int oc_pg_job_pause(oc_store *store, const char *job, bool paused, int64_t now, oc_error *err);
int oc_pg_job_failures(oc_store *store, oc_job_failures **rows, size_t *n, oc_error *err);
/* The store copy (store_pg_copy.c). */
int oc_pg_table_read(oc_store *store, const oc_store_table *table, int (*row)(void *ctx, const char *const *values),
                     void *ctx, oc_error *err);
int oc_pg_table_write(oc_store *store, const oc_store_table *table, const char *const *values, size_t nrows,
                      oc_error *err);

/* Schema 13-17 (store_pg_endpoint_config.c, store_pg_devices.c, store_pg_stream.c, store_pg_alerts.c,
 * store_pg_promote.c, store_pg_backup.c): the twins of the SQLite ops of the same names. */
bool oc_pg_endpoint_rows_set(oc_pg_store *s, const char *name, const oc_endpoint_variant *variants, size_t n,
                             int64_t now, oc_error *err);
int oc_pg_endpoint_config_set(oc_store *store, const char *name, const char *config,
                              const oc_endpoint_variant *variants, size_t n, int64_t now, oc_error *err);
int oc_pg_endpoint_config_get(oc_store *store, const char *name, char **config, bool *found, oc_error *err);
int oc_pg_endpoint_names(oc_store *store, char ***names, size_t *n, oc_error *err);
int oc_pg_series_range_set(oc_store *store, const char *name, bool set, double min, double max, oc_error *err);
int oc_pg_series_range_get(oc_store *store, const char *name, bool *set, double *min, double *max, oc_error *err);
int oc_pg_device_put(oc_store *store, const oc_device *device, oc_error *err);
int oc_pg_device_get(oc_store *store, const char *id, oc_device *out, bool *found, oc_error *err);
int oc_pg_device_list(oc_store *store, bool include_revoked, oc_device **rows, size_t *n, oc_error *err);
int oc_pg_device_revoke(oc_store *store, const char *id, int64_t at, bool *found, oc_error *err);
int oc_pg_sensor_reading_get(oc_store *store, const char *device_id, int64_t seq, const char *measurement,
                             oc_sensor_reading *out, bool *found, oc_error *err);
int oc_pg_sensor_reading_insert(oc_store *store, const oc_sensor_reading *r, bool late, bool *inserted, oc_error *err);
int oc_pg_sensor_watermark_get(oc_store *store, const char *device_id, int64_t *event_ms, bool *found, oc_error *err);
int oc_pg_sensor_watermark_set(oc_store *store, const char *device_id, int64_t event_ms, oc_error *err);
int oc_pg_sensor_window_recompute(oc_store *store, const char *device_id, const char *measurement, int64_t width_ms,
                                  int64_t start_ms, int64_t part_ms, oc_error *err);
int oc_pg_dead_letter_insert(oc_store *store, oc_dead_letter *dl, oc_error *err);
int oc_pg_dead_letters_list(oc_store *store, size_t limit, oc_dead_letter **rows, size_t *n, oc_error *err);
int oc_pg_sensor_windows_list(oc_store *store, const char *device_id, const char *measurement, int64_t width_ms,
                              oc_sensor_window **rows, size_t *n, oc_error *err);
int oc_pg_sensor_stats(oc_store *store, oc_sensor_stats *out, oc_error *err);
int oc_pg_sensor_readings_recent(oc_store *store, const char *device_id, const char *measurement, size_t limit,
                                 oc_sensor_reading **rows, size_t *n, oc_error *err);
int oc_pg_sensor_anomaly_insert(oc_store *store, const oc_sensor_anomaly *a, bool *inserted, oc_error *err);
int oc_pg_alert_save(oc_store *store, const oc_alert *alert, bool record_event, oc_error *err);
int oc_pg_alerts_list(oc_store *store, const char *state, oc_alert **list, size_t *n, oc_error *err);
int oc_pg_alert_history(oc_store *store, const char *fingerprint, size_t limit, oc_alert_event **events, size_t *n,
                        oc_error *err);
int oc_pg_decision_record(oc_store *store, oc_promotion_decision *d, oc_error *err);
int oc_pg_decisions_list(oc_store *store, const char *endpoint, size_t limit, oc_promotion_decision **out, size_t *n,
                         oc_error *err);
int oc_pg_challenger_get(oc_store *store, const char *endpoint, oc_challenger_state *st, bool *found, oc_error *err);
int oc_pg_challenger_put(oc_store *store, const oc_challenger_state *st, oc_error *err);
int oc_pg_forecast_errors(oc_store *store, const char *endpoint, const char *model_version, int64_t horizon,
                          oc_date after, size_t limit, oc_scored_error **rows, size_t *n, oc_error *err);
/* store_pg_perfhistory.c */
int oc_pg_forecast_scored_points(oc_store *store, const char *endpoint, oc_scored_point **points, size_t *n,
                                 oc_error *err);
int oc_pg_snapshot_to(oc_store *store, const char *path, oc_error *err);
int oc_pg_integrity_check(oc_store *store, oc_error *err);
/* A write of one op: op_begin, the statement, the op's change (kind != 0), op_end. 0 or -1;
 * *affected = rows the statement changed when not NULL. */
int oc_pg_op_run(oc_pg_store *s, const char *sql, const oc_pg_params *p, const char *what, int64_t *affected,
                 oc_change_kind kind, const char *subject, oc_error *err);
/* Limits for LIMIT $n (size_t beyond INT64_MAX: no limit). */
static inline int64_t oc_pg_limit(size_t limit) { return limit > INT64_MAX ? INT64_MAX : (int64_t)limit; }

/* Sensor silence and the live sensor feed (store_pg_sensors_live.c, issue 15 sensorslive). */
int oc_pg_sensor_last_raise(oc_store *store, const oc_sensor_reading *r, oc_error *err);
int oc_pg_sensor_watch_list(oc_store *store, oc_sensor_watch **rows, size_t *n, oc_error *err);
int oc_pg_sensor_anomaly_end(oc_store *store, const char *device_id, const char *measurement, const char *kind,
                            int64_t event_ms, int64_t ended_ms, bool *ended, oc_error *err);
int oc_pg_sensor_anomaly_get(oc_store *store, const char *device_id, const char *measurement, const char *kind,
                            int64_t event_ms, oc_sensor_anomaly *out, bool *found, oc_error *err);
int oc_pg_sensor_window_get(oc_store *store, const char *device_id, const char *measurement, int64_t width_ms,
                           int64_t start_ms, oc_sensor_window *out, bool *found, oc_error *err);
/* Several nodes on one store (store_pg_leader.c): leadership and shared rate-limit buckets. */
int oc_pg_leader_try_acquire(oc_store *store, bool *leader, oc_error *err);
int oc_pg_rate_take(oc_store *store, const char *key_id, double per_second, double burst, bool *allowed,
                    double *tokens, oc_error *err);

/* The by-year robustness report (store_pg_backtest_years.c, issue 18 item 4). */
int oc_pg_backtest_years_save(oc_store *store, oc_backtest_years_record *rec, oc_error *err);
int oc_pg_backtest_years_latest(oc_store *store, const char *series, oc_backtest_years_record *out, bool *found,
                                oc_error *err);

#endif
