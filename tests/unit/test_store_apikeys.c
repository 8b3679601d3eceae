/* Unit tests for the API-key ops of the store (store.h) and the key functions built on them
 * (keys/apikey.h): only hashes are stored, names are unique, revocation, verification in the
 * in-memory table (a key created after the table was read works on its first use; unknown ids cost
 * a bounded number of store reads), and a failed insert that leaves nothing behind. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/sha256.h"
#include "keys/apikey.h"
#include "store/store.h"

typedef struct fixture {
  char *dir;
  oc_store *store;
} fixture;

static int setup(void **state) {
  fixture *f = oc_xcalloc(1, sizeof *f);
  f->dir = oc_test_tmpdir("apikeys");
  oc_buf uri = {0};
  char *db = oc_path_join(f->dir, "oilcast.db");
  oc_buf_printf(&uri, "sqlite:%s", db);
  free(db);
  oc_error err;
  f->store = oc_store_open(uri.data, &err);
  oc_buf_free(&uri);
  if (!f->store) fail_msg("open: %s", err.message);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  oc_store_close(f->store);
  oc_test_rmtree(f->dir);
  free(f->dir);
  free(f);
  return 0;
}

/* The table reads the fixture's one connection. */
static oc_store *lend_store(void *ctx, oc_error *err) {
  (void)err;
  return ctx;
}
static void keep_store(void *ctx, oc_store *store) { (void)ctx, (void)store; }

static void test_create_stores_only_the_hash(void **state) {
  fixture *f = *state;
  char key[OC_APIKEY_LEN + 1];
  oc_error err;
  oc_apikey_limit rate = {.per_second = 50, .burst = 100};
  assert_int_equal(oc_apikey_create(f->store, "reader", OC_SCOPE_READ, &rate, key, &err), 0);
  assert_int_equal(strlen(key), OC_APIKEY_LEN);
  assert_memory_equal(key, "ock_", 4);
  oc_api_key_row *rows = NULL;
  size_t n = 0;
  assert_int_equal(oc_store_api_key_list(f->store, &rows, &n, &err), 0);
  assert_int_equal(n, 1);
  char expected[OC_SHA256_HEX_LEN];
  oc_sha256_hex(key, strlen(key), expected);
  assert_string_equal(rows[0].hash, expected);
  assert_null(strstr(rows[0].hash, key + 17)); /* the secret part is nowhere in the row */
  assert_memory_equal(rows[0].id, key + 4, OC_APIKEY_ID_LEN);
  assert_string_equal(rows[0].scope, "read");
  assert_true(rows[0].rate_per_second == 50 && rows[0].burst == 100);
  assert_int_equal(rows[0].revoked_at, 0);
  free(rows);
}

static void test_duplicate_name_rejected_and_nothing_written(void **state) {
  fixture *f = *state;
  char key[OC_APIKEY_LEN + 1];
  oc_error err;
  assert_int_equal(oc_apikey_create(f->store, "ops", OC_SCOPE_ADMIN, NULL, key, &err), 0);
  assert_int_equal(oc_apikey_create(f->store, "ops", OC_SCOPE_READ, NULL, key, &err), -1);
  assert_non_null(strstr(err.message, "already exists"));
  assert_int_equal(oc_apikey_create(f->store, "", OC_SCOPE_READ, NULL, key, &err), -1);
  oc_api_key_row *rows = NULL;
  size_t n = 0;
  assert_int_equal(oc_store_api_key_list(f->store, &rows, &n, &err), 0);
  assert_int_equal(n, 1);
  free(rows);
}

