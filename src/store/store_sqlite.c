/* store_sqlite.c: the SQLite backend of store.h: connection setup (WAL, foreign keys, busy timeout),
 * forward-only schema migrations, transactions, and the series/observations/ingest-run ops (each
 * write also records its change: store_sqlite_changes.c). The
 * only place (with store_sqlite_*.c) that holds SQL text or SQLite types; it must not print, and it
 * must not know about files other than its database. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/progress.h"
#include "store/store_sqlite.h"
#include "store/store_sqlite_internal.h"
#include "store/store_turn.h"

/* Forward-only migrations, applied in order, each in the open transaction and recorded in
 * schema_migrations. Never edit an entry that has shipped: append a new version instead. */
typedef struct sqlite_migration {
  int version;
  const char *summary;
  const char *sql;
} sqlite_migration;

static const sqlite_migration migrations[] = {
    {1, "series and observations",
     "CREATE TABLE series (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  name TEXT NOT NULL UNIQUE,\n"
     "  unit TEXT NOT NULL DEFAULT '',\n"
     "  source TEXT NOT NULL DEFAULT '',\n"
     "  created_at INTEGER NOT NULL\n"
     ");\n"
     "CREATE TABLE observations (\n"
     "  series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,\n"
     "  date TEXT NOT NULL CHECK (length(date) = 10),\n"
     "  value REAL NOT NULL,\n"
     "  source TEXT NOT NULL DEFAULT '',\n"
     "  ingested_at INTEGER NOT NULL,\n"
     "  PRIMARY KEY (series_id, date)\n"
     ") WITHOUT ROWID;\n"},
    {2, "ingest runs (lineage of every import)",
     "CREATE TABLE ingest_runs (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  source_kind TEXT NOT NULL,\n"
     "  path TEXT NOT NULL,\n"
     "  raw_path TEXT NOT NULL DEFAULT '',\n"
     "  sha256 TEXT NOT NULL,\n"
     "  status TEXT NOT NULL,\n"
     "  rows_read INTEGER NOT NULL,\n"
     "  rows_inserted INTEGER NOT NULL,\n"
     "  rows_updated INTEGER NOT NULL,\n"
     "  rows_unchanged INTEGER NOT NULL,\n"
     "  rows_rejected INTEGER NOT NULL,\n"
     "  rows_missing INTEGER NOT NULL,\n"
     "  negative_values INTEGER NOT NULL,\n"
     "  started_at INTEGER NOT NULL,\n"
     "  finished_at INTEGER NOT NULL\n"
     ");\n"},
    {3, "api keys (hashes only)",
     "CREATE TABLE api_keys (\n"
     "  id TEXT PRIMARY KEY,\n"
     "  name TEXT NOT NULL UNIQUE,\n"
     "  scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),\n"
     "  hash TEXT NOT NULL CHECK (length(hash) = 64),\n"
     "  rate_per_second REAL NOT NULL DEFAULT 0,\n"
     "  burst REAL NOT NULL DEFAULT 0,\n"
     "  created_at INTEGER NOT NULL,\n"
     "  revoked_at INTEGER NOT NULL DEFAULT 0\n"
     ");\n"},
    {4, "model registry: versions and endpoints",
     "CREATE TABLE model_versions (\n"
     "  version INTEGER PRIMARY KEY CHECK (version > 0),\n"
     "  kind TEXT NOT NULL,\n"
     "  series TEXT NOT NULL,\n"
     "  path TEXT NOT NULL,\n"
     "  card_sha256 TEXT NOT NULL CHECK (length(card_sha256) = 64),\n"
     "  status TEXT NOT NULL CHECK (status IN ('registered', 'deployed')),\n"
     "  val_loss REAL NOT NULL,\n"
     "  val_mae REAL NOT NULL,\n"
     "  naive_mae REAL NOT NULL,\n"
     "  created_at INTEGER NOT NULL\n"
     ");\n"
     "CREATE TABLE endpoints (\n"
     "  name TEXT PRIMARY KEY,\n"
     "  created_at INTEGER NOT NULL,\n"
     "  updated_at INTEGER NOT NULL\n"
     ");\n"
     "CREATE TABLE endpoint_variants (\n"
     "  endpoint TEXT NOT NULL REFERENCES endpoints(name) ON DELETE CASCADE,\n"
     "  version INTEGER NOT NULL REFERENCES model_versions(version),\n"
     "  weight REAL NOT NULL CHECK (weight > 0),\n"
     "  PRIMARY KEY (endpoint, version)\n"
     ") WITHOUT ROWID;\n"},
    {5, "backtest runs (oilcast backtest results for the dashboard)",
     "CREATE TABLE backtests (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  series TEXT NOT NULL,\n"
     "  start_date TEXT NOT NULL CHECK (length(start_date) = 10),\n"
     "  end_date TEXT NOT NULL CHECK (length(end_date) = 10),\n"
     "  horizon INTEGER NOT NULL,\n"
     "  refit_every INTEGER NOT NULL,\n"
     "  origins INTEGER NOT NULL,\n"
     "  models TEXT NOT NULL,\n"
     "  created_at INTEGER NOT NULL,\n"
     "  result_json TEXT NOT NULL CHECK (json_valid(result_json))\n"
     ");\n"
     "CREATE INDEX backtests_by_series ON backtests(series, created_at);\n"},
    {6, "forecasts made by the server, with their points",
     "CREATE TABLE forecasts (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  series TEXT NOT NULL,\n"
     "  origin TEXT NOT NULL CHECK (length(origin) = 10),\n"
     "  horizon INTEGER NOT NULL,\n"
     "  endpoint TEXT NOT NULL DEFAULT '',\n"
     "  variant TEXT NOT NULL DEFAULT '',\n"
     "  model_version TEXT NOT NULL,\n"
     "  model_kind TEXT NOT NULL DEFAULT '',\n"
     "  history TEXT NOT NULL CHECK (history IN ('stored', 'given')),\n"
     "  request_id TEXT NOT NULL DEFAULT '',\n"
     "  created_at INTEGER NOT NULL\n"
     ");\n"
     "CREATE INDEX forecasts_by_series ON forecasts(series, history, created_at);\n"
     "CREATE TABLE forecast_points (\n"
     "  forecast_id INTEGER NOT NULL REFERENCES forecasts(id) ON DELETE CASCADE,\n"
     "  step INTEGER NOT NULL,\n"
     "  date TEXT NOT NULL CHECK (length(date) = 10),\n"
     "  price REAL NOT NULL,\n"
     "  lower80 REAL NOT NULL,\n"
     "  upper80 REAL NOT NULL,\n"
     "  lower95 REAL NOT NULL,\n"
     "  upper95 REAL NOT NULL,\n"
     "  PRIMARY KEY (forecast_id, step)\n"
     ") WITHOUT ROWID;\n"},
    {7, "the series each ingest run touched (live ingest events)",
     "CREATE TABLE ingest_run_series (\n"
     "  run_id INTEGER NOT NULL REFERENCES ingest_runs(id) ON DELETE CASCADE,\n"
     "  series TEXT NOT NULL,\n"
     "  rows INTEGER NOT NULL,\n"
     "  last_date TEXT NOT NULL CHECK (length(last_date) = 10),\n"
     "  last_value REAL NOT NULL,\n"
     "  PRIMARY KEY (run_id, series)\n"
     ") WITHOUT ROWID;\n"},
    {8, "the change feed (what each write changed, for servers following the store)",
     "CREATE TABLE changes (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  kind TEXT NOT NULL,\n"
     "  subject TEXT NOT NULL,\n"
     "  at INTEGER NOT NULL\n"
     ");\n"},
    {9, "scheduled job runs and job state (the scheduler)",
     "CREATE TABLE job_runs (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  job TEXT NOT NULL,\n"
     "  slot INTEGER NOT NULL,\n"
     "  trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'catch-up', 'manual')),\n"
     "  status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'abandoned')),\n"
     "  started_at INTEGER NOT NULL,\n"
     "  finished_at INTEGER NOT NULL DEFAULT 0,\n"
     "  runner TEXT NOT NULL DEFAULT '',\n"
     "  error TEXT NOT NULL DEFAULT '',\n"
     "  steps_json TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(steps_json))\n"
     ");\n"
     "CREATE UNIQUE INDEX job_runs_one_per_slot ON job_runs(job, slot) WHERE trigger != 'manual';\n"
     "CREATE UNIQUE INDEX job_runs_one_running ON job_runs(job) WHERE status = 'running';\n"
     "CREATE INDEX job_runs_by_job ON job_runs(job, id);\n"
     "CREATE TABLE job_state (\n"
     "  job TEXT PRIMARY KEY,\n"
     "  paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),\n"
     "  first_seen INTEGER NOT NULL,\n"
     "  updated_at INTEGER NOT NULL\n"
     ") WITHOUT ROWID;\n"},
    {10, "forecast scores (each stored forecast point against the price that followed)",
     "CREATE TABLE forecast_scores (\n"
     "  forecast_id INTEGER NOT NULL,\n"
     "  step INTEGER NOT NULL,\n"
     "  actual REAL NOT NULL,\n"
     "  naive REAL NOT NULL,\n"
     "  scored_at INTEGER NOT NULL,\n"
     "  PRIMARY KEY (forecast_id, step),\n"
     "  FOREIGN KEY (forecast_id, step) REFERENCES forecast_points(forecast_id, step) ON DELETE CASCADE\n"
     ") WITHOUT ROWID;\n"
     "CREATE INDEX forecast_points_by_date ON forecast_points(date);\n"},
    {11, "the price each forecast started from (null for forecasts stored before)",
     "ALTER TABLE forecasts ADD COLUMN origin_price REAL;\n"},
    {12, "the market provider of a series and its id there (EIA RWTC, FRED DCOILWTICO)",
     "ALTER TABLE series ADD COLUMN provider TEXT NOT NULL DEFAULT '';\n"
     "ALTER TABLE series ADD COLUMN provider_id TEXT NOT NULL DEFAULT '';\n"},
    {13, "endpoint configurations (the one record of what each serves; null: its variants) and per-series"
         " price ranges (null: the default)",
     "ALTER TABLE endpoints ADD COLUMN config TEXT CHECK (config IS NULL OR json_valid(config));\n"
     "ALTER TABLE series ADD COLUMN price_min REAL;\n"
     "ALTER TABLE series ADD COLUMN price_max REAL;\n"},
    {14, "the device registry (field sensors over MQTT: type, unit, valid range, interval, broker password hash)",
     "CREATE TABLE devices (\n"
     "  id TEXT PRIMARY KEY,\n"
     "  site TEXT NOT NULL,\n"
     "  type TEXT NOT NULL,\n"
     "  unit TEXT NOT NULL,\n"
     "  valid_min REAL NOT NULL,\n"
     "  valid_max REAL NOT NULL,\n"
     "  interval_seconds INTEGER NOT NULL CHECK (interval_seconds > 0),\n"
     "  password_hash TEXT NOT NULL,\n"
     "  created_at INTEGER NOT NULL,\n"
     "  revoked_at INTEGER NOT NULL DEFAULT 0,\n"
     "  CHECK (valid_min < valid_max)\n"
     ") WITHOUT ROWID;\n"},
    {15, "the sensor stream: readings, dead letters, watermarks, window aggregates",
     "CREATE TABLE sensor_readings (\n"
     "  device_id TEXT NOT NULL,\n"
     "  seq INTEGER NOT NULL,\n"
     "  measurement TEXT NOT NULL,\n"
     "  unit TEXT NOT NULL,\n"
     "  event_ms INTEGER NOT NULL,\n"
     "  value REAL NOT NULL,\n"
     "  late INTEGER NOT NULL DEFAULT 0,\n"
     "  PRIMARY KEY (device_id, seq, measurement)\n"
     ") WITHOUT ROWID;\n"
     "CREATE INDEX sensor_readings_by_time ON sensor_readings(device_id, measurement, event_ms, seq, late, value);\n"
     "CREATE TABLE sensor_dead_letters (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  received_ms INTEGER NOT NULL,\n"
     "  topic TEXT NOT NULL,\n"
     "  reason TEXT NOT NULL,\n"
     "  raw BLOB NOT NULL\n"
     ");\n"
     "CREATE TABLE sensor_watermarks (\n"
     "  device_id TEXT PRIMARY KEY,\n"
     "  event_ms INTEGER NOT NULL\n"
     ") WITHOUT ROWID;\n"
     "CREATE TABLE sensor_windows (\n"
     "  device_id TEXT NOT NULL,\n"
     "  measurement TEXT NOT NULL,\n"
     "  width_ms INTEGER NOT NULL,\n"
     "  start_ms INTEGER NOT NULL,\n"
     "  count INTEGER NOT NULL,\n"
     "  sum REAL NOT NULL,\n"
     "  min REAL NOT NULL,\n"
     "  max REAL NOT NULL,\n"
     "  last REAL NOT NULL,\n"
     "  PRIMARY KEY (device_id, measurement, width_ms, start_ms)\n"
     ") WITHOUT ROWID;\n"
     "CREATE TABLE sensor_anomalies (\n"
     "  device_id TEXT NOT NULL,\n"
     "  measurement TEXT NOT NULL,\n"
     "  kind TEXT NOT NULL,\n"
     "  event_ms INTEGER NOT NULL,\n"
     "  seq INTEGER NOT NULL,\n"
     "  value REAL NOT NULL,\n"
     "  score REAL NOT NULL,\n"
     "  detected_ms INTEGER NOT NULL,\n"
     "  PRIMARY KEY (device_id, measurement, kind, event_ms)\n"
     ") WITHOUT ROWID;\n"},
    {16, "alerts: the evaluator's state per fingerprint and every state change (monitor/alerts.h)",
     "CREATE TABLE alerts (\n"
     "  fingerprint TEXT PRIMARY KEY CHECK (length(fingerprint) = 16),\n"
     "  rule TEXT NOT NULL,\n"
     "  state TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),\n"
     "  labels_json TEXT NOT NULL CHECK (json_valid(labels_json)),\n"
     "  annotations_json TEXT NOT NULL CHECK (json_valid(annotations_json)),\n"
     "  value REAL,\n"
     "  active_since INTEGER NOT NULL,\n"
     "  fired_at INTEGER NOT NULL DEFAULT 0,\n"
     "  resolved_at INTEGER NOT NULL DEFAULT 0,\n"
     "  updated_at INTEGER NOT NULL,\n"
     "  notified TEXT NOT NULL DEFAULT ''\n"
     ") WITHOUT ROWID;\n"
     "CREATE TABLE alert_events (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  fingerprint TEXT NOT NULL,\n"
     "  rule TEXT NOT NULL,\n"
     "  state TEXT NOT NULL,\n"
     "  value REAL,\n"
     "  at INTEGER NOT NULL,\n"
     "  labels_json TEXT NOT NULL CHECK (json_valid(labels_json))\n"
     ");\n"
     "CREATE INDEX alert_events_by_fingerprint ON alert_events(fingerprint, id);\n"},
    {17, "champion/challenger promotion: the decisions log and each endpoint's challenger state",
     "CREATE TABLE IF NOT EXISTS promotion_decisions (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  endpoint TEXT NOT NULL,\n"
     "  at INTEGER NOT NULL,\n"
     "  action TEXT NOT NULL CHECK (action IN ('trigger', 'training', 'deploy', 'promote', 'rollback', 'refusal')),\n"
     "  trigger TEXT NOT NULL,\n"
     "  version INTEGER NOT NULL,\n"
     "  champion INTEGER NOT NULL,\n"
     "  reason TEXT NOT NULL,\n"
     "  figures TEXT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS promotion_decisions_by_endpoint ON promotion_decisions(endpoint, id);\n"
     "CREATE TABLE IF NOT EXISTS endpoint_challengers (\n"
     "  endpoint TEXT PRIMARY KEY,\n"
     "  challenger INTEGER NOT NULL,\n"
     "  mode TEXT NOT NULL,\n"
     "  challenger_since TEXT,\n"
     "  pending_trigger TEXT NOT NULL,\n"
     "  pending_reason TEXT NOT NULL,\n"
     "  promoted INTEGER NOT NULL,\n"
     "  previous INTEGER NOT NULL,\n"
     "  promoted_since TEXT,\n"
     "  quiet_until TEXT,\n"
     "  forecast_origin TEXT\n"
     ");\n"},
    {18, "sensor silence: each sensor's latest reading; when a silence ended",
     "ALTER TABLE sensor_anomalies ADD COLUMN ended_ms INTEGER NOT NULL DEFAULT 0;\n"
     "CREATE TABLE sensor_last_readings (\n"
     "  device_id TEXT NOT NULL,\n"
     "  measurement TEXT NOT NULL,\n"
     "  event_ms INTEGER NOT NULL,\n"
     "  seq INTEGER NOT NULL,\n"
     "  value REAL NOT NULL,\n"
     "  PRIMARY KEY (device_id, measurement)\n"
     ") WITHOUT ROWID;\n"
     "INSERT INTO sensor_last_readings(device_id, measurement, event_ms, seq, value)\n"
     "  SELECT device_id, measurement, event_ms, seq, value FROM (SELECT device_id, measurement, event_ms, seq, value,\n"
     "    row_number() OVER (PARTITION BY device_id, measurement ORDER BY event_ms DESC, seq DESC) AS newest\n"
     "    FROM sensor_readings) ranked WHERE newest = 1;\n"},
    {19, "several nodes: each API key's rate-limit bucket, shared by every server on the store",
     "CREATE TABLE IF NOT EXISTS rate_buckets (\n"
     "  key_id TEXT PRIMARY KEY,\n"
     "  tokens REAL NOT NULL,\n"
     "  refilled_at REAL NOT NULL,\n"
     "  allowed INTEGER NOT NULL\n"
     ");\n"},
    /* PostgreSQL's twin drops the foreign key of observations (checked per series by its import);
     * SQLite keeps it: its check is an in-process lookup that costs an import little. */
    {20, "observations: the series key checked once per series by the import, not per row", "SELECT 1;"},
    /* IF NOT EXISTS as in 19: a store taken back to an older version by dropping that version's own
     * tables (test_store) keeps this one. */
    {21, "by-year robustness reports (oilcast backtest --by-year) for the dashboard",
     "CREATE TABLE IF NOT EXISTS backtest_years (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  series TEXT NOT NULL,\n"
     "  created_at INTEGER NOT NULL,\n"
     "  models TEXT NOT NULL,\n"
     "  exog TEXT NOT NULL,\n"
     "  horizon INTEGER NOT NULL,\n"
     "  refit_every INTEGER NOT NULL,\n"
     "  from_year INTEGER NOT NULL,\n"
     "  to_year INTEGER NOT NULL CHECK (to_year >= from_year),\n"
     "  report_json TEXT NOT NULL CHECK (json_valid(report_json))\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS backtest_years_by_series ON backtest_years(series, created_at);\n"},
    /* A dead letter's key is its topic and bytes: a redelivery (an MQTT QoS 1 duplicate after a crash)
     * counts in seen instead of being stored again. Existing duplicates merge into their first row. */
    {22, "dead letters keyed by topic and payload: a redelivery is counted, not stored twice",
     "ALTER TABLE sensor_dead_letters ADD COLUMN seen INTEGER NOT NULL DEFAULT 1;\n"
     "ALTER TABLE sensor_dead_letters ADD COLUMN last_received_ms INTEGER NOT NULL DEFAULT 0;\n"
     "CREATE INDEX sensor_dead_letters_merging ON sensor_dead_letters(topic, raw, id);\n"
     "UPDATE sensor_dead_letters SET (seen, last_received_ms) = (SELECT count(*), max(d.received_ms)\n"
     "  FROM sensor_dead_letters d WHERE d.topic = sensor_dead_letters.topic AND d.raw = sensor_dead_letters.raw);\n"
     "DELETE FROM sensor_dead_letters WHERE EXISTS (SELECT 1 FROM sensor_dead_letters d\n"
     "  WHERE d.topic = sensor_dead_letters.topic AND d.raw = sensor_dead_letters.raw AND d.id < sensor_dead_letters.id);\n"
     "DROP INDEX sensor_dead_letters_merging;\n"
     "CREATE UNIQUE INDEX sensor_dead_letters_key ON sensor_dead_letters(topic, raw);\n"},
};
#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])

