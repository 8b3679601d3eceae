/* Backups (ops/backup.h) through the library: an archive of a data directory restores to a directory
 * whose store holds the same series and passes its integrity check, and whose files are byte-equal;
 * writers' temporaries and the live store's files are left out; long paths survive (ustar's prefix);
 * a damaged member, a damaged header and a cut archive are refused naming the member, and a refused
 * restore leaves its target untouched; a non-empty target needs force; a backup folder keeps the
 * newest N and is not itself backed up, and loses what killed backups left in it. The e2e test
 * (tests/e2e/backup.sh) takes one during an import. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "ops/backup.h"
#include "store/datadir.h"

#define LONG_DIR "raw/market_data/eia/2026-12-03"
#define LONG_NAME "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.manifest.json"

static char *make_source(oc_test_datadir_fixture *f) {
  oc_series s = oc_test_random_walk_series("WTI", 400, 0.0, 7);
  oc_test_store_series(f->store, &s);
  oc_series_free(&s);
  char *dir = oc_path_join(f->dir, LONG_DIR);
  oc_error err;
  assert_int_equal(oc_mkdir_p(dir, &err), 0);
  free(oc_test_write_file(dir, LONG_NAME, "{\"answers\":[]}\n"));
  free(oc_test_write_file(f->dir, "jobs.conf", "[daily]\nevery = day at 22:00 UTC\nstep = etl --series WTI\n"));
  free(oc_test_write_file(f->dir, "models/endpoints/wti.json.tmp.99999", "half written"));
  free(dir);
  return oc_path_join(f->dir, "backup.tar");
}

/* The source's archive, DIR/backup.tar (returned); the members it holds in *members. */
static char *backed_up(oc_test_datadir_fixture *f, size_t *members) {
  char *out = make_source(f);
  oc_backup_options opt = {.out = out, .now = 1796324400};
  oc_backup_result res;
  oc_error err;
  assert_int_equal(oc_backup_create(f->dir, f->store, &opt, &res, &err), 0);
  *members = res.members;
  oc_backup_result_free(&res);
  return out;
}

static void assert_same_file(const char *a_dir, const char *b_dir, const char *name) {
  char *a = oc_path_join(a_dir, name), *b = oc_path_join(b_dir, name), *da, *db;
  size_t la, lb;
  oc_error err;
  assert_int_equal(oc_read_file(a, &da, &la, &err), 0);
  assert_int_equal(oc_read_file(b, &db, &lb, &err), 0);
  assert_int_equal(la, lb);
  assert_memory_equal(da, db, la);
  free(da), free(db), free(a), free(b);
}

