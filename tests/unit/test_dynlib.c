/* Unit tests for src/core/dynlib.c's tables (dynlib.h): a library called through a table is loaded by
 * its first call or oc_dynlib_table_load, once, from any thread; a library or a function that cannot be
 * loaded is an error naming the library, its role and the missing name; and a call through a table
 * whose library cannot be loaded ends the process with that message. The four tables oilcast uses are
 * exercised by every test of their stages; tests/e2e/lazy_libraries.sh checks that a command loads only
 * the ones it calls. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/dynlib.h"

static const char *const libm_names[] = {"cos", "sqrt"};

static void *call_cos(void *table) {
  double (*cosine)(double) = (double (*)(double))oc_dynlib_table_fn(table, 0);
  return cosine(0.0) == 1.0 ? table : NULL;
}

static void test_table_loads_once_from_any_thread(void **state) {
  (void)state;
  void *fns[2] = {0};
  oc_dynlib_table table = OC_DYNLIB_TABLE("libm.so.6", "the maths library", libm_names, fns);
  assert_int_equal(table.n, 2);
  pthread_t threads[4];
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&threads[i], NULL, call_cos, &table), 0);
  for (int i = 0; i < 4; i++) {
    void *result;
    pthread_join(threads[i], &result);
    assert_ptr_equal(result, &table);
  }
  void *first_sqrt = fns[1];
  assert_non_null(first_sqrt);
  oc_error err;
  assert_int_equal(oc_dynlib_table_load(&table, &err), 0); /* loaded already: nothing changes */
  assert_ptr_equal(fns[1], first_sqrt);
  double (*root)(double) = (double (*)(double))oc_dynlib_table_fn(&table, 1);
  assert_true(root(9.0) == 3.0);
}

static void test_what_cannot_load_is_named(void **state) {
  (void)state;
  void *fns[2] = {0};
  oc_error err;
  oc_dynlib_table absent = OC_DYNLIB_TABLE("libabsent-oilcast.so.7", "a test's library; Debian package none",
                                           libm_names, fns);
  assert_int_equal(oc_dynlib_table_load(&absent, &err), -1);
  assert_non_null(strstr(err.message, "cannot load libabsent-oilcast.so.7 (a test's library; Debian package none)"));
  static const char *const wrong[] = {"cos", "oilcast_no_such_function"};
  oc_dynlib_table lacking = OC_DYNLIB_TABLE("libm.so.6", "the maths library", wrong, fns);
  assert_int_equal(oc_dynlib_table_load(&lacking, &err), -1);
  assert_non_null(strstr(err.message, "no oilcast_no_such_function"));
  assert_int_equal(oc_dynlib_table_load(&lacking, &err), -1); /* still not loaded: tried again, same answer */
}

/* A call through a table whose library is missing ends the process with the loader's message, as a
 * missing NEEDED library ended it at start before the tables. */
static void test_call_without_library_ends_the_process(void **state) {
  (void)state;
  int out[2];
  assert_int_equal(pipe(out), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(out[1], 2);
    void *fns[2] = {0};
    oc_dynlib_table absent = OC_DYNLIB_TABLE("libabsent-oilcast.so.7", "a test's library", libm_names, fns);
    call_cos(&absent);
    _exit(0);
  }
  close(out[1]);
  char said[512] = {0};
  size_t got = 0;
  ssize_t n;
  while (got < sizeof said - 1 && (n = read(out[0], said + got, sizeof said - 1 - got)) > 0) got += (size_t)n;
  close(out[0]);
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
  assert_non_null(strstr(said, "oilcast: cannot load libabsent-oilcast.so.7 (a test's library)"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_loads_once_from_any_thread),
      cmocka_unit_test(test_what_cannot_load_is_named),
      cmocka_unit_test(test_call_without_library_ends_the_process),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
