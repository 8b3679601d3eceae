/* store_pg.h: the PostgreSQL backend's entry points, for store.c's table of URI schemes only. Callers
 * open stores with oc_store_open("postgresql://user@host:port/database"); nothing here exposes libpq
 * types. See docs/postgresql.md. */
#ifndef OC_STORE_PG_H
#define OC_STORE_PG_H

#include "store/store.h"

/* Opens the database at location (what follows "postgresql:", i.e. "//user@host:port/db?params"),
 * creating it when the server has no such database, and migrates it to the latest schema. */
oc_store *oc_store_pg_open(const char *location, oc_error *err);
int oc_store_pg_latest_version(void);

#endif
