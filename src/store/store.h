/* store.h: the one interface to persistence. Callers hold an `oc_store *` and call the inline
 * oc_store_xxx() wrappers below; a backend fills a `struct oc_store_ops` table of function pointers
 * and embeds `struct oc_store` as the first member of its own connection struct (the way Redis'
 * connection.h does it). oc_store_open() picks the backend from the URI's scheme in the table of
 * backends in store.c (oc_store_backends()):
 *   sqlite:/path/oilcast.db    (store_sqlite*.c; the only backend today)
 *   postgresql://...           (room for a later backend: one table entry, callers need no change)
 * Nothing outside src/store/store_sqlite*.c may mention SQLite types or SQL text.
 *
 * Rules every op follows:
 * - returns 0 on success, -1 with a complete message in *err on failure;
 * - is atomic on its own (a failed op leaves nothing behind), and joins the caller's transaction
 *   when one is open (oc_store_begin .. oc_store_commit / oc_store_rollback);
 * - one oc_store is one connection: use it from one thread at a time (open one per thread; the
 *   SQLite backend runs in WAL mode so readers never block the writer). The one exception is
 *   changes_interrupt, which any thread may call to wake a changes_wait.
 *
 * The change feed. Every op that writes records what it changed (oc_change: a kind, a subject, an
 * id that only grows) in the same transaction as the write, once per op and subject, never per row:
 * a rolled-back write leaves no change, and a reader that was down resumes from the last id it
 * handled (changes_after). changes_wait blocks until a change after an id is committed, by any
 * connection or process. The SQLite backend records changes in a `changes` table and waits with its
 * own inotify watch on the database and its WAL (core/fswatch.h), polling where inotify is
 * unavailable; a PostgreSQL backend would insert the same rows and wait with LISTEN/NOTIFY (a NOTIFY
 * in the writing transaction is delivered at its commit, and never for a rollback).
 * How to add a table and an op: docs/ARCHITECTURE.md, "Adding to the store". */
#ifndef OC_STORE_H
#define OC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/error.h"
#include "core/frame.h"

typedef struct oc_store oc_store;

/* Longest series name (bytes, without NUL). Names are [A-Za-z0-9_.-]+ so they fit URLs and paths. */
#define OC_SERIES_NAME_MAX 64

/* A series as `series list` shows it. count/first/last describe its stored observations
 * (first/last = OC_DATE_INVALID when it has none). Strings owned by the struct. */
typedef struct oc_series_info {
  int64_t id;
  char *name;
  char *unit;   /* e.g. "USD/bbl"; may be "" */
  char *source; /* e.g. "historical", "simulated"; may be "" */
  char provider[16];    /* the market API it is fetched from ("eia", "fred", "alphavantage"); "" for none */
  char provider_id[64]; /* its id there ("RWTC", "DCOILWTICO", "WTI"); "" for none */
  int64_t count;
  oc_date first, last;
} oc_series_info;

/* One observation to store. Batches may mix series. */
typedef struct oc_observation {
  int64_t series_id;
  oc_date date;
  double value; /* finite */
} oc_observation;

/* What an upsert did, accumulated across calls (the caller zeroes it). An observation whose stored
 * value is bit-identical is unchanged: neither inserted nor updated. */
typedef struct oc_upsert_counts {
  int64_t inserted, updated, unchanged;
} oc_upsert_counts;

/* A series one import touched: its rows in the file and the latest date among them with its value. */
typedef struct oc_ingest_run_series {
  char name[OC_SERIES_NAME_MAX + 1];
  int64_t rows;
  oc_date last_date;
  double last_value;
} oc_ingest_run_series;

/* One import, as recorded in the ingest-run log (lineage). Times are Unix seconds (UTC). */
typedef struct oc_ingest_run {
  int64_t id;              /* set by oc_store_ingest_run_record */
  const char *source_kind; /* "historical", "simulated", "market", ... */
  const char *path;        /* file as given by the user */
  const char *raw_path;    /* lineage copy under DIR/raw/, or "" */
  const char *sha256;      /* hex digest of the file */
  const char *status;      /* "ok" or "rejected" */
  int64_t rows_read, rows_inserted, rows_updated, rows_unchanged, rows_rejected, rows_missing;
  int64_t negative_values;
  int64_t started_at, finished_at;
  size_t nseries; /* the series the run touched (recorded with it; may be 0) */
  const oc_ingest_run_series *series;
} oc_ingest_run;

