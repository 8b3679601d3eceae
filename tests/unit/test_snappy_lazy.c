/* Unit tests for src/lake/snappy_lazy.c: libsnappy is not linked (a process has not mapped it before
 * its first Snappy page), is loaded by oc_snappy() and decodes a hand-made Snappy block, and a library
 * that cannot be loaded is an error naming it and its Debian package. The Parquet reader's use of it is
 * test_lake's and test_ingest_parquet's (DuckDB's Snappy fixtures). */
#include "testutil.h"

#include <dlfcn.h>
#include <string.h>

#include "lake/snappy_lazy.h"

static void test_loaded_on_first_use_only(void **state) {
  (void)state;
  /* RTLD_NOLOAD: a handle only if the library is mapped already (the link line put it there) */
  assert_null(dlopen(OC_SNAPPY_SONAME, RTLD_LAZY | RTLD_NOLOAD));
  oc_error err;
  const oc_snappy_lib *snappy = oc_snappy(&err);
  assert_non_null(snappy);
  assert_ptr_equal(oc_snappy(&err), snappy); /* loaded once */
  void *mapped = dlopen(OC_SNAPPY_SONAME, RTLD_LAZY | RTLD_NOLOAD);
  assert_non_null(mapped);
  dlclose(mapped);
  /* varint length 5, then one literal of 5 bytes (tag (5 - 1) << 2) */
  const char block[] = "\x05\x10hello";
  size_t len = 0;
  assert_int_equal(snappy->uncompressed_length(block, sizeof block - 1, &len), SNAPPY_OK);
  assert_int_equal(len, 5);
  char out[5];
  assert_int_equal(snappy->uncompress(block, sizeof block - 1, out, &len), SNAPPY_OK);
  assert_memory_equal(out, "hello", 5);
  /* a literal running past the block's end */
  assert_int_not_equal(snappy->uncompress(block, sizeof block - 2, out, &len), SNAPPY_OK);
}

static void test_missing_library_is_named(void **state) {
  (void)state;
  oc_snappy_lib lib;
  oc_error err;
  assert_int_equal(oc_snappy_load("libsnappy-absent.so.9", &lib, &err), -1);
  assert_non_null(strstr(err.message, "cannot load libsnappy-absent.so.9"));
  assert_non_null(strstr(err.message, "Debian package " OC_SNAPPY_PACKAGE));
  /* a library that loads but is not Snappy: the entry point it lacks is named */
  assert_int_equal(oc_snappy_load("libm.so.6", &lib, &err), -1);
  assert_non_null(strstr(err.message, "no snappy_uncompressed_length"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loaded_on_first_use_only),
      cmocka_unit_test(test_missing_library_is_named),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
