/* store_pg_backup.c: the PostgreSQL side of the backup ops (store.h: snapshot_to, integrity_check). A
 * PostgreSQL store is backed up with the server's own tools (pg_dump, base backups), not by oilcast:
 * snapshot_to refuses with the words ops/backup.c uses. integrity_check runs amcheck's bt_index_check
 * on every B-tree index of the store's schema when the database has the amcheck extension, and
 * otherwise only proves that the schema answers (docs/postgresql.md). Must not write anything. */
#include "store/store_pg_internal.h"

int oc_pg_snapshot_to(oc_store *store, const char *path, oc_error *err) {
  return oc_error_set(err,
                      "backup: the store is '%s'; only a SQLite file inside the data directory is backed up (back up "
                      "a PostgreSQL store with pg_dump: docs/postgresql.md), not into %s",
                      oc_pg_of(store)->display, path);
}

int oc_pg_integrity_check(oc_store *store, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  PGresult *r = oc_pg_query(s, "SELECT count(*) FROM pg_extension WHERE extname = 'amcheck'", NULL,
                            "integrity check", err);
  if (!r) return -1;
  bool amcheck = oc_pg_get_int(r, 0, 0) > 0;
  PQclear(r);
  if (!amcheck) { /* no deep check here: the schema must at least answer */
    r = oc_pg_query(s, "SELECT max(version) FROM schema_migrations", NULL, "integrity check", err);
    PQclear(r);
    return r ? 0 : -1;
  }
  /* bt_index_check raises an error naming the first corrupt index; its rows are not needed */
  r = oc_pg_query(s,
                  "SELECT bt_index_check(c.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                  " JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree'"
                  " AND c.relnamespace = current_schema()::regnamespace AND c.relpersistence <> 't'",
                  NULL, "integrity check (amcheck)", err);
  PQclear(r);
  return r ? 0 : -1;
}
