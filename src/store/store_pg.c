/* store_pg.c: the PostgreSQL backend of store.h over libpq: connecting (creating the database when it
 * does not exist yet), the schema migrations (the same numbered sequence as SQLite's, in PostgreSQL's
 * dialect, applied under a session advisory lock so that nodes starting together cannot both migrate),
 * statements and their errors, reconnecting after a lost connection, transactions and the write lock.
 * Writers take one store-wide transaction advisory lock (after their process's turn, as the SQLite
 * backend does): writes are serialised as in SQLite, so ids grow in commit order, and a writer meets
 * the same wait policy and OC_ERROR_BUSY. Readers never wait (MVCC). The only place (with
 * store_pg_*.c) that holds SQL for PostgreSQL or libpq types; it must not print. */
#include <assert.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/progress.h"
#include "store/store_pg.h"
#include "store/store_pg_internal.h"
#include "store/store_turn.h"

/* Advisory lock keys (any 64-bit numbers no other program on the database uses): "oilcast" + 'w'/'m'. */
#define WRITE_LOCK_KEY "7956005065853870967"
#define MIGRATE_LOCK_KEY "7956005065853870957"

typedef struct pg_migration {
  int version;
  const char *summary;
  const char *sql;
} pg_migration;

/* The numbered sequence of store_sqlite.c's migrations[], in PostgreSQL's dialect, with the same tables
 * and columns (`oilcast migrate` copies between the two). Ids are given by the writer (the largest + 1,
 * under the write lock), as SQLite does, so a copied store keeps its ids. The change log also keeps
 * the transaction that wrote each row, so a transaction records each series once; a trigger NOTIFYs
 * followers when changes commit. Never edit an entry that has shipped: append a new version. */
