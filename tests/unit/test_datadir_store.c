/* Unit tests of oc_datadir_init_store (src/store/datadir.h), what `oilcast init --store URI` runs: a new
 * data directory's oilcast.conf names the given store (a relative sqlite path inside the directory) and
 * the store is created; init again with the same store changes nothing, with another is refused and
 * leaves the config as it was; a store that does not open leaves no oilcast.conf; a URI of several
 * lines is refused before anything is written. On SQLite (tests/e2e/pg_init.sh does PostgreSQL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/fsutil.h"
#include "store/datadir.h"
#include "testutil.h"

static char *read_conf(const char *dir) {
  char *path = oc_path_join(dir, OC_DATADIR_CONF);
  char *text;
  size_t len;
  oc_error err;
  if (oc_read_file(path, &text, &len, &err) != 0) fail_msg("%s", err.message);
  free(path);
  return text;
}

static void test_init_names_the_given_store(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("datadir-store");
  oc_error err;
  bool created;
  assert_int_equal(oc_datadir_init_store(dir, "sqlite:elsewhere.db", &created, &err), 0);
  assert_true(created);
  char *conf = read_conf(dir);
  assert_non_null(strstr(conf, "\nstore = sqlite:elsewhere.db\n"));
  assert_true(oc_test_exists_in(dir, "elsewhere.db"));
  assert_false(oc_test_exists_in(dir, "oilcast.db"));

  /* Again with the same store: nothing changes; with another (the default included): refused. */
  assert_int_equal(oc_datadir_init_store(dir, "sqlite:elsewhere.db", &created, &err), 0);
  assert_false(created);
  assert_int_equal(oc_datadir_init_store(dir, OC_DATADIR_DEFAULT_STORE, &created, &err), -1);
  assert_non_null(strstr(err.message, "names another store"));
  char *after = read_conf(dir);
  assert_string_equal(after, conf);
  assert_false(oc_test_exists_in(dir, "oilcast.db"));
  /* Without a store named, init completes the directory as it is. */
  assert_int_equal(oc_datadir_init(dir, &created, &err), 0);
  free(after);
  free(conf);
  oc_test_rmtree(dir);
  free(dir);
}

static void test_a_store_that_does_not_open_leaves_no_config(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("datadir-store-bad");
  oc_error err;
  bool created;
  assert_int_equal(oc_datadir_init_store(dir, "nosuch:x", &created, &err), -1);
  assert_non_null(strstr(err.message, "nosuch"));
  assert_false(oc_test_exists_in(dir, OC_DATADIR_CONF));
  assert_int_equal(oc_datadir_init_store(dir, "sqlite:x.db\nstore = sqlite:y.db", &created, &err), -1);
  assert_non_null(strstr(err.message, "one non-empty line"));
  assert_int_equal(oc_datadir_init_store(dir, "", &created, &err), -1);
  assert_false(oc_test_exists_in(dir, OC_DATADIR_CONF));
  /* then a good one works */
  assert_int_equal(oc_datadir_init_store(dir, "sqlite:good.db", &created, &err), 0);
  assert_true(created && oc_test_exists_in(dir, "good.db"));
  oc_test_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_init_names_the_given_store),
      cmocka_unit_test(test_a_store_that_does_not_open_leaves_no_config),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