/* A recorded import as listed by ingest_runs_after. series: the first listed of nseries (by name). */
typedef struct oc_ingest_run_info {
  int64_t id;
  char source_kind[32];
  char status[16];
  int64_t rows_inserted, rows_updated, finished_at;
  size_t nseries, listed;
  oc_ingest_run_series *series;
} oc_ingest_run_info;

/* An API key as stored (src/keys/apikey.h): only its SHA-256, never the key. revoked_at 0 = active. */
typedef struct oc_api_key_row {
  char id[16];
  char name[128];
  char scope[8]; /* "read", "write", "admin" */
  char hash[65]; /* hex SHA-256 of the whole key */
  double rate_per_second, burst; /* 0 = unlimited */
  int64_t created_at, revoked_at; /* Unix seconds */
} oc_api_key_row;

/* A registered model version: its files are DIR/models/artifacts/vN/ (src/model/registry.h). */
typedef struct oc_model_version {
  int64_t version;   /* N of vN, > 0 */
  char *kind;        /* "mlp" */
  char *series;      /* "WTI" */
  char *path;        /* artifacts directory relative to the data directory, "models/artifacts/v3" */
  char *card_sha256; /* sha256 of model.json as registered */
  char *status;      /* "registered", or "deployed" while some endpoint serves it (kept by endpoint_set) */
  /* Validation, comparable across kinds: val_loss is relMAE against no-change (val_mae / naive_mae, the
   * MAEs in price units on the same validation rows or origins); all 0 when the version was not validated */
  double val_loss, val_mae, naive_mae;
  int64_t created_at;                  /* Unix seconds */
} oc_model_version;

/* A named endpoint serves versions with traffic weights (one version at weight 1 after a deploy). */
typedef struct oc_endpoint_variant {
  int64_t version;
  double weight; /* > 0 */
} oc_endpoint_variant;

typedef struct oc_endpoint {
  char *name;
  int64_t created_at, updated_at;
  size_t nvariants;
  oc_endpoint_variant *variants; /* ascending version */
} oc_endpoint;

void oc_model_version_free(oc_model_version *v);
void oc_model_version_list_free(oc_model_version *list, size_t n);
void oc_endpoint_free(oc_endpoint *ep);
/* A forecast made by the server (one row per request that produced a new forecast), with its points:
 * one per trading day ahead. history: "stored" (from the store's series) or "given" (by the caller). */
#define OC_STORED_FORECAST_MAX_POINTS 64
typedef struct oc_stored_forecast_point {
  oc_date date;
  double price, lower80, upper80, lower95, upper95;
} oc_stored_forecast_point;
typedef struct oc_forecast_record {
  int64_t id; /* set by forecast_save */
  char series[OC_SERIES_NAME_MAX + 1];
  oc_date origin; /* the last observation the forecast saw */
  char endpoint[128], variant[64], model_version[64], model_kind[32], history[8], request_id[72];
  int64_t created_at; /* Unix seconds */
  double origin_price; /* the price at the origin; NAN when unknown (forecasts stored before migration 11) */
  size_t n_points;
  oc_stored_forecast_point points[OC_STORED_FORECAST_MAX_POINTS];
} oc_forecast_record;

/* One stored backtest run (`oilcast backtest`): what it covered and its result document, the JSON that
 * GET /v1/backtests/latest returns (see model/backtest.h). Strings owned by the struct when filled by
 * the store (free with oc_backtest_record_free); only read when passed to backtest_save. */
typedef struct oc_backtest_record {
  int64_t id; /* set by backtest_save */
  char *series;
  oc_date start, end;
  int64_t horizon, refit_every, origins;
  char *models;      /* model specs, comma-separated */
  int64_t created_at; /* Unix seconds */
  char *result_json;
} oc_backtest_record;