static const pg_migration migrations[] = {
    {1, "series and observations",
     "CREATE TABLE series (\n"
     "  id BIGINT PRIMARY KEY,\n"
     "  name TEXT NOT NULL UNIQUE,\n"
     "  unit TEXT NOT NULL DEFAULT '',\n"
     "  source TEXT NOT NULL DEFAULT '',\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE observations (\n"
     "  series_id BIGINT NOT NULL REFERENCES series(id) ON DELETE CASCADE,\n"
     "  date DATE NOT NULL,\n"
     "  value DOUBLE PRECISION NOT NULL,\n"
     "  source TEXT NOT NULL DEFAULT '',\n"
     "  ingested_at BIGINT NOT NULL,\n"
     "  PRIMARY KEY (series_id, date)\n"
     ");\n"},
    {2, "ingest runs (lineage of every import)",
     "CREATE TABLE ingest_runs (\n"
     "  id BIGINT PRIMARY KEY,\n"
     "  source_kind TEXT NOT NULL,\n"
     "  path TEXT NOT NULL,\n"
     "  raw_path TEXT NOT NULL DEFAULT '',\n"
     "  sha256 TEXT NOT NULL,\n"
     "  status TEXT NOT NULL,\n"
     "  rows_read BIGINT NOT NULL,\n"
     "  rows_inserted BIGINT NOT NULL,\n"
     "  rows_updated BIGINT NOT NULL,\n"
     "  rows_unchanged BIGINT NOT NULL,\n"
     "  rows_rejected BIGINT NOT NULL,\n"
     "  rows_missing BIGINT NOT NULL,\n"
     "  negative_values BIGINT NOT NULL,\n"
     "  started_at BIGINT NOT NULL,\n"
     "  finished_at BIGINT NOT NULL\n"
     ");\n"},
    {3, "api keys (hashes only)",
     "CREATE TABLE api_keys (\n"
     "  id TEXT PRIMARY KEY,\n"
     "  name TEXT NOT NULL UNIQUE,\n"
     "  scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),\n"
     "  hash TEXT NOT NULL CHECK (length(hash) = 64),\n"
     "  rate_per_second DOUBLE PRECISION NOT NULL DEFAULT 0,\n"
     "  burst DOUBLE PRECISION NOT NULL DEFAULT 0,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  revoked_at BIGINT NOT NULL DEFAULT 0\n"
     ");\n"},
    {4, "model registry: versions and endpoints",
     "CREATE TABLE model_versions (\n"
     "  version BIGINT PRIMARY KEY CHECK (version > 0),\n"
     "  kind TEXT NOT NULL,\n"
     "  series TEXT NOT NULL,\n"
     "  path TEXT NOT NULL,\n"
     "  card_sha256 TEXT NOT NULL CHECK (length(card_sha256) = 64),\n"
     "  status TEXT NOT NULL CHECK (status IN ('registered', 'deployed')),\n"
     "  val_loss DOUBLE PRECISION NOT NULL,\n"
     "  val_mae DOUBLE PRECISION NOT NULL,\n"
     "  naive_mae DOUBLE PRECISION NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE endpoints (\n"
     "  name TEXT PRIMARY KEY,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE endpoint_variants (\n"
     "  endpoint TEXT NOT NULL REFERENCES endpoints(name) ON DELETE CASCADE,\n"
     "  version BIGINT NOT NULL REFERENCES model_versions(version),\n"
     "  weight DOUBLE PRECISION NOT NULL CHECK (weight > 0),\n"
     "  PRIMARY KEY (endpoint, version)\n"
     ");\n"},
    {5, "backtest runs (oilcast backtest results for the dashboard)",
     "CREATE TABLE backtests (\n"
     "  id BIGINT PRIMARY KEY,\n"
     "  series TEXT NOT NULL,\n"
     "  start_date DATE NOT NULL,\n"
     "  end_date DATE NOT NULL,\n"
     "  horizon BIGINT NOT NULL,\n"
     "  refit_every BIGINT NOT NULL,\n"
     "  origins BIGINT NOT NULL,\n"
     "  models TEXT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  result_json JSON NOT NULL\n"
     ");\n"
     "CREATE INDEX backtests_by_series ON backtests(series, created_at);\n"},
    {6, "forecasts made by the server, with their points",
     "CREATE TABLE forecasts (\n"
     "  id BIGINT PRIMARY KEY,\n"
     "  series TEXT NOT NULL,\n"
     "  origin DATE NOT NULL,\n"
     "  horizon BIGINT NOT NULL,\n"
     "  endpoint TEXT NOT NULL DEFAULT '',\n"
     "  variant TEXT NOT NULL DEFAULT '',\n"
     "  model_version TEXT NOT NULL,\n"
     "  model_kind TEXT NOT NULL DEFAULT '',\n"
     "  history TEXT NOT NULL CHECK (history IN ('stored', 'given')),\n"
     "  request_id TEXT NOT NULL DEFAULT '',\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX forecasts_by_series ON forecasts(series, history, created_at);\n"
     "CREATE TABLE forecast_points (\n"
     "  forecast_id BIGINT NOT NULL REFERENCES forecasts(id) ON DELETE CASCADE,\n"
     "  step BIGINT NOT NULL,\n"
     "  date DATE NOT NULL,\n"
     "  price DOUBLE PRECISION NOT NULL,\n"
     "  lower80 DOUBLE PRECISION NOT NULL,\n"
     "  upper80 DOUBLE PRECISION NOT NULL,\n"
     "  lower95 DOUBLE PRECISION NOT NULL,\n"
     "  upper95 DOUBLE PRECISION NOT NULL,\n"
     "  PRIMARY KEY (forecast_id, step)\n"
     ");\n"},
    {7, "the series each ingest run touched (live ingest events)",
     "CREATE TABLE ingest_run_series (\n"
     "  run_id BIGINT NOT NULL REFERENCES ingest_runs(id) ON DELETE CASCADE,\n"
     "  series TEXT NOT NULL,\n"
     "  rows BIGINT NOT NULL,\n"
     "  last_date DATE NOT NULL,\n"
     "  last_value DOUBLE PRECISION NOT NULL,\n"
     "  PRIMARY KEY (run_id, series)\n"
     ");\n"},
    {8, "the change feed (what each write changed, for servers following the store)",
     "CREATE TABLE changes (\n"
     "  id BIGINT PRIMARY KEY,\n"
     "  kind TEXT NOT NULL,\n"
     "  subject TEXT NOT NULL,\n"
     "  at BIGINT NOT NULL,\n"
     "  txid BIGINT NOT NULL DEFAULT txid_current()\n"
     ");\n"
     "CREATE INDEX changes_by_transaction ON changes(txid);\n"
     "CREATE FUNCTION oilcast_changes_notify() RETURNS trigger LANGUAGE plpgsql AS\n"
     "  $$BEGIN PERFORM pg_notify('oilcast_changes', ''); RETURN NULL; END$$;\n"
     "CREATE TRIGGER changes_notify AFTER INSERT ON changes\n"
     "  FOR EACH STATEMENT EXECUTE FUNCTION oilcast_changes_notify();\n"},
    {9, "scheduled job runs and job state (the scheduler)",
     "CREATE TABLE job_runs (\n"
     "  id BIGINT PRIMARY KEY,\n"
     "  job TEXT NOT NULL,\n"
     "  slot BIGINT NOT NULL,\n"
     "  trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'catch-up', 'manual')),\n"
     "  status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'abandoned')),\n"
     "  started_at BIGINT NOT NULL,\n"
     "  finished_at BIGINT NOT NULL DEFAULT 0,\n"
     "  runner TEXT NOT NULL DEFAULT '',\n"
     "  error TEXT NOT NULL DEFAULT '',\n"
     "  steps_json JSON NOT NULL DEFAULT '[]'\n"
     ");\n"
     "CREATE UNIQUE INDEX job_runs_one_per_slot ON job_runs(job, slot) WHERE trigger != 'manual';\n"
     "CREATE UNIQUE INDEX job_runs_one_running ON job_runs(job) WHERE status = 'running';\n"
     "CREATE INDEX job_runs_by_job ON job_runs(job, id);\n"
     "CREATE TABLE job_state (\n"
     "  job TEXT PRIMARY KEY,\n"
     "  paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),\n"
     "  first_seen BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL\n"
     ");\n"},
    {10, "forecast scores (each stored forecast point against the price that followed)",
     "CREATE TABLE forecast_scores (\n"
     "  forecast_id BIGINT NOT NULL,\n"
     "  step BIGINT NOT NULL,\n"
     "  actual DOUBLE PRECISION NOT NULL,\n"
     "  naive DOUBLE PRECISION NOT NULL,\n"
     "  scored_at BIGINT NOT NULL,\n"
     "  PRIMARY KEY (forecast_id, step),\n"
     "  FOREIGN KEY (forecast_id, step) REFERENCES forecast_points(forecast_id, step) ON DELETE CASCADE\n"
     ");\n"
     "CREATE INDEX forecast_points_by_date ON forecast_points(date);\n"},
    {11, "the price each forecast started from (null for forecasts stored before)",
     "ALTER TABLE forecasts ADD COLUMN origin_price DOUBLE PRECISION;\n"},
    {12, "the market provider of a series and its id there (EIA RWTC, FRED DCOILWTICO)",
     "ALTER TABLE series ADD COLUMN provider TEXT NOT NULL DEFAULT '';\n"
     "ALTER TABLE series ADD COLUMN provider_id TEXT NOT NULL DEFAULT '';\n"},
    {13, "endpoint configurations (the one record of what each serves; null: its variants) and per-series"
         " price ranges (null: the default)",
     "ALTER TABLE endpoints ADD COLUMN config JSON;\n"
     "ALTER TABLE series ADD COLUMN price_min DOUBLE PRECISION;\n"
     "ALTER TABLE series ADD COLUMN price_max DOUBLE PRECISION;\n"},
    {14, "the device registry (field sensors over MQTT: type, unit, valid range, interval, broker password hash)",
     "CREATE TABLE devices (\n"
     "  id TEXT PRIMARY KEY,\n"
     "  site TEXT NOT NULL,\n"
     "  type TEXT NOT NULL,\n"
     "  unit TEXT NOT NULL,\n"
     "  valid_min DOUBLE PRECISION NOT NULL,\n"
     "  valid_max DOUBLE PRECISION NOT NULL,\n"
     "  interval_seconds BIGINT NOT NULL CHECK (interval_seconds > 0),\n"
     "  password_hash TEXT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  revoked_at BIGINT NOT NULL DEFAULT 0,\n"
     "  CHECK (valid_min < valid_max)\n"
     ");\n"},
    {15, "the sensor stream: readings, dead letters, watermarks, window aggregates",
     "CREATE TABLE sensor_readings (\n"
     "  device_id TEXT NOT NULL,\n"
     "  seq BIGINT NOT NULL,\n"
     "  measurement TEXT NOT NULL,\n"
     "  unit TEXT NOT NULL,\n"
     "  event_ms BIGINT NOT NULL,\n"
     "  value DOUBLE PRECISION NOT NULL,\n"
     "  late INTEGER NOT NULL DEFAULT 0,\n"
     "  PRIMARY KEY (device_id, seq, measurement)\n"
     ");\n"
     "CREATE INDEX sensor_readings_by_time ON sensor_readings(device_id, measurement, event_ms, seq, late, value);\n"
     "CREATE TABLE sensor_dead_letters (\n"
     "  id BIGINT PRIMARY KEY,\n"
     "  received_ms BIGINT NOT NULL,\n"
     "  topic TEXT NOT NULL,\n"
     "  reason TEXT NOT NULL,\n"
     "  raw BYTEA NOT NULL\n"
     ");\n"
     "CREATE TABLE sensor_watermarks (\n"
     "  device_id TEXT PRIMARY KEY,\n"
     "  event_ms BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE sensor_windows (\n"
     "  device_id TEXT NOT NULL,\n"
     "  measurement TEXT NOT NULL,\n"
     "  width_ms BIGINT NOT NULL,\n"
     "  start_ms BIGINT NOT NULL,\n"
     "  count BIGINT NOT NULL,\n"
     "  sum DOUBLE PRECISION NOT NULL,\n"
     "  min DOUBLE PRECISION NOT NULL,\n"
     "  max DOUBLE PRECISION NOT NULL,\n"
     "  last DOUBLE PRECISION NOT NULL,\n"
     "  PRIMARY KEY (device_id, measurement, width_ms, start_ms)\n"
     ");\n"
     "CREATE TABLE sensor_anomalies (\n"
     "  device_id TEXT NOT NULL,\n"
     "  measurement TEXT NOT NULL,\n"
     "  kind TEXT NOT NULL,\n"
     "  event_ms BIGINT NOT NULL,\n"
     "  seq BIGINT NOT NULL,\n"
     "  value DOUBLE PRECISION NOT NULL,\n"
     "  score DOUBLE PRECISION NOT NULL,\n"
     "  detected_ms BIGINT NOT NULL,\n"
     "  PRIMARY KEY (device_id, measurement, kind, event_ms)\n"
     ");\n"},
    {16, "alerts: the evaluator's state per fingerprint and every state change (monitor/alerts.h)",
     "CREATE TABLE alerts (\n"
     "  fingerprint TEXT PRIMARY KEY CHECK (length(fingerprint) = 16),\n"
     "  rule TEXT NOT NULL,\n"
     "  state TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),\n"
     "  labels_json JSON NOT NULL,\n"
     "  annotations_json JSON NOT NULL,\n"
     "  value DOUBLE PRECISION,\n"
     "  active_since BIGINT NOT NULL,\n"
     "  fired_at BIGINT NOT NULL DEFAULT 0,\n"
     "  resolved_at BIGINT NOT NULL DEFAULT 0,\n"
     "  updated_at BIGINT NOT NULL,\n"
     "  notified TEXT NOT NULL DEFAULT ''\n"
     ");\n"
     "CREATE TABLE alert_events (\n"
     "  id BIGINT PRIMARY KEY,\n"
     "  fingerprint TEXT NOT NULL,\n"
     "  rule TEXT NOT NULL,\n"
     "  state TEXT NOT NULL,\n"
     "  value DOUBLE PRECISION,\n"
     "  at BIGINT NOT NULL,\n"
     "  labels_json JSON NOT NULL\n"
     ");\n"
     "CREATE INDEX alert_events_by_fingerprint ON alert_events(fingerprint, id);\n"},
    {17, "champion/challenger promotion: the decisions log and each endpoint's challenger state",
     "CREATE TABLE promotion_decisions (\n"
     "  id BIGINT PRIMARY KEY,\n"
     "  endpoint TEXT NOT NULL,\n"
     "  at BIGINT NOT NULL,\n"
     "  action TEXT NOT NULL CHECK (action IN ('trigger', 'training', 'deploy', 'promote', 'rollback', 'refusal')),\n"
     "  trigger TEXT NOT NULL,\n"
     "  version BIGINT NOT NULL,\n"
     "  champion BIGINT NOT NULL,\n"
     "  reason TEXT NOT NULL,\n"
     "  figures TEXT NOT NULL\n"
     ");\n"
     "CREATE INDEX promotion_decisions_by_endpoint ON promotion_decisions(endpoint, id);\n"
     "CREATE TABLE endpoint_challengers (\n"
     "  endpoint TEXT PRIMARY KEY,\n"
     "  challenger BIGINT NOT NULL,\n"
     "  mode TEXT NOT NULL,\n"
     "  challenger_since DATE,\n"
     "  pending_trigger TEXT NOT NULL,\n"
     "  pending_reason TEXT NOT NULL,\n"
     "  promoted BIGINT NOT NULL,\n"
     "  previous BIGINT NOT NULL,\n"
     "  promoted_since DATE,\n"
     "  quiet_until DATE,\n"
     "  forecast_origin DATE\n"
     ");\n"},
    {18, "sensor silence: each sensor's latest reading; when a silence ended",
     "ALTER TABLE sensor_anomalies ADD COLUMN ended_ms BIGINT NOT NULL DEFAULT 0;\n"
     "CREATE TABLE sensor_last_readings (\n"
     "  device_id TEXT NOT NULL,\n"
     "  measurement TEXT NOT NULL,\n"
     "  event_ms BIGINT NOT NULL,\n"
     "  seq BIGINT NOT NULL,\n"
     "  value DOUBLE PRECISION NOT NULL,\n"
     "  PRIMARY KEY (device_id, measurement)\n"
     ");\n"
     "INSERT INTO sensor_last_readings(device_id, measurement, event_ms, seq, value)\n"
     "  SELECT device_id, measurement, event_ms, seq, value FROM (SELECT device_id, measurement, event_ms, seq, value,\n"
     "    row_number() OVER (PARTITION BY device_id, measurement ORDER BY event_ms DESC, seq DESC) AS newest\n"
     "    FROM sensor_readings) ranked WHERE newest = 1;\n"},
    /* UNLOGGED: no WAL for a row written on every request; a crash empties it (buckets start full). */
    {19, "several nodes: each API key's rate-limit bucket, shared by every server on the store",
     "CREATE UNLOGGED TABLE rate_buckets (\n"
     "  key_id TEXT PRIMARY KEY,\n"
     "  tokens DOUBLE PRECISION NOT NULL,\n"
     "  refilled_at DOUBLE PRECISION NOT NULL,\n"
     "  allowed BOOLEAN NOT NULL\n"
     ");\n"},
    /* The foreign key's trigger checked every imported row (most of a bulk import's time); the import
     * (store_pg_series.c) checks each series of a chunk once instead. No op deletes a series, so its
     * ON DELETE CASCADE had nothing to do. */
    {20, "observations: the series key checked once per series by the import, not per row",
     "ALTER TABLE observations DROP CONSTRAINT observations_series_id_fkey;\n"},
    {21, "by-year robustness reports (oilcast backtest --by-year) for the dashboard",
     "CREATE TABLE backtest_years (\n"
     "  id BIGINT PRIMARY KEY,\n"
     "  series TEXT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  models TEXT NOT NULL,\n"
     "  exog TEXT NOT NULL,\n"
     "  horizon BIGINT NOT NULL,\n"
     "  refit_every BIGINT NOT NULL,\n"
     "  from_year BIGINT NOT NULL,\n"
     "  to_year BIGINT NOT NULL CHECK (to_year >= from_year),\n"
     "  report_json JSON NOT NULL\n"
     ");\n"
     "CREATE INDEX backtest_years_by_series ON backtest_years(series, created_at);\n"},
    /* The key: topic and the payload's SHA-256 (a B-tree entry holds at most a third of a page, a
     * payload may be larger); SQLite's twin indexes the bytes themselves. */
    {22, "dead letters keyed by topic and payload: a redelivery is counted, not stored twice",
     "ALTER TABLE sensor_dead_letters ADD COLUMN seen BIGINT NOT NULL DEFAULT 1,\n"
     "  ADD COLUMN last_received_ms BIGINT NOT NULL DEFAULT 0;\n"
     "UPDATE sensor_dead_letters d SET seen = g.n, last_received_ms = g.latest\n"
     "  FROM (SELECT min(id) AS first, count(*) AS n, max(received_ms) AS latest FROM sensor_dead_letters\n"
     "        GROUP BY topic, sha256(raw)) g WHERE d.id = g.first;\n"
     "DELETE FROM sensor_dead_letters WHERE id NOT IN\n"
     "  (SELECT min(id) FROM sensor_dead_letters GROUP BY topic, sha256(raw));\n"
     "CREATE UNIQUE INDEX sensor_dead_letters_key ON sensor_dead_letters(topic, sha256(raw));\n"},
};
#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])

