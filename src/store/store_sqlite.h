/* store_sqlite.h: the SQLite backend's entry points, for store.c's table of URI schemes only. Callers
 * open stores with oc_store_open(); nothing here exposes SQLite types. */
#ifndef OC_STORE_SQLITE_H
#define OC_STORE_SQLITE_H

#include "store/store.h"

/* Opens (creating if needed) the SQLite database at location ("PATH" or "//PATH", what follows
 * "sqlite:") and migrates it to the latest schema. */
oc_store *oc_store_sqlite_open(const char *location, oc_error *err);
int oc_store_sqlite_latest_version(void);
/* "sqlite:DIR/oilcast.db". */
char *oc_store_sqlite_scratch_uri(const char *dir);

#endif