/* What a change concerns, and its subject: observations of a series (its name; one change per series
 * per transaction that inserted or updated rows in a batch containing it), an ingest run (its id), a
 * backtest (its series), a model version ("vN"), an endpoint (its name), an API key (its id, or the id
 * or name a revocation named), a stored forecast (its series), a scheduled job's run or state (the
 * job's name). */
typedef enum oc_change_kind {
  OC_CHANGE_OBSERVATIONS = 1,
  OC_CHANGE_INGEST_RUN,
  OC_CHANGE_BACKTEST,
  OC_CHANGE_MODEL,
  OC_CHANGE_ENDPOINT,
  OC_CHANGE_API_KEY,
  OC_CHANGE_FORECAST,
  OC_CHANGE_JOB,
} oc_change_kind;
#define OC_CHANGE_KIND_COUNT 8
#define OC_CHANGE_SUBJECT_MAX 128

typedef struct oc_change {
  int64_t id; /* > 0, increasing in commit order */
  oc_change_kind kind;
  char subject[OC_CHANGE_SUBJECT_MAX];
  int64_t at; /* Unix seconds */
} oc_change;

/* "observations", "ingest_run", "backtest", "model", "endpoint", "api_key", "forecast", "job". */
const char *oc_change_kind_name(oc_change_kind kind);
/* -1 for a name that is not a kind. */
int oc_change_kind_parse(const char *name, oc_change_kind *kind);

/* How the forecasts of one (series, endpoint, variant, model version, horizon) did against the prices
 * that followed, over its latest `window` scored origins (one forecast per origin: the newest made
 * for it). naive_mae is the no-change forecast's error on the same origins; coverage is the share of
 * actual prices inside the 80% / 95% bands; bias is the mean of forecast - actual. */
typedef struct oc_forecast_performance {
  char series[OC_SERIES_NAME_MAX + 1];
  char endpoint[128], variant[64], model_version[64];
  int64_t horizon;
  int64_t origins; /* scored origins in the window */
  oc_date first_origin, last_origin;
  double mae, naive_mae, coverage80, coverage95, bias;
} oc_forecast_performance;

/* One run of a scheduled job (src/schedule/): what started it, how it ended, what each step did. */
#define OC_JOB_NAME_MAX 64
typedef struct oc_job_run {
  int64_t id; /* set by job_run_start */
  char job[OC_JOB_NAME_MAX + 1];
  int64_t slot;       /* the scheduled time (Unix seconds) the run is for; a manual run: its start */
  char trigger[16];   /* "schedule", "catch-up" (a slot missed while nothing ran) or "manual" */
  char status[16];    /* "running", "ok", "failed", "abandoned" (its process died) */
  int64_t started_at, finished_at; /* Unix seconds; finished_at 0 while running */
  char runner[96];    /* "host:pid" of the process running it */
  char *error;        /* why it failed ("" otherwise); owned, may be NULL when saving */
  char *steps_json;   /* a JSON array, one object per step (see schedule/scheduler.h); owned, may be NULL */
} oc_job_run;

/* What the scheduler keeps about a job between runs: paused or not, and when it was first seen (no
 * slot before it is ever caught up: a new job does not run for the past). */
typedef struct oc_job_state {
  bool paused;
  int64_t first_seen; /* Unix seconds */
} oc_job_state;

/* What a connection does when it needs the write lock that another process holds (a long import, a
 * training run registering its model; the writers of one process queue behind each other in the
 * process, without a limit, since their writes are short): wait up to max_seconds, calling waiting() every
 * report_every seconds meanwhile so the caller can say why it is quiet, then fail with an error of
 * kind OC_ERROR_BUSY that says so (never a bare "database is locked"). Readers never wait for a
 * writer. A new connection waits OC_STORE_WAIT_DEFAULT_SECONDS without reports. */
typedef struct oc_store_wait {
  double max_seconds;  /* 0: fail at once; < 0: wait as long as it takes */
  double report_every; /* > 0 */
  void (*waiting)(void *ctx, double waited_seconds); /* may be NULL */
  void *ctx;
} oc_store_wait;
#define OC_STORE_WAIT_DEFAULT_SECONDS 10.0