int oc_store_sqlite_latest_version(void) { return migrations[N_MIGRATIONS - 1].version; }

char *oc_store_sqlite_scratch_uri(const char *dir) {
  oc_buf uri = {0};
  oc_buf_printf(&uri, "sqlite:%s/oilcast.db", dir);
  return oc_buf_steal(&uri);
}

/* ---- helpers shared by store_sqlite*.c ---------------------------------------------------- */

/* The write lock stayed taken past the wait policy: say so, in words a user can act on. */
static bool busy_failure(oc_sqlite_store *s, oc_error *err, const char *what) {
  if ((sqlite3_extended_errcode(s->db) & 0xff) != SQLITE_BUSY) return false;
  oc_error_busy(err,
                "store %s: %s: another connection or process is writing to the store (an import, an ETL or a "
                "training run?); gave up after waiting %.1f s",
                s->path, what, s->busy_waited);
  return true;
}

/* A store that cannot be written (read-only data directory) or a full disk: words a user can act on,
 * not SQLite's. */
static bool write_failure(oc_sqlite_store *s, oc_error *err, const char *what) {
  int code = sqlite3_extended_errcode(s->db) & 0xff;
  if (code == SQLITE_READONLY || (s->read_only && code == SQLITE_CANTOPEN)) {
    oc_error_set(err, "store %s: %s: the store is read-only (its data directory cannot be written: reading works, "
                 "writing needs a writable copy)", s->path, what);
    err->kind = OC_ERROR_READ_ONLY;
    return true;
  }
  if (code == SQLITE_FULL) {
    oc_error_set(err, "store %s: %s: the disk is full (nothing was written; free some space and try again)", s->path,
                 what);
    return true;
  }
  return false;
}

