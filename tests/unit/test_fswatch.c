/* Watching files for other writers (core/fswatch.h): a write to a watched file is reported, one to
 * another file of the same directory is not, what was reported is consumed, bursts are coalesced, an
 * interrupt ends every wait, and where inotify cannot watch (a missing directory, no files) the watch is
 * inactive and only times out, so its user polls. On a real store, a commit through oc_store (WAL mode)
 * touches the files oc_store_commit_files names. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/fswatch.h"
#include "core/progress.h"
#include "store/store.h"

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

static void test_store_commits_touch_its_commit_files(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("fswatch-store");
  char *db = oc_path_join(dir, "oilcast.db");
  oc_buf uri = {0};
  oc_buf_printf(&uri, "sqlite:%s", db);
  oc_error err;
  char **paths;
  size_t n;
  assert_int_equal(oc_store_commit_files(uri.data, &paths, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(paths[0], db);
  assert_non_null(strstr(paths[1], "oilcast.db-wal"));
  oc_store *store = oc_store_open(uri.data, &err), *other = oc_store_open(uri.data, &err);
  if (!store || !other) fail_msg("%s", err.message);
  oc_fswatch *w = oc_fswatch_open((const char *const *)paths, n, &err);
  assert_true(oc_fswatch_active(w));
  int64_t id;
  if (oc_store_series_ensure(other, "WTI", "USD/bbl", "test", &id, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(oc_fswatch_wait(w, NEVER, 0), OC_FSWATCH_CHANGED);
  /* reading changes nothing */
  oc_series_info info;
  bool found;
  if (oc_store_series_get(store, "WTI", &info, &found, &err) != 0) fail_msg("%s", err.message);
  assert_true(found);
  oc_series_info_free(&info);
  assert_int_equal(oc_fswatch_wait(w, 0.1, 0), OC_FSWATCH_TIMEOUT);
  oc_fswatch_close(w);
  oc_store_close(other);
  oc_store_close(store);
  for (size_t i = 0; i < n; i++) free(paths[i]);
  free(paths);
  assert_int_equal(oc_store_commit_files("postgresql://host/db", &paths, &n, &err), -1);
  oc_buf_free(&uri);
  free(db);
  oc_test_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_reports_writes_to_watched_files_only),
                                     cmocka_unit_test(test_inactive_where_inotify_cannot_watch),
                                     cmocka_unit_test(test_store_commits_touch_its_commit_files)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