typedef struct oc_store_ops {
  const char *backend; /* "sqlite" */
  void (*close)(oc_store *store);
  /* Replaces the connection's wait policy (copied). */
  void (*set_wait)(oc_store *store, const oc_store_wait *wait);

  /* Explicit transaction; ops called in between commit or roll back together. No nesting. */
  int (*begin)(oc_store *store, oc_error *err);
  int (*commit)(oc_store *store, oc_error *err);
  int (*rollback)(oc_store *store, oc_error *err);

  /* Highest applied migration. */
  int (*schema_version)(oc_store *store, int *version, oc_error *err);

  /* Finds the series by name or creates it (unit/source used only on creation); sets *id. */
  int (*series_ensure)(oc_store *store, const char *name, const char *unit, const char *source, int64_t *id,
                       oc_error *err);
  /* *found = false (and 0 returned) when there is no such series; otherwise fills *info. */
  int (*series_get)(oc_store *store, const char *name, oc_series_info *info, bool *found, oc_error *err);
  /* Every series ordered by name; free with oc_series_info_list_free. */
  int (*series_list)(oc_store *store, oc_series_info **list, size_t *n, oc_error *err);
  /* Records where an existing series is fetched from (provider and provider_id fit oc_series_info's
   * fields); an unknown series is an error naming it. A change is recorded only when they differ. */
  int (*series_provider_set)(oc_store *store, const char *name, const char *provider, const char *provider_id,
                             oc_error *err);

  /* Inserts new (series, date) pairs, updates changed values, leaves identical ones alone; source and
   * ingested_at (Unix seconds) are stamped on inserted and updated rows. Adds to *counts. */
  int (*observations_upsert)(oc_store *store, const oc_observation *obs, size_t n, const char *source,
                             int64_t ingested_at, oc_upsert_counts *counts, oc_error *err);
  /* The series' observations with from <= date <= to, ascending; from/to may be OC_DATE_INVALID for
   * "unbounded". An unknown series is an error naming it. Free *out with oc_series_free. */
  int (*series_load)(oc_store *store, const char *name, oc_date from, oc_date to, oc_series *out,
                     oc_error *err);
  /* Total number of stored observations (all series). */
  int (*observations_count)(oc_store *store, int64_t *count, oc_error *err);

  /* Appends to the ingest-run log (with run->series) and sets run->id. */
  int (*ingest_run_record)(oc_store *store, oc_ingest_run *run, oc_error *err);
  /* The runs with id > after_id, ascending, at most max_runs, each with at most max_series of its
   * series; *newest_id = the highest run id recorded (0 when none). Free with oc_ingest_run_info_list_free. */
  int (*ingest_runs_after)(oc_store *store, int64_t after_id, size_t max_runs, size_t max_series,
                           oc_ingest_run_info **runs, size_t *n, int64_t *newest_id, oc_error *err);

  /* API keys. Names are unique forever (a revoked name is not reused). */
  int (*api_key_insert)(oc_store *store, const oc_api_key_row *row, oc_error *err);
  /* Every key, oldest first; free *rows with free(). */
  int (*api_key_list)(oc_store *store, oc_api_key_row **rows, size_t *n, oc_error *err);
  /* Revokes the active key with this id or name; *found = false when no key has it. */
  int (*api_key_revoke)(oc_store *store, const char *id_or_name, int64_t at, bool *found, oc_error *err);

  /* Model registry. Registers a new version (status "registered"); an existing number is an error. */
  int (*model_version_register)(oc_store *store, const oc_model_version *v, oc_error *err);
  /* *found = false when there is no such version. */
  int (*model_version_get)(oc_store *store, int64_t version, oc_model_version *v, bool *found, oc_error *err);
  /* Every version, ascending; free with oc_model_version_list_free. */
  int (*model_version_list)(oc_store *store, oc_model_version **list, size_t *n, oc_error *err);
  /* Creates the endpoint or replaces its variants (n >= 1, registered versions, weights > 0), and sets
   * every version's status to "deployed" exactly when some endpoint serves it. */
  int (*endpoint_set)(oc_store *store, const char *name, const oc_endpoint_variant *variants, size_t n,
                      int64_t now, oc_error *err);
  int (*endpoint_get)(oc_store *store, const char *name, oc_endpoint *ep, bool *found, oc_error *err);

  /* Stores a backtest run and sets rec->id. */
  int (*backtest_save)(oc_store *store, oc_backtest_record *rec, oc_error *err);
  /* The most recent run for the series (highest created_at, then id); *found = false when none. */
  int (*backtest_latest)(oc_store *store, const char *series, oc_backtest_record *out, bool *found, oc_error *err);
  /* Forecasts made: save sets rec->id; latest is the newest "stored"-history forecast of the series
   * (*found = false when there is none). */
  int (*forecast_save)(oc_store *store, oc_forecast_record *rec, oc_error *err);
  int (*forecast_latest)(oc_store *store, const char *series, oc_forecast_record *out, bool *found, oc_error *err);

  /* Scoring (the monitor). forecast_score compares every point of a stored-history forecast whose
   * date now has an observation with that price (and the no-change forecast: the price at its origin),
   * once: a point already scored is left alone, so calling it after every import scores only what
   * became scorable; *scored = the points scored now. forecast_performance: one row per series,
   * endpoint, variant, model version and horizon (endpoint NULL: every endpoint), over the latest
   * window scored origins (free *rows with free()). */
  int (*forecast_score)(oc_store *store, int64_t now, int64_t *scored, oc_error *err);
  int (*forecast_performance)(oc_store *store, const char *endpoint, size_t window, oc_forecast_performance **rows,
                              size_t *n, oc_error *err);

  /* Scheduled job runs. job_run_start records run (status "running", run->id set) when it may run:
   * *claimed = false, and nothing recorded, when a scheduled or catch-up run for the same job and
   * slot exists already (by any process) or another run of the job is still "running"; so runs of
   * a job never overlap and a slot never runs twice. job_run_finish stores run's status, finish
   * time, error and steps. job_runs_list: newest first, of one job (or every job when job is NULL)
   * and one status (any when NULL), at most limit (free with oc_job_run_list_free). job_last_slot:
   * the latest slot of a scheduled or catch-up run of the job, 0 when none. job_state_get records
   * the job as first seen at now when it is new; job_pause sets paused (creating the state). */
  int (*job_run_start)(oc_store *store, oc_job_run *run, bool *claimed, oc_error *err);
  int (*job_run_finish)(oc_store *store, const oc_job_run *run, oc_error *err);
  int (*job_runs_list)(oc_store *store, const char *job, const char *status, size_t limit, oc_job_run **runs,
                       size_t *n, oc_error *err);
  int (*job_last_slot)(oc_store *store, const char *job, int64_t *slot, oc_error *err);
  int (*job_state_get)(oc_store *store, const char *job, int64_t now, oc_job_state *out, oc_error *err);
  int (*job_pause)(oc_store *store, const char *job, bool paused, int64_t now, oc_error *err);

  /* The change feed (see the top of this file). changes_after: the changes with id > after_id,
   * ascending, at most max (free *changes with free()). changes_latest: the highest id (0 when none).
   * changes_wait: returns once a change with id > after_id is committed (by any connection or process),
   * after timeout seconds, or at once after changes_interrupt; *latest = the highest id then seen
   * (> after_id exactly when there is news). changes_interrupt (any thread): makes every wait on this
   * connection, current and future, return at once. change_note: records a change to state kept beside
   * the store (an endpoint file that serves no registered version) for other processes to see. */
  int (*changes_after)(oc_store *store, int64_t after_id, size_t max, oc_change **changes, size_t *n, oc_error *err);
  int (*changes_latest)(oc_store *store, int64_t *id, oc_error *err);
  int (*changes_wait)(oc_store *store, int64_t after_id, double timeout, int64_t *latest, oc_error *err);
  void (*changes_interrupt)(oc_store *store);
  int (*change_note)(oc_store *store, oc_change_kind kind, const char *subject, oc_error *err);

  /* ---- Endpoint configurations (issue 13): the store is the one record of what an endpoint serves. ----
   * endpoint_config_set: stores the endpoint's whole configuration document (config: JSON text, as
   * model/registry.h writes it) with the endpoint rows of endpoint_set for its registered versions
   * (n >= 0: an endpoint serving only forecaster specs has none), the statuses and the endpoint change,
   * as one op. endpoint_config_get: that document (*config malloc'd; NULL for an endpoint last written
   * by endpoint_set, whose variants are then the record). endpoint_names: every endpoint, by name
   * (free each and the array). endpoint_set clears the document, so the two never disagree. */
  int (*endpoint_config_set)(oc_store *store, const char *name, const char *config, const oc_endpoint_variant *variants,
                             size_t n, int64_t now, oc_error *err);
  int (*endpoint_config_get)(oc_store *store, const char *name, char **config, bool *found, oc_error *err);
  int (*endpoint_names)(oc_store *store, char ***names, size_t *n, oc_error *err);

  /* ---- Per-series price ranges (issue 13; ingest/price_range.h gives the default and enforces them). ----
   * series_range_set: the values the existing series name accepts, min..max (finite, min < max), or
   * (set false) none of its own again; records an observations change of the series.
   * series_range_get: *set false when the series has no range of its own or does not exist. */
  int (*series_range_set)(oc_store *store, const char *name, bool set, double min, double max, oc_error *err);
  int (*series_range_get)(oc_store *store, const char *name, bool *set, double *min, double *max, oc_error *err);
} oc_store_ops;

