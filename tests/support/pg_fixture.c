/* pg_fixture.c: see pg_fixture.h. Names stores only: the server is pg_server.c's, the stores'
 * schemas are made by the backend on first open. */
#include "pg_fixture.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "pg_server.h"
#include "store/store_sqlite.h"
#include "testutil.h"

char *oc_test_pg_store_template(const char *db) {
  const char *prefix = oc_test_pg_uri_prefix();
  if (!prefix) return NULL;
  oc_buf t = {0};
  oc_buf_printf(&t, "%s%s?options=-csearch_path%%3D%%s", prefix, db);
  return oc_buf_steal(&t);
}

char *oc_test_fresh_store_uri(const char *template) {
  static unsigned fresh_names;
  const char *hole = strstr(template, "%s");
  assert(hole && !strstr(hole + 2, "%s")); /* one place for the name */
  oc_buf uri = {0};
  oc_buf_printf(&uri, "%.*st%ld_%u%s", (int)(hole - template), template, (long)getpid(), fresh_names++, hole + 2);
  return oc_buf_steal(&uri);
}

oc_test_store_fixture *oc_test_store_fixture_new(const char *tag, const char *template) {
  oc_test_store_fixture *f = oc_xcalloc(1, sizeof *f);
  f->dir = oc_test_tmpdir(tag);
  f->uri = template ? oc_test_fresh_store_uri(template) : oc_store_sqlite_scratch_uri(f->dir);
  return f;
}

void oc_test_store_fixture_free(oc_test_store_fixture *f) {
  oc_test_rmtree(f->dir);
  free(f->dir);
  free(f->uri);
  free(f);
}
