/* store_sqlite_models.c: the SQLite side of the model registry (tables model_versions, endpoints,
 * endpoint_variants; migration 4). Rows only: the artifacts themselves live in files (model/registry.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

#define VERSION_COLUMNS \
  "SELECT version, kind, series, path, card_sha256, status, val_loss, val_mae, naive_mae, created_at FROM model_versions"

static void read_version(sqlite3_stmt *st, oc_model_version *v) {
  v->version = sqlite3_column_int64(st, 0);
  v->kind = oc_sqlite_column_strdup(st, 1);
  v->series = oc_sqlite_column_strdup(st, 2);
  v->path = oc_sqlite_column_strdup(st, 3);
  v->card_sha256 = oc_sqlite_column_strdup(st, 4);
  v->status = oc_sqlite_column_strdup(st, 5);
  v->val_loss = sqlite3_column_double(st, 6);
  v->val_mae = sqlite3_column_double(st, 7);
  v->naive_mae = sqlite3_column_double(st, 8);
  v->created_at = sqlite3_column_int64(st, 9);
}

int oc_sqlite_model_version_register(oc_store *store, const oc_model_version *v, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "INSERT INTO model_versions(version, kind, series, path, card_sha256, status, val_loss,"
                            " val_mae, naive_mae, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'registered', ?6, ?7, ?8, ?9)";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  bool ok = false;
  if (st) {
    sqlite3_bind_int64(st, 1, v->version);
    const char *texts[] = {v->kind, v->series, v->path, v->card_sha256};
    for (int i = 0; i < 4; i++) sqlite3_bind_text(st, i + 2, texts[i] ? texts[i] : "", -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 6, v->val_loss);
    sqlite3_bind_double(st, 7, v->val_mae);
    sqlite3_bind_double(st, 8, v->naive_mae);
    sqlite3_bind_int64(st, 9, v->created_at);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
      ok = true;
    } else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
      oc_error_set(err, "model version v%lld is already registered", (long long)v->version);
    } else {
      char what[64];
      snprintf(what, sizeof what, "registering model version v%lld", (long long)v->version);
      oc_sqlite_fail(s, err, what);
    }
    sqlite3_reset(st);
  }
  if (ok) {
    char subject[32];
    snprintf(subject, sizeof subject, "v%lld", (long long)v->version);
    ok = oc_sqlite_change_record(s, OC_CHANGE_MODEL, subject, err) == 0;
  }
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_model_version_get(oc_store *store, int64_t version, oc_model_version *v, bool *found, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = VERSION_COLUMNS " WHERE version = ?1";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_int64(st, 1, version);
  int rc = sqlite3_step(st);
  *found = rc == SQLITE_ROW;
  if (rc == SQLITE_ROW) read_version(st, v);
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return oc_sqlite_fail(s, err, "reading a model version");
  return 0;
}

int oc_sqlite_model_version_list(oc_store *store, oc_model_version **list, size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = VERSION_COLUMNS " ORDER BY version";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  oc_model_version *out = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&out, &cap, count + 1, sizeof *out);
    read_version(st, &out[count++]);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    oc_model_version_list_free(out, count);
    return oc_sqlite_fail(s, err, "listing model versions");
  }
  *list = out;
  *n = count;
  return 0;
}

/* One statement of an endpoint write: binds the endpoint name (and optionally a version/weight) and runs it. */
static bool run_step(oc_sqlite_store *s, const char *sql, const char *name, int64_t a, double b, int nbind,
                     const char *what, oc_error *err) {
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return false;
  if (nbind >= 1) sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  if (nbind >= 2) sqlite3_bind_int64(st, 2, a);
  if (nbind >= 3) sqlite3_bind_double(st, 3, b);
  bool ok = sqlite3_step(st) == SQLITE_DONE;
  if (!ok) oc_sqlite_fail(s, err, what);
  sqlite3_reset(st);
  return ok;
}

