/* store.h: the one interface to persistence. Callers hold an `oc_store *` and call the inline
 * oc_store_xxx() wrappers below; a backend fills a `struct oc_store_ops` table of function pointers
 * and embeds `struct oc_store` as the first member of its own connection struct (the way Redis'
 * connection.h does it). oc_store_open() picks the backend from the URI's scheme in the table of
 * backends in store.c (oc_store_backends()):
 *   sqlite:/path/oilcast.db                (store_sqlite*.c, the embedded default)
 *   postgresql://user@host:port/database   (store_pg*.c, docs/postgresql.md)
 * Nothing outside src/store/store_sqlite*.c and src/store/store_pg*.c may mention a backend's types or
 * SQL text.
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
 * unavailable; the PostgreSQL backend inserts the same rows and waits with LISTEN/NOTIFY (a NOTIFY
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

/* One stored robustness report (`oilcast backtest --by-year`, migration 21): its configuration and the
 * report document, the JSON that GET /v1/backtests/years returns (model/backtest_years.h). Strings
 * owned by the struct when filled by the store (free with oc_backtest_years_record_free); only read
 * when passed to backtest_years_save. */
typedef struct oc_backtest_years_record {
  int64_t id; /* set by backtest_years_save */
  char *series;
  int64_t created_at; /* Unix seconds */
  char *models;       /* model specs as given, comma-separated */
  char *exog;         /* --exog as given, comma-separated; "" for none */
  int64_t horizon, refit_every, from_year, to_year;
  char *report_json;
} oc_backtest_years_record;

/* What a change concerns, and its subject: observations of a series (its name; one change per series
 * per transaction that inserted or updated rows in a batch containing it), an ingest run (its id), a
 * backtest (its series), a model version ("vN"), an endpoint (its name), an API key (its id, or the id
 * or name a revocation named), a stored forecast (its series), a scheduled job's run or state (the
 * job's name), a champion/challenger decision (its endpoint), an alert's state (its rule's name), a
 * registered device (its id), a sensor anomaly stored or ended ("DEVICE/MEASUREMENT/KIND/EVENT_MS"), a
 * sensor window of the smallest width recomputed ("DEVICE/MEASUREMENT/WIDTH_MS/START_MS"; the larger
 * windows are made from it). */
typedef enum oc_change_kind {
  OC_CHANGE_OBSERVATIONS = 1,
  OC_CHANGE_INGEST_RUN,
  OC_CHANGE_BACKTEST,
  OC_CHANGE_MODEL,
  OC_CHANGE_ENDPOINT,
  OC_CHANGE_API_KEY,
  OC_CHANGE_FORECAST,
  OC_CHANGE_JOB,
  OC_CHANGE_DECISION, /* a champion/challenger decision about an endpoint (its name) */
  OC_CHANGE_ALERT,
  OC_CHANGE_DEVICE,
  OC_CHANGE_SENSOR_ANOMALY,
  OC_CHANGE_SENSOR_WINDOW,
} oc_change_kind;
#define OC_CHANGE_KIND_COUNT 13
#define OC_CHANGE_SUBJECT_MAX 128

typedef struct oc_change {
  int64_t id; /* > 0, increasing in commit order */
  oc_change_kind kind;
  char subject[OC_CHANGE_SUBJECT_MAX];
  int64_t at; /* Unix seconds */
} oc_change;

/* "observations", "ingest_run", "backtest", "model", "endpoint", "api_key", "forecast", "job", "decision",
 * "alert", "device", "sensor_anomaly", "sensor_window". */
const char *oc_change_kind_name(oc_change_kind kind);
/* -1 for a name that is not a kind. */
int oc_change_kind_parse(const char *name, oc_change_kind *kind);

/* A line: the series, endpoint, variant, model version and horizon whose forecasts are followed over
 * origins (the labels of a performance row and of a scored point). */
typedef struct oc_forecast_line {
  char series[OC_SERIES_NAME_MAX + 1];
  char endpoint[128], variant[64], model_version[64];
  int64_t horizon;
} oc_forecast_line;

/* How the forecasts of one (series, endpoint, variant, model version, horizon) did against the prices
 * that followed, over its latest `window` scored origins (one forecast per origin: the newest made
 * for it that reaches the horizon, so a later shorter forecast does not hide it). naive_mae is the no-change forecast's error on the same origins; coverage is the share of
 * actual prices inside the 80% / 95% bands; bias is the mean of forecast - actual. */
typedef struct oc_forecast_performance {
  oc_forecast_line line; /* whose forecasts */
  int64_t origins;       /* scored origins in the window */
  oc_date first_origin, last_origin;
  double mae, naive_mae, coverage80, coverage95, bias;
} oc_forecast_performance;

/* One scored point (forecast_scored_points): a forecast from origin at step horizon against the price
 * that followed, with the no-change forecast's error on the same origin. */
typedef struct oc_scored_point {
  oc_forecast_line line; /* whose forecast */
  oc_date origin;
  double error;           /* forecast - actual */
  double naive_abs_error; /* |price at origin - actual| */
  bool in80, in95;        /* actual inside the 80% / 95% band */
} oc_scored_point;

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

/* A job's failing streak: how many of its latest finished runs failed (or were abandoned) in a row,
 * newest first (0 when the latest finished run succeeded). */
typedef struct oc_job_failures {
  char job[OC_JOB_NAME_MAX + 1];
  int64_t consecutive;
} oc_job_failures;

/* What the scheduler keeps about a job between runs: paused or not, and when it was first seen (no
 * slot before it is ever caught up: a new job does not run for the past). */