/* OC_ERROR_INVALID when the statement failed on the data itself (a constraint, a type or a size), which
 * a retry of the same data meets again; the kind the message setter gave otherwise. */
static void mark_refused_data(oc_sqlite_store *s, oc_error *err) {
  int code = sqlite3_extended_errcode(s->db) & 0xff;
  if (err && (code == SQLITE_CONSTRAINT || code == SQLITE_MISMATCH || code == SQLITE_TOOBIG))
    err->kind = OC_ERROR_INVALID;
}

int oc_sqlite_fail(oc_sqlite_store *s, oc_error *err, const char *what) {
  if (!busy_failure(s, err, what) && !write_failure(s, err, what)) {
    oc_error_set(err, "store %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
    mark_refused_data(s, err);
  }
  return -1;
}

static int sqlite_exec(oc_sqlite_store *s, const char *sql, oc_error *err) {
  char *msg = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    if (!busy_failure(s, err, sql) && !write_failure(s, err, sql)) {
      oc_error_set(err, "store %s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
      mark_refused_data(s, err);
    }
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

int oc_sqlite_exec(oc_sqlite_store *s, const char *sql, oc_error *err) { return sqlite_exec(s, sql, err); }

/* SQLite's busy handler (attempt counts from 0 per wait): sleeps in growing steps while another
 * connection holds the write lock, reports through the policy's waiting(), and gives up (0) when
 * the policy's time is up. */
static int on_busy(void *arg, int attempt) {
  oc_sqlite_store *s = arg;
  double now = oc_monotonic_seconds();
  if (attempt == 0) {
    s->busy_since = now;
    s->busy_reported = 0;
  }
  double waited = s->busy_waited = now - s->busy_since;
  const oc_store_wait *w = &s->wait;
  if (w->max_seconds >= 0 && waited >= w->max_seconds) return 0;
  if (w->waiting && waited - s->busy_reported >= w->report_every) {
    s->busy_reported = waited;
    w->waiting(w->ctx, waited);
  }
  static const double steps[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1};
  double step = steps[attempt < 7 ? attempt : 6];
  if (w->max_seconds >= 0 && step > w->max_seconds - waited) step = w->max_seconds - waited;
  struct timespec pause = {(time_t)step, (long)((step - (double)(time_t)step) * 1e9)};
  nanosleep(&pause, NULL);
  return 1;
}

static void sqlite_set_wait(oc_store *store, const oc_store_wait *wait) {
  assert(wait->report_every > 0);
  oc_sqlite_of(store)->wait = *wait;
}

sqlite3_stmt *oc_sqlite_stmt(oc_sqlite_store *s, const char *sql, oc_error *err) {
  for (size_t i = 0; i < s->nstmts; i++) {
    if (s->stmts[i].sql == sql) {
      sqlite3_stmt *st = s->stmts[i].stmt;
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      return st;
    }
  }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
    oc_sqlite_fail(s, err, "preparing a statement");
    return NULL;
  }
  oc_xgrow((void **)&s->stmts, &s->stmts_cap, s->nstmts + 1, sizeof *s->stmts);
  s->stmts[s->nstmts++] = (oc_sqlite_cached_stmt){sql, st};
  return st;
}

int oc_sqlite_newest_of_series(oc_sqlite_store *s, const char *sql, const char *series,
                               void (*decode)(sqlite3_stmt *st, void *out), void *out, bool *found, const char *what,
                               oc_error *err) {
  *found = false;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, series, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    decode(st, out);
    *found = true;
  } else if (rc != SQLITE_DONE) {
    char reading[96];
    snprintf(reading, sizeof reading, "reading the latest %s", what);
    oc_sqlite_fail(s, err, reading);
  }
  sqlite3_reset(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* BEGIN IMMEDIATE after this connection's turn (store/store_turn.h). */
static int begin_write(oc_sqlite_store *s, oc_error *err) {
  assert(!s->holds_write_turn);
  s->holds_write_turn = oc_store_turn_take(s->turn);
  int rc = sqlite_exec(s, "BEGIN IMMEDIATE", err);
  if (rc != 0 && s->holds_write_turn) {
    s->holds_write_turn = false;
    oc_store_turn_give(s->turn);
  }
  return rc;
}

/* After the write transaction ended (committed or rolled back): the next connection's turn. */
static void end_write(oc_sqlite_store *s) {
  if (!s->holds_write_turn) return;
  s->holds_write_turn = false;
  oc_store_turn_give(s->turn);
}

int oc_sqlite_op_begin(oc_sqlite_store *s, oc_error *err) {
  return s->in_transaction ? sqlite_exec(s, "SAVEPOINT oc_op", err) : begin_write(s, err);
}

int oc_sqlite_op_end(oc_sqlite_store *s, bool ok, oc_error *err) {
  if (s->in_transaction) {
    if (ok) return sqlite_exec(s, "RELEASE oc_op", err);
    oc_error ignored;
    sqlite_exec(s, "ROLLBACK TO oc_op; RELEASE oc_op", &ignored);
    oc_sqlite_changes_forget(s); /* the changes it recorded are gone: record them again if needed */
    return -1;
  }
  oc_sqlite_changes_forget(s);
  if (ok && sqlite_exec(s, "COMMIT", err) == 0) {
    end_write(s);
    return 0;
  }
  if (!sqlite3_get_autocommit(s->db)) {
    oc_error ignored;
    sqlite_exec(s, "ROLLBACK", &ignored);
  }
  end_write(s);
  return -1;
}

int oc_sqlite_bind_date(sqlite3_stmt *stmt, int index, oc_date date) {
  char text[OC_DATE_STRLEN];
  oc_date_format(date, text);
  return sqlite3_bind_text(stmt, index, text, 10, SQLITE_TRANSIENT);
}

oc_date oc_sqlite_column_date(sqlite3_stmt *stmt, int index) {
  const char *text = (const char *)sqlite3_column_text(stmt, index);
  oc_date d;
  if (!text || oc_date_parse(text, (size_t)sqlite3_column_bytes(stmt, index), &d, NULL) != 0)
    return OC_DATE_INVALID;
  return d;
}

char *oc_sqlite_column_strdup(sqlite3_stmt *stmt, int index) {
  const char *text = (const char *)sqlite3_column_text(stmt, index);
  return oc_xstrdup(text ? text : "");
}

void oc_sqlite_column_copy(char *out, size_t cap, sqlite3_stmt *stmt, int index) {
  const char *text = (const char *)sqlite3_column_text(stmt, index);
  snprintf(out, cap, "%s", text ? text : "");
}

/* ---- connection and transactions ------------------------------------------------------------ */

static void sqlite_close(oc_store *store) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  for (size_t i = 0; i < s->nstmts; i++) sqlite3_finalize(s->stmts[i].stmt);
  free(s->stmts);
  free(s->staged_rows);
  if (s->db && !sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  if (s->turn) {
    end_write(s);
    oc_store_turn_put(s->turn);
  }
  sqlite3_close_v2(s->db);
  oc_sqlite_changes_close(s);
  oc_sqlite_leader_close(s);
  pthread_mutex_destroy(&s->watch_lock);
  free(s->path);
  free(s);
}

static int sqlite_begin(oc_store *store, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  if (s->in_transaction) return oc_error_set(err, "store %s: a transaction is already open", s->path);
  if (begin_write(s, err) != 0) return -1;
  s->in_transaction = true;
  oc_sqlite_changes_forget(s);
  return 0;
}

static int sqlite_commit(oc_store *store, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  if (!s->in_transaction) return oc_error_set(err, "store %s: commit without an open transaction", s->path);
  oc_sqlite_changes_forget(s);
  int rc = sqlite_exec(s, "COMMIT", err);
  if (rc != 0) {
    oc_error ignored;
    if (!sqlite3_get_autocommit(s->db)) sqlite_exec(s, "ROLLBACK", &ignored);
  }
  s->in_transaction = false;
  end_write(s);
  return rc;
}

static int sqlite_rollback(oc_store *store, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  if (!s->in_transaction) return oc_error_set(err, "store %s: rollback without an open transaction", s->path);
  s->in_transaction = false;
  oc_sqlite_changes_forget(s);
  int rc = sqlite3_get_autocommit(s->db) ? 0 /* SQLite already rolled back (e.g. after SQLITE_FULL) */
                                         : sqlite_exec(s, "ROLLBACK", err);
  end_write(s);
  return rc;
}

static int read_schema_version(oc_sqlite_store *s, int *version, oc_error *err) {
  static const char sql[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  if (sqlite3_step(st) != SQLITE_ROW) return oc_sqlite_fail(s, err, "reading the schema version");
  *version = sqlite3_column_int(st, 0);
  sqlite3_reset(st);
  return 0;
}

static int sqlite_schema_version(oc_store *store, int *version, oc_error *err) {
  return read_schema_version(oc_sqlite_of(store), version, err);
}

/* Version without taking a lock; 0 when the store is new (no schema_migrations table yet). */
static int peek_schema_version(oc_sqlite_store *s, int *version, oc_error *err) {
  static const char sql[] = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  if (sqlite3_step(st) != SQLITE_ROW) return oc_sqlite_fail(s, err, "reading the schema");
  bool exists = sqlite3_column_int(st, 0) > 0;
  sqlite3_reset(st);
  *version = 0;
  return exists ? read_schema_version(s, version, err) : 0;
}

static int migrate(oc_sqlite_store *s, oc_error *err) {
  int version = 0;
  /* The common case (up to date) must not wait for the write lock a running import holds. */
  if (peek_schema_version(s, &version, err) != 0) return -1;
  if (version == oc_store_sqlite_latest_version()) return 0;
  if (sqlite_exec(s, "BEGIN IMMEDIATE", err) != 0) return -1;
  if (sqlite_exec(s,
                     "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
                     "  version INTEGER PRIMARY KEY,\n"
                     "  summary TEXT NOT NULL,\n"
                     "  applied_at INTEGER NOT NULL\n"
                     ")",
                     err) != 0 ||
      read_schema_version(s, &version, err) != 0)
    goto fail;
  if (version > oc_store_sqlite_latest_version()) {
    oc_error_set(err,
                 "store %s has schema version %d but this oilcast knows versions up to %d: use a newer "
                 "oilcast",
                 s->path, version, oc_store_sqlite_latest_version());
    goto fail;
  }
  for (size_t i = 0; i < N_MIGRATIONS; i++) {
    const sqlite_migration *m = &migrations[i];
    if (m->version <= version) continue;
    if (sqlite_exec(s, m->sql, err) != 0) {
      oc_error_prefix(err, "migration %d (%s) failed, schema left at version %d: ", m->version, m->summary,
                      version);
      goto fail;
    }
    static const char record[] = "INSERT INTO schema_migrations(version, summary, applied_at) VALUES (?1, ?2, ?3)";
    sqlite3_stmt *st = oc_sqlite_stmt(s, record, err);
    if (!st) goto fail;
    sqlite3_bind_int(st, 1, m->version);
    sqlite3_bind_text(st, 2, m->summary, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
    if (sqlite3_step(st) != SQLITE_DONE) {
      oc_sqlite_fail(s, err, "recording a migration");
      goto fail;
    }
    sqlite3_reset(st);
  }
  return sqlite_exec(s, "COMMIT", err) == 0 ? 0 : (sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL), -1);
fail:
  sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  return -1;
}

/* ---- series ------------------------------------------------------------------------------------ */

/* A series' id by name (series_ensure after its insert, series_load before reading). */
static const char series_id_sql[] = "SELECT id FROM series WHERE name = ?1";

static int sqlite_series_ensure(oc_store *store, const char *name, const char *unit, const char *source, int64_t *id,
                                oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  const char *reason;
  if (oc_series_name_check(name, strlen(name), &reason) != 0)
    return oc_error_set(err, "invalid series name '%s': %s", name, reason);
  static const char insert[] =
      "INSERT INTO series(name, unit, source, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(name) DO NOTHING";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  bool ok = false;
  sqlite3_stmt *st = oc_sqlite_stmt(s, insert, err);
  if (st) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, unit ? unit : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, source ? source : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
    if (sqlite3_step(st) != SQLITE_DONE) {
      oc_sqlite_fail(s, err, "creating a series");
    } else if ((st = oc_sqlite_stmt(s, series_id_sql, err))) {
      sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
      if (sqlite3_step(st) == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        ok = true;
      } else {
        oc_sqlite_fail(s, err, "looking up a series");
      }
      sqlite3_reset(st);
    }
  }
  return oc_sqlite_op_end(s, ok, err);
}

#define SERIES_INFO_COLUMNS                                                                            \
  "SELECT s.id, s.name, s.unit, s.source, s.provider, s.provider_id,"                                  \
  " (SELECT count(*) FROM observations o WHERE o.series_id = s.id),"                                   \
  " (SELECT min(date) FROM observations o WHERE o.series_id = s.id),"                                  \
  " (SELECT max(date) FROM observations o WHERE o.series_id = s.id) FROM series s"

static void read_series_info(sqlite3_stmt *st, oc_series_info *info) {
  info->id = sqlite3_column_int64(st, 0);
  info->name = oc_sqlite_column_strdup(st, 1);
  info->unit = oc_sqlite_column_strdup(st, 2);
  info->source = oc_sqlite_column_strdup(st, 3);
  snprintf(info->provider, sizeof info->provider, "%s", (const char *)sqlite3_column_text(st, 4));
  snprintf(info->provider_id, sizeof info->provider_id, "%s", (const char *)sqlite3_column_text(st, 5));
  info->count = sqlite3_column_int64(st, 6);
  info->first = oc_sqlite_column_date(st, 7);
  info->last = oc_sqlite_column_date(st, 8);
}

/* Writes only a changed provenance, so a daily fetch records no change of its own. */
static int sqlite_series_provider_set(oc_store *store, const char *name, const char *provider,
                                      const char *provider_id, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  if (strlen(provider) >= sizeof ((oc_series_info *)0)->provider ||
      strlen(provider_id) >= sizeof ((oc_series_info *)0)->provider_id)
    return oc_error_set(err, "series '%s': provider '%s' or its id '%s' is too long", name, provider, provider_id);
  static const char sql[] = "UPDATE series SET provider = ?2, provider_id = ?3 "
                            "WHERE name = ?1 AND (provider IS NOT ?2 OR provider_id IS NOT ?3)";
  static const char exists[] = "SELECT 1 FROM series WHERE name = ?1";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  bool ok = false;
  sqlite3_stmt *st = oc_sqlite_stmt(s, exists, err);
  if (st) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) oc_error_set(err, "no series named '%s' in the store (see: oilcast series list)", name);
    else if (rc != SQLITE_ROW) oc_sqlite_fail(s, err, "looking up a series");
    else ok = (st = oc_sqlite_stmt(s, sql, err)) != NULL;
  }
  if (ok) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, provider, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, provider_id, -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_reset(st);
    if (!ok) oc_sqlite_fail(s, err, "recording a series' provider");
    else if (sqlite3_changes(s->db) > 0) ok = oc_sqlite_change_record(s, OC_CHANGE_OBSERVATIONS, name, err) == 0;
  }
  return oc_sqlite_op_end(s, ok, err);
}