bool oc_sqlite_endpoint_rows_set(oc_sqlite_store *s, const char *name, const oc_endpoint_variant *variants, size_t n,
                                 int64_t now, oc_error *err) {
  static const char upsert[] = "INSERT INTO endpoints(name, created_at, updated_at) VALUES (?1, ?2, ?2)"
                               " ON CONFLICT(name) DO UPDATE SET updated_at = excluded.updated_at";
  static const char clear[] = "DELETE FROM endpoint_variants WHERE endpoint = ?1";
  static const char add[] = "INSERT INTO endpoint_variants(endpoint, version, weight) VALUES (?1, ?2, ?3)";
  static const char status[] =
      "UPDATE model_versions SET status = CASE WHEN version IN (SELECT version FROM endpoint_variants)"
      " THEN 'deployed' ELSE 'registered' END";
  for (size_t i = 0; i < n; i++)
    if (!(variants[i].weight > 0)) {
      oc_error_set(err, "endpoint %s: weight %g of v%lld must be > 0", name, variants[i].weight,
                   (long long)variants[i].version);
      return false;
    }
  bool ok = run_step(s, upsert, name, now, 0, 2, "creating an endpoint", err) &&
            run_step(s, clear, name, 0, 0, 1, "replacing endpoint variants", err);
  for (size_t i = 0; ok && i < n; i++) {
    ok = run_step(s, add, name, variants[i].version, variants[i].weight, 3, "adding an endpoint variant", err);
    if (!ok && strstr(err->message, "FOREIGN KEY"))
      oc_error_set(err, "endpoint %s: model version v%lld is not registered", name, (long long)variants[i].version);
    else if (!ok && strstr(err->message, "UNIQUE"))
      oc_error_set(err, "endpoint %s: model version v%lld is listed twice", name, (long long)variants[i].version);
  }
  if (ok) ok = run_step(s, status, name, 0, 0, 0, "updating model version statuses", err);
  if (ok) ok = oc_sqlite_change_record(s, OC_CHANGE_ENDPOINT, name, err) == 0;
  return ok;
}

int oc_sqlite_endpoint_set(oc_store *store, const char *name, const oc_endpoint_variant *variants, size_t n,
                           int64_t now, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  if (n == 0) return oc_error_set(err, "endpoint %s: at least one model version is needed", name);
  /* The variants become the record: a configuration document stored before would now disagree. */
  static const char forget_config[] = "UPDATE endpoints SET config = NULL WHERE name = ?1";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  bool ok = oc_sqlite_endpoint_rows_set(s, name, variants, n, now, err) &&
            run_step(s, forget_config, name, 0, 0, 1, "replacing an endpoint configuration", err);
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_endpoint_get(oc_store *store, const char *name, oc_endpoint *ep, bool *found, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char head[] = "SELECT name, created_at, updated_at FROM endpoints WHERE name = ?1";
  static const char vars[] = "SELECT version, weight FROM endpoint_variants WHERE endpoint = ?1 ORDER BY version";
  memset(ep, 0, sizeof *ep);
  sqlite3_stmt *st = oc_sqlite_stmt(s, head, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *found = rc == SQLITE_ROW;
  if (rc == SQLITE_ROW) {
    ep->name = oc_sqlite_column_strdup(st, 0);
    ep->created_at = sqlite3_column_int64(st, 1);
    ep->updated_at = sqlite3_column_int64(st, 2);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return oc_sqlite_fail(s, err, "reading an endpoint");
  if (!*found) return 0;
  st = oc_sqlite_stmt(s, vars, err);
  if (!st) {
    oc_endpoint_free(ep);
    return -1;
  }
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  size_t cap = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&ep->variants, &cap, ep->nvariants + 1, sizeof *ep->variants);
    ep->variants[ep->nvariants++] = (oc_endpoint_variant){sqlite3_column_int64(st, 0), sqlite3_column_double(st, 1)};
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    oc_endpoint_free(ep);
    return oc_sqlite_fail(s, err, "reading endpoint variants");
  }
  return 0;
}