int oc_store_pg_latest_version(void) { return migrations[N_MIGRATIONS - 1].version; }

/* ---- parameters, statements, errors ------------------------------------------------------------ */

static char *param_slot(oc_pg_params *p) {
  assert(p->n < OC_PG_MAX_PARAMS);
  p->values[p->n] = p->text[p->n];
  return p->text[p->n++];
}

void oc_pg_text(oc_pg_params *p, const char *value) {
  assert(p->n < OC_PG_MAX_PARAMS);
  p->values[p->n++] = value;
}

void oc_pg_int(oc_pg_params *p, int64_t value) { snprintf(param_slot(p), 40, "%lld", (long long)value); }

/* NaN is "none" (NULL), as SQLite stores a NaN it is given; an infinity is kept as SQLite keeps it
 * (DOUBLE PRECISION has them, spelt so; strtod reads them back). */
void oc_pg_double(oc_pg_params *p, double value) {
  if (isnan(value)) oc_pg_text(p, NULL);
  else if (isinf(value)) snprintf(param_slot(p), 40, "%s", value > 0 ? "Infinity" : "-Infinity");
  else snprintf(param_slot(p), 40, "%.17g", value); /* 17 digits: the exact double back */
}

void oc_pg_date(oc_pg_params *p, oc_date date) { oc_date_format(date, param_slot(p)); }

