/* test_sqlite_changes_wait.c: the SQLite change feed's wait (oc_store_changes_wait) against a commit
 * that becomes visible long after the WAL write that wakes the wait. A reader sees a commit once its
 * writer has updated the WAL index (shared memory: no inotify event), and with synchronous=FULL the
 * writer syncs the WAL between the two; under I/O load that sync takes up to seconds. Here the writer,
 * another process, is slowed at exactly that point through SQLite's replaceable system calls (every
 * write to a -wal file is followed by a pause), so the wait must find the commit with no later write
 * to wake it: before the fix it slept until its timeout, and `oilcast serve` published a sensor window
 * up to 30 s late (e2e_dashboard_sensors). Test code only: it must not reach into the store's internals. */
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/progress.h"
#include "store/datadir.h"
#include "store/store.h"

/* How long the slowed writer pauses after each write to its WAL: longer than the wait's fast settling
 * (a quarter second), far shorter than the timeout the tests give the wait. */
#define WAL_PAUSE_SECONDS 0.5
#define WAIT_TIMEOUT_SECONDS 8.0
/* The wait must return this soon: the pauses (a commit writes a frame or two) and a poll step, with room
 * for a loaded machine, and well under WAIT_TIMEOUT_SECONDS, which the wait took before the fix. */
#define FOUND_WITHIN_SECONDS 5.0

/* ---- the slowed writer (a child process) ---- */

/* SQLite's own write calls, replaced in the child; the pipe end told of the first WAL write (-1: none). */
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static int told_fd = -1;

static bool is_wal(int fd) {
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  return n > 4 && memcmp(path + n - 4, "-wal", 4) == 0;
}

/* After a write to the WAL: tell the parent (once), then pause as a slow sync would. */
static void after_write(int fd) {
  if (!is_wal(fd)) return;
  if (told_fd >= 0) {
    char byte = 1;
    if (write(told_fd, &byte, 1) != 1) _exit(3);
    close(told_fd);
    told_fd = -1;
  }
  struct timespec pause = {0, (long)(WAL_PAUSE_SECONDS * 1e9)};
  nanosleep(&pause, NULL);
}

static ssize_t slow_write(int fd, const void *buf, size_t n) {
  ssize_t rc = real_write(fd, buf, n);
  after_write(fd);
  return rc;
}
static ssize_t slow_pwrite(int fd, const void *buf, size_t n, off_t off) {
  ssize_t rc = real_pwrite(fd, buf, n, off);
  after_write(fd);
  return rc;
}
static ssize_t slow_pwrite64(int fd, const void *buf, size_t n, off_t off) {
  ssize_t rc = real_pwrite64(fd, buf, n, off);
  after_write(fd);
  return rc;
}

/* Replaces whichever of SQLite's write calls this build of it uses. */
static void slow_down_wal_writes(void) {
  sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
  struct {
    const char *name;
    void **real;
    sqlite3_syscall_ptr slow;
  } calls[] = {{"write", (void **)&real_write, (sqlite3_syscall_ptr)slow_write},
               {"pwrite", (void **)&real_pwrite, (sqlite3_syscall_ptr)slow_pwrite},
               {"pwrite64", (void **)&real_pwrite64, (sqlite3_syscall_ptr)slow_pwrite64}};
  int replaced = 0;
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    sqlite3_syscall_ptr real = vfs->xGetSystemCall(vfs, calls[i].name);
    if (!real) continue;
    *calls[i].real = (void *)real;
    if (vfs->xSetSystemCall(vfs, calls[i].name, calls[i].slow) == SQLITE_OK) replaced++;
  }
  if (!replaced) _exit(4);
}

/* A child process that waits `delay` seconds, then commits one change with its WAL writes slowed;
 * told (a pipe's write end, or -1) hears a byte after the first of them. It keeps its connection open,
 * as the stream inside a server does, until its parent writes to the pipe `release`: closing would
 * write-close the WAL, an event that wakes any wait. Its exit status: 0 committed, 1 the commit failed,
 * 2 to 5 the harness did (opening the store, telling, replacing the calls, hearing the release). */
