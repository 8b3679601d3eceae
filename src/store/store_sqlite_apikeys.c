/* store_sqlite_apikeys.c: the SQLite side of the API-key ops (table api_keys, migration "api keys").
 * Stores only each key's SHA-256; must never see a key in clear. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sqlite_internal.h"

int oc_sqlite_api_key_insert(oc_store *store, const oc_api_key_row *row, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "INSERT INTO api_keys(id, name, scope, hash, rate_per_second, burst, created_at, revoked_at)"
                            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)";
  static const char exists[] = "SELECT count(*) FROM api_keys WHERE name = ?1";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  bool ok = false;
  sqlite3_stmt *st = oc_sqlite_stmt(s, exists, err);
  if (st) {
    sqlite3_bind_text(st, 1, row->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
      oc_sqlite_fail(s, err, "looking up an API key name");
      st = NULL;
    } else if (sqlite3_column_int(st, 0) > 0) {
      oc_error_set(err, "an API key named '%s' already exists (names are never reused, even after revocation)",
                   row->name);
      sqlite3_reset(st);
      st = NULL;
    } else {
      sqlite3_reset(st);
    }
  }
  if (st) st = oc_sqlite_stmt(s, sql, err);
  if (st) {
    sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, row->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, row->scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, row->hash, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 5, row->rate_per_second);
    sqlite3_bind_double(st, 6, row->burst);
    sqlite3_bind_int64(st, 7, row->created_at);
    if (sqlite3_step(st) == SQLITE_DONE) ok = true;
    else oc_sqlite_fail(s, err, "storing an API key");
    sqlite3_reset(st);
  }
  if (ok) ok = oc_sqlite_change_record(s, OC_CHANGE_API_KEY, row->id, err) == 0;
  return oc_sqlite_op_end(s, ok, err);
}

int oc_sqlite_api_key_list(oc_store *store, oc_api_key_row **rows, size_t *n, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] =
      "SELECT id, name, scope, hash, rate_per_second, burst, created_at, revoked_at FROM api_keys ORDER BY created_at, name";
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (!st) return -1;
  oc_api_key_row *list = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    oc_xgrow((void **)&list, &cap, count + 1, sizeof *list);
    oc_api_key_row *r = &list[count++];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(r->name, sizeof r->name, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(r->scope, sizeof r->scope, "%s", (const char *)sqlite3_column_text(st, 2));
    snprintf(r->hash, sizeof r->hash, "%s", (const char *)sqlite3_column_text(st, 3));
    r->rate_per_second = sqlite3_column_double(st, 4);
    r->burst = sqlite3_column_double(st, 5);
    r->created_at = sqlite3_column_int64(st, 6);
    r->revoked_at = sqlite3_column_int64(st, 7);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    free(list);
    return oc_sqlite_fail(s, err, "listing API keys");
  }
  *rows = list;
  *n = count;
  return 0;
}

int oc_sqlite_api_key_revoke(oc_store *store, const char *id_or_name, int64_t at, bool *found, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  static const char sql[] = "UPDATE api_keys SET revoked_at = ?2 WHERE (id = ?1 OR name = ?1) AND revoked_at = 0";
  static const char known[] = "SELECT count(*) FROM api_keys WHERE id = ?1 OR name = ?1";
  if (oc_sqlite_op_begin(s, err) != 0) return -1;
  bool ok = false;
  sqlite3_stmt *st = oc_sqlite_stmt(s, sql, err);
  if (st) {
    sqlite3_bind_text(st, 1, id_or_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) oc_sqlite_fail(s, err, "revoking an API key");
    sqlite3_reset(st);
    if (ok && sqlite3_changes(s->db) > 0) ok = oc_sqlite_change_record(s, OC_CHANGE_API_KEY, id_or_name, err) == 0;
  }
  if (ok) {
    st = oc_sqlite_stmt(s, known, err);
    ok = st && sqlite3_bind_text(st, 1, id_or_name, -1, SQLITE_STATIC) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
    if (ok) *found = sqlite3_column_int(st, 0) > 0;
    else if (st) oc_sqlite_fail(s, err, "looking up an API key");
    if (st) sqlite3_reset(st);
  }
  return oc_sqlite_op_end(s, ok, err);
}