struct oc_store {
  const oc_store_ops *ops;
  char *uri; /* as opened */
};

/* A backend, as the table of URI schemes in store.c lists it. open gets what follows "scheme:" in the
 * URI. scratch_uri: a URI for a new, empty store of this backend under the directory dir (malloc'd), or
 * NULL when the backend has no file to put there (a server: tests then take the URI from the
 * environment). */
typedef struct oc_store_backend {
  const char *scheme; /* "sqlite" */
  oc_store *(*open)(const char *location, oc_error *err);
  int (*latest_schema_version)(void);
  char *(*scratch_uri)(const char *dir);
} oc_store_backend;

/* Every backend of this build (the table of URI schemes). */
const oc_store_backend *oc_store_backends(size_t *n);

/* Opens the store named by uri, creating it if needed and applying pending schema migrations in one
 * transaction. Accepts "SCHEME:LOCATION" for a scheme of oc_store_backends() ("sqlite:PATH", PATH
 * relative to the working directory) or a bare path ending in .db (SQLite). Returns NULL with *err set
 * on failure (unknown scheme, unreadable file, schema from a newer oilcast, failed migration). */
oc_store *oc_store_open(const char *uri, oc_error *err);
/* Closes the connection (rolling back an open transaction) and frees store. NULL is fine. */
void oc_store_close(oc_store *store);

