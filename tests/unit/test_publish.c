/* Unit tests for src/core/publish: files published as one (journal first, then the renames), a publish
 * interrupted at every point between the journal and the last rename finished by the next recovery, a
 * live writer's journal left alone, a damaged journal reported, and the temporary files of dead
 * processes (and only those) removed, in nested folders too. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/publish.h"

static char *read_text(const char *dir, const char *name) {
  char *path = oc_path_join(dir, name);
  char *text = NULL;
  size_t len;
  oc_error err;
  if (oc_read_file(path, &text, &len, &err) != 0) text = NULL;
  free(path);
  return text;
}

static void assert_file(const char *dir, const char *name, const char *expected) {
  char *text = read_text(dir, name);
  if (!expected) {
    assert_null(text);
    return;
  }
  assert_non_null(text);
  assert_string_equal(text, expected);
  free(text);
}

/* oc_test_write_file, creating the folders on the way. */
static void write_at(const char *dir, const char *name, const char *text) {
  char *path = oc_path_join(dir, name);
  *strrchr(path, '/') = '\0';
  oc_error err;
  assert_int_equal(oc_mkdir_p(path, &err), 0);
  free(path);
  free(oc_test_write_file(dir, name, text));
}

/* The id of a process that has exited (and been reaped), so no process has it for a while. */
static long dead_pid(void) {
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, NULL, 0);
  return (long)child;
}

static void write_staged(const char *dir, const char *final, long pid, const char *text) {
  char name[256];
  snprintf(name, sizeof name, "%s.tmp.%ld", final, pid);
  write_at(dir, name, text);
}

static void test_publish_moves_every_file(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("publish");
  free(oc_test_write_file(dir, "table", "old"));
  write_at(dir, "sub/part", "old");
  write_staged(dir, "table", (long)getpid(), "new table");
  write_staged(dir, "sub/part", (long)getpid(), "new part");
  const char *finals[] = {"table", "sub/part"};
  oc_error err;
  assert_int_equal(oc_publish(dir, finals, 2, &err), 0);
  assert_file(dir, "table", "new table");
  assert_file(dir, "sub/part", "new part");
  assert_file(dir, OC_PUBLISH_JOURNAL, NULL);
  assert_int_equal(oc_remove_stale_temp_files(dir), 0);
  oc_test_rmtree(dir);
  free(dir);
}

/* A writer killed after its journal and after `moved` of the two renames: recovery finishes it. */
static void test_recovery_after_every_rename(void **state) {
  (void)state;
  for (int moved = 0; moved <= 2; moved++) {
    char *dir = oc_test_tmpdir("publish-recover");
    long pid = dead_pid();
    free(oc_test_write_file(dir, "table", "old"));
    write_at(dir, "sub/part", "old");
    write_staged(dir, "table", pid, "new table");
    write_staged(dir, "sub/part", pid, "new part");
    char journal[128];
    snprintf(journal, sizeof journal, "oilcast-publish %ld\ntable\nsub/part\n", pid);
    free(oc_test_write_file(dir, OC_PUBLISH_JOURNAL, journal));
    const char *finals[] = {"table", "sub/part"};
    for (int i = 0; i < moved; i++) {
      char staged[256], final[256];
      snprintf(staged, sizeof staged, "%s/%s.tmp.%ld", dir, finals[i], pid);
      snprintf(final, sizeof final, "%s/%s", dir, finals[i]);
      assert_int_equal(rename(staged, final), 0);
    }
    oc_error err;
    assert_int_equal(oc_publish_recover(dir, &err), 0);
    assert_file(dir, "table", "new table");
    assert_file(dir, "sub/part", "new part");
    assert_file(dir, OC_PUBLISH_JOURNAL, NULL);
    assert_int_equal(oc_publish_recover(dir, &err), 0); /* nothing left to do */
    oc_test_rmtree(dir);
    free(dir);
  }
}

static void test_live_writer_and_damaged_journal(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("publish-live");
  free(oc_test_write_file(dir, "table", "old"));
  write_staged(dir, "table", (long)getpid(), "new");
  char journal[64];
  snprintf(journal, sizeof journal, "oilcast-publish %ld\ntable\n", (long)getpid());
  free(oc_test_write_file(dir, OC_PUBLISH_JOURNAL, journal));
  oc_error err;
  assert_int_equal(oc_publish_recover(dir, &err), 0);
  assert_file(dir, "table", "old"); /* the writer is alive: its publish is its own to finish */
  free(oc_test_write_file(dir, OC_PUBLISH_JOURNAL, "garbage\n"));
  assert_int_equal(oc_publish_recover(dir, &err), -1);
  assert_non_null(strstr(err.message, "not a publish journal"));
  oc_test_rmtree(dir);
  free(dir);
}

static void test_stale_temp_files_removed(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("publish-stale");
  long pid = dead_pid();
  char name[128];
  snprintf(name, sizeof name, "a.parquet.tmp.%ld", pid);
  free(oc_test_write_file(dir, name, "x"));
  snprintf(name, sizeof name, "deep/er/b.parquet.tmp.%ld.tmp.%ld", pid, pid);
  write_at(dir, name, "x");
  snprintf(name, sizeof name, "mine.tmp.%ld", (long)getpid());
  free(oc_test_write_file(dir, name, "x"));
  free(oc_test_write_file(dir, "notes.tmp.txt", "x"));
  free(oc_test_write_file(dir, "plain.parquet", "x"));
  /* named like a dead writer's temporary but not a file: a folder is searched, a link is left */
  char folder[128], inside[160], link[160], linked[4096];
  snprintf(folder, sizeof folder, "day.tmp.%ld", pid);
  snprintf(inside, sizeof inside, "%s/c.json.tmp.%ld", folder, pid);
  write_at(dir, inside, "x");
  snprintf(link, sizeof link, "%s/link.tmp.%ld", dir, pid);
  snprintf(linked, sizeof linked, "%s/plain.parquet", dir);
  assert_int_equal(symlink(linked, link), 0);
  assert_int_equal(oc_remove_stale_temp_files(dir), 3);
  char *kept = oc_path_join(dir, folder);
  assert_true(oc_is_dir(kept));
  free(kept);
  struct stat st;
  assert_int_equal(lstat(link, &st), 0);
  assert_file(dir, name, "x");
  assert_file(dir, "notes.tmp.txt", "x");
  assert_file(dir, "plain.parquet", "x");
  assert_int_equal(oc_remove_stale_temp_files(dir), 0);
  oc_test_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_publish_moves_every_file),
      cmocka_unit_test(test_recovery_after_every_rename),
      cmocka_unit_test(test_live_writer_and_damaged_journal),
      cmocka_unit_test(test_stale_temp_files_removed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