typedef struct oc_job_state {
  bool paused;
  int64_t first_seen; /* Unix seconds */
} oc_job_state;

/* Alerts (src/monitor/alerts.h): one rule's condition on one set of labels, known by its fingerprint,
 * with the state the evaluator keeps between runs. Times are Unix seconds, 0 when not (yet). */
#define OC_ALERT_FINGERPRINT_LEN 16
#define OC_ALERT_RULE_MAX 64
typedef struct oc_alert {
  char fingerprint[OC_ALERT_FINGERPRINT_LEN + 1]; /* hex */
  char rule[OC_ALERT_RULE_MAX + 1];
  char state[16];          /* "pending", "firing", "resolved" */
  char *labels_json;       /* a JSON object of strings (alertname included); owned */
  char *annotations_json;  /* a JSON object of strings; owned */
  double value;            /* the figure at the last evaluation that saw it (NaN: none) */
  int64_t active_since;    /* when the condition began to hold */
  int64_t fired_at, resolved_at;
  int64_t updated_at;
  char notified[16];       /* the state last delivered to every webhook ("" none yet) */
} oc_alert;

/* One state change of an alert, as kept in its history. */
typedef struct oc_alert_event {
  int64_t id;
  char fingerprint[OC_ALERT_FINGERPRINT_LEN + 1];
  char rule[OC_ALERT_RULE_MAX + 1];
  char state[16];
  double value;
  int64_t at;
  char *labels_json; /* owned */
} oc_alert_event;
/* A field sensor of the device registry (issue 15): who may publish readings over MQTT, under the topic
 * oil/sensors/<id>/..., and what its readings must look like. The id is also its broker user name.
 * Ids are never reused: a revoked device keeps its row (revoked_at > 0) and its id stays taken. */
#define OC_DEVICE_ID_MAX 64
/* The largest magnitude of a device's valid range: any window's sum of readings stays finite. */
#define OC_DEVICE_VALUE_MAX 1e15
typedef struct oc_device {
  char id[OC_DEVICE_ID_MAX + 1]; /* [A-Za-z0-9_-]{1,64} (oc_device_check) */
  char site[128];                /* where it is, free text ("cushing-tank-7"); may be "" */
  char type[32];                 /* one of oc_device_types() */
  char unit[32];                 /* of its readings ("bar", "m3/h", "m", "degC", "bbl/d") */
  double valid_min, valid_max;   /* within +-OC_DEVICE_VALUE_MAX, valid_min < valid_max: a reading outside is
                                    invalid */
  int64_t interval_seconds;      /* expected reporting interval, > 0 (silence past it is an anomaly) */
  char password_hash[192];       /* its broker password as mosquitto_passwd stores it ("$7$101$salt$hash");
                                    never the password itself */
  int64_t created_at, revoked_at; /* Unix seconds; revoked_at 0 = active */
} oc_device;

/* A device type: its name and the defaults a device of the type gets (unit, valid range, interval). */
typedef struct oc_device_type {
  const char *name;
  const char *unit;
  double valid_min, valid_max;
  int64_t interval_seconds;
} oc_device_type;

/* Every known type: pipeline_pressure, pipeline_flow, tank_level, wellhead_temperature,
 * refinery_throughput, ... (src/store/store_devices.c). */
const oc_device_type *oc_device_types(size_t *n);
/* The type named name, or NULL. */
const oc_device_type *oc_device_type_find(const char *name);
/* 0 when d can be stored (id, type, unit, range, interval, password hash as documented above); else -1
 * and *reason says which field is wrong and why (a static string). */
int oc_device_check(const oc_device *d, const char **reason);

/* What a connection does when it needs the write lock that another process holds (a long import, a
 * training run registering its model; the writers of one process queue behind each other in the
 * process, without a limit, since their writes are short): wait up to max_seconds, calling waiting() every
 * report_every seconds meanwhile so the caller can say why it is quiet, then fail with an error of
 * kind OC_ERROR_BUSY that says so (never a bare "database is locked"). Readers never wait for a
 * writer. A new connection waits OC_STORE_WAIT_DEFAULT_SECONDS without reports. */
/* Champion/challenger promotion (monitor/promote.h). A decision: what the promotion loop did about an
 * endpoint and why, with the figures it decided on (a JSON object as text). */
typedef struct oc_promotion_decision {
  int64_t id; /* set by decision_record */
  char endpoint[128];
  int64_t at;        /* Unix seconds, the loop's clock */
  char action[16];   /* "trigger", "training", "deploy", "promote", "rollback", "refusal" */
  char trigger[16];  /* what started it: "schedule", "degradation", "drift", "alert", "manual"; "" for none */
  int64_t version;   /* the version decided about (a challenger, a promoted or restored version); 0 for none */
  int64_t champion;  /* the endpoint's champion when deciding; 0 for none */
  char reason[512];
  char figures[1024]; /* JSON object */
} oc_promotion_decision;

/* What the promotion loop keeps per endpoint between runs. Dates are origins (the last observation a
 * forecast saw); OC_DATE_INVALID for none. */
typedef struct oc_challenger_state {
  char endpoint[128];
  int64_t challenger;       /* the version under evaluation, 0 for none */
  char mode[16];            /* "shadow" (forecasts stored, never served) or "variant" (served at a small weight) */
  oc_date challenger_since; /* origins after this one count for the challenger */
  char pending_trigger[16]; /* a trigger received (an alert webhook) that the next run acts on; "" for none */
  char pending_reason[256];
  int64_t promoted;         /* the version last promoted, watched for degradation; 0 for none */
  int64_t previous;         /* the champion it replaced: the rollback target */
  oc_date promoted_since;   /* origins after this one count for the promoted version */
  oc_date quiet_until;      /* degradation counts only origins after this (the last challenger decision) */
  oc_date forecast_origin;  /* the latest origin the loop forecast from */
} oc_challenger_state;