static void test_verify_and_revoke(void **state) {
  fixture *f = *state;
  char admin[OC_APIKEY_LEN + 1], reader[OC_APIKEY_LEN + 1];
  oc_error err;
  bool created = false;
  assert_int_equal(oc_apikey_bootstrap(f->store, admin, &created, &err), 0);
  assert_true(created);
  assert_int_equal(oc_apikey_bootstrap(f->store, admin + 0, &created, &err), 0);
  assert_false(created); /* idempotent: a store with keys gets no new admin key */
  assert_int_equal(oc_apikey_create(f->store, "reader", OC_SCOPE_READ, NULL, reader, &err), 0);

  oc_apikey_table table;
  oc_apikey_table_init(&table, &(oc_apikey_source){lend_store, keep_store, f->store}, 0);
  oc_apikey_record caller;
  assert_int_equal(oc_apikey_verify(&table, reader, &caller), OC_AUTH_OK);
  assert_string_equal(caller.name, "reader");
  assert_int_equal(caller.scope, OC_SCOPE_READ);
  char tampered[OC_APIKEY_LEN + 1];
  memcpy(tampered, reader, sizeof tampered);
  tampered[OC_APIKEY_LEN - 1] = tampered[OC_APIKEY_LEN - 1] == 'a' ? 'b' : 'a';
  assert_int_equal(oc_apikey_verify(&table, tampered, &caller), OC_AUTH_UNKNOWN);
  assert_int_equal(oc_apikey_verify(&table, "ock_short", &caller), OC_AUTH_MALFORMED);

  bool found = false;
  assert_int_equal(oc_store_api_key_revoke(f->store, "reader", 12345, &found, &err), 0);
  assert_true(found);
  assert_int_equal(oc_apikey_verify(&table, reader, &caller), OC_AUTH_REVOKED);
  assert_int_equal(oc_store_api_key_revoke(f->store, "nobody", 12345, &found, &err), 0);
  assert_false(found);
  oc_apikey_table_free(&table);
}

/* Counts the table's reads of the store. */
static int store_reads;
static oc_store *lend_counting(void *ctx, oc_error *err) {
  store_reads++;
  return lend_store(ctx, err);
}

static void test_new_key_works_on_first_request_and_unknown_keys_are_bounded(void **state) {
  fixture *f = *state;
  char early[OC_APIKEY_LEN + 1], late[OC_APIKEY_LEN + 1];
  oc_error err;
  assert_int_equal(oc_apikey_create(f->store, "early", OC_SCOPE_READ, NULL, early, &err), 0);
  oc_apikey_table table;
  oc_apikey_table_init(&table, &(oc_apikey_source){lend_counting, keep_store, f->store}, 3600);
  assert_int_equal(oc_apikey_table_reload(&table, &err), 0);
  oc_apikey_record who;
  store_reads = 0;
  assert_int_equal(oc_apikey_verify(&table, early, &who), OC_AUTH_OK);
  assert_int_equal(store_reads, 0); /* a known key costs no store read */

  /* Created after the table was read, and no reload since: still accepted on its first use. */
  assert_int_equal(oc_apikey_create(f->store, "late", OC_SCOPE_WRITE, NULL, late, &err), 0);
  assert_int_equal(oc_apikey_verify(&table, late, &who), OC_AUTH_OK);
  assert_string_equal(who.name, "late");
  assert_int_equal(who.scope, OC_SCOPE_WRITE);
  assert_int_equal(store_reads, 1);

  /* An unknown id is looked up once until the next reload, and a flood of made-up ids is bounded. */
  char unknown[OC_APIKEY_LEN + 1];
  memcpy(unknown, late, sizeof unknown);
  memcpy(unknown + 4, "000000000000", OC_APIKEY_ID_LEN);
  store_reads = 0;
  for (int i = 0; i < 5; i++) assert_int_equal(oc_apikey_verify(&table, unknown, &who), OC_AUTH_UNKNOWN);
  assert_int_equal(store_reads, 1);
  for (int i = 0; i < 1000; i++) {
    snprintf(unknown + 4, OC_APIKEY_ID_LEN + 1, "%012x", i + 1);
    unknown[4 + OC_APIKEY_ID_LEN] = '_';
    assert_int_equal(oc_apikey_verify(&table, unknown, &who), OC_AUTH_UNKNOWN);
  }
  assert_true(store_reads <= 2 * OC_APIKEY_LOOKUPS_PER_SECOND + 1); /* the loop may span two windows */
  oc_apikey_table_free(&table);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_create_stores_only_the_hash, setup, teardown),
      cmocka_unit_test_setup_teardown(test_duplicate_name_rejected_and_nothing_written, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_and_revoke, setup, teardown),
      cmocka_unit_test_setup_teardown(test_new_key_works_on_first_request_and_unknown_keys_are_bounded, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
