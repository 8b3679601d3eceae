/* pg_fixture.h: a fresh store per test, on SQLite or on the throwaway PostgreSQL server of
 * pg_server.h: the one copy of what the store, cluster and PostgreSQL import tests each built. A test
 * gets a temporary directory and the URI of a store no other test of the process used: SQLite's
 * scratch file in the directory, or a schema of its own in one database of the server (a schema each
 * is quicker than a database each: the migrations run into it, no CREATE DATABASE). Must not start or
 * stop servers (pg_server.c does). */
#ifndef OC_TEST_PG_FIXTURE_H
#define OC_TEST_PG_FIXTURE_H

/* The URI template of database db on the test server, a schema per store: "%s" becomes the schema's
 * name (malloc'd); NULL when PostgreSQL is not installed (the caller skips). */
char *oc_test_pg_store_template(const char *db);

/* template (a store URI with one "%s") with its "%s" replaced by a name no store of this process had
 * ("t<pid>_<n>"), malloc'd. */
char *oc_test_fresh_store_uri(const char *template);

typedef struct oc_test_store_fixture {
  char *dir; /* a temporary directory, removed by oc_test_store_fixture_free */
  char *uri; /* the store's URI */
} oc_test_store_fixture;

/* A fixture under oc_test_tmpdir(tag): with a NULL template the SQLite scratch file DIR/oilcast.db,
 * otherwise oc_test_fresh_store_uri(template). */
oc_test_store_fixture *oc_test_store_fixture_new(const char *tag, const char *template);
void oc_test_store_fixture_free(oc_test_store_fixture *f);

#endif