int oc_pg_fail(oc_pg_store *s, oc_error *err, const char *what, const char *message) {
  size_t len = strlen(message);
  while (len && (message[len - 1] == '\n' || message[len - 1] == ' ')) len--;
  return oc_error_set(err, "store %s: %s: %.*s", s->display, what, (int)len, message);
}

/* Constraint failures named the way SQLite names them, so callers and users read one wording. */
static const char *constraint_words(const PGresult *r) {
  const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  if (!state) return "";
  if (strcmp(state, "23503") == 0) return "FOREIGN KEY constraint failed: ";
  if (strcmp(state, "23505") == 0) return "UNIQUE constraint failed: ";
  if (strcmp(state, "23514") == 0) return "CHECK constraint failed: ";
  return "";
}

/* A failed statement's message, constraint words first; of kind OC_ERROR_INVALID when the statement
 * failed on the data itself (SQLSTATE class 22, data exception, or 23, integrity constraint
 * violation), which a retry of the same data meets again. */
static int result_fail(oc_pg_store *s, oc_error *err, const char *what, const PGresult *r) {
  oc_buf message = {0};
  oc_buf_printf(&message, "%s%s", constraint_words(r), r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
  oc_pg_fail(s, err, what, message.data);
  oc_buf_free(&message);
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  if (err && state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)) err->kind = OC_ERROR_INVALID;
  return -1;
}

static int session_setup(oc_pg_store *s, oc_error *err);

static void pause_seconds(double seconds) {
  struct timespec pause = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  nanosleep(&pause, NULL);
}

