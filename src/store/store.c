/* store.c: the backend-independent part of the store: the table of URI schemes (backend selection),
 * the change kinds' names, and the helpers every backend shares (series-name rules, freeing result
 * lists). Must not contain SQL, and callers must never branch on the backend. */
#include "store/store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_pg.h"
#include "store/store_sqlite.h"

/* The table of URI schemes: one entry per backend. Adding a backend adds a line here (and its
 * store_<backend>*.c files); no caller changes. */
static const oc_store_backend backends[] = {
    {"sqlite", oc_store_sqlite_open, oc_store_sqlite_latest_version, oc_store_sqlite_scratch_uri},
    {"postgresql", oc_store_pg_open, oc_store_pg_latest_version, NULL},
};
#define N_BACKENDS (sizeof backends / sizeof backends[0])

const oc_store_backend *oc_store_backends(size_t *n) {
  *n = N_BACKENDS;
  return backends;
}

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const oc_store_backend *backend_named(const char *scheme, size_t len) {
  for (size_t i = 0; i < N_BACKENDS; i++)
    if (strlen(backends[i].scheme) == len && strncmp(backends[i].scheme, scheme, len) == 0) return &backends[i];
  return NULL;
}

oc_store *oc_store_open(const char *uri, oc_error *err) {
  const char *colon = strchr(uri, ':');
  const oc_store_backend *backend = colon ? backend_named(uri, (size_t)(colon - uri)) : NULL;
  const char *location = backend ? colon + 1 : uri;
  /* A bare path to a .db file is SQLite (the spelling of early oilcast.conf files). */
  if (!backend && !strstr(uri, "://") && has_suffix(uri, ".db")) backend = backend_named("sqlite", 6);
  if (!backend) {
    oc_buf known = {0};
    for (size_t i = 0; i < N_BACKENDS; i++) oc_buf_printf(&known, "%s%s:...", i ? ", " : "", backends[i].scheme);
    oc_error_set(err, "unsupported store '%s': this build has the backends %s", uri, known.data);
    oc_buf_free(&known);
    return NULL;
  }
  oc_store *store = backend->open(location, err);
  if (store) store->uri = oc_xstrdup(uri);
  return store;
}

void oc_store_close(oc_store *store) {
  if (!store) return;
  char *uri = store->uri;
  store->ops->close(store);
  free(uri);
}

int oc_store_latest_schema_version(const char *backend) {
  const oc_store_backend *b = backend_named(backend, strlen(backend));
  return b ? b->latest_schema_version() : -1;
}

static const char *const change_kind_names[OC_CHANGE_KIND_COUNT + 1] = {
    [OC_CHANGE_OBSERVATIONS] = "observations", [OC_CHANGE_INGEST_RUN] = "ingest_run",
    [OC_CHANGE_BACKTEST] = "backtest",         [OC_CHANGE_MODEL] = "model",
    [OC_CHANGE_ENDPOINT] = "endpoint",         [OC_CHANGE_API_KEY] = "api_key",
    [OC_CHANGE_FORECAST] = "forecast",         [OC_CHANGE_JOB] = "job",
    [OC_CHANGE_DECISION] = "decision",         [OC_CHANGE_ALERT] = "alert",
    [OC_CHANGE_DEVICE] = "device",             [OC_CHANGE_SENSOR_ANOMALY] = "sensor_anomaly",
    [OC_CHANGE_SENSOR_WINDOW] = "sensor_window",
};

const char *oc_change_kind_name(oc_change_kind kind) {
  assert(kind >= 1 && kind <= OC_CHANGE_KIND_COUNT);
  return change_kind_names[kind];
}

int oc_change_kind_parse(const char *name, oc_change_kind *kind) {
  for (int k = 1; k <= OC_CHANGE_KIND_COUNT; k++) {
    if (strcmp(change_kind_names[k], name) == 0) {
      *kind = (oc_change_kind)k;
      return 0;
    }
  }
  return -1;
}

int oc_series_name_check(const char *name, size_t len, const char **reason) {
  const char *why = NULL;
  if (len == 0) {
    why = "series name is empty";
  } else if (len > OC_SERIES_NAME_MAX) {
    why = "series name is longer than 64 bytes";
  } else {
    for (size_t i = 0; i < len; i++) {
      char c = name[i];
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                c == '.' || c == '-';
      if (!ok) {
        why = "series name may only contain letters, digits, '_', '.' and '-'";
        break;
      }
    }
  }
  if (why) {
    if (reason) *reason = why;
    return -1;
  }
  return 0;
}

void oc_series_info_free(oc_series_info *info) {
  free(info->name);
  free(info->unit);
  free(info->source);
  memset(info, 0, sizeof *info);
}

void oc_series_info_list_free(oc_series_info *list, size_t n) {
  for (size_t i = 0; i < n; i++) oc_series_info_free(&list[i]);
  free(list);
}

/* ---- copying a store to another backend ---------------------------------------------------------- */

