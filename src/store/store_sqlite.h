/* store_sqlite.h: the SQLite backend's entry points, for store.c's URI dispatch only. Callers open
 * stores with oc_store_open(); nothing here exposes SQLite types. */
#ifndef OC_STORE_SQLITE_H
#define OC_STORE_SQLITE_H

#include "store/store.h"

/* Opens (creating if needed) the SQLite database at path and migrates it to the latest schema. */
oc_store *oc_store_sqlite_open(const char *path, oc_error *err);
int oc_store_sqlite_latest_version(void);
/* The database at path and its write-ahead log (WAL mode: a commit appends to the log; a checkpoint
 * writes the database). */
void oc_store_sqlite_commit_files(const char *path, char ***paths, size_t *n);

#endif