/* One scored origin of a version: the absolute error of its newest forecast from that origin at one
 * horizon and the no-change forecast's on the same origin. */
typedef struct oc_scored_error {
  oc_date origin;
  double abs_error, naive_abs_error;
} oc_scored_error;

typedef struct oc_store_wait {
  double max_seconds;  /* 0: fail at once; < 0: wait as long as it takes */
  double report_every; /* > 0 */
  void (*waiting)(void *ctx, double waited_seconds); /* may be NULL */
  void *ctx;
} oc_store_wait;
#define OC_STORE_WAIT_DEFAULT_SECONDS 10.0

struct oc_store_table;
/* The sensor stream (issue 15, mqttstream): readings stored once per (device, seq, measurement), the
 * dead letters (messages that could not be read, with the reason and the raw bytes), per-device
 * watermarks and the tumbling-window aggregates recomputed from the readings. */
#define OC_SENSOR_DEVICE_MAX 64
#define OC_SENSOR_MEASUREMENT_MAX 32
#define OC_SENSOR_UNIT_MAX 16
/* Whether unit is one a reading may carry: 1..OC_SENSOR_UNIT_MAX bytes of [A-Za-z0-9_.-/%] ("m3/h",
 * "degC"). The one rule of the payload (ingest/mqtt_payload.h) and the registry (oc_device_check: a
 * device whose unit no reading can carry would have every reading dead-lettered). */
bool oc_sensor_unit_valid(const char *unit);

typedef struct oc_sensor_reading {
  char device_id[OC_SENSOR_DEVICE_MAX + 1];
  char measurement[OC_SENSOR_MEASUREMENT_MAX + 1];
  char unit[OC_SENSOR_UNIT_MAX + 1];
  int64_t seq;      /* the device's message number, >= 0 */
  int64_t event_ms; /* event time, Unix milliseconds */
  double value;
} oc_sensor_reading;

typedef struct oc_dead_letter {
  int64_t id;          /* set when stored/listed */
  int64_t received_ms; /* Unix milliseconds (the first time, when it came again) */
  int64_t seen;             /* times received (set when stored/listed): a redelivery counts here */
  int64_t last_received_ms; /* the latest time (set when listed) */
  char topic[256];
  char reason[256];
  uint8_t *raw; /* the payload as received (listing: malloc'd, free with oc_dead_letter_list_free) */
  size_t raw_len;
} oc_dead_letter;

/* One window: [start_ms, start_ms + width_ms) of a device's measurement, over its on-time readings. */
typedef struct oc_sensor_window {
  char device_id[OC_SENSOR_DEVICE_MAX + 1];
  char measurement[OC_SENSOR_MEASUREMENT_MAX + 1];
  int64_t width_ms, start_ms;
  int64_t count;
  double mean, min, max, last; /* last: the value with the latest (event time, seq) */
} oc_sensor_window;

/* A reading the stream's detectors flagged (kind "spike", "stuck"), once per (device, measurement,
 * kind, event time); or a silence (kind "silence", stream/silence.h): the sensor's last reading before
 * it went quiet (its event time, seq and value), once per episode. */
#define OC_SENSOR_ANOMALY_KIND_MAX 15
typedef struct oc_sensor_anomaly {
  char device_id[OC_SENSOR_DEVICE_MAX + 1];
  char measurement[OC_SENSOR_MEASUREMENT_MAX + 1];
  char kind[OC_SENSOR_ANOMALY_KIND_MAX + 1];
  int64_t event_ms, seq, detected_ms;
  double value, score; /* score: the robust z of a spike, the run length of a stuck value, the silence's
                          length in expected intervals when it was detected */
  int64_t ended_ms;    /* silence: the event time of the reading that ended it; 0 while it lasts, and
                          for the other kinds */
} oc_sensor_anomaly;

/* The subject of a sensor change (OC_CHANGE_SENSOR_ANOMALY, OC_CHANGE_SENSOR_WINDOW): the key of the row
 * it names as "DEVICE/MEASUREMENT/PART/NUMBER", PART being an anomaly's kind or a window's width in ms
 * and NUMBER its event time or start (device ids and measurement names hold no '/'). Every such key
 * fits OC_CHANGE_SUBJECT_MAX (asserted). */
void oc_sensor_change_subject(char out[OC_CHANGE_SUBJECT_MAX], const char *device_id, const char *measurement,
                              const char *part, int64_t number);
/* What every backend's sensor_reading_insert checks first: 0, or -1 with "store DISPLAY: sensor reading
 * DEVICE/MEASUREMENT seq N: value V is not finite" (a window's sum must stay finite; SQLite would
 * store NaN as NULL, which its NOT NULL column refuses), of kind OC_ERROR_INVALID, as the next one's. */
int oc_store_sensor_reading_check(const char *display, const oc_sensor_reading *r, oc_error *err);
/* What every backend's sensor_anomaly_insert checks first: 0, or -1 with "store DISPLAY: sensor anomaly
 * DEVICE/MEASUREMENT KIND at EVENT_MS: value V is not finite" (an anomaly's value is a stored reading's)
 * or "...: score is not a number" (SQLite would store NaN as NULL, which INSERT OR IGNORE then dropped
 * without a word, where PostgreSQL refused it). An infinite score (a spike against a tiny spread) is
 * kept on both. */
