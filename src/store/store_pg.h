/* store_pg.h: the PostgreSQL backend's entry points, for store.c's table of URI schemes (and two hooks
 * for the change feed's tests). Callers open stores with oc_store_open("postgresql://user@host:port/
 * database"); nothing here exposes libpq types. See docs/postgresql.md. */
#ifndef OC_STORE_PG_H
#define OC_STORE_PG_H

#include "store/store.h"

/* Opens the database at location (what follows "postgresql:", i.e. "//user@host:port/db?params"),
 * creating it when the server has no such database, and migrates it to the latest schema. */
oc_store *oc_store_pg_open(const char *location, oc_error *err);
int oc_store_pg_latest_version(void);

/* For tests of the change feed only. set_changes_wait_hook: changes_wait calls hook(store, ctx) after
 * each look at the latest change that found none new, before it waits on the session's socket (NULL:
 * no hook, the default; not thread-safe: set it before the waits run). pull_notification: waits up to
 * timeout seconds for a NOTIFY to reach the session's socket and lets libpq read it into its buffers,
 * as libpq does when a NOTIFY comes in behind a query's answer; false when none came. */
void oc_store_pg_set_changes_wait_hook(void (*hook)(oc_store *store, void *ctx), void *ctx);
bool oc_store_pg_pull_notification(oc_store *store, double timeout);

#endif
