/* store_sqlite_endpoint_config.c: the SQLite side of endpoint configurations (migration 13: the
 * `config` column of `endpoints`): the one record of what an endpoint serves, written with its registry
 * rows in one op so a reader never sees one without the other. The document is opaque text here
 * (model/registry.h gives it its shape); this file must not parse it or touch any file. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

int oc_sqlite_endpoint_config_set(oc_store *store, const char *name, const char *config,
                                  const oc_endpoint_variant *variants, size_t n, int64_t now, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char set_config[] = "UPDATE endpoints SET config = ?2 WHERE name = ?1";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  bool ok = oc_sqlite_endpoint_rows_set(s, name, variants, n, now, err);
  sqlite3_stmt *st = ok ? oc_sqlite_stmt(s, set_config, err) : NULL;
  if (st) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, config, -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) oc_sqlite_fail(s, err, "storing an endpoint configuration");
    sqlite3_reset(st);
  } else {
    ok = false;
  }
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_endpoint_config_get(oc_store *store, const char *name, char **config, bool *found, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "SELECT config FROM endpoints WHERE name = ?1";
  *config = NULL;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *found = rc == SQLITE_ROW;
  if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) *config = oc_sqlite_column_strdup(st, 0);
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return oc_sqlite_fail(s, err, "reading an endpoint configuration");
  return 0;
}

int oc_sqlite_endpoint_names(oc_store *store, char ***names, size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "SELECT name FROM endpoints ORDER BY name";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  char **out = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&out, &cap, count + 1, sizeof *out);
    out[count++] = oc_sqlite_column_strdup(st, 0);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    for (size_t i = 0; i < count; i++) free(out[i]);
    free(out);
    return oc_sqlite_fail(s, err, "listing endpoints");
  }
  *names = out;
  *n = count;
  return 0;
}