int oc_store_sensor_anomaly_check(const char *display, const oc_sensor_anomaly *a, oc_error *err);
/* Splits a subject made by oc_sensor_change_subject; -1 when it is not one. */
int oc_sensor_change_subject_parse(const char *subject, char device_id[OC_SENSOR_DEVICE_MAX + 1],
                                   char measurement[OC_SENSOR_MEASUREMENT_MAX + 1], char part[24], int64_t *number);

/* What the silence detector watches per (device, measurement) of an active device: its latest reading
 * (by event time, then seq), the device's expected interval, and the silence episode still open for it
 * (open false: none; else the episode's anomaly key, its event time). */
typedef struct oc_sensor_watch {
  oc_sensor_reading last;
  int64_t interval_seconds;
  bool open;
  int64_t open_event_ms;
} oc_sensor_watch;

typedef struct oc_sensor_stats {
  int64_t readings, late_readings, dead_letters, windows, anomalies;
} oc_sensor_stats;

void oc_dead_letter_list_free(oc_dead_letter *rows, size_t n);

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
  /* Forecasts made: save sets rec->id; latest is the newest "stored"-history forecast of the series that
   * was served (a challenger's shadow forecast, variant "shadow", is scored but never the latest;
   * *found = false when there is none). */
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
   * the job as first seen at now when it is new; job_pause sets paused (creating the state).
   * job_failures: every job with a finished run, by name, with its failing streak (counted over its
   * whole history, however many runs other jobs made since; free *rows with free()). */
  int (*job_run_start)(oc_store *store, oc_job_run *run, bool *claimed, oc_error *err);
  int (*job_run_finish)(oc_store *store, const oc_job_run *run, oc_error *err);
  int (*job_runs_list)(oc_store *store, const char *job, const char *status, size_t limit, oc_job_run **runs,
                       size_t *n, oc_error *err);
  int (*job_last_slot)(oc_store *store, const char *job, int64_t *slot, oc_error *err);
  int (*job_state_get)(oc_store *store, const char *job, int64_t now, oc_job_state *out, oc_error *err);
  int (*job_pause)(oc_store *store, const char *job, bool paused, int64_t now, oc_error *err);
  int (*job_failures)(oc_store *store, oc_job_failures **rows, size_t *n, oc_error *err);

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

  /* Champion/challenger promotion (monitor/promote.h; migration 17). decision_record appends d (its
   * change: OC_CHANGE_DECISION, the endpoint) and sets d->id; decisions_list: newest first, of one
   * endpoint (every endpoint when NULL), at most limit (free *out with free()). challenger_get: the
   * endpoint's state, or *found = false and a cleared state naming it; challenger_put replaces it.
   * forecast_errors: per origin after `after` (OC_DATE_INVALID: any), the newest stored-history
   * forecast of the endpoint by model_version ("vN") that reaches step horizon, scored there; the latest `limit`
   * origins, ascending (free *rows with free()). */
  int (*decision_record)(oc_store *store, oc_promotion_decision *d, oc_error *err);
  int (*decisions_list)(oc_store *store, const char *endpoint, size_t limit, oc_promotion_decision **out, size_t *n,
                        oc_error *err);
  int (*challenger_get)(oc_store *store, const char *endpoint, oc_challenger_state *st, bool *found, oc_error *err);
  int (*challenger_put)(oc_store *store, const oc_challenger_state *st, oc_error *err);
  int (*forecast_errors)(oc_store *store, const char *endpoint, const char *model_version, int64_t horizon,
                         oc_date after, size_t limit, oc_scored_error **rows, size_t *n, oc_error *err);
  /* Alerts (monitor/alerts.h). alert_save inserts or replaces the alert of alert->fingerprint and,
   * when record_event, appends its state, value and updated_at to the history (one change of kind
   * alert per call). alerts_list: every alert in one state (any when NULL), by rule then fingerprint.
   * alert_history: the newest events first, of one fingerprint (any when NULL), at most limit. Free
   * with oc_alert_list_free / oc_alert_event_list_free. */
  int (*alert_save)(oc_store *store, const oc_alert *alert, bool record_event, oc_error *err);
  int (*alerts_list)(oc_store *store, const char *state, oc_alert **list, size_t *n, oc_error *err);
  int (*alert_history)(oc_store *store, const char *fingerprint, size_t limit, oc_alert_event **events, size_t *n,
                       oc_error *err);
  /* Backups (ops/backup.h). snapshot_to: a consistent copy of the whole store, as of one moment, into
   * the new file path (which must not exist), while other connections keep writing (SQLite: VACUUM INTO
   * in a read transaction); not inside an explicit transaction. integrity_check: 0 when the backend's
   * own check of its files passes (SQLite: PRAGMA integrity_check), else -1 with its first complaint. */
  int (*snapshot_to)(oc_store *store, const char *path, oc_error *err);
  int (*integrity_check)(oc_store *store, oc_error *err);
  /* Device registry (field sensors over MQTT, issue 15). device_put: registers a new device, or replaces
   * an active one's fields (keeping its created_at); a revoked id is refused (ids are never reused) and
   * so is a device that fails oc_device_check. device_get: *found = false when no device has the id.
   * device_list: by id, active ones only unless include_revoked (free *rows with free()). device_revoke:
   * sets revoked_at = at on the active device with the id; *found = false when no device has it (a
   * device revoked before is found and left alone). Each write records an OC_CHANGE_DEVICE change. */
  int (*device_put)(oc_store *store, const oc_device *device, oc_error *err);
  int (*device_get)(oc_store *store, const char *id, oc_device *out, bool *found, oc_error *err);
  int (*device_list)(oc_store *store, bool include_revoked, oc_device **rows, size_t *n, oc_error *err);
  int (*device_revoke)(oc_store *store, const char *id, int64_t at, bool *found, oc_error *err);
  /* Store copy (`oilcast migrate`, oc_store_copy). table_read hands each row of table (one of
   * oc_store_tables()) to row, in key order, every column as text: NULL for SQL NULL, integers in
   * decimal, doubles in their shortest exact form (oc_format_number), dates ISO; a non-zero
   * return from row stops the reading and is returned. table_write appends nrows rows (values row
   * after row, NULL for SQL NULL) to table as they are, inside the caller's transaction, recording no
   * change (the change log is itself copied as a table). */
  int (*table_read)(oc_store *store, const struct oc_store_table *table,
                    int (*row)(void *ctx, const char *const *values), void *ctx, oc_error *err);
  int (*table_write)(oc_store *store, const struct oc_store_table *table, const char *const *values, size_t nrows,
                     oc_error *err);

  /* The sensor stream (issue 15, mqttstream; store_sqlite_stream.c). sensor_reading_insert stores r
   * (late: it came after its windows' grace) unless (device, seq, measurement) is stored already
   * (*inserted = false). sensor_reading_get: the reading stored under (device, seq, measurement)
   * (*found = false: none), which tells a redelivery from a sequence number used again. sensor_watermark_get: the device's highest event time seen
   * (*found = false for a new device); _set raises it (never lowers it). sensor_window_recompute
   * writes the window from the on-time readings stored in it (in (event time, seq) order), or, when
   * part_ms > 0, from its stored windows of width part_ms (which divides width_ms; in start order):
   * either way the aggregate does not depend on arrival order. dead_letter_insert stores one dead letter (sets id
   * and seen), keyed by its topic and bytes (migration 22): the same bytes on the same topic again (an
   * MQTT redelivery) count in the stored row's seen and last_received_ms instead;
   * dead_letters_list: newest first, at most limit. sensor_windows_list: a device's windows of one
   * measurement and width, ascending (device/measurement NULL = all). sensor_stats: the counts
   * /metrics shows. Free lists with free() (dead letters: oc_dead_letter_list_free). */
  int (*sensor_reading_insert)(oc_store *store, const oc_sensor_reading *r, bool late, bool *inserted,
                               oc_error *err);
  int (*sensor_reading_get)(oc_store *store, const char *device_id, int64_t seq, const char *measurement,
                            oc_sensor_reading *out, bool *found, oc_error *err);
  int (*sensor_watermark_get)(oc_store *store, const char *device_id, int64_t *event_ms, bool *found,
                              oc_error *err);
  int (*sensor_watermark_set)(oc_store *store, const char *device_id, int64_t event_ms, oc_error *err);
  int (*sensor_window_recompute)(oc_store *store, const char *device_id, const char *measurement,
                                 int64_t width_ms, int64_t start_ms, int64_t part_ms, oc_error *err);
  int (*dead_letter_insert)(oc_store *store, oc_dead_letter *dl, oc_error *err);
  int (*dead_letters_list)(oc_store *store, size_t limit, oc_dead_letter **rows, size_t *n, oc_error *err);
  int (*sensor_windows_list)(oc_store *store, const char *device_id, const char *measurement, int64_t width_ms,
                             oc_sensor_window **rows, size_t *n, oc_error *err);
  int (*sensor_stats)(oc_store *store, oc_sensor_stats *out, oc_error *err);
  /* The latest `limit` on-time readings of a device's measurement, ascending by (event time, seq)
   * (free with free()); an anomaly stored unless stored already (*inserted). */
  int (*sensor_readings_recent)(oc_store *store, const char *device_id, const char *measurement, size_t limit,
                                oc_sensor_reading **rows, size_t *n, oc_error *err);
  int (*sensor_anomaly_insert)(oc_store *store, const oc_sensor_anomaly *a, bool *inserted, oc_error *err);
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

  /* ---- Sensor silence and the live sensor feed (issue 15, sensorslive; store_sqlite_sensors_live.c). ----
   * sensor_last_raise: makes r its sensor's latest reading when it is later by (event time, seq) than
   * the one kept. sensor_watch_list: one row per sensor of an active device that has a reading, by
   * device and measurement (free with free()). sensor_anomaly_end: sets ended_ms on the anomaly with the
   * key (device, measurement, kind, event_ms) while it has none (*ended: it had none), recording an
   * OC_CHANGE_SENSOR_ANOMALY change. sensor_anomaly_get / sensor_window_get: the anomaly or window with
   * the key a change names (*found false: none). sensor_anomaly_insert records an OC_CHANGE_SENSOR_ANOMALY
   * change for each anomaly it stores, and sensor_window_recompute an OC_CHANGE_SENSOR_WINDOW change for
   * each window it computes from readings (part_ms = 0). */
  int (*sensor_last_raise)(oc_store *store, const oc_sensor_reading *r, oc_error *err);
  int (*sensor_watch_list)(oc_store *store, oc_sensor_watch **rows, size_t *n, oc_error *err);
  int (*sensor_anomaly_end)(oc_store *store, const char *device_id, const char *measurement, const char *kind,
                            int64_t event_ms, int64_t ended_ms, bool *ended, oc_error *err);
  int (*sensor_anomaly_get)(oc_store *store, const char *device_id, const char *measurement, const char *kind,
                            int64_t event_ms, oc_sensor_anomaly *out, bool *found, oc_error *err);
  int (*sensor_window_get)(oc_store *store, const char *device_id, const char *measurement, int64_t width_ms,
                           int64_t start_ms, oc_sensor_window *out, bool *found, oc_error *err);
  /* ---- Several nodes on one store (issue 17, cluster; store_sqlite_leader.c, store_pg_leader.c). ----
   * leader_try_acquire: without waiting, makes this connection the store's one leader (the node that
   * runs the scheduled jobs, the monitor's among them) when no other connection is: *leader = true when
   * this connection holds leadership now (it keeps it across calls: call it again to check it still
   * does). Leadership ends when the connection closes or its process dies, never otherwise. PostgreSQL:
   * a session advisory lock, which the server drops with the session (a reconnected session has lost
   * it: the call then tries again); SQLite: an exclusive flock on PATH.leader beside the database, which
   * the kernel drops with the process. Not inside an explicit transaction.
   * rate_take: takes one token from the bucket of key_id shared by every connection to the store
   * (capacity burst, refilled at per_second by the store's own clock, so nodes' clocks do not matter;
   * a new bucket starts full): *allowed, and *tokens = the tokens left after the request. One statement
   * that commits at once (not inside an explicit transaction); records no change (buckets are not
   * data: they are not copied by oilcast migrate). */
  int (*leader_try_acquire)(oc_store *store, bool *leader, oc_error *err);
  int (*rate_take)(oc_store *store, const char *key_id, double per_second, double burst, bool *allowed,
                   double *tokens, oc_error *err);

  /* Performance over time (the dashboard's Models chart; monitor/score.h). forecast_scored_points:
   * every scored point of the newest stored-history forecast per series, endpoint, variant, model
   * version, origin and horizon (endpoint NULL: every endpoint), ordered by series, endpoint, variant, model
   * version, horizon, then origin ascending (free *points with free()). Reads only. */
  int (*forecast_scored_points)(oc_store *store, const char *endpoint, oc_scored_point **points, size_t *n,
                                oc_error *err);

  /* The by-year robustness report (issue 18 item 4, migration 21). backtest_years_save stores one
   * report, sets rec->id and records an OC_CHANGE_BACKTEST change (its series: a new backtest of the
   * series); backtest_years_latest: the newest report of the series (highest created_at, then id),
   * *found = false when none. */
  int (*backtest_years_save)(oc_store *store, oc_backtest_years_record *rec, oc_error *err);
  int (*backtest_years_latest)(oc_store *store, const char *series, oc_backtest_years_record *out, bool *found,
                               oc_error *err);
  /* ---- Forecasts in one write (a served forecast and its shadow challenger's; store_sqlite_forecasts.c,
   * store_pg_forecasts.c). forecasts_save: stores recs[0..n) (n >= 1) as forecast_save does each, in one
   * op: all or none (on failure every recs[i].id is 0 and no change is recorded), each recs[i].id set,
   * one OC_CHANGE_FORECAST change per distinct series. forecast_save is this op with n = 1. ---- */
  int (*forecasts_save)(oc_store *store, oc_forecast_record *recs, size_t n, oc_error *err);
} oc_store_ops;

