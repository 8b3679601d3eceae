/* Unit tests for src/core/sort: oc_sort_doubles gives, bit for bit (signed zeros included), what a
 * stable merge of the same values under a < / > comparison gives, on arrays with negatives, ties,
 * both zeros, subnormals, huge magnitudes and runs, and on the trivial sizes. */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/sort.h"

/* Stable insertion sort: the specification, slow and obviously right. */
static void reference_sort(double *v, size_t n) {
  for (size_t i = 1; i < n; i++) {
    double x = v[i];
    size_t j = i;
    while (j > 0 && v[j - 1] > x) {
      v[j] = v[j - 1];
      j--;
    }
    v[j] = x;
  }
}

static double messy_value(oc_rng *rng, const double *previous) {
  double u = oc_rng_uniform(rng);
  if (u < 0.05) return 0.0;
  if (u < 0.10) return -0.0;
  if (u < 0.13) return (u < 0.115 ? 1 : -1) * DBL_MIN * oc_rng_uniform(rng); /* subnormal */
  if (u < 0.15) return (u < 0.14 ? 1 : -1) * DBL_MAX * oc_rng_uniform(rng);
  if (u < 0.30 && previous) return *previous;
  if (u < 0.50) return round(oc_rng_normal(rng) * 10) / 4; /* coarse grid: many ties */
  return oc_rng_normal(rng) * pow(10, (double)oc_rng_below(rng, 12) - 6);
}

static void check_sizes(size_t n, uint64_t seed) {
  oc_rng rng;
  oc_rng_seed(&rng, seed);
  double *v = malloc((n + 1) * sizeof *v), *want = malloc((n + 1) * sizeof *want), *tmp = malloc((n + 1) * sizeof *tmp);
  for (size_t i = 0; i < n; i++) v[i] = messy_value(&rng, i ? &v[i - 1] : NULL);
  memcpy(want, v, n * sizeof *v);
  reference_sort(want, n);
  oc_sort_doubles(v, n, tmp);
  if (n) assert_memory_equal(v, want, n * sizeof *v);
  free(v);
  free(want);
  free(tmp);
}

static void test_matches_stable_sort(void **state) {
  (void)state;
  const size_t sizes[] = {0, 1, 2, 3, 17, 256, 1000, 5000};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) check_sizes(sizes[i], 100 + i);
}

/* Values that share every byte but one (the skipped passes), and all-equal values. */
static void test_narrow_ranges(void **state) {
  (void)state;
  double v[64], want[64], tmp[64];
  for (size_t i = 0; i < 64; i++) v[i] = 1.0 + (double)((i * 37) % 64) * DBL_EPSILON;
  memcpy(want, v, sizeof v);
  reference_sort(want, 64);
  oc_sort_doubles(v, 64, tmp);
  assert_memory_equal(v, want, sizeof v);
  for (size_t i = 0; i < 64; i++) v[i] = -2.5;
  oc_sort_doubles(v, 64, tmp);
  for (size_t i = 0; i < 64; i++) assert_true(v[i] == -2.5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matches_stable_sort),
      cmocka_unit_test(test_narrow_ranges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