static int sqlite_series_get(oc_store *store, const char *name, oc_series_info *info, bool *found, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = SERIES_INFO_COLUMNS " WHERE s.name = ?1";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *found = rc == SQLITE_ROW;
  if (rc == SQLITE_ROW) read_series_info(st, info);
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return oc_sqlite_fail(s, err, "reading a series");
  return 0;
}

static int sqlite_series_list(oc_store *store, oc_series_info **list, size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = SERIES_INFO_COLUMNS " ORDER BY s.name";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  oc_series_info *out = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&out, &cap, count + 1, sizeof *out);
    read_series_info(st, &out[count++]);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    oc_series_info_list_free(out, count);
    return oc_sqlite_fail(s, err, "listing series");
  }
  *list = out;
  *n = count;
  return 0;
}

/* ---- observations ------------------------------------------------------------------------------ */

/* Row i of the multi-row INSERT binds ?(3i+1..3i+3); source and ingested_at are bound once. */
#define UPSERT_CHUNK OC_SQLITE_ROWS_PER_INSERT
#define UPSERT_SOURCE_PARAM (3 * UPSERT_CHUNK + 1)
static char *insert_chunk_sql;

static void build_insert_chunk_sql(void) {
  char extra[32];
  snprintf(extra, sizeof extra, ", ?%d, ?%d", UPSERT_SOURCE_PARAM, UPSERT_SOURCE_PARAM + 1);
  insert_chunk_sql = oc_sqlite_rows_sql("INSERT INTO observations(series_id, date, value, source, ingested_at) VALUES ",
                                        UPSERT_CHUNK, extra, " ON CONFLICT(series_id, date) DO NOTHING");
}