#define T(name, nkey, ...) {name, sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *), {__VA_ARGS__}, nkey}
static const oc_store_table tables[] = {
    T("series", 1, "id", "name", "unit", "source", "created_at", "provider", "provider_id", "price_min", "price_max"),
    T("observations", 2, "series_id", "date", "value", "source", "ingested_at"),
    T("ingest_runs", 1, "id", "source_kind", "path", "raw_path", "sha256", "status", "rows_read", "rows_inserted",
      "rows_updated", "rows_unchanged", "rows_rejected", "rows_missing", "negative_values", "started_at",
      "finished_at"),
    T("ingest_run_series", 2, "run_id", "series", "rows", "last_date", "last_value"),
    T("api_keys", 1, "id", "name", "scope", "hash", "rate_per_second", "burst", "created_at", "revoked_at"),
    T("model_versions", 1, "version", "kind", "series", "path", "card_sha256", "status", "val_loss", "val_mae",
      "naive_mae", "created_at"),
    T("endpoints", 1, "name", "created_at", "updated_at", "config"),
    T("endpoint_variants", 2, "endpoint", "version", "weight"),
    T("backtests", 1, "id", "series", "start_date", "end_date", "horizon", "refit_every", "origins", "models",
      "created_at", "result_json"),
    T("backtest_years", 1, "id", "series", "created_at", "models", "exog", "horizon", "refit_every", "from_year",
      "to_year", "report_json"),
    T("forecasts", 1, "id", "series", "origin", "horizon", "endpoint", "variant", "model_version", "model_kind",
      "history", "request_id", "created_at", "origin_price"),
    T("forecast_points", 2, "forecast_id", "step", "date", "price", "lower80", "upper80", "lower95", "upper95"),
    T("changes", 1, "id", "kind", "subject", "at"),
    T("job_runs", 1, "id", "job", "slot", "trigger", "status", "started_at", "finished_at", "runner", "error",
      "steps_json"),
    T("job_state", 1, "job", "paused", "first_seen", "updated_at"),
    T("forecast_scores", 2, "forecast_id", "step", "actual", "naive", "scored_at"),
    T("devices", 1, "id", "site", "type", "unit", "valid_min", "valid_max", "interval_seconds", "password_hash",
      "created_at", "revoked_at"),
    T("sensor_readings", 3, "device_id", "seq", "measurement", "unit", "event_ms", "value", "late"),
    T("sensor_dead_letters", 1, "id", "received_ms", "topic", "reason", "raw", "seen", "last_received_ms"),
    T("sensor_watermarks", 1, "device_id", "event_ms"),
    T("sensor_windows", 4, "device_id", "measurement", "width_ms", "start_ms", "count", "sum", "min", "max", "last"),
    T("sensor_anomalies", 4, "device_id", "measurement", "kind", "event_ms", "seq", "value", "score", "detected_ms",
      "ended_ms"),
    T("sensor_last_readings", 2, "device_id", "measurement", "event_ms", "seq", "value"),
    T("alerts", 1, "fingerprint", "rule", "state", "labels_json", "annotations_json", "value", "active_since",
      "fired_at", "resolved_at", "updated_at", "notified"),
    T("alert_events", 1, "id", "fingerprint", "rule", "state", "value", "at", "labels_json"),
    T("promotion_decisions", 1, "id", "endpoint", "at", "action", "trigger", "version", "champion", "reason", "figures"),
    T("endpoint_challengers", 1, "endpoint", "challenger", "mode", "challenger_since", "pending_trigger",
      "pending_reason", "promoted", "previous", "promoted_since", "quiet_until", "forecast_origin"),
};
#undef T
#define N_TABLES (sizeof tables / sizeof tables[0])

const oc_store_table *oc_store_tables(size_t *n) {
  *n = N_TABLES;
  return tables;
}

/* Rows on their way from one store to the other: copied values, written in batches. */
#define COPY_BATCH_ROWS 5000
typedef struct copy_batch {
  oc_store *to;
  const oc_store_table *table;
  char **values; /* COPY_BATCH_ROWS * ncolumns */
  size_t nrows;
  int64_t total;
  oc_error *err;
} copy_batch;

static void batch_clear(copy_batch *b) {
  for (size_t i = 0; i < b->nrows * b->table->ncolumns; i++) free(b->values[i]);
  b->nrows = 0;
}

static int batch_flush(copy_batch *b) {
  int rc = b->nrows ? oc_store_table_write(b->to, b->table, (const char *const *)b->values, b->nrows, b->err) : 0;
  batch_clear(b);
  return rc;
}

static int batch_row(void *ctx, const char *const *values) {
  copy_batch *b = ctx;
  size_t n = b->table->ncolumns;
  for (size_t c = 0; c < n; c++) b->values[b->nrows * n + c] = values[c] ? oc_xstrdup(values[c]) : NULL;
  b->nrows++;
  b->total++;
  return b->nrows == COPY_BATCH_ROWS ? batch_flush(b) : 0;
}

