/* store_pg_registry.c: the PostgreSQL side of API keys (hashes only: it never sees a key in clear),
 * stored backtest runs (the result document kept verbatim as JSON) and the model registry (versions,
 * endpoints and their weighted variants; the artifacts themselves live in files, model/registry.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_pg_internal.h"

/* ---- API keys ----------------------------------------------------------------------------------- */

int oc_pg_api_key_insert(oc_store *store, const oc_api_key_row *row, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  oc_pg_params p = {0};
  oc_pg_text(&p, row->name);
  PGresult *r = oc_pg_query(s, "SELECT count(*) FROM api_keys WHERE name = $1", &p, "looking up an API key name", err);
  bool ok = r != NULL;
  if (ok && oc_pg_get_int(r, 0, 0) > 0) {
    oc_error_set(err, "an API key named '%s' already exists (names are never reused, even after revocation)",
                 row->name);
    ok = false;
  }
  PQclear(r);
  if (ok) {
    p = (oc_pg_params){0};
    oc_pg_text(&p, row->id);
    oc_pg_text(&p, row->name);
    oc_pg_text(&p, row->scope);
    oc_pg_text(&p, row->hash);
    oc_pg_double(&p, row->rate_per_second);
    oc_pg_double(&p, row->burst);
    oc_pg_int(&p, row->created_at);
    ok = oc_pg_run(s,
                   "INSERT INTO api_keys(id, name, scope, hash, rate_per_second, burst, created_at, revoked_at)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
                   &p, "storing an API key", NULL, err) == 0;
  }
  if (ok) ok = oc_pg_change_record(s, OC_CHANGE_API_KEY, row->id, err) == 0;
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_api_key_list(oc_store *store, oc_api_key_row **rows, size_t *n, oc_error *err) {
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT id, name, scope, hash, rate_per_second, burst, created_at, revoked_at FROM api_keys"
                            " ORDER BY created_at, name COLLATE \"C\"",
                            NULL, "listing API keys", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_api_key_row *list = count ? oc_xcalloc(count, sizeof *list) : NULL;
  for (size_t i = 0; i < count; i++) {
    oc_api_key_row *k = &list[i];
    oc_pg_get_copy(k->id, sizeof k->id, r, (int)i, 0);
    oc_pg_get_copy(k->name, sizeof k->name, r, (int)i, 1);
    oc_pg_get_copy(k->scope, sizeof k->scope, r, (int)i, 2);
    oc_pg_get_copy(k->hash, sizeof k->hash, r, (int)i, 3);
    k->rate_per_second = oc_pg_get_double(r, (int)i, 4);
    k->burst = oc_pg_get_double(r, (int)i, 5);
    k->created_at = oc_pg_get_int(r, (int)i, 6);
    k->revoked_at = oc_pg_get_int(r, (int)i, 7);
  }
  PQclear(r);
  *rows = list;
  *n = count;
  return 0;
}

int oc_pg_api_key_revoke(oc_store *store, const char *id_or_name, int64_t at, bool *found, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_text(&p, id_or_name);
  oc_pg_int(&p, at);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  int64_t revoked = 0;
  bool ok = oc_pg_run(s, "UPDATE api_keys SET revoked_at = $2 WHERE (id = $1 OR name = $1) AND revoked_at = 0", &p,
                      "revoking an API key", &revoked, err) == 0;
  if (ok && revoked > 0) ok = oc_pg_change_record(s, OC_CHANGE_API_KEY, id_or_name, err) == 0;
  if (ok) {
    p.n = 1;
    PGresult *r = oc_pg_query(s, "SELECT count(*) FROM api_keys WHERE id = $1 OR name = $1", &p,
                              "looking up an API key", err);
    ok = r != NULL;
    if (ok) *found = oc_pg_get_int(r, 0, 0) > 0;
    PQclear(r);
  }
  return oc_pg_op_end(s, ok, err);
}

/* ---- backtests ---------------------------------------------------------------------------------- */

int oc_pg_backtest_save(oc_store *store, oc_backtest_record *rec, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_text(&p, rec->series ? rec->series : "");
  oc_pg_date(&p, rec->start);
  oc_pg_date(&p, rec->end);
  oc_pg_int(&p, rec->horizon);
  oc_pg_int(&p, rec->refit_every);
  oc_pg_int(&p, rec->origins);
  oc_pg_text(&p, rec->models ? rec->models : "");
  oc_pg_int(&p, rec->created_at);
  oc_pg_text(&p, rec->result_json ? rec->result_json : "");
  if (oc_pg_op_begin(s, err) != 0) return -1;
  PGresult *r = oc_pg_query(s,
                            "INSERT INTO backtests(id, series, start_date, end_date, horizon, refit_every, origins,"
                            " models, created_at, result_json)"
                            " SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM backtests"
                            " RETURNING id",
                            &p, "saving a backtest run", err);
  bool ok = r != NULL;
  if (ok) rec->id = oc_pg_get_int(r, 0, 0);
  PQclear(r);
  if (ok) ok = oc_pg_change_record(s, OC_CHANGE_BACKTEST, rec->series ? rec->series : "", err) == 0;
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_backtest_latest(oc_store *store, const char *series, oc_backtest_record *out, bool *found, oc_error *err) {
  memset(out, 0, sizeof *out);
  *found = false;
  oc_pg_params p = {0};
  oc_pg_text(&p, series);
  PGresult *r = oc_pg_query(oc_pg_of(store),
                            "SELECT id, series, start_date, end_date, horizon, refit_every, origins, models,"
                            " created_at, result_json FROM backtests WHERE series = $1"
                            " ORDER BY created_at DESC, id DESC LIMIT 1",
                            &p, "reading the latest backtest run", err);
  if (!r) return -1;
  if (PQntuples(r) == 1) {
    out->id = oc_pg_get_int(r, 0, 0);
    out->series = oc_pg_get_strdup(r, 0, 1);
    out->start = oc_pg_get_date(r, 0, 2);
    out->end = oc_pg_get_date(r, 0, 3);
    out->horizon = oc_pg_get_int(r, 0, 4);
    out->refit_every = oc_pg_get_int(r, 0, 5);
    out->origins = oc_pg_get_int(r, 0, 6);
    out->models = oc_pg_get_strdup(r, 0, 7);
    out->created_at = oc_pg_get_int(r, 0, 8);
    out->result_json = oc_pg_get_strdup(r, 0, 9);
    *found = true;
  }
  PQclear(r);
  return 0;
}

/* ---- model versions and endpoints --------------------------------------------------------------- */

#define VERSION_COLUMNS \
  "SELECT version, kind, series, path, card_sha256, status, val_loss, val_mae, naive_mae, created_at FROM model_versions"

static void read_version(const PGresult *r, int row, oc_model_version *v) {
  v->version = oc_pg_get_int(r, row, 0);
  v->kind = oc_pg_get_strdup(r, row, 1);
  v->series = oc_pg_get_strdup(r, row, 2);
  v->path = oc_pg_get_strdup(r, row, 3);
  v->card_sha256 = oc_pg_get_strdup(r, row, 4);
  v->status = oc_pg_get_strdup(r, row, 5);
  v->val_loss = oc_pg_get_double(r, row, 6);
  v->val_mae = oc_pg_get_double(r, row, 7);
  v->naive_mae = oc_pg_get_double(r, row, 8);
  v->created_at = oc_pg_get_int(r, row, 9);
}

int oc_pg_model_version_register(oc_store *store, const oc_model_version *v, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_int(&p, v->version);
  const char *texts[] = {v->kind, v->series, v->path, v->card_sha256};
  for (int i = 0; i < 4; i++) oc_pg_text(&p, texts[i] ? texts[i] : "");
  oc_pg_double(&p, v->val_loss);
  oc_pg_double(&p, v->val_mae);
  oc_pg_double(&p, v->naive_mae);
  oc_pg_int(&p, v->created_at);
  char what[64];
  snprintf(what, sizeof what, "registering model version v%lld", (long long)v->version);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  oc_pg_params one = {0};
  oc_pg_int(&one, v->version);
  PGresult *r = oc_pg_query(s, "SELECT count(*) FROM model_versions WHERE version = $1", &one, what, err);
  bool ok = r != NULL;
  if (ok && oc_pg_get_int(r, 0, 0) > 0) {
    oc_error_set(err, "model version v%lld is already registered", (long long)v->version);
    ok = false;
  }
  PQclear(r);
  if (ok)
    ok = oc_pg_run(s,
                   "INSERT INTO model_versions(version, kind, series, path, card_sha256, status, val_loss, val_mae,"
                   " naive_mae, created_at) VALUES ($1, $2, $3, $4, $5, 'registered', $6, $7, $8, $9)",
                   &p, what, NULL, err) == 0;
  if (ok) {
    char subject[32];
    snprintf(subject, sizeof subject, "v%lld", (long long)v->version);
    ok = oc_pg_change_record(s, OC_CHANGE_MODEL, subject, err) == 0;
  }
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_model_version_get(oc_store *store, int64_t version, oc_model_version *v, bool *found, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_int(&p, version);
  PGresult *r = oc_pg_query(oc_pg_of(store), VERSION_COLUMNS " WHERE version = $1", &p, "reading a model version", err);
  if (!r) return -1;
  *found = PQntuples(r) == 1;
  if (*found) read_version(r, 0, v);
  PQclear(r);
  return 0;
}

int oc_pg_model_version_list(oc_store *store, oc_model_version **list, size_t *n, oc_error *err) {
  PGresult *r = oc_pg_query(oc_pg_of(store), VERSION_COLUMNS " ORDER BY version", NULL, "listing model versions", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  oc_model_version *out = count ? oc_xcalloc(count, sizeof *out) : NULL;
  for (size_t i = 0; i < count; i++) read_version(r, (int)i, &out[i]);
  PQclear(r);
  *list = out;
  *n = count;
  return 0;
}

/* One variant of endpoint_set, with the message a user can act on for a version that is not
 * registered or is listed twice. */
static bool add_variant(oc_pg_store *s, const char *name, const oc_endpoint_variant *v, oc_error *err) {
  oc_pg_params p = {0};
  oc_pg_text(&p, name);
  oc_pg_int(&p, v->version);
  oc_pg_double(&p, v->weight);
  if (oc_pg_run(s, "INSERT INTO endpoint_variants(endpoint, version, weight) VALUES ($1, $2, $3)", &p,
                "adding an endpoint variant", NULL, err) == 0)
    return true;
  if (strstr(err->message, "FOREIGN KEY"))
    oc_error_set(err, "endpoint %s: model version v%lld is not registered", name, (long long)v->version);
  else if (strstr(err->message, "UNIQUE"))
    oc_error_set(err, "endpoint %s: model version v%lld is listed twice", name, (long long)v->version);
  return false;
}

bool oc_pg_endpoint_rows_set(oc_pg_store *s, const char *name, const oc_endpoint_variant *variants, size_t n,
                             int64_t now, oc_error *err) {
  for (size_t i = 0; i < n; i++)
    if (!(variants[i].weight > 0)) {
      oc_error_set(err, "endpoint %s: weight %g of v%lld must be > 0", name, variants[i].weight,
                   (long long)variants[i].version);
      return false;
    }
  oc_pg_params p = {0};
  oc_pg_text(&p, name);
  oc_pg_int(&p, now);
  bool ok = oc_pg_run(s,
                      "INSERT INTO endpoints(name, created_at, updated_at) VALUES ($1, $2, $2)"
                      " ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at",
                      &p, "creating an endpoint", NULL, err) == 0;
  p.n = 1;
  if (ok)
    ok = oc_pg_run(s, "DELETE FROM endpoint_variants WHERE endpoint = $1", &p, "replacing endpoint variants", NULL,
                   err) == 0;
  for (size_t i = 0; ok && i < n; i++) ok = add_variant(s, name, &variants[i], err);
  if (ok)
    ok = oc_pg_run(s,
                   "UPDATE model_versions SET status = CASE WHEN version IN (SELECT version FROM endpoint_variants)"
                   " THEN 'deployed' ELSE 'registered' END",
                   NULL, "updating model version statuses", NULL, err) == 0;
  if (ok) ok = oc_pg_change_record(s, OC_CHANGE_ENDPOINT, name, err) == 0;
  return ok;
}

int oc_pg_endpoint_set(oc_store *store, const char *name, const oc_endpoint_variant *variants, size_t n, int64_t now,
                       oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  if (n == 0) return oc_error_set(err, "endpoint %s: at least one model version is needed", name);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  /* The variants become the record: a configuration document stored before would now disagree. */
  oc_pg_params p = {0};
  oc_pg_text(&p, name);
  bool ok = oc_pg_endpoint_rows_set(s, name, variants, n, now, err) &&
            oc_pg_run(s, "UPDATE endpoints SET config = NULL WHERE name = $1", &p,
                      "replacing an endpoint configuration", NULL, err) == 0;
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_endpoint_get(oc_store *store, const char *name, oc_endpoint *ep, bool *found, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  memset(ep, 0, sizeof *ep);
  oc_pg_params p = {0};
  oc_pg_text(&p, name);
  PGresult *r = oc_pg_query(s, "SELECT name, created_at, updated_at FROM endpoints WHERE name = $1", &p,
                            "reading an endpoint", err);
  if (!r) return -1;
  *found = PQntuples(r) == 1;
  if (*found) {
    ep->name = oc_pg_get_strdup(r, 0, 0);
    ep->created_at = oc_pg_get_int(r, 0, 1);
    ep->updated_at = oc_pg_get_int(r, 0, 2);
  }
  PQclear(r);
  if (!*found) return 0;
  r = oc_pg_query(s, "SELECT version, weight FROM endpoint_variants WHERE endpoint = $1 ORDER BY version", &p,
                  "reading endpoint variants", err);
  if (!r) {
    oc_endpoint_free(ep);
    return -1;
  }
  ep->nvariants = (size_t)PQntuples(r);
  ep->variants = ep->nvariants ? oc_xcalloc(ep->nvariants, sizeof *ep->variants) : NULL;
  for (size_t i = 0; i < ep->nvariants; i++)
    ep->variants[i] = (oc_endpoint_variant){oc_pg_get_int(r, (int)i, 0), oc_pg_get_double(r, (int)i, 1)};
  PQclear(r);
  return 0;
}