char *oc_sqlite_rows_sql(const char *head, size_t rows, const char *extra, const char *tail) {
  oc_buf b = {0};
  oc_buf_puts(&b, head);
  for (size_t i = 0; i < rows; i++)
    oc_buf_printf(&b, "%s(?%zu, ?%zu, ?%zu%s)", i ? ", " : "", 3 * i + 1, 3 * i + 2, 3 * i + 3, extra);
  oc_buf_puts(&b, tail);
  return oc_buf_steal(&b);
}

void oc_sqlite_bind_observations(sqlite3_stmt *st, const oc_observation *obs, size_t k,
                                 char (*dates)[OC_DATE_STRLEN]) {
  for (size_t i = 0; i < k; i++) {
    oc_date_format(obs[i].date, dates[i]);
    sqlite3_bind_int64(st, (int)(3 * i + 1), obs[i].series_id);
    sqlite3_bind_text(st, (int)(3 * i + 2), dates[i], 10, SQLITE_STATIC);
    sqlite3_bind_double(st, (int)(3 * i + 3), obs[i].value);
  }
}

/* Inserts k rows with ins (k-row statement), then, when some already existed, runs the per-row update
 * (which changes only rows whose value differs: rows just inserted are untouched). */
static int upsert_rows(oc_sqlite_store *s, sqlite3_stmt *ins, int source_param, sqlite3_stmt *upd,
                       const oc_observation *obs, size_t k, const char *source, int64_t ingested_at,
                       oc_upsert_counts *counts, oc_error *err) {
  char dates[UPSERT_CHUNK][OC_DATE_STRLEN];
  oc_sqlite_bind_observations(ins, obs, k, dates);
  sqlite3_bind_text(ins, source_param, source, -1, SQLITE_STATIC);
  sqlite3_bind_int64(ins, source_param + 1, ingested_at);
  int rc = sqlite3_step(ins);
  sqlite3_reset(ins);
  if (rc != SQLITE_DONE) return oc_sqlite_fail(s, err, "inserting observations");
  int64_t inserted = sqlite3_changes(s->db), updated = 0;
  if ((size_t)inserted < k) {
    for (size_t i = 0; i < k; i++) {
      sqlite3_bind_int64(upd, 1, obs[i].series_id);
      sqlite3_bind_text(upd, 2, dates[i], 10, SQLITE_STATIC);
      sqlite3_bind_double(upd, 3, obs[i].value);
      sqlite3_bind_text(upd, 4, source, -1, SQLITE_STATIC);
      sqlite3_bind_int64(upd, 5, ingested_at);
      rc = sqlite3_step(upd);
      sqlite3_reset(upd);
      if (rc != SQLITE_DONE) return oc_sqlite_fail(s, err, "updating an observation");
      updated += sqlite3_changes(s->db);
    }
  }
  counts->inserted += inserted;
  counts->updated += updated;
  counts->unchanged += (int64_t)k - inserted - updated;
  return 0;
}