/* Re-establishes a lost connection: a few tries with growing pauses (about 4 s in all). */
static int reconnect(oc_pg_store *s, oc_error *err) {
  static const double pauses[] = {0.1, 0.25, 0.5, 1.0, 2.0};
  double start = oc_monotonic_seconds();
  for (size_t i = 0; i < sizeof pauses / sizeof pauses[0]; i++) {
    PQreset(s->conn);
    if (PQstatus(s->conn) == CONNECTION_OK) return session_setup(s, err);
    pause_seconds(pauses[i]);
  }
  oc_buf why = {0};
  oc_buf_printf(&why, "lost the connection to PostgreSQL and could not reconnect (%zu tries over %.1f s): %s",
                sizeof pauses / sizeof pauses[0], oc_monotonic_seconds() - start, PQerrorMessage(s->conn));
  oc_pg_fail(s, err, "reconnecting", why.data);
  oc_buf_free(&why);
  return -1;
}

PGresult *oc_pg_query(oc_pg_store *s, const char *sql, const oc_pg_params *p, const char *what, oc_error *err) {
  bool may_retry = !s->in_transaction && !s->in_op;
  for (int attempt = 0;; attempt++) {
    PGresult *r = p ? PQexecParams(s->conn, sql, p->n, NULL, p->values, NULL, NULL, 0) : PQexec(s->conn, sql);
    ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_COPY_IN) return r;
    if (PQstatus(s->conn) != CONNECTION_BAD) {
      result_fail(s, err, what, r);
      PQclear(r);
      return NULL;
    }
    PQclear(r);
    if (!may_retry || attempt > 0) {
      oc_pg_fail(s, err, what,
                 may_retry ? "the connection to PostgreSQL was lost again after reconnecting"
                           : "the connection to PostgreSQL was lost inside a transaction (it did not commit)");
      return NULL;
    }
    if (reconnect(s, err) != 0) return NULL;
  }
}

int oc_pg_run(oc_pg_store *s, const char *sql, const oc_pg_params *p, const char *what, int64_t *affected,
              oc_error *err) {
  PGresult *r = oc_pg_query(s, sql, p, what, err);
  if (!r) return -1;
  if (affected) *affected = strtoll(PQcmdTuples(r), NULL, 10);
  PQclear(r);
  return 0;
}

int oc_pg_copy_in(oc_pg_store *s, const char *sql, const char *data, size_t len, const char *what, oc_error *err) {
  PGresult *r = oc_pg_query(s, sql, NULL, what, err);
  if (!r) return -1;
  bool copying = PQresultStatus(r) == PGRES_COPY_IN;
  PQclear(r);
  if (!copying) return oc_pg_fail(s, err, what, "the server did not start a COPY");
  enum { CHUNK = 1 << 20 };
  bool sent = true;
  for (size_t at = 0; sent && at < len; at += CHUNK)
    sent = PQputCopyData(s->conn, data + at, (int)(len - at < CHUNK ? len - at : CHUNK)) == 1;
  int rc = 0;
  if (!sent || PQputCopyEnd(s->conn, NULL) != 1) rc = oc_pg_fail(s, err, what, PQerrorMessage(s->conn));
  while ((r = PQgetResult(s->conn)) != NULL) {
    if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK) rc = result_fail(s, err, what, r);
    PQclear(r);
  }
  return rc;
}

const char *oc_pg_get(const PGresult *r, int row, int col) { return PQgetvalue(r, row, col); }

bool oc_pg_is_null(const PGresult *r, int row, int col) { return PQgetisnull(r, row, col) != 0; }

int64_t oc_pg_get_int(const PGresult *r, int row, int col) { return strtoll(PQgetvalue(r, row, col), NULL, 10); }

double oc_pg_get_double(const PGresult *r, int row, int col) { return strtod(PQgetvalue(r, row, col), NULL); }

oc_date oc_pg_get_date(const PGresult *r, int row, int col) {
  const char *text = PQgetvalue(r, row, col);
  oc_date d;
  if (PQgetisnull(r, row, col) || oc_date_parse(text, strlen(text), &d, NULL) != 0) return OC_DATE_INVALID;
  return d;
}

char *oc_pg_get_strdup(const PGresult *r, int row, int col) { return oc_xstrdup(PQgetvalue(r, row, col)); }

void oc_pg_get_copy(char *out, size_t cap, const PGresult *r, int row, int col) {
  snprintf(out, cap, "%s", PQgetvalue(r, row, col));
}

/* ---- the process's write turn (store/store_turn.h) ------------------------------------------------ */

static void take_turn(oc_pg_store *s) {
  assert(!s->holds_write_turn);
  s->holds_write_turn = oc_store_turn_take(s->turn);
}

static void give_turn(oc_pg_store *s) {
  if (!s->holds_write_turn) return;
  s->holds_write_turn = false;
  oc_store_turn_give(s->turn);
}

/* ---- transactions and the write lock ------------------------------------------------------------ */

/* Inside a fresh transaction: the store-wide write lock, polled in growing steps by the wait policy
 * (reports through waiting(), then OC_ERROR_BUSY in the words the SQLite backend uses). */
static int take_write_lock(oc_pg_store *s, oc_error *err) {
  static const double steps[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1};
  const oc_store_wait *w = &s->wait;
  double start = oc_monotonic_seconds(), reported = 0;
  for (int attempt = 0;; attempt++) {
    PGresult *r = oc_pg_query(s, "SELECT pg_try_advisory_xact_lock(" WRITE_LOCK_KEY ")", NULL, "taking the write lock",
                              err);
    if (!r) return -1;
    bool taken = strcmp(oc_pg_get(r, 0, 0), "t") == 0;
    PQclear(r);
    if (taken) return 0;
    double waited = oc_monotonic_seconds() - start;
    if (w->max_seconds >= 0 && waited >= w->max_seconds)
      return oc_error_busy(err,
                           "store %s: another connection or process is writing to the store (an import, an ETL or "
                           "a training run?); gave up after waiting %.1f s",
                           s->display, waited);
    if (w->waiting && waited - reported >= w->report_every) {
      reported = waited;
      w->waiting(w->ctx, waited);
    }
    double step = steps[attempt < 7 ? attempt : 6];
    if (w->max_seconds >= 0 && step > w->max_seconds - waited) step = w->max_seconds - waited;
    pause_seconds(step);
  }
}