/* ---- Staged imports (issue 13): a long import holds the write lock for one short move only. ----
 * A capability beside the ops, not one of them: a backend without it leaves oc_store.stage NULL
 * (PostgreSQL: its writers lock rows, never the whole store, and never block readers), and
 * oc_ingest_batch then writes inside its one transaction as it reads.
 * observations_stage: appends obs to the connection's own staging area, written without the store's
 * write lock and invisible to every other connection (SQLite: a TEMP table), outside any explicit
 * transaction (inside one it is an error). obs[i].series_id is the caller's key for its series, not a
 * store id: dense (0, 1, 2, ...), the index of the series in the move's series_ids. A (key, date)
 * staged twice is an error.
 * observations_stage_move: as one op (joining the caller's transaction), the staged rows of each key
 * k < nkeys go into the series series_ids[k], in date order, by the rules of observations_upsert
 * (counts added to *counts; one observations change per series it inserted or updated rows of). The
 * staging area keeps its rows.
 * observations_stage_clear: empties the staging area (after the move committed, or instead of it). It
 * never fails: a staging area it could not empty is emptied by the next observations_stage, which
 * fails if it cannot. */
typedef struct oc_store_stage_ops {
  int (*observations_stage)(oc_store *store, const oc_observation *obs, size_t n, oc_error *err);
  int (*observations_stage_move)(oc_store *store, const int64_t *series_ids, size_t nkeys, const char *source,
                                 int64_t ingested_at, oc_upsert_counts *counts, oc_error *err);
  void (*observations_stage_clear)(oc_store *store);
} oc_store_stage_ops;

