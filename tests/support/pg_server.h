/* pg_server.h: one throwaway PostgreSQL server per test binary, started by tests/support/pg.sh in a
 * temporary directory on a free loopback port and stopped when the process exits. For tests of the
 * PostgreSQL store backend; nothing else needs it. */
#ifndef OC_TEST_PG_SERVER_H
#define OC_TEST_PG_SERVER_H

/* The server's URI prefix "postgresql://oilcast@127.0.0.1:PORT/" (append a database name: the backend
 * creates it on first open), starting the server on the first call. NULL when PostgreSQL is not
 * installed (the caller skips; under CI=true the process fails instead). */
const char *oc_test_pg_uri_prefix(void);

#endif
