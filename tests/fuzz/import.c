/* import.c (fuzz target "import"): the file import (ingest/import.h) of arbitrary bytes, written as a
 * file and imported through oc_import_file into a scratch data directory's store, the way `oilcast
 * ingest` does: CSV in each format the header selects, and JSON (a leading '['; bare number arrays get
 * a start date). The batch behind it (ingest/batch.h) validates and writes in one transaction.
 * Beyond "no crash, no leak" it asserts:
 *   - the report adds up: every row read is stored (inserted, updated, unchanged), rejected or missing;
 *     an aborted import wrote nothing and lists min(rejected, OC_INGEST_LISTED) problems, each with a
 *     reason and a position inside the file;
 *   - an error names the file first ("FILE:LINE: ..." or "FILE: ...");
 *   - re-importing a file that committed changes nothing (every row unchanged).
 * The store is shared by the inputs of a run (opening one per input would be most of the time) and
 * recreated every STORE_INPUTS inputs, so a crash that needs earlier inputs' rows is still found by
 * replaying the inputs in order. Put $TMPDIR on a tmpfs (`make fuzz` does): every commit is fsync'd. */
#include <string.h>

#include "core/fsutil.h"
#include "fuzz.h"
#include "ingest/import.h"
#include "store/store.h"
#include "testutil.h"

#define STORE_INPUTS 2000

static char *scratch_dir, *file_path;
static oc_store *store;
static unsigned long inputs;

static void scratch_close(void) {
  if (!scratch_dir) return;
  oc_store_close(store);
  oc_test_rmtree(scratch_dir);
  free(scratch_dir);
  free(file_path);
  scratch_dir = NULL;
}

static void scratch_open(void) {
  scratch_dir = oc_test_datadir("fuzz-import", &store);
  file_path = oc_path_join(scratch_dir, "input.csv");
}

static void check_report(const oc_import_report *rep, int rc, const oc_error *err, size_t lines) {
  int64_t stored = rep->rows_inserted + rep->rows_updated + rep->rows_unchanged;
  if (rc == 0) {
    FUZZ_CHECK(rep->written, "a committed import must say so");
    FUZZ_CHECK(rep->rows_read == stored + rep->rows_rejected + rep->rows_missing,
               "read %lld != stored %lld + rejected %lld + missing %lld", (long long)rep->rows_read,
               (long long)stored, (long long)rep->rows_rejected, (long long)rep->rows_missing);
    FUZZ_CHECK(rep->rows_rejected == 0, "an abort-mode import committed with %lld rejected rows",
               (long long)rep->rows_rejected);
  } else {
    FUZZ_CHECK(!rep->written && stored == 0, "a failed import reports %lld rows stored", (long long)stored);
    FUZZ_CHECK(strncmp(err->message, file_path, strlen(file_path)) == 0, "error does not name the file: %s",
               err->message);
    FUZZ_CHECK(rep->rows_read >= rep->rows_rejected + rep->rows_missing, "more rows rejected than read");
  }
  size_t listed = rep->rows_rejected < OC_INGEST_LISTED ? (size_t)rep->rows_rejected : OC_INGEST_LISTED;
  FUZZ_CHECK(rep->nproblems == listed, "%zu problems listed for %lld rejected rows", rep->nproblems,
             (long long)rep->rows_rejected);
  for (size_t i = 0; i < rep->nproblems; i++) {
    const oc_ingest_problem *p = &rep->problems[i];
    FUZZ_CHECK(p->reason[0] && memchr(p->reason, '\0', sizeof p->reason), "problem %zu has no reason", i);
    FUZZ_CHECK(p->where >= 1 && p->where <= lines, "problem %zu on line %zu of a %zu-line file", i, p->where, lines);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (inputs % STORE_INPUTS == 0) {
    if (inputs == 0) atexit(scratch_close);
    scratch_close();
    scratch_open();
  }
  inputs++;
  oc_error err;
  FUZZ_CHECK(oc_write_file_atomic(file_path, data, size, &err) == 0, "%s", err.message);
  size_t lines = 1;
  for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
  oc_import_options opt;
  oc_import_options_init(&opt);
  opt.path = file_path;
  opt.start_date = oc_date_from_ymd(2024, 1, 2);
  oc_import_report rep;
  int rc = oc_import_file(store, &opt, &rep, &err);
  check_report(&rep, rc, &err, lines);
  if (rc == 0) {
    int64_t stored = rep.rows_inserted + rep.rows_updated + rep.rows_unchanged;
    oc_import_report again;
    FUZZ_CHECK(oc_import_file(store, &opt, &again, &err) == 0, "the second import failed: %s", err.message);
    FUZZ_CHECK(again.rows_inserted == 0 && again.rows_updated == 0 && again.rows_unchanged == stored,
               "re-import: %lld inserted, %lld updated, %lld unchanged of %lld", (long long)again.rows_inserted,
               (long long)again.rows_updated, (long long)again.rows_unchanged, (long long)stored);
    oc_import_report_free(&again);
  }
  oc_import_report_free(&rep);
  return 0;
}
