/* store_sqlite_backup.c: the SQLite side of backups (store.h: snapshot_to, integrity_check). The
 * snapshot is VACUUM INTO: one read transaction, so in WAL mode writers go on while it runs and the
 * copy is the database as of the moment it began, compacted and self-contained (no WAL beside it).
 * Must not know what a backup archive holds (ops/backup.c does). */
#include <assert.h>
#include <string.h>

#include "store/store_sqlite_internal.h"

int oc_sqlite_snapshot_to(oc_store *store, const char *path, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  assert(!s->in_transaction); /* VACUUM cannot run inside a transaction */
  sqlite3_stmt *stmt;
  if (sqlite3_prepare_v2(s->db, "VACUUM INTO ?1", -1, &stmt, NULL) != SQLITE_OK)
    return oc_sqlite_fail(s, err, "snapshot");
  sqlite3_bind_text(stmt, 1, path, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
  if (rc != 0) oc_error_set(err, "store %s: snapshot into %s: %s", s->path, path, sqlite3_errmsg(s->db));
  sqlite3_finalize(stmt);
  return rc;
}

int oc_sqlite_integrity_check(oc_store *store, oc_error *err) {
  oc_sqlite_store *s = oc_sqlite_of(store);
  sqlite3_stmt *stmt;
  if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check(1)", -1, &stmt, NULL) != SQLITE_OK)
    return oc_sqlite_fail(s, err, "integrity check");
  int rc;
  if (sqlite3_step(stmt) != SQLITE_ROW) rc = oc_sqlite_fail(s, err, "integrity check");
  else if (strcmp((const char *)sqlite3_column_text(stmt, 0), "ok") == 0) rc = 0;
  else rc = oc_error_set(err, "store %s: integrity check: %s", s->path, (const char *)sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  return rc;
}