/* A 64-bit FNV-1a hash of a row (its values with their NULLs), for the row-for-row comparison. */
static uint64_t row_hash(const oc_store_table *t, const char *const *values) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t c = 0; c < t->ncolumns; c++) {
    const unsigned char *v = (const unsigned char *)(values[c] ? values[c] : "");
    h = (h ^ (values[c] ? 1u : 2u)) * 1099511628211ULL;
    for (; *v; v++) h = (h ^ *v) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  }
  return h;
}

typedef struct row_hashes {
  const oc_store_table *table;
  uint64_t *hashes;
  size_t n, cap;
  size_t checked;     /* comparing: rows of the second store seen */
  char mismatch[512]; /* comparing: the first row that differs */
} row_hashes;

static int hash_row(void *ctx, const char *const *values) {
  row_hashes *h = ctx;
  oc_xgrow((void **)&h->hashes, &h->cap, h->n + 1, sizeof *h->hashes);
  h->hashes[h->n++] = row_hash(h->table, values);
  return 0;
}

static int compare_row(void *ctx, const char *const *values) {
  row_hashes *h = ctx;
  size_t i = h->checked++;
  if (i < h->n && h->hashes[i] == row_hash(h->table, values)) return 0;
  oc_buf row = {0};
  for (size_t c = 0; c < h->table->ncolumns; c++)
    oc_buf_printf(&row, "%s%s=%s", c ? ", " : "", h->table->columns[c], values[c] ? values[c] : "NULL");
  snprintf(h->mismatch, sizeof h->mismatch, "row %zu (%s)", i + 1, row.data);
  oc_buf_free(&row);
  return 1;
}

static int count_row(void *ctx, const char *const *values) {
  (void)values;
  ++*(int64_t *)ctx;
  return 1; /* one is enough to know the table is not empty */
}

/* Reads both stores' table again: the same rows in the same order, or an error naming the first
 * that differs. */
static int verify_table(oc_store *from, oc_store *to, const oc_store_table *t, oc_error *err) {
  row_hashes h = {.table = t};
  int rc = oc_store_table_read(from, t, hash_row, &h, err);
  if (rc == 0) {
    rc = oc_store_table_read(to, t, compare_row, &h, err);
    if (rc > 0 || (rc == 0 && h.checked != h.n)) {
      if (rc == 0) snprintf(h.mismatch, sizeof h.mismatch, "%zu rows instead of %zu", h.checked, h.n);
      rc = oc_error_set(err, "the copy of table %s differs from %s: %s of %s", t->name, from->uri, h.mismatch, to->uri);
    }
  }
  free(h.hashes);
  return rc == 0 ? 0 : -1;
}

static int copy_tables(oc_store *from, oc_store *to, oc_store_copy_result *out, oc_error *err) {
  for (size_t i = 0; i < N_TABLES; i++) {
    int64_t rows = 0;
    if (oc_store_table_read(to, &tables[i], count_row, &rows, err) < 0) return -1;
    if (rows > 0)
      return oc_error_set(err, "%s already holds data (table %s): copy into an empty store", to->uri, tables[i].name);
  }
  for (size_t i = 0; i < N_TABLES; i++) {
    copy_batch b = {.to = to, .table = &tables[i], .err = err};
    b.values = oc_xcalloc(COPY_BATCH_ROWS * tables[i].ncolumns, sizeof *b.values);
    int rc = oc_store_table_read(from, &tables[i], batch_row, &b, err);
    if (rc == 0) rc = batch_flush(&b);
    batch_clear(&b);
    free(b.values);
    if (rc != 0) return -1;
    out->tables[out->ntables].table = tables[i].name;
    out->tables[out->ntables++].rows = b.total;
    out->rows += b.total;
  }
  return 0;
}

int oc_store_copy(oc_store *from, oc_store *to, oc_store_copy_result *out, oc_error *err) {
  static_assert(N_TABLES <= sizeof out->tables / sizeof out->tables[0], "oc_store_copy_result holds every table");
  memset(out, 0, sizeof *out);
  int from_version, to_version;
  if (oc_store_schema_version(from, &from_version, err) != 0 || oc_store_schema_version(to, &to_version, err) != 0)
    return -1;
  if (from_version != to_version)
    return oc_error_set(err,
                        "%s has schema version %d and %s version %d: a copy needs both at the same version (open "
                        "both with the same oilcast)",
                        from->uri, from_version, to->uri, to_version);
  out->schema_version = from_version;
  if (oc_store_begin(from, err) != 0) return -1;
  oc_error ignored;
  if (oc_store_begin(to, err) != 0) {
    oc_store_rollback(from, &ignored);
    return -1;
  }
  int rc = copy_tables(from, to, out, err);
  if (rc == 0) rc = oc_store_commit(to, err);
  else oc_store_rollback(to, &ignored);
  for (size_t i = 0; rc == 0 && i < N_TABLES; i++) rc = verify_table(from, to, &tables[i], err);
  oc_store_rollback(from, &ignored);
  return rc;
}