static void test_create_verify_restore(void **state) {
  oc_test_datadir_fixture *f = *state;
  size_t members;
  char *out = backed_up(f, &members), *into = oc_path_join(f->dir, "restored");
  assert_int_equal(members, 4); /* the store, oilcast.conf, jobs.conf, the raw answer; not the .tmp */
  oc_backup_info info;
  oc_backup_result res;
  oc_error err;
  oc_backup_options opt = {.out = out};
  assert_int_equal(oc_backup_verify(out, &info, &err), 0);
  assert_string_equal(info.store, "oilcast.db");
  assert_string_equal(info.created_at, "2026-12-03T19:00:00Z");
  assert_int_equal(oc_backup_create(f->dir, f->store, &opt, &res, &err), -1); /* never overwritten */
  assert_non_null(strstr(err.message, "exists already"));

  assert_int_equal(oc_backup_restore(out, into, false, &info, &err), 0);
  assert_same_file(f->dir, into, LONG_DIR "/" LONG_NAME);
  assert_same_file(f->dir, into, "jobs.conf");
  char *tmp = oc_path_join(into, "models/endpoints/wti.json.tmp.99999");
  assert_false(oc_path_exists(tmp));
  free(tmp);
  /* the processes that had the source open are the source's, of this host and this moment */
  assert_true(oc_test_exists_in(f->dir, OC_DATADIR_WRITERS "/boot"));
  assert_false(oc_test_exists_in(into, OC_DATADIR_WRITERS));
  oc_store *restored;
  assert_int_equal(oc_datadir_open(into, &restored, &err), 0);
  oc_series a, b;
  assert_int_equal(oc_store_series_load(f->store, "WTI", OC_DATE_INVALID, OC_DATE_INVALID, &a, &err), 0);
  assert_int_equal(oc_store_series_load(restored, "WTI", OC_DATE_INVALID, OC_DATE_INVALID, &b, &err), 0);
  assert_int_equal(a.n, b.n);
  assert_memory_equal(a.dates, b.dates, a.n * sizeof *a.dates);
  assert_memory_equal(a.values, b.values, a.n * sizeof *a.values);
  oc_series_free(&a), oc_series_free(&b);
  assert_int_equal(oc_store_integrity_check(restored, &err), 0);
  oc_store_close(restored);

  /* a target that is not empty: only with force, and then replaced as a whole */
  free(oc_test_write_file(into, "stray.txt", "x"));
  assert_int_equal(oc_backup_restore(out, into, false, &info, &err), -1);
  assert_non_null(strstr(err.message, "--force"));
  char *slashed = oc_path_join(into, ""); /* "DIR/": replaced as DIR, not staged inside it */
  assert_int_equal(oc_backup_restore(out, slashed, true, &info, &err), 0);
  free(slashed);
  char *stray = oc_path_join(into, "stray.txt");
  assert_false(oc_path_exists(stray));
  free(stray);
  free(out);
  free(into);
}

/* Flips the byte at the first occurrence of needle (+ skip) in the archive. */
static void damage(const char *file, const char *needle, size_t skip) {
  char *data;
  size_t len;
  oc_error err;
  assert_int_equal(oc_read_file(file, &data, &len, &err), 0);
  char *at = memmem(data, len, needle, strlen(needle));
  assert_non_null(at);
  at[skip] ^= 0x20;
  assert_int_equal(oc_write_file_atomic(file, data, len, &err), 0);
  free(data);
}

/* Renames the member whose header names `from` (its first occurrence in the archive) to `to`, no longer
 * than from, with the header's checksum made good again: a well-formed archive the manifest disagrees
 * with. */