/* The schema version this build migrates to for the backend (what a fresh store reports); -1 when the
 * build has no such backend. */
int oc_store_latest_schema_version(const char *backend);

/* Series names: 1..OC_SERIES_NAME_MAX bytes of [A-Za-z0-9_.-]. -1 and a reason otherwise. */
int oc_series_name_check(const char *name, size_t len, const char **reason);

void oc_series_info_free(oc_series_info *info);
void oc_series_info_list_free(oc_series_info *list, size_t n);
void oc_backtest_record_free(oc_backtest_record *rec);
void oc_job_run_list_free(oc_job_run *runs, size_t n);
void oc_ingest_run_info_list_free(oc_ingest_run_info *runs, size_t n);

/* Wrappers: what callers use. */
static inline void oc_store_set_wait(oc_store *s, const oc_store_wait *wait) { s->ops->set_wait(s, wait); }
static inline int oc_store_begin(oc_store *s, oc_error *err) { return s->ops->begin(s, err); }
static inline int oc_store_commit(oc_store *s, oc_error *err) { return s->ops->commit(s, err); }
static inline int oc_store_rollback(oc_store *s, oc_error *err) { return s->ops->rollback(s, err); }
static inline int oc_store_schema_version(oc_store *s, int *version, oc_error *err) {
  return s->ops->schema_version(s, version, err);
}
static inline int oc_store_series_ensure(oc_store *s, const char *name, const char *unit, const char *source,
                                         int64_t *id, oc_error *err) {
  return s->ops->series_ensure(s, name, unit, source, id, err);
}
static inline int oc_store_series_get(oc_store *s, const char *name, oc_series_info *info, bool *found,
                                      oc_error *err) {
  return s->ops->series_get(s, name, info, found, err);
}
static inline int oc_store_series_list(oc_store *s, oc_series_info **list, size_t *n, oc_error *err) {
  return s->ops->series_list(s, list, n, err);
}
static inline int oc_store_series_provider_set(oc_store *s, const char *name, const char *provider,
                                               const char *provider_id, oc_error *err) {
  return s->ops->series_provider_set(s, name, provider, provider_id, err);
}
static inline int oc_store_observations_upsert(oc_store *s, const oc_observation *obs, size_t n,
                                               const char *source, int64_t ingested_at,
                                               oc_upsert_counts *counts, oc_error *err) {
  return s->ops->observations_upsert(s, obs, n, source, ingested_at, counts, err);
}
static inline int oc_store_series_load(oc_store *s, const char *name, oc_date from, oc_date to, oc_series *out,
                                       oc_error *err) {
  return s->ops->series_load(s, name, from, to, out, err);
}
static inline int oc_store_observations_count(oc_store *s, int64_t *count, oc_error *err) {
  return s->ops->observations_count(s, count, err);
}
static inline int oc_store_ingest_run_record(oc_store *s, oc_ingest_run *run, oc_error *err) {
  return s->ops->ingest_run_record(s, run, err);
}
static inline int oc_store_ingest_runs_after(oc_store *s, int64_t after_id, size_t max_runs, size_t max_series,
                                             oc_ingest_run_info **runs, size_t *n, int64_t *newest_id,
                                             oc_error *err) {
  return s->ops->ingest_runs_after(s, after_id, max_runs, max_series, runs, n, newest_id, err);
}