static int sqlite_observations_upsert(oc_store *store, const oc_observation *obs, size_t n, const char *source,
                                      int64_t ingested_at, oc_upsert_counts *counts, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  /* Insert first (the common case on a first import); a conflict means the date exists, and the update
   * only touches the row when the value differs. */
  static const char insert_one[] =
      "INSERT INTO observations(series_id, date, value, source, ingested_at) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT(series_id, date) DO NOTHING";
  static const char update[] =
      "UPDATE observations SET value = ?3, source = ?4, ingested_at = ?5 "
      "WHERE series_id = ?1 AND date = ?2 AND value IS NOT ?3";
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, build_insert_chunk_sql);
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  oc_upsert_counts local = {0};
  sqlite3_stmt *upd = oc_sqlite_stmt(s, update, err);
  sqlite3_stmt *chunk = upd && n >= UPSERT_CHUNK ? oc_sqlite_stmt(s, insert_chunk_sql, err) : NULL;
  sqlite3_stmt *one = upd && (n >= UPSERT_CHUNK ? chunk != NULL : true) ? oc_sqlite_stmt(s, insert_one, err) : NULL;
  bool ok = one != NULL;
  size_t i = 0;
  for (; ok && i + UPSERT_CHUNK <= n; i += UPSERT_CHUNK)
    ok = upsert_rows(s, chunk, UPSERT_SOURCE_PARAM, upd, obs + i, UPSERT_CHUNK, source, ingested_at, &local, err) == 0;
  for (; ok && i < n; i++) ok = upsert_rows(s, one, 4, upd, obs + i, 1, source, ingested_at, &local, err) == 0;
  /* One change per series and transaction, only when the batch wrote something. */
  if (ok && local.inserted + local.updated > 0) ok = oc_sqlite_changes_note_series(s, obs, n, err) == 0;
  if (oc_sqlite_op_end(s, ok, err) != 0) return -1;
  counts->inserted += local.inserted;
  counts->updated += local.updated;
  counts->unchanged += local.unchanged;
  return 0;
}