typedef struct slow_writer {
  pid_t pid;
  int release; /* the parent's end of the pipe the child waits on */
} slow_writer;

static slow_writer commit_slowly(const char *data_dir, double delay, int told) {
  int release[2];
  assert_int_equal(pipe(release), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid > 0) {
    close(release[0]);
    return (slow_writer){pid, release[1]};
  }
  close(release[1]);
  told_fd = told;
  oc_error err;
  oc_store *s;
  if (oc_datadir_open(data_dir, &s, &err) != 0) _exit(2);
  struct timespec before = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
  nanosleep(&before, NULL);
  slow_down_wal_writes();
  int rc = oc_store_change_note(s, OC_CHANGE_API_KEY, "slow-commit", &err) == 0 ? 0 : 1;
  if (rc) fprintf(stderr, "child: %s\n", err.message);
  char byte;
  if (read(release[0], &byte, 1) != 1) rc = 5;
  oc_store_close(s);
  _exit(rc);
}

/* Lets the child close its connection and exit; it must have committed. */
static void release_writer(slow_writer w) {
  char byte = 1;
  assert_int_equal(write(w.release, &byte, 1), 1);
  close(w.release);
  int status;
  assert_int_equal(waitpid(w.pid, &status, 0), w.pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- the tests ---- */

static int64_t latest_change(oc_store *store) {
  int64_t id;
  oc_error err;
  if (oc_store_changes_latest(store, &id, &err) != 0) fail_msg("%s", err.message);
  return id;
}

/* The wait is on (its watch open) when the writer writes its WAL; the commit shows a pause later, with
 * no write after it. */
static void test_wait_finds_a_commit_visible_after_its_wal_write(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_error err;
  int64_t before = latest_change(f->store), latest = -1;
  double start = oc_monotonic_seconds();
  slow_writer child = commit_slowly(f->dir, 0.3, -1);
  assert_int_equal(oc_store_changes_wait(f->store, before, WAIT_TIMEOUT_SECONDS, &latest, &err), 0);
  double waited = oc_monotonic_seconds() - start;
  release_writer(child);
  print_message("      a commit %.1f s behind each WAL write was found after %.2f s (timeout %.0f s)\n",
                WAL_PAUSE_SECONDS, waited, WAIT_TIMEOUT_SECONDS);
  assert_int_equal(latest, before + 1);
  assert_true(waited < FOUND_WITHIN_SECONDS);
}

/* The writer has written its WAL before this connection's first wait opens its watch, and the commit
 * shows only after the wait's first look: no event will ever come for it. */
static void test_first_wait_finds_a_commit_written_before_its_watch(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_error err;
  int64_t before = latest_change(f->store), latest = -1;
  int told[2];
  assert_int_equal(pipe(told), 0);
  slow_writer child = commit_slowly(f->dir, 0, told[1]);
  close(told[1]);
  char byte;
  assert_int_equal(read(told[0], &byte, 1), 1); /* the WAL is written; its commit is not visible yet */
  close(told[0]);
  double start = oc_monotonic_seconds(); /* f->store has not waited before: its watch opens now */
  assert_int_equal(oc_store_changes_wait(f->store, before, WAIT_TIMEOUT_SECONDS, &latest, &err), 0);
  double waited = oc_monotonic_seconds() - start;
  release_writer(child);
  assert_int_equal(latest, before + 1);
  assert_true(waited < FOUND_WITHIN_SECONDS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_wait_finds_a_commit_visible_after_its_wal_write, oc_test_datadir_setup,
                                    oc_test_datadir_teardown),
    cmocka_unit_test_setup_teardown(test_first_wait_finds_a_commit_written_before_its_watch, oc_test_datadir_setup,
                                    oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
