/* Unit tests for the fewer syncs of a durable write: oc_write_files_atomic (core/fsutil.h: several
 * files, one folder fsync per folder; nothing left behind on failure) and the SQLite store leaving its
 * checkpoint to SQLite's automatic one instead of running it at every close (the WAL outlives the
 * connection, and every commit is still read back after a reopen). */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"

static void assert_text(const char *path, const char *expected) {
  char *text;
  size_t len;
  oc_error err;
  assert_int_equal(oc_read_file(path, &text, &len, &err), 0);
  assert_string_equal(text, expected);
  free(text);
}

/* How many entries of dir hold ".tmp." (temporary siblings left behind). */
static int temporaries_in(const char *dir) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) n += strstr(e->d_name, ".tmp.") != NULL;
  closedir(d);
  return n;
}

static void test_files_written_in_two_folders(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("durable-files");
  char *sub = oc_path_join(dir, "day");
  oc_error err;
  assert_int_equal(oc_mkdir_p(sub, &err), 0);
  char *a = oc_path_join(sub, "a.json"), *b = oc_path_join(sub, "b.json"), *c = oc_path_join(dir, "c.json");
  free(oc_test_write_file(sub, "b.json", "old")); /* replaced, as oc_write_file_atomic does */
  oc_file_write files[] = {{.path = a, .data = "[1]", .len = 3},
                           {.path = b, .data = "[2]", .len = 3},
                           {.path = c, .data = "", .len = 0}};
  assert_int_equal(oc_write_files_atomic(files, 3, &err), 0);
  for (int i = 0; i < 3; i++) assert_true(files[i].written);
  assert_text(a, "[1]");
  assert_text(b, "[2]");
  assert_text(c, "");
  assert_int_equal(temporaries_in(sub), 0);
  assert_int_equal(temporaries_in(dir), 0);
  assert_int_equal(oc_write_files_atomic(NULL, 0, &err), 0); /* nothing to write is no error */
  free(a);
  free(b);
  free(c);
  free(sub);
  oc_test_rmtree(dir);
  free(dir);
}

static void test_failure_leaves_nothing(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("durable-fail");
  char *a = oc_path_join(dir, "a.json"), *missing = oc_path_join(dir, "no-such-folder/b.json");
  oc_file_write files[] = {{.path = a, .data = "[1]", .len = 3}, {.path = missing, .data = "[2]", .len = 3}};
  oc_error err;
  assert_int_equal(oc_write_files_atomic(files, 2, &err), -1);
  assert_non_null(strstr(err.message, "no-such-folder/b.json.tmp."));
  assert_false(files[0].written);
  assert_false(files[1].written);
  assert_false(oc_path_exists(a)); /* no file renamed before every one was written and synced */
  assert_int_equal(temporaries_in(dir), 0);
  free(a);
  free(missing);
  oc_test_rmtree(dir);
  free(dir);
}

/* Staged files (the first half of the atomic write): under their temporary names, complete, the final
 * names untouched until the caller renames them; one copied from a file's first bytes likewise; a
 * failure leaves no temporary file. */
static void test_staged_files_wait_for_their_names(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("durable-staged");
  char *a = oc_path_join(dir, "a.json"), *b = oc_path_join(dir, "b.csv");
  free(oc_test_write_file(dir, "a.json", "old"));
  oc_file_write files[] = {{.path = a, .data = "[1]", .len = 3}};
  oc_error err;
  assert_int_equal(oc_write_files_staged(files, 1, &err), 0);
  assert_true(files[0].written);
  assert_text(a, "old");
  char staged[4096];
  snprintf(staged, sizeof staged, "%s.tmp.%ld", a, (long)getpid());
  assert_text(staged, "[1]");
  char *source = oc_test_write_file(dir, "source.csv", "Date,Price\n2024-01-02,70.5\n");
  int fd = open(source, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(oc_copy_fd_staged(b, fd, 11, &err), 0); /* its first 11 bytes */
  close(fd);
  assert_false(oc_path_exists(b));
  snprintf(staged, sizeof staged, "%s.tmp.%ld", b, (long)getpid());
  assert_text(staged, "Date,Price\n");
  char *missing = oc_path_join(dir, "no-such-folder/c.json");
  oc_file_write bad[] = {{.path = missing, .data = "[2]", .len = 3}};
  assert_int_equal(oc_write_files_staged(bad, 1, &err), -1);
  assert_false(bad[0].written);
  assert_int_equal(temporaries_in(dir), 2); /* the two staged above, no more */
  free(missing);
  free(source);
  free(a);
  free(b);
  oc_test_rmtree(dir);
  free(dir);
}

static void test_store_close_leaves_checkpoint_to_sqlite(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("durable-wal");
  char *db = oc_path_join(dir, "oilcast.db"), *uri = NULL, *wal = NULL;
  oc_buf text = {0};
  oc_buf_printf(&text, "sqlite:%s", db);
  uri = oc_buf_steal(&text);
  oc_buf_printf(&text, "%s-wal", db);
  wal = oc_buf_steal(&text);
  oc_error err;
  oc_store *store = oc_store_open(uri, &err);
  assert_non_null(store);
  assert_int_equal(oc_store_change_note(store, OC_CHANGE_OBSERVATIONS, "WTI", &err), 0);
  int64_t latest = 0;
  assert_int_equal(oc_store_changes_latest(store, &latest, &err), 0);
  assert_true(latest > 0);
  oc_store_close(store);
  assert_true(oc_path_exists(wal)); /* no checkpoint (and no WAL removal) at the last close */
  store = oc_store_open(uri, &err);
  assert_non_null(store);
  int64_t reopened = 0;
  assert_int_equal(oc_store_changes_latest(store, &reopened, &err), 0);
  assert_int_equal(reopened, latest); /* the commit is read back from the WAL */
  oc_store_close(store);
  free(uri);
  free(wal);
  free(db);
  oc_test_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_files_written_in_two_folders),
      cmocka_unit_test(test_failure_leaves_nothing),
      cmocka_unit_test(test_staged_files_wait_for_their_names),
      cmocka_unit_test(test_store_close_leaves_checkpoint_to_sqlite),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