struct oc_store {
  const oc_store_ops *ops;
  char *uri; /* as opened */
  const oc_store_stage_ops *stage; /* staged imports; NULL where the backend has none */
};

/* A table of the store, as every backend names it (the copy between backends works table by table):
 * its columns in order, and the columns of its key (rows are read in key order). */
#define OC_STORE_TABLE_MAX_COLUMNS 16
typedef struct oc_store_table {
  const char *name;
  size_t ncolumns;
  const char *columns[OC_STORE_TABLE_MAX_COLUMNS];
  size_t nkey; /* the first nkey columns are the key */
} oc_store_table;

/* Every table of the schema, parents before children (schema_migrations excepted: each store has its
 * own). */
const oc_store_table *oc_store_tables(size_t *n);

/* What oc_store_copy did: the rows of each table copied, then compared row for row. */
typedef struct oc_store_copy_result {
  size_t ntables;
  struct {
    const char *table;
    int64_t rows;
  } tables[32];
  int64_t rows;
  int schema_version;
} oc_store_copy_result;

/* Copies every table of from into to, which must be empty and at the same schema version, in one
 * transaction of to (from held in a transaction of its own meanwhile, so that no writer changes it),
 * then reads both again and compares them row for row: a difference is an error naming the table
 * and the row. Any backend to any backend. */