static int sqlite_series_load(oc_store *store, const char *name, oc_date from, oc_date to, oc_series *out,
                              oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "SELECT date, value FROM observations WHERE series_id = ?1 AND date >= ?2 AND date <= ?3 ORDER BY date";
  /* The series' id only (series_get would also count and date its observations: a second pass). */
  sqlite3_stmt *st = oc_sqlite_stmt(s, series_id_sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_reset(st);
  if (rc == SQLITE_DONE) return oc_error_set(err, "no series named '%s' in the store (see: oilcast series list)", name);
  if (rc != SQLITE_ROW) return oc_sqlite_fail(s, err, "looking up a series");
  if (!(st = oc_sqlite_stmt(s, sql, err))) return -1;
  sqlite3_bind_int64(st, 1, id);
  oc_sqlite_bind_date(st, 2, from == OC_DATE_INVALID ? oc_date_from_ymd(1, 1, 1) : from);
  oc_sqlite_bind_date(st, 3, to == OC_DATE_INVALID ? oc_date_from_ymd(9999, 12, 31) : to);
  oc_series_init(out, name, 0);
  size_t cap_dates = 0, cap_values = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&out->dates, &cap_dates, out->n + 1, sizeof *out->dates);
    oc_xgrow((void **)&out->values, &cap_values, out->n + 1, sizeof *out->values);
    out->dates[out->n] = oc_sqlite_column_date(st, 0);
    out->values[out->n] = sqlite3_column_double(st, 1);
    if (out->dates[out->n] == OC_DATE_INVALID) {
      sqlite3_reset(st);
      oc_series_free(out);
      return oc_error_set(err, "store %s: series '%s' holds a malformed date", s->path, name);
    }
    out->n++;
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    oc_series_free(out);
    return oc_sqlite_fail(s, err, "loading a series");
  }
  return 0;
}

static int sqlite_observations_count(oc_store *store, int64_t *count, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "SELECT count(*) FROM observations";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  if (sqlite3_step(st) != SQLITE_ROW) return oc_sqlite_fail(s, err, "counting observations");
  *count = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  return 0;
}

/* ---- ingest runs ------------------------------------------------------------------------------- */

static int sqlite_ingest_run_record(oc_store *store, oc_ingest_run *run, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "INSERT INTO ingest_runs(source_kind, path, raw_path, sha256, status, rows_read, rows_inserted,"
      " rows_updated, rows_unchanged, rows_rejected, rows_missing, negative_values, started_at, finished_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = false;
  if (st) {
    const char *texts[] = {run->source_kind, run->path, run->raw_path, run->sha256, run->status};
    for (int i = 0; i < 5; i++) sqlite3_bind_text(st, i + 1, texts[i] ? texts[i] : "", -1, SQLITE_STATIC);
    const int64_t numbers[] = {run->rows_read,     run->rows_inserted, run->rows_updated,
                               run->rows_unchanged, run->rows_rejected, run->rows_missing,
                               run->negative_values, run->started_at,  run->finished_at};
    for (int i = 0; i < 9; i++) sqlite3_bind_int64(st, i + 6, numbers[i]);
    if (sqlite3_step(st) == SQLITE_DONE) {
      run->id = sqlite3_last_insert_rowid(s->db);
      ok = true;
    } else {
      oc_sqlite_fail(s, err, "recording an ingest run");
    }
    sqlite3_reset(st);
  }
  if (ok) ok = oc_sqlite_ingest_run_series_record(s, run, err) == 0;
  if (ok) {
    char subject[24];
    snprintf(subject, sizeof subject, "%lld", (long long)run->id);
    ok = oc_sqlite_change_record(s, OC_CHANGE_INGEST_RUN, subject, err) == 0;
  }
  return oc_sqlite_op_end(s, ok, err);
}

static const oc_store_ops sqlite_ops = {
    .backend = "sqlite",
    .close = sqlite_close,
    .set_wait = sqlite_set_wait,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .schema_version = sqlite_schema_version,
    .series_ensure = sqlite_series_ensure,
    .series_get = sqlite_series_get,
    .series_list = sqlite_series_list,
    .series_provider_set = sqlite_series_provider_set,
    .observations_upsert = sqlite_observations_upsert,
    .series_load = sqlite_series_load,
    .observations_count = sqlite_observations_count,
    .ingest_run_record = sqlite_ingest_run_record,
    .ingest_runs_after = oc_sqlite_ingest_runs_after,
    .api_key_insert = oc_sqlite_api_key_insert,
    .api_key_list = oc_sqlite_api_key_list,
    .api_key_revoke = oc_sqlite_api_key_revoke,
    .model_version_register = oc_sqlite_model_version_register,
    .model_version_get = oc_sqlite_model_version_get,
    .model_version_list = oc_sqlite_model_version_list,
    .endpoint_set = oc_sqlite_endpoint_set,
    .endpoint_get = oc_sqlite_endpoint_get,
    .backtest_save = oc_sqlite_backtest_save,
    .backtest_latest = oc_sqlite_backtest_latest,
    .forecast_save = oc_sqlite_forecast_save,
    .forecast_latest = oc_sqlite_forecast_latest,
    .forecast_score = oc_sqlite_forecast_score,
    .forecast_performance = oc_sqlite_forecast_performance,
    .job_run_start = oc_sqlite_job_run_start,
    .job_run_finish = oc_sqlite_job_run_finish,
    .job_runs_list = oc_sqlite_job_runs_list,
    .job_last_slot = oc_sqlite_job_last_slot,
    .job_state_get = oc_sqlite_job_state_get,
    .job_pause = oc_sqlite_job_pause,
    .job_failures = oc_sqlite_job_failures,
    .changes_after = oc_sqlite_changes_after,
    .changes_latest = oc_sqlite_changes_latest,
    .changes_wait = oc_sqlite_changes_wait,
    .changes_interrupt = oc_sqlite_changes_interrupt,
    .change_note = oc_sqlite_change_note,
    .alert_save = oc_sqlite_alert_save,
    .alerts_list = oc_sqlite_alerts_list,
    .alert_history = oc_sqlite_alert_history,
    .decision_record = oc_sqlite_decision_record,
    .decisions_list = oc_sqlite_decisions_list,
    .challenger_get = oc_sqlite_challenger_get,
    .challenger_put = oc_sqlite_challenger_put,
    .forecast_errors = oc_sqlite_forecast_errors,
    .forecast_scored_points = oc_sqlite_forecast_scored_points,
    .snapshot_to = oc_sqlite_snapshot_to,
    .integrity_check = oc_sqlite_integrity_check,
    .device_put = oc_sqlite_device_put,
    .device_get = oc_sqlite_device_get,
    .device_list = oc_sqlite_device_list,
    .device_revoke = oc_sqlite_device_revoke,
    .table_read = oc_sqlite_table_read,
    .table_write = oc_sqlite_table_write,
    .sensor_reading_insert = oc_sqlite_sensor_reading_insert,
    .sensor_reading_get = oc_sqlite_sensor_reading_get,
    .sensor_watermark_get = oc_sqlite_sensor_watermark_get,
    .sensor_watermark_set = oc_sqlite_sensor_watermark_set,
    .sensor_window_recompute = oc_sqlite_sensor_window_recompute,
    .dead_letter_insert = oc_sqlite_dead_letter_insert,
    .dead_letters_list = oc_sqlite_dead_letters_list,
    .sensor_windows_list = oc_sqlite_sensor_windows_list,
    .sensor_stats = oc_sqlite_sensor_stats,
    .sensor_readings_recent = oc_sqlite_sensor_readings_recent,
    .sensor_anomaly_insert = oc_sqlite_sensor_anomaly_insert,
    .endpoint_config_set = oc_sqlite_endpoint_config_set,
    .endpoint_config_get = oc_sqlite_endpoint_config_get,
    .endpoint_names = oc_sqlite_endpoint_names,
    .series_range_set = oc_sqlite_series_range_set,
    .series_range_get = oc_sqlite_series_range_get,
    .sensor_last_raise = oc_sqlite_sensor_last_raise,
    .sensor_watch_list = oc_sqlite_sensor_watch_list,
    .sensor_anomaly_end = oc_sqlite_sensor_anomaly_end,
    .sensor_anomaly_get = oc_sqlite_sensor_anomaly_get,
    .sensor_window_get = oc_sqlite_sensor_window_get,
    .leader_try_acquire = oc_sqlite_leader_try_acquire,
    .rate_take = oc_sqlite_rate_take,
    .backtest_years_save = oc_sqlite_backtest_years_save,
    .backtest_years_latest = oc_sqlite_backtest_years_latest,
    .forecasts_save = oc_sqlite_forecasts_save,
};