static inline int oc_store_api_key_insert(oc_store *s, const oc_api_key_row *row, oc_error *err) {
  return s->ops->api_key_insert(s, row, err);
}
static inline int oc_store_api_key_list(oc_store *s, oc_api_key_row **rows, size_t *n, oc_error *err) {
  return s->ops->api_key_list(s, rows, n, err);
}
static inline int oc_store_api_key_revoke(oc_store *s, const char *id_or_name, int64_t at, bool *found,
                                          oc_error *err) {
  return s->ops->api_key_revoke(s, id_or_name, at, found, err);
}
static inline int oc_store_backtest_save(oc_store *s, oc_backtest_record *rec, oc_error *err) {
  return s->ops->backtest_save(s, rec, err);
}
static inline int oc_store_backtest_latest(oc_store *s, const char *series, oc_backtest_record *out, bool *found,
                                           oc_error *err) {
  return s->ops->backtest_latest(s, series, out, found, err);
}

static inline int oc_store_model_version_register(oc_store *s, const oc_model_version *v, oc_error *err) {
  return s->ops->model_version_register(s, v, err);
}
static inline int oc_store_model_version_get(oc_store *s, int64_t version, oc_model_version *v, bool *found,
                                             oc_error *err) {
  return s->ops->model_version_get(s, version, v, found, err);
}
static inline int oc_store_model_version_list(oc_store *s, oc_model_version **list, size_t *n, oc_error *err) {
  return s->ops->model_version_list(s, list, n, err);
}
static inline int oc_store_endpoint_set(oc_store *s, const char *name, const oc_endpoint_variant *variants, size_t n,
                                        int64_t now, oc_error *err) {
  return s->ops->endpoint_set(s, name, variants, n, now, err);
}
static inline int oc_store_endpoint_get(oc_store *s, const char *name, oc_endpoint *ep, bool *found, oc_error *err) {
  return s->ops->endpoint_get(s, name, ep, found, err);
}
static inline int oc_store_forecast_save(oc_store *s, oc_forecast_record *rec, oc_error *err) {
  return s->ops->forecast_save(s, rec, err);
}
static inline int oc_store_forecast_score(oc_store *s, int64_t now, int64_t *scored, oc_error *err) {
  return s->ops->forecast_score(s, now, scored, err);
}
static inline int oc_store_forecast_performance(oc_store *s, const char *endpoint, size_t window,
                                                oc_forecast_performance **rows, size_t *n, oc_error *err) {
  return s->ops->forecast_performance(s, endpoint, window, rows, n, err);
}
static inline int oc_store_job_run_start(oc_store *s, oc_job_run *run, bool *claimed, oc_error *err) {
  return s->ops->job_run_start(s, run, claimed, err);
}
static inline int oc_store_job_run_finish(oc_store *s, const oc_job_run *run, oc_error *err) {
  return s->ops->job_run_finish(s, run, err);
}
static inline int oc_store_job_runs_list(oc_store *s, const char *job, const char *status, size_t limit,
                                         oc_job_run **runs, size_t *n, oc_error *err) {
  return s->ops->job_runs_list(s, job, status, limit, runs, n, err);
}
static inline int oc_store_job_last_slot(oc_store *s, const char *job, int64_t *slot, oc_error *err) {
  return s->ops->job_last_slot(s, job, slot, err);
}
static inline int oc_store_job_state_get(oc_store *s, const char *job, int64_t now, oc_job_state *out, oc_error *err) {
  return s->ops->job_state_get(s, job, now, out, err);
}
static inline int oc_store_job_pause(oc_store *s, const char *job, bool paused, int64_t now, oc_error *err) {
  return s->ops->job_pause(s, job, paused, now, err);
}
static inline int oc_store_forecast_latest(oc_store *s, const char *series, oc_forecast_record *out, bool *found,
                                           oc_error *err) {
  return s->ops->forecast_latest(s, series, out, found, err);
}
static inline int oc_store_changes_after(oc_store *s, int64_t after_id, size_t max, oc_change **changes, size_t *n,
                                         oc_error *err) {
  return s->ops->changes_after(s, after_id, max, changes, n, err);
}
static inline int oc_store_changes_latest(oc_store *s, int64_t *id, oc_error *err) {
  return s->ops->changes_latest(s, id, err);
}
static inline int oc_store_changes_wait(oc_store *s, int64_t after_id, double timeout, int64_t *latest,
                                        oc_error *err) {
  return s->ops->changes_wait(s, after_id, timeout, latest, err);
}
static inline void oc_store_changes_interrupt(oc_store *s) { s->ops->changes_interrupt(s); }
static inline int oc_store_change_note(oc_store *s, oc_change_kind kind, const char *subject, oc_error *err) {
  return s->ops->change_note(s, kind, subject, err);
}

/* Endpoint configurations (issue 13). */
static inline int oc_store_endpoint_config_set(oc_store *s, const char *name, const char *config,
                                               const oc_endpoint_variant *variants, size_t n, int64_t now, oc_error *err) {
  return s->ops->endpoint_config_set(s, name, config, variants, n, now, err);
}
static inline int oc_store_endpoint_config_get(oc_store *s, const char *name, char **config, bool *found,
                                               oc_error *err) {
  return s->ops->endpoint_config_get(s, name, config, found, err);
}
static inline int oc_store_endpoint_names(oc_store *s, char ***names, size_t *n, oc_error *err) {
  return s->ops->endpoint_names(s, names, n, err);
}
/* Per-series price ranges (issue 13). */
static inline int oc_store_series_range_set(oc_store *s, const char *name, bool set, double min, double max,
                                            oc_error *err) {
  return s->ops->series_range_set(s, name, set, min, max, err);
}
static inline int oc_store_series_range_get(oc_store *s, const char *name, bool *set, double *min, double *max,
                                            oc_error *err) {
  return s->ops->series_range_get(s, name, set, min, max, err);
}

#endif
