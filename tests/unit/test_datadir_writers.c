/* Unit tests of the data directory's writers (src/store/datadir.c): a process that opens the directory
 * is listed in DIR/.writers from its open to its exit; an open walks the side folders for dead
 * processes' temporary files only when a listed process is gone (killed) or the directory was last
 * tidied under another boot, and otherwise leaves them be (the walk of a raw zone of years cost every
 * command ~15 ms); after a walk the gone processes' files go. A forked child's exit unlists the child,
 * not its parent. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "store/datadir.h"

static long dead_pid(void) {
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, NULL, 0);
  return (long)child;
}

static void open_and_close(const char *dir) {
  oc_store *store;
  oc_error err;
  if (oc_datadir_open(dir, &store, &err) != 0) fail_msg("%s", err.message);
  oc_store_close(store);
}

static void test_walks_only_after_a_killed_writer_or_a_boot(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("datadir-writers");
  bool created;
  oc_error err;
  assert_int_equal(oc_datadir_init(dir, &created, &err), 0);
  open_and_close(dir);
  char me[64], dead[64], temp[128];
  snprintf(me, sizeof me, OC_DATADIR_WRITERS "/%ld", (long)getpid());
  assert_true(oc_test_exists_in(dir, me));
  assert_true(oc_test_exists_in(dir, OC_DATADIR_WRITERS "/boot"));

  /* a dead process's temporary file, but no listed process gone: no walk, it stays */
  long pid = dead_pid();
  snprintf(temp, sizeof temp, "raw/market_data/x.json.tmp.%ld", pid);
  free(oc_test_write_file(dir, temp, "x"));
  open_and_close(dir);
  assert_true(oc_test_exists_in(dir, temp));

  /* the process listed (it was killed before its exit): the open walks, then forgets it */
  snprintf(dead, sizeof dead, OC_DATADIR_WRITERS "/%ld", pid);
  free(oc_test_write_file(dir, dead, ""));
  open_and_close(dir);
  assert_false(oc_test_exists_in(dir, temp));
  assert_false(oc_test_exists_in(dir, dead));
  assert_true(oc_test_exists_in(dir, me));

  /* tidied under another boot: the open walks, and notes this boot */
  free(oc_test_write_file(dir, temp, "x"));
  free(oc_test_write_file(dir, OC_DATADIR_WRITERS "/boot", "another boot"));
  open_and_close(dir);
  assert_false(oc_test_exists_in(dir, temp));
  char *boot_path = oc_path_join(dir, OC_DATADIR_WRITERS "/boot"), *boot;
  size_t len;
  assert_int_equal(oc_read_file(boot_path, &boot, &len, &err), 0);
  assert_string_not_equal(boot, "another boot");
  free(boot);
  free(boot_path);
  oc_test_rmtree(dir);
  free(dir);
}

/* A child that opens the directory and exits is unlisted by its exit; its parent stays listed. */
static void test_a_child_exit_unlists_the_child_only(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("datadir-writers-child");
  bool created;
  oc_error err;
  assert_int_equal(oc_datadir_init(dir, &created, &err), 0);
  open_and_close(dir);
  pid_t child = fork();
  if (child == 0) {
    oc_store *store;
    oc_error child_err;
    if (oc_datadir_open(dir, &store, &child_err) != 0) _exit(3);
    oc_store_close(store);
    char name[64];
    snprintf(name, sizeof name, OC_DATADIR_WRITERS "/%ld", (long)getpid());
    exit(oc_test_exists_in(dir, name) ? 0 : 4);
  }
  int status;
  waitpid(child, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  char name[64];
  snprintf(name, sizeof name, OC_DATADIR_WRITERS "/%ld", (long)child);
  assert_false(oc_test_exists_in(dir, name));
  snprintf(name, sizeof name, OC_DATADIR_WRITERS "/%ld", (long)getpid());
  assert_true(oc_test_exists_in(dir, name));
  oc_test_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_walks_only_after_a_killed_writer_or_a_boot),
      cmocka_unit_test(test_a_child_exit_unlists_the_child_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
