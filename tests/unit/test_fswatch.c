/* Watching files for other writers (core/fswatch.h): a write to a watched file is reported, one to
 * another file of the same directory is not, what was reported is consumed, bursts are coalesced, an
 * interrupt ends every wait, and where inotify cannot watch (a missing directory, no files) the watch is
 * inactive and only times out, so its user polls. (The store's use of it, waiting for commits of other
 * processes, is tested through the change feed in test_store.c.) */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/fswatch.h"
#include "core/progress.h"

/* Generous: a reported change returns at once; only a bug waits this long. */
#define NEVER 10.0

static void test_reports_writes_to_watched_files_only(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("fswatch");
  char *db = oc_path_join(dir, "x.db"), *wal = oc_path_join(dir, "x.db-wal");
  const char *paths[] = {db, wal};
  oc_error why;
  oc_fswatch *w = oc_fswatch_open(paths, 2, &why);
  if (!oc_fswatch_active(w)) fail_msg("inotify unavailable here: %s", why.message);
  assert_int_equal(oc_fswatch_wait(w, 0, 0), OC_FSWATCH_TIMEOUT);
  free(oc_test_write_file(dir, "other.txt", "not watched"));
  free(oc_test_write_file(dir, "x.db-shm", "not watched either"));
  assert_int_equal(oc_fswatch_wait(w, 0.1, 0), OC_FSWATCH_TIMEOUT);
  free(oc_test_write_file(dir, "x.db-wal", "frames")); /* created: the file need not exist when watched */
  assert_int_equal(oc_fswatch_wait(w, NEVER, 0), OC_FSWATCH_CHANGED);
  assert_int_equal(oc_fswatch_wait(w, 0, 0), OC_FSWATCH_TIMEOUT); /* consumed */

  /* A burst: the second report waits until min_gap after the first, and covers the whole burst. */
  free(oc_test_write_file(dir, "x.db", "page"));
  assert_int_equal(oc_fswatch_wait(w, NEVER, 0.3), OC_FSWATCH_CHANGED);
  double start = oc_monotonic_seconds();
  for (int i = 0; i < 5; i++) free(oc_test_write_file(dir, "x.db-wal", "more frames"));
  assert_int_equal(oc_fswatch_wait(w, NEVER, 0.3), OC_FSWATCH_CHANGED);
  assert_true(oc_monotonic_seconds() - start >= 0.25);
  assert_int_equal(oc_fswatch_wait(w, 0, 0), OC_FSWATCH_TIMEOUT);

  oc_fswatch_interrupt(w);
  assert_int_equal(oc_fswatch_wait(w, NEVER, 0), OC_FSWATCH_INTERRUPTED);
  assert_int_equal(oc_fswatch_wait(w, NEVER, 0), OC_FSWATCH_INTERRUPTED);
  oc_fswatch_close(w);
  free(db);
  free(wal);
  oc_test_rmtree(dir);
  free(dir);
}

static void test_inactive_where_inotify_cannot_watch(void **state) {
  (void)state;
  const char *missing[] = {"/nonexistent-oilcast-dir/x.db"};
  oc_error why;
  oc_fswatch *w = oc_fswatch_open(missing, 1, &why);
  assert_false(oc_fswatch_active(w));
  assert_non_null(strstr(why.message, "/nonexistent-oilcast-dir/x.db"));
  assert_int_equal(oc_fswatch_wait(w, 0.05, 0), OC_FSWATCH_TIMEOUT); /* the caller's poll period */
  oc_fswatch_interrupt(w);
  assert_int_equal(oc_fswatch_wait(w, NEVER, 0), OC_FSWATCH_INTERRUPTED);
  oc_fswatch_close(w);
  w = oc_fswatch_open(NULL, 0, &why);
  assert_false(oc_fswatch_active(w));
  oc_fswatch_close(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_reports_writes_to_watched_files_only),
                                     cmocka_unit_test(test_inactive_where_inotify_cannot_watch)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