static const oc_store_stage_ops sqlite_stage_ops = {
    .observations_stage = oc_sqlite_observations_stage,
    .observations_stage_move = oc_sqlite_observations_stage_move,
    .observations_stage_clear = oc_sqlite_observations_stage_clear,
};

/* Whether this process may create files in the folder holding path (SQLite's -wal, -shm, journals). */
static bool writable_folder_of(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
  bool writable = dir && access(dir, W_OK) == 0 && access(path, W_OK) == 0;
  free(dir);
  return writable;
}

/* Process-wide SQLite settings, once, before the first connection: no memory statistics (their global
 * mutex is taken on every allocation, visible on large imports). Statement journals keep SQLite's
 * default spill threshold (64 KiB): larger thresholds are also the in-memory journal's chunk size, and
 * SQLite 3.40.1 failed an upsert with SQLITE_FULL at 256 and 512 KiB (test_import_staging), while 16
 * MiB allocated 16 MiB per journaled statement (docs/market.md). Fails harmlessly when the host
 * program initialised SQLite itself. */
static void configure_sqlite(void) {
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  sqlite3_initialize();
}

oc_store *oc_store_sqlite_open(const char *location, oc_error *err) {
  /* sqlite:///abs/path and sqlite://rel are both common spellings; keep the path part. */
  const char *path = strncmp(location, "//", 2) == 0 ? location + 2 : location;
  if (!*path) {
    oc_error_set(err, "store 'sqlite:%s' names no database file", location);
    return NULL;
  }
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, configure_sqlite);
  oc_sqlite_store *s = oc_xcalloc(1, sizeof *s);
  s->base.ops = &sqlite_ops;
  s->base.stage = &sqlite_stage_ops;
  s->path = oc_xstrdup(path);
  s->leader_fd = -1;
  pthread_mutex_init(&s->watch_lock, NULL);
  atomic_init(&s->interrupted, false);
  /* A database that exists in a folder this process cannot write (a read-only copy, a read-only mount)
   * opens immutable when its WAL is empty or gone: SQLite then needs no -shm or lock file beside it and
   * reads it as it stands. Commits still in the WAL (nothing checkpoints at close) would be missed that
   * way, so with a WAL the copy opens read-only through its existing -wal and -shm files. */
  s->read_only = access(path, F_OK) == 0 && !writable_folder_of(path);
  char *wal_path = sqlite3_mprintf("%s-wal", path);
  struct stat wal_stat;
  bool wal_pending = s->read_only && stat(wal_path, &wal_stat) == 0 && wal_stat.st_size > 0;
  sqlite3_free(wal_path);
  char *uri = sqlite3_mprintf(wal_pending ? "file:%s?mode=ro" : "file:%s?mode=ro&immutable=1", path);
  /* NOMUTEX: one connection is used by one thread at a time (store.h), so SQLite's per-call mutex
   * is pure overhead on the import path. */
  int opened = s->read_only ? sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL)
                            : sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  sqlite3_free(uri);
  if (opened != SQLITE_OK) {
    oc_error_set(err, "cannot open store %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
    sqlite_close(&s->base);
    return NULL;
  }
  sqlite3_extended_result_codes(s->db, 1);
  s->wait = (oc_store_wait){.max_seconds = OC_STORE_WAIT_DEFAULT_SECONDS, .report_every = 5};
  sqlite3_busy_handler(s->db, on_busy, s);
  char *real = realpath(path, NULL); /* one turn per database file, however it is named */
  s->turn = oc_store_turn_get(real ? real : path);
  free(real);
  /* WAL: readers (serve, dashboard) never block the writer (ingest). FULL sync: a committed import
   * survives power loss. */
  /* 16 KiB pages (a new database only; ignored later): a quarter of the page writes and B-tree
   * levels on large imports. */
  sqlite3_exec(s->db, "PRAGMA page_size=16384", NULL, NULL, NULL);
  sqlite3_stmt *st = NULL;
  bool wal = s->read_only || (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
                              sqlite3_step(st) == SQLITE_ROW &&
                              strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0);
  if (!wal) oc_sqlite_fail(s, err, "switching to WAL mode");
  sqlite3_finalize(st);
  /* No checkpoint when the last connection closes. A commit is durable once its WAL frames are
   * synced (synchronous=FULL below); the checkpoint that copies them into the database file costs two
   * more syncs and the page writes, and at close it ran at the end of every `oilcast` command (an
   * import paid for it before it could exit). Now SQLite's automatic checkpoint (passive, once the WAL
   * holds wal_autocheckpoint = 1000 pages) does that work for many commits at once, and
   * journal_size_limit truncates the WAL back to that size when it restarts, so a large import's
   * WAL does not stay on disk. The WAL file therefore outlives the processes: a copy of the database
   * is taken with `oilcast backup` (a snapshot), never by copying oilcast.db alone. */
  if (wal) sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  /* A 64 MiB page cache (allocated only as used) keeps a large import's B-tree pages in memory instead
   * of spilling them to the WAL and rewriting them. */
  if (!wal || sqlite_exec(s, "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536; "
                                  "PRAGMA journal_size_limit=16777216", err) != 0 ||
      migrate(s, err) != 0) {
    sqlite_close(&s->base);
    return NULL;
  }
  return &s->base;
}