/* BEGIN and the write lock, after this connection's turn; on failure nothing stays open. */
static int begin_write(oc_pg_store *s, oc_error *err) {
  take_turn(s);
  if (oc_pg_run(s, "BEGIN", NULL, "beginning a transaction", NULL, err) != 0) {
    give_turn(s);
    return -1;
  }
  s->in_op = true; /* a lost connection from here on is not retried */
  if (take_write_lock(s, err) != 0) {
    PQclear(PQexec(s->conn, "ROLLBACK"));
    s->in_op = false;
    give_turn(s);
    return -1;
  }
  s->in_op = false;
  return 0;
}

/* COMMIT (ok) or ROLLBACK, then the next connection's turn. */
static int end_write(oc_pg_store *s, bool ok, oc_error *err) {
  s->in_op = true;
  int rc = ok ? oc_pg_run(s, "COMMIT", NULL, "committing", NULL, err) : -1;
  if (rc != 0 && PQtransactionStatus(s->conn) != PQTRANS_IDLE) PQclear(PQexec(s->conn, "ROLLBACK"));
  s->in_op = false;
  give_turn(s);
  return rc;
}

int oc_pg_op_begin(oc_pg_store *s, oc_error *err) {
  if (s->in_transaction) return oc_pg_run(s, "SAVEPOINT oc_op", NULL, "opening a savepoint", NULL, err);
  if (begin_write(s, err) != 0) return -1;
  s->in_op = true;
  return 0;
}

int oc_pg_op_end(oc_pg_store *s, bool ok, oc_error *err) {
  if (s->in_transaction) {
    if (ok) return oc_pg_run(s, "RELEASE SAVEPOINT oc_op", NULL, "releasing a savepoint", NULL, err);
    PQclear(PQexec(s->conn, "ROLLBACK TO SAVEPOINT oc_op; RELEASE SAVEPOINT oc_op"));
    return -1;
  }
  assert(s->in_op);
  int rc = end_write(s, ok, err);
  s->in_op = false;
  return ok ? rc : -1;
}

int oc_pg_op_run(oc_pg_store *s, const char *sql, const oc_pg_params *p, const char *what, int64_t *affected,
                 oc_change_kind kind, const char *subject, oc_error *err) {
  if (oc_pg_op_begin(s, err) != 0) return -1;
  bool ok = oc_pg_run(s, sql, p, what, affected, err) == 0;
  if (ok && kind) ok = oc_pg_change_record(s, kind, subject, err) == 0;
  return oc_pg_op_end(s, ok, err);
}

static int pg_begin(oc_store *store, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  if (s->in_transaction) return oc_error_set(err, "store %s: a transaction is already open", s->display);
  if (begin_write(s, err) != 0) return -1;
  s->in_transaction = true;
  return 0;
}

static int pg_commit(oc_store *store, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  if (!s->in_transaction) return oc_error_set(err, "store %s: commit without an open transaction", s->display);
  bool keyed = oc_pg_deferred_key_build(s, err) == 0;
  int rc = end_write(s, keyed, err);
  oc_pg_deferred_key_forget(s); /* what this transaction learnt of observations ends with it */
  s->in_transaction = false;
  return rc;
}

static int pg_rollback(oc_store *store, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  if (!s->in_transaction) return oc_error_set(err, "store %s: rollback without an open transaction", s->display);
  s->in_transaction = false;
  if (PQtransactionStatus(s->conn) != PQTRANS_IDLE) PQclear(PQexec(s->conn, "ROLLBACK"));
  oc_pg_deferred_key_forget(s);
  give_turn(s);
  return 0;
}

static void pg_set_wait(oc_store *store, const oc_store_wait *wait) {
  assert(wait->report_every > 0);
  oc_pg_of(store)->wait = *wait;
}

/* ---- schema ------------------------------------------------------------------------------------- */

static int read_schema_version(oc_pg_store *s, int *version, oc_error *err) {
  PGresult *r = oc_pg_query(s, "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL,
                            "reading the schema version", err);
  if (!r) return -1;
  *version = (int)oc_pg_get_int(r, 0, 0);
  PQclear(r);
  return 0;
}

static int pg_schema_version(oc_store *store, int *version, oc_error *err) {
  return read_schema_version(oc_pg_of(store), version, err);
}

/* Version without taking a lock; 0 when the database is new. */
static int peek_schema_version(oc_pg_store *s, int *version, oc_error *err) {
  PGresult *r = oc_pg_query(s, "SELECT to_regclass('schema_migrations') IS NOT NULL", NULL, "reading the schema", err);
  if (!r) return -1;
  bool exists = strcmp(oc_pg_get(r, 0, 0), "t") == 0;
  PQclear(r);
  *version = 0;
  return exists ? read_schema_version(s, version, err) : 0;
}

/* Applies the pending migrations in one transaction, holding the migration lock so that two
 * processes opening a new database at once migrate it once (the second finds it up to date). */
static int migrate_locked(oc_pg_store *s, oc_error *err) {
  int version = 0, latest = oc_store_pg_latest_version();
  if (oc_pg_run(s, "BEGIN", NULL, "beginning the migration", NULL, err) != 0) return -1;
  s->in_op = true;
  if (oc_pg_run(s,
                "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
                "  version INTEGER PRIMARY KEY,\n"
                "  summary TEXT NOT NULL,\n"
                "  applied_at BIGINT NOT NULL\n"
                ")",
                NULL, "creating schema_migrations", NULL, err) != 0 ||
      read_schema_version(s, &version, err) != 0)
    goto fail;
  if (version > latest) {
    oc_error_set(err, "store %s has schema version %d but this oilcast knows versions up to %d: use a newer oilcast",
                 s->display, version, latest);
    goto fail;
  }
  for (size_t i = 0; i < N_MIGRATIONS; i++) {
    const pg_migration *m = &migrations[i];
    if (m->version <= version) continue;
    if (oc_pg_run(s, m->sql, NULL, "migrating", NULL, err) != 0) {
      oc_error_prefix(err, "migration %d (%s) failed, schema left at version %d: ", m->version, m->summary, version);
      goto fail;
    }
    oc_pg_params p = {0};
    oc_pg_int(&p, m->version);
    oc_pg_text(&p, m->summary);
    oc_pg_int(&p, (int64_t)time(NULL));
    if (oc_pg_run(s, "INSERT INTO schema_migrations(version, summary, applied_at) VALUES ($1, $2, $3)", &p,
                  "recording a migration", NULL, err) != 0)
      goto fail;
  }
  if (oc_pg_run(s, "COMMIT", NULL, "committing the migration", NULL, err) != 0) goto fail;
  s->in_op = false;
  return 0;
fail:
  PQclear(PQexec(s->conn, "ROLLBACK"));
  s->in_op = false;
  return -1;
}