static void rename_member(const char *file, const char *from, const char *to) {
  char *data;
  size_t len;
  oc_error err;
  assert_int_equal(oc_read_file(file, &data, &len, &err), 0);
  char *h = memmem(data, len, from, strlen(from));
  assert_non_null(h);
  assert_int_equal((size_t)(h - data) % 512, 0);
  assert_true(strlen(to) <= strlen(from));
  memset(h, 0, strlen(from));
  memcpy(h, to, strlen(to));
  unsigned sum = 0;
  for (size_t i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? ' ' : (unsigned char)h[i];
  snprintf(h + 148, 8, "%06o", sum);
  h[155] = ' ';
  assert_int_equal(oc_write_file_atomic(file, data, len, &err), 0);
  free(data);
}

static void test_damage_refused(void **state) {
  oc_test_datadir_fixture *f = *state;
  size_t members;
  char *out = backed_up(f, &members), *into = oc_path_join(f->dir, "restored");
  oc_backup_info info;
  oc_error err;
  char *data;
  size_t len;
  assert_int_equal(oc_read_file(out, &data, &len, &err), 0);

  damage(out, "step = etl", 0); /* a member's content */
  assert_int_equal(oc_backup_verify(out, &info, &err), -1);
  assert_non_null(strstr(err.message, "member jobs.conf: its SHA-256 or size does not match"));
  assert_int_equal(oc_backup_restore(out, into, false, &info, &err), -1);
  assert_non_null(strstr(err.message, "member jobs.conf"));
  assert_false(oc_path_exists(into));

  assert_int_equal(oc_write_file_atomic(out, data, len, &err), 0);
  damage(out, "jobs.conf", 1); /* a header: its checksum no longer adds up */
  assert_int_equal(oc_backup_verify(out, &info, &err), -1);
  assert_non_null(strstr(err.message, "bad header checksum"));
  assert_non_null(strstr(err.message, "after member oilcast.db"));

  assert_int_equal(oc_write_file_atomic(out, data, len, &err), 0);
  rename_member(out, "jobs.conf", "jobs.conX"); /* a member the manifest does not list */
  assert_int_equal(oc_backup_verify(out, &info, &err), -1);
  assert_non_null(strstr(err.message, "member jobs.conX: not in the manifest"));

  assert_int_equal(oc_write_file_atomic(out, data, len, &err), 0);
  rename_member(out, "oilcast.conf", "jobs.conf"); /* a name given twice */
  assert_int_equal(oc_backup_verify(out, &info, &err), -1);
  assert_non_null(strstr(err.message, "member jobs.conf: given twice"));
  assert_int_equal(oc_backup_restore(out, into, false, &info, &err), -1);
  assert_non_null(strstr(err.message, "member jobs.conf: given twice"));
  assert_false(oc_path_exists(into));

  assert_int_equal(oc_write_file_atomic(out, data, len - 1024 - 600, &err), 0); /* cut inside the manifest */
  assert_int_equal(oc_backup_verify(out, &info, &err), -1);
  assert_non_null(strstr(err.message, "MANIFEST.json"));
  assert_int_equal(oc_backup_restore(out, into, false, &info, &err), -1);
  assert_false(oc_path_exists(into));
  free(data);
  free(out);
  free(into);
}

static void test_folder_keeps_newest(void **state) {
  oc_test_datadir_fixture *f = *state;
  free(make_source(f));
  /* a backup killed midway (a job's step-timeout) left its archive and snapshot half written; one at
   * work (this process) must be left alone */
  char live[64], *folder = oc_path_join(f->dir, "backups");
  oc_error err;
  assert_int_equal(oc_mkdir_p(folder, &err), 0);
  free(folder);
  snprintf(live, sizeof live, "backups/" OC_BACKUP_PREFIX "20261203T185959Z" OC_BACKUP_SUFFIX ".tmp.%ld",
           (long)getpid());
  const char *stale[] = {"backups/" OC_BACKUP_PREFIX "20261203T185958Z" OC_BACKUP_SUFFIX ".tmp.99999",
                         "backups/" OC_BACKUP_PREFIX "20261203T185958Z" OC_BACKUP_SUFFIX ".store.tmp.99999"};
  for (size_t i = 0; i < 2; i++) free(oc_test_write_file(f->dir, stale[i], "half written"));
  free(oc_test_write_file(f->dir, live, "being written"));
  oc_backup_options opt = {.dir = "backups", .keep = 2};
  oc_backup_result res;
  for (int i = 0; i < 3; i++) {
    opt.now = 1796324400 + i;
    assert_int_equal(oc_backup_create(f->dir, f->store, &opt, &res, &err), 0);
    assert_int_equal(res.members, 4); /* the earlier archives in backups/ are not backed up */
    assert_int_equal(res.removed, i == 2 ? 1 : 0);
    oc_backup_result_free(&res);
  }
  char *oldest = oc_path_join(f->dir, "backups/" OC_BACKUP_PREFIX "20261203T190000Z" OC_BACKUP_SUFFIX);
  char *newest = oc_path_join(f->dir, "backups/" OC_BACKUP_PREFIX "20261203T190002Z" OC_BACKUP_SUFFIX);
  assert_false(oc_path_exists(oldest));
  assert_true(oc_path_exists(newest));
  free(oldest), free(newest);
  for (size_t i = 0; i < 2; i++) {
    char *path = oc_path_join(f->dir, stale[i]);
    if (oc_path_exists(path)) fail_msg("%s: a killed backup's temporary is kept", stale[i]);
    free(path);
  }
  char *at_work = oc_path_join(f->dir, live);
  assert_true(oc_path_exists(at_work));
  free(at_work);
  opt = (oc_backup_options){.out = "x.tar", .dir = "backups"};
  assert_int_equal(oc_backup_create(f->dir, f->store, &opt, &res, &err), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_create_verify_restore, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_damage_refused, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_folder_keeps_newest, oc_test_datadir_setup, oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