int oc_store_copy(oc_store *from, oc_store *to, oc_store_copy_result *out, oc_error *err);

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
void oc_alert_list_free(oc_alert *list, size_t n);
void oc_alert_event_list_free(oc_alert_event *events, size_t n);

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
static inline int oc_store_job_failures(oc_store *s, oc_job_failures **rows, size_t *n, oc_error *err) {
  return s->ops->job_failures(s, rows, n, err);
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
static inline int oc_store_table_read(oc_store *s, const oc_store_table *table,
                                      int (*row)(void *ctx, const char *const *values), void *ctx, oc_error *err) {
  return s->ops->table_read(s, table, row, ctx, err);
}
static inline int oc_store_table_write(oc_store *s, const oc_store_table *table, const char *const *values,
                                       size_t nrows, oc_error *err) {
  return s->ops->table_write(s, table, values, nrows, err);
}

/* Champion/challenger promotion. */
static inline int oc_store_decision_record(oc_store *s, oc_promotion_decision *d, oc_error *err) {
  return s->ops->decision_record(s, d, err);
}
static inline int oc_store_decisions_list(oc_store *s, const char *endpoint, size_t limit, oc_promotion_decision **out,
                                          size_t *n, oc_error *err) {
  return s->ops->decisions_list(s, endpoint, limit, out, n, err);
}
static inline int oc_store_challenger_get(oc_store *s, const char *endpoint, oc_challenger_state *st, bool *found,
                                          oc_error *err) {
  return s->ops->challenger_get(s, endpoint, st, found, err);
}
static inline int oc_store_challenger_put(oc_store *s, const oc_challenger_state *st, oc_error *err) {
  return s->ops->challenger_put(s, st, err);
}
static inline int oc_store_forecast_errors(oc_store *s, const char *endpoint, const char *model_version,
                                           int64_t horizon, oc_date after, size_t limit, oc_scored_error **rows,
                                           size_t *n, oc_error *err) {
  return s->ops->forecast_errors(s, endpoint, model_version, horizon, after, limit, rows, n, err);
}
/* Alerts. */
static inline int oc_store_alert_save(oc_store *s, const oc_alert *alert, bool record_event, oc_error *err) {
  return s->ops->alert_save(s, alert, record_event, err);
}
static inline int oc_store_alerts_list(oc_store *s, const char *state, oc_alert **list, size_t *n, oc_error *err) {
  return s->ops->alerts_list(s, state, list, n, err);
}
static inline int oc_store_alert_history(oc_store *s, const char *fingerprint, size_t limit,
                                         oc_alert_event **events, size_t *n, oc_error *err) {
  return s->ops->alert_history(s, fingerprint, limit, events, n, err);
}
/* Backups */
static inline int oc_store_snapshot_to(oc_store *s, const char *path, oc_error *err) {
  return s->ops->snapshot_to(s, path, err);
}
static inline int oc_store_integrity_check(oc_store *s, oc_error *err) { return s->ops->integrity_check(s, err); }
/* Device registry (issue 15). */
static inline int oc_store_device_put(oc_store *s, const oc_device *device, oc_error *err) {
  return s->ops->device_put(s, device, err);
}
static inline int oc_store_device_get(oc_store *s, const char *id, oc_device *out, bool *found, oc_error *err) {
  return s->ops->device_get(s, id, out, found, err);
}
static inline int oc_store_device_list(oc_store *s, bool include_revoked, oc_device **rows, size_t *n,
                                       oc_error *err) {
  return s->ops->device_list(s, include_revoked, rows, n, err);
}
static inline int oc_store_device_revoke(oc_store *s, const char *id, int64_t at, bool *found, oc_error *err) {
  return s->ops->device_revoke(s, id, at, found, err);
}

/* The sensor stream (issue 15, mqttstream). */
static inline int oc_store_sensor_reading_insert(oc_store *s, const oc_sensor_reading *r, bool late, bool *inserted,
                                                 oc_error *err) {
  return s->ops->sensor_reading_insert(s, r, late, inserted, err);
}
static inline int oc_store_sensor_reading_get(oc_store *s, const char *device_id, int64_t seq, const char *measurement,
                                              oc_sensor_reading *out, bool *found, oc_error *err) {
  return s->ops->sensor_reading_get(s, device_id, seq, measurement, out, found, err);
}
static inline int oc_store_sensor_watermark_get(oc_store *s, const char *device_id, int64_t *event_ms, bool *found,
                                                oc_error *err) {
  return s->ops->sensor_watermark_get(s, device_id, event_ms, found, err);
}
static inline int oc_store_sensor_watermark_set(oc_store *s, const char *device_id, int64_t event_ms, oc_error *err) {
  return s->ops->sensor_watermark_set(s, device_id, event_ms, err);
}
static inline int oc_store_sensor_window_recompute(oc_store *s, const char *device_id, const char *measurement,
                                                   int64_t width_ms, int64_t start_ms, int64_t part_ms,
                                                   oc_error *err) {
  return s->ops->sensor_window_recompute(s, device_id, measurement, width_ms, start_ms, part_ms, err);
}
static inline int oc_store_dead_letter_insert(oc_store *s, oc_dead_letter *dl, oc_error *err) {
  return s->ops->dead_letter_insert(s, dl, err);
}
static inline int oc_store_dead_letters_list(oc_store *s, size_t limit, oc_dead_letter **rows, size_t *n,
                                             oc_error *err) {
  return s->ops->dead_letters_list(s, limit, rows, n, err);
}
static inline int oc_store_sensor_windows_list(oc_store *s, const char *device_id, const char *measurement,
                                               int64_t width_ms, oc_sensor_window **rows, size_t *n, oc_error *err) {
  return s->ops->sensor_windows_list(s, device_id, measurement, width_ms, rows, n, err);
}
static inline int oc_store_sensor_stats(oc_store *s, oc_sensor_stats *out, oc_error *err) {
  return s->ops->sensor_stats(s, out, err);
}
static inline int oc_store_sensor_readings_recent(oc_store *s, const char *device_id, const char *measurement,
                                                  size_t limit, oc_sensor_reading **rows, size_t *n, oc_error *err) {
  return s->ops->sensor_readings_recent(s, device_id, measurement, limit, rows, n, err);
}
static inline int oc_store_sensor_anomaly_insert(oc_store *s, const oc_sensor_anomaly *a, bool *inserted,
                                                 oc_error *err) {
  return s->ops->sensor_anomaly_insert(s, a, inserted, err);
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
/* Sensor silence and the live sensor feed (issue 15, sensorslive). */
static inline int oc_store_sensor_last_raise(oc_store *s, const oc_sensor_reading *r, oc_error *err) {
  return s->ops->sensor_last_raise(s, r, err);
}
static inline int oc_store_sensor_watch_list(oc_store *s, oc_sensor_watch **rows, size_t *n, oc_error *err) {
  return s->ops->sensor_watch_list(s, rows, n, err);
}
static inline int oc_store_sensor_anomaly_end(oc_store *s, const char *device_id, const char *measurement,
                                              const char *kind, int64_t event_ms, int64_t ended_ms, bool *ended,
                                              oc_error *err) {
  return s->ops->sensor_anomaly_end(s, device_id, measurement, kind, event_ms, ended_ms, ended, err);
}
static inline int oc_store_sensor_anomaly_get(oc_store *s, const char *device_id, const char *measurement,
                                              const char *kind, int64_t event_ms, oc_sensor_anomaly *out, bool *found,
                                              oc_error *err) {
  return s->ops->sensor_anomaly_get(s, device_id, measurement, kind, event_ms, out, found, err);
}
static inline int oc_store_sensor_window_get(oc_store *s, const char *device_id, const char *measurement,
                                             int64_t width_ms, int64_t start_ms, oc_sensor_window *out, bool *found,
                                             oc_error *err) {
  return s->ops->sensor_window_get(s, device_id, measurement, width_ms, start_ms, out, found, err);
}

/* Several nodes on one store (issue 17). oc_store_rate_check: 0 when a bucket of burst and per_second
 * can be kept (burst >= 1, per_second > 0), else -1 naming key_id: what every backend's rate_take
 * checks first (store_cluster.c). */
int oc_store_rate_check(const char *key_id, double per_second, double burst, oc_error *err);
static inline int oc_store_leader_try_acquire(oc_store *s, bool *leader, oc_error *err) {
  return s->ops->leader_try_acquire(s, leader, err);
}
static inline int oc_store_rate_take(oc_store *s, const char *key_id, double per_second, double burst, bool *allowed,
                                     double *tokens, oc_error *err) {
  return s->ops->rate_take(s, key_id, per_second, burst, allowed, tokens, err);
}
static inline int oc_store_forecast_scored_points(oc_store *s, const char *endpoint, oc_scored_point **points,
                                                  size_t *n, oc_error *err) {
  return s->ops->forecast_scored_points(s, endpoint, points, n, err);
}

/* Forecasts in one write. What every backend's forecasts_save shares (store_forecasts.c):
 * oc_store_forecasts_check: 0 when n >= 1 and every record has 1..OC_STORED_FORECAST_MAX_POINTS points,
 * else -1 with "store DISPLAY: ..." naming the first bad one; oc_forecasts_first_of_series: recs[i] is
 * the first of recs[0..i] with its series (its change is recorded once). */
int oc_store_forecasts_check(const char *display, const oc_forecast_record *recs, size_t n, oc_error *err);
bool oc_forecasts_first_of_series(const oc_forecast_record *recs, size_t i);
static inline int oc_store_forecasts_save(oc_store *s, oc_forecast_record *recs, size_t n, oc_error *err) {
  return s->ops->forecasts_save(s, recs, n, err);
}

/* Staged imports (issue 13). */
static inline bool oc_store_stages_observations(const oc_store *s) { return s->stage != NULL; }
static inline int oc_store_observations_stage(oc_store *s, const oc_observation *obs, size_t n, oc_error *err) {
  return s->stage->observations_stage(s, obs, n, err);
}
static inline int oc_store_observations_stage_move(oc_store *s, const int64_t *series_ids, size_t nkeys,
                                                   const char *source, int64_t ingested_at, oc_upsert_counts *counts,
                                                   oc_error *err) {
  return s->stage->observations_stage_move(s, series_ids, nkeys, source, ingested_at, counts, err);
}
static inline void oc_store_observations_stage_clear(oc_store *s) { s->stage->observations_stage_clear(s); }

/* The by-year robustness report (issue 18 item 4). */
void oc_backtest_years_record_free(oc_backtest_years_record *rec);
static inline int oc_store_backtest_years_save(oc_store *s, oc_backtest_years_record *rec, oc_error *err) {
  return s->ops->backtest_years_save(s, rec, err);
}
static inline int oc_store_backtest_years_latest(oc_store *s, const char *series, oc_backtest_years_record *out,
                                                 bool *found, oc_error *err) {
  return s->ops->backtest_years_latest(s, series, out, found, err);
}

#endif