/* A store may live in a schema of its own (several stores in one database: options=-csearch_path=NAME
 * in the URI): the first schema of the search path is created when it does not exist yet. */
static int ensure_schema(oc_pg_store *s, oc_error *err) {
  PGresult *r = oc_pg_query(s, "SELECT current_schema() IS NULL, trim(both '\"' from split_part(current_setting('search_path'), ',', 1))",
                            NULL, "reading the search path", err);
  if (!r) return -1;
  int rc = 0;
  if (strcmp(oc_pg_get(r, 0, 0), "t") == 0) {
    const char *name = oc_pg_get(r, 0, 1);
    char *quoted = PQescapeIdentifier(s->conn, name, strlen(name));
    oc_buf sql = {0};
    oc_buf_printf(&sql, "CREATE SCHEMA IF NOT EXISTS %s", quoted ? quoted : "\"\"");
    rc = oc_pg_run(s, sql.data, NULL, "creating the store's schema", NULL, err);
    oc_buf_free(&sql);
    PQfreemem(quoted);
  }
  PQclear(r);
  return rc;
}

static int migrate(oc_pg_store *s, oc_error *err) {
  int version = 0;
  if (peek_schema_version(s, &version, err) != 0) return -1;
  if (version == oc_store_pg_latest_version()) return 0;
  if (oc_pg_run(s, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", NULL, "taking the migration lock", NULL, err) != 0)
    return -1;
  int rc = ensure_schema(s, err) == 0 ? migrate_locked(s, err) : -1;
  PQclear(PQexec(s->conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
  return rc;
}

/* ---- connection --------------------------------------------------------------------------------- */

/* What every session sets (at open and after a reconnect): ISO dates, doubles as text that reads back
 * to the bit (a server or role configured with extra_float_digits = 0 would round them to 15 digits),
 * no chatter, the staging table, LISTEN when it was listening. */
static int session_setup(oc_pg_store *s, oc_error *err) {
  if (oc_pg_run(s,
                "SET DateStyle = ISO; SET extra_float_digits = 3; SET client_min_messages = warning;"
                " SET TimeZone = 'UTC'",
                NULL, "setting up the session", NULL, err) != 0 ||
      oc_pg_series_session_setup(s, err) != 0)
    return -1;
  return oc_pg_changes_relisten(s, err);
}

static void pg_close(oc_store *store) {
  oc_pg_store *s = oc_pg_of(store);
  if (s->conn && PQstatus(s->conn) == CONNECTION_OK && PQtransactionStatus(s->conn) != PQTRANS_IDLE)
    PQclear(PQexec(s->conn, "ROLLBACK"));
  if (s->turn) {
    give_turn(s);
    oc_store_turn_put(s->turn);
  }
  PQfinish(s->conn);
  if (s->wake_pipe[0] >= 0) close(s->wake_pipe[0]);
  if (s->wake_pipe[1] >= 0) close(s->wake_pipe[1]);
  oc_pg_deferred_key_forget(s);
  free(s->conninfo);
  free(s->display);
  free(s);
}

/* The URI without its password (user:secret@host -> user:***@host). */
static char *display_uri(const char *uri) {
  const char *hosts = strstr(uri, "://");
  const char *at = hosts ? strchr(hosts + 3, '@') : NULL;
  const char *colon = at ? memchr(hosts + 3, ':', (size_t)(at - hosts - 3)) : NULL;
  oc_buf b = {0};
  if (colon) oc_buf_printf(&b, "%.*s:***%s", (int)(colon - uri), uri, at);
  else oc_buf_puts(&b, uri);
  return oc_buf_steal(&b);
}

/* Creates the database the URI names, through the maintenance database "postgres" of the same server
 * (a new store is created on first open, as a new SQLite file is). Another process creating it at the
 * same moment is no failure. */
static int create_database(oc_pg_store *s, const char *dbname, oc_error *err) {
  const char *keys[] = {"dbname", "dbname", NULL};
  const char *values[] = {s->conninfo, "postgres", NULL};
  PGconn *admin = PQconnectdbParams(keys, values, 1);
  int rc = 0;
  if (PQstatus(admin) != CONNECTION_OK) {
    rc = oc_pg_fail(s, err, "creating the database (connecting to database postgres)", PQerrorMessage(admin));
  } else {
    char *quoted = PQescapeIdentifier(admin, dbname, strlen(dbname));
    oc_buf sql = {0};
    oc_buf_printf(&sql, "CREATE DATABASE %s", quoted);
    PGresult *r = PQexec(admin, sql.data);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && !(state && strcmp(state, "42P04") == 0))
      rc = oc_pg_fail(s, err, "creating the database", PQresultErrorMessage(r));
    PQclear(r);
    oc_buf_free(&sql);
    PQfreemem(quoted);
  }
  PQfinish(admin);
  return rc;
}

/* Connects, creating the database when the server says it does not exist; a server that does not
 * answer is tried a few times (it may be starting). */
static int connect_store(oc_pg_store *s, oc_error *err) {
  static const double pauses[] = {0.1, 0.3};
  bool created = false;
  for (size_t attempt = 0;; attempt++) {
    PQfinish(s->conn);
    s->conn = PQconnectdb(s->conninfo);
    if (PQstatus(s->conn) == CONNECTION_OK) return 0;
    const char *message = PQerrorMessage(s->conn);
    if (!created && strstr(message, "does not exist") && strstr(message, "database")) {
      const char *dbname = PQdb(s->conn);
      if (!dbname || !*dbname) return oc_pg_fail(s, err, "connecting", message);
      char *name = oc_xstrdup(dbname);
      int rc = create_database(s, name, err);
      free(name);
      if (rc != 0) return -1;
      created = true;
      continue;
    }
    if (attempt >= sizeof pauses / sizeof pauses[0]) return oc_pg_fail(s, err, "connecting", message);
    pause_seconds(pauses[attempt]);
  }
}

static const oc_store_ops pg_ops = {
    .backend = "postgresql",
    .close = pg_close,
    .set_wait = pg_set_wait,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .schema_version = pg_schema_version,
    .series_ensure = oc_pg_series_ensure,
    .series_get = oc_pg_series_get,
    .series_list = oc_pg_series_list,
    .series_provider_set = oc_pg_series_provider_set,
    .observations_upsert = oc_pg_observations_upsert,
    .series_load = oc_pg_series_load,
    .observations_count = oc_pg_observations_count,
    .ingest_run_record = oc_pg_ingest_run_record,
    .ingest_runs_after = oc_pg_ingest_runs_after,
    .api_key_insert = oc_pg_api_key_insert,
    .api_key_list = oc_pg_api_key_list,
    .api_key_revoke = oc_pg_api_key_revoke,
    .model_version_register = oc_pg_model_version_register,
    .model_version_get = oc_pg_model_version_get,
    .model_version_list = oc_pg_model_version_list,
    .endpoint_set = oc_pg_endpoint_set,
    .endpoint_get = oc_pg_endpoint_get,
    .backtest_save = oc_pg_backtest_save,
    .backtest_latest = oc_pg_backtest_latest,
    .forecast_save = oc_pg_forecast_save,
    .forecast_latest = oc_pg_forecast_latest,
    .forecast_score = oc_pg_forecast_score,
    .forecast_performance = oc_pg_forecast_performance,
    .job_run_start = oc_pg_job_run_start,
    .job_run_finish = oc_pg_job_run_finish,
    .job_runs_list = oc_pg_job_runs_list,
    .job_last_slot = oc_pg_job_last_slot,
    .job_state_get = oc_pg_job_state_get,
    .job_pause = oc_pg_job_pause,
    .job_failures = oc_pg_job_failures,
    .changes_after = oc_pg_changes_after,
    .changes_latest = oc_pg_changes_latest,
    .changes_wait = oc_pg_changes_wait,
    .changes_interrupt = oc_pg_changes_interrupt,
    .change_note = oc_pg_change_note,
    .table_read = oc_pg_table_read,
    .table_write = oc_pg_table_write,
    .decision_record = oc_pg_decision_record,
    .decisions_list = oc_pg_decisions_list,
    .challenger_get = oc_pg_challenger_get,
    .challenger_put = oc_pg_challenger_put,
    .forecast_errors = oc_pg_forecast_errors,
    .forecast_scored_points = oc_pg_forecast_scored_points,
    .alert_save = oc_pg_alert_save,
    .alerts_list = oc_pg_alerts_list,
    .alert_history = oc_pg_alert_history,
    .snapshot_to = oc_pg_snapshot_to,
    .integrity_check = oc_pg_integrity_check,
    .device_put = oc_pg_device_put,
    .device_get = oc_pg_device_get,
    .device_list = oc_pg_device_list,
    .device_revoke = oc_pg_device_revoke,
    .sensor_reading_insert = oc_pg_sensor_reading_insert,
    .sensor_reading_get = oc_pg_sensor_reading_get,
    .sensor_watermark_get = oc_pg_sensor_watermark_get,
    .sensor_watermark_set = oc_pg_sensor_watermark_set,
    .sensor_window_recompute = oc_pg_sensor_window_recompute,
    .dead_letter_insert = oc_pg_dead_letter_insert,
    .dead_letters_list = oc_pg_dead_letters_list,
    .sensor_windows_list = oc_pg_sensor_windows_list,
    .sensor_stats = oc_pg_sensor_stats,
    .sensor_readings_recent = oc_pg_sensor_readings_recent,
    .sensor_anomaly_insert = oc_pg_sensor_anomaly_insert,
    .endpoint_config_set = oc_pg_endpoint_config_set,
    .endpoint_config_get = oc_pg_endpoint_config_get,
    .endpoint_names = oc_pg_endpoint_names,
    .series_range_set = oc_pg_series_range_set,
    .series_range_get = oc_pg_series_range_get,
    .sensor_last_raise = oc_pg_sensor_last_raise,
    .sensor_watch_list = oc_pg_sensor_watch_list,
    .sensor_anomaly_end = oc_pg_sensor_anomaly_end,
    .sensor_anomaly_get = oc_pg_sensor_anomaly_get,
    .sensor_window_get = oc_pg_sensor_window_get,
    .leader_try_acquire = oc_pg_leader_try_acquire,
    .rate_take = oc_pg_rate_take,
    .backtest_years_save = oc_pg_backtest_years_save,
    .backtest_years_latest = oc_pg_backtest_years_latest,
    .forecasts_save = oc_pg_forecasts_save,
};

oc_store *oc_store_pg_open(const char *location, oc_error *err) {
  if (strncmp(location, "//", 2) != 0) {
    oc_error_set(err, "store 'postgresql:%s': expected postgresql://user@host:port/database", location);
    return NULL;
  }
  oc_pg_store *s = oc_xcalloc(1, sizeof *s);
  s->base.ops = &pg_ops;
  oc_buf uri = {0};
  oc_buf_printf(&uri, "postgresql:%s", location);
  s->conninfo = oc_buf_steal(&uri);
  s->display = display_uri(s->conninfo);
  s->wake_pipe[0] = s->wake_pipe[1] = -1;
  atomic_init(&s->interrupted, false);
  s->wait = (oc_store_wait){.max_seconds = OC_STORE_WAIT_DEFAULT_SECONDS, .report_every = 5};
  s->turn = oc_store_turn_get(s->conninfo);
  /* close-on-exec: a scheduler's step processes must not inherit it; non-blocking: an interrupt never
   * waits for a reader */
  if (pipe2(s->wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    oc_error_errno(err, "store %s: creating a pipe", s->display);
    pg_close(&s->base);
    return NULL;
  }
  if (connect_store(s, err) != 0 || session_setup(s, err) != 0 || migrate(s, err) != 0) {
    pg_close(&s->base);
    return NULL;
  }
  return &s->base;
}
