/* OpenBLAS loaded on first use (model/blas.h): the load starts no OpenBLAS worker thread even without
 * OPENBLAS_NUM_THREADS and gives the caller its CPUs back; the entry points it hands out compute. The
 * load test runs first: the library must not be in the process before it (nothing else here loads it). */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>

#include "model/blas.h"

static int threads_of_process(void) {
  DIR *d = opendir("/proc/self/task");
  assert_non_null(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static void test_load_starts_no_worker(void **state) {
  (void)state;
  unsetenv("OPENBLAS_NUM_THREADS"); /* ctest sets it for the binaries that link OpenBLAS at start */
  cpu_set_t before, after;
  assert_int_equal(sched_getaffinity(0, sizeof before, &before), 0);
  int threads = threads_of_process();
  const oc_blas_lib *blas = oc_blas();
  assert_int_equal(threads_of_process(), threads);
  assert_int_equal(blas->get_num_threads(), 1);
  assert_int_equal(sched_getaffinity(0, sizeof after, &after), 0);
  assert_true(CPU_EQUAL(&before, &after));
  assert_ptr_equal(oc_blas(), blas); /* loaded once */
}

/* The QR of a 3x2 column-major matrix: |R| = [[5, 2.2], [0, sqrt(4.16)]] (Householder signs vary). */
static void test_dgeqrf(void **state) {
  (void)state;
  double a[] = {3, 4, 0, 1, 2, 2}, tau[2], query;
  const lapack_int m = 3, n = 2;
  lapack_int lwork = -1, info = -99;
  oc_blas()->dgeqrf(&m, &n, a, &m, tau, &query, &lwork, &info);
  assert_int_equal(info, 0);
  lwork = query >= 1 ? (lapack_int)query : 1;
  double *work = malloc((size_t)lwork * sizeof *work);
  oc_blas()->dgeqrf(&m, &n, a, &m, tau, work, &lwork, &info);
  free(work);
  assert_int_equal(info, 0);
  assert_true(fabs(fabs(a[0]) - 5) < 1e-12);
  assert_true(fabs(fabs(a[3]) - 2.2) < 1e-12);
  assert_true(fabs(fabs(a[4]) - sqrt(4.16)) < 1e-12);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_load_starts_no_worker),
      cmocka_unit_test(test_dgeqrf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
