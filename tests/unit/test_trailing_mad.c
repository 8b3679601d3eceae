/* Unit tests for src/features/trailing_mad and the ETL outlier pass built on it: the incremental
 * median/MAD equals a brute-force reference (copy the window, sort it, take the middle) bit for bit on a
 * long pseudo-random series with NaNs, infinities, signed zeros, ties and runs, for windows shorter than
 * the 20 returns the ETL requires, the window sizes its options allow and windows longer than the
 * series; it is causal; and the ETL's outlier report and drop policy pick exactly the rows the
 * reference flags, while the flag policy leaves the table as it is built without a report. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "features/etl.h"
#include "features/rolling.h"
#include "features/trailing_mad.h"

enum { ETL_MIN_HISTORY = 20 };

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double sorted_median(double *v, size_t m) {
  qsort(v, m, sizeof *v, cmp_double);
  return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

/* The definition, row by row: the finite values of the window, their median, the median of the
 * absolute deviations from it. */
static void reference_median_mad(const double *x, size_t n, size_t window, size_t min_count, double *median,
                                 double *mad) {
  double *buf = malloc((n + 1) * sizeof *buf);
  for (size_t t = 0; t < n; t++) {
    size_t m = 0;
    for (size_t k = t > window ? t - window : 0; k < t; k++)
      if (isfinite(x[k])) buf[m++] = x[k];
    if (m == 0 || m < min_count) {
      median[t] = mad[t] = NAN;
      continue;
    }
    median[t] = sorted_median(buf, m);
    for (size_t k = 0; k < m; k++) buf[k] = fabs(buf[k] - median[t]);
    mad[t] = sorted_median(buf, m);
  }
  free(buf);
}

/* Returns-like values on a coarse grid (many ties) with runs of repeats, NaNs, infinities, signed
 * zeros and rare spikes. */
static double *messy_series(size_t n, uint64_t seed) {
  oc_rng rng;
  oc_rng_seed(&rng, seed);
  double *x = malloc(n * sizeof *x);
  for (size_t i = 0; i < n; i++) {
    double u = oc_rng_uniform(&rng);
    if (u < 0.05)
      x[i] = NAN;
    else if (u < 0.06)
      x[i] = u < 0.055 ? INFINITY : -INFINITY;
    else if (u < 0.08)
      x[i] = u < 0.07 ? 0.0 : -0.0;
    else if (u < 0.18 && i > 0)
      x[i] = x[i - 1];
    else
      x[i] = round(oc_rng_normal(&rng) * (u < 0.19 ? 400 : 20)) / 1000;
  }
  return x;
}

static void assert_same(double fast, double ref, const char *what, size_t window, size_t min_count, size_t t) {
  if ((isnan(fast) && isnan(ref)) || fast == ref) return;
  fail_msg("%s at row %zu (window %zu, min_count %zu): %.17g, the reference says %.17g", what, t, window, min_count,
           fast, ref);
}

static void check_against_reference(const double *x, size_t n, size_t window, size_t min_count) {
  double *med = malloc(n * sizeof *med), *mad = malloc(n * sizeof *mad);
  double *ref_med = malloc(n * sizeof *ref_med), *ref_mad = malloc(n * sizeof *ref_mad);
  oc_trailing_median_mad(x, n, window, min_count, med, mad);
  reference_median_mad(x, n, window, min_count, ref_med, ref_mad);
  size_t defined = 0;
  for (size_t t = 0; t < n; t++) {
    assert_same(med[t], ref_med[t], "median", window, min_count, t);
    assert_same(mad[t], ref_mad[t], "MAD", window, min_count, t);
    defined += !isnan(med[t]);
  }
  /* the comparison must not be vacuous once the window can hold min_count values */
  if (window >= min_count + min_count / 4 + 2) assert_true(defined > n / 2);
  free(med);
  free(mad);
  free(ref_med);
  free(ref_mad);
}

static void test_matches_reference(void **state) {
  (void)state;
  const size_t n = 3000;
  double *x = messy_series(n, 7);
  /* below the ETL's 20-return minimum, its minimum window, even and odd sizes, the default */
  const size_t windows[] = {1, 2, 3, 5, 19, 20, 21, 64, 250, 251};
  for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
    check_against_reference(x, n, windows[w], ETL_MIN_HISTORY);
    if (windows[w] <= ETL_MIN_HISTORY) check_against_reference(x, n, windows[w], 1);
  }
  free(x);
  /* windows as long as the series or longer (the CLI allows up to 100000) */
  const size_t short_n = 700;
  double *y = messy_series(short_n, 8);
  const size_t long_windows[] = {699, 700, 701, 100000};
  for (size_t w = 0; w < sizeof long_windows / sizeof long_windows[0]; w++)
    check_against_reference(y, short_n, long_windows[w], ETL_MIN_HISTORY);
  free(y);
}

static void test_all_missing_and_empty(void **state) {
  (void)state;
  double x[30], med[30], mad[30];
  for (size_t i = 0; i < 30; i++) x[i] = i % 2 ? NAN : INFINITY;
  oc_trailing_median_mad(x, 30, 250, 1, med, mad);
  for (size_t i = 0; i < 30; i++) assert_true(isnan(med[i]) && isnan(mad[i]));
  oc_trailing_median_mad(x, 0, 250, 1, med, mad);
}

/* Row t's statistics stay bit-identical when every value from t on changes. */
static void test_causal(void **state) {
  (void)state;
  const size_t n = 1500, cut = 900, window = 250;
  double *x = messy_series(n, 9), *changed = messy_series(n, 10);
  memcpy(changed, x, cut * sizeof *x);
  double med[1500], mad[1500], med2[1500], mad2[1500];
  oc_trailing_median_mad(x, n, window, ETL_MIN_HISTORY, med, mad);
  oc_trailing_median_mad(changed, n, window, ETL_MIN_HISTORY, med2, mad2);
  for (size_t t = 0; t <= cut; t++) {
    assert_same(med2[t], med[t], "median after a change from the cut", window, ETL_MIN_HISTORY, t);
    assert_same(mad2[t], mad[t], "MAD after a change from the cut", window, ETL_MIN_HISTORY, t);
  }
  free(x);
  free(changed);
}

/* Prices with one-day spikes, repeated closes (zero returns) and cent rounding (tied returns). */
static oc_series spiky_prices(size_t n) {
  oc_series s = oc_test_ar1_series(n, 0.1, 0.015, 42);
  for (size_t i = 1; i < n; i++) {
    s.values[i] = round(s.values[i] * 100) / 100;
    if (i % 13 == 0) s.values[i] = s.values[i - 1];
    if (i % 97 == 0) s.values[i] *= i % 2 ? 1.25 : 0.8;
  }
  return s;
}

/* The rows the ETL must flag: robust z-score of the log return above z against the reference
 * median/MAD of the trailing window, with at least 20 earlier returns. */
static size_t reference_flags(const oc_series *s, size_t window, double z, unsigned char *flag) {
  size_t n = s->n, count = 0;
  double *ret = malloc(n * sizeof *ret), *med = malloc(n * sizeof *med), *mad = malloc(n * sizeof *mad);
  oc_log_returns(s->values, n, ret);
  reference_median_mad(ret, n, window, ETL_MIN_HISTORY, med, mad);
  for (size_t t = 0; t < n; t++) {
    flag[t] = isfinite(ret[t]) && mad[t] > 0 && 0.6745 * fabs(ret[t] - med[t]) / mad[t] > z;
    count += flag[t];
  }
  free(ret);
  free(med);
  free(mad);
  return count;
}

static void check_etl_outliers(const oc_series *s, int window, double z, oc_outlier_policy policy) {
  unsigned char *flag = malloc(s->n);
  size_t expected = reference_flags(s, (size_t)window, z, flag);
  assert_true(expected > 0);
  oc_etl_options o;
  oc_etl_options_default(&o);
  o.outlier_window = window;
  o.outlier_z = z;
  o.outliers = policy;
  oc_frame f;
  oc_etl_report r;
  oc_error err;
  if (oc_etl_build(s, NULL, 0, &o, &f, &r, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(r.noutliers, expected);
  size_t k = 0, row = 0;
  for (size_t t = 0; t < s->n; t++) {
    if (flag[t]) assert_int_equal(r.outlier_dates[k++], s->dates[t]);
    if (flag[t] && policy == OC_OUTLIER_DROP) continue;
    assert_int_equal(f.dates[row++], s->dates[t]);
  }
  assert_int_equal(f.nrows, row);
  if (policy == OC_OUTLIER_FLAG) {
    /* flags change nothing in the table: built without a report (the pass is skipped), it is the same */
    oc_frame unreported;
    if (oc_etl_build(s, NULL, 0, &o, &unreported, NULL, &err) != 0) fail_msg("%s", err.message);
    assert_int_equal(unreported.nrows, f.nrows);
    assert_int_equal(unreported.ncols, f.ncols);
    assert_memory_equal(unreported.dates, f.dates, f.nrows * sizeof *f.dates);
    for (size_t c = 0; c < f.ncols; c++) assert_memory_equal(unreported.cols[c], f.cols[c], f.nrows * sizeof(double));
    oc_frame_free(&unreported);
  }
  oc_frame_free(&f);
  oc_etl_report_free(&r);
  free(flag);
}

static void test_etl_flags_match_reference(void **state) {
  (void)state;
  oc_series s = spiky_prices(2500);
  check_etl_outliers(&s, 20, 5, OC_OUTLIER_FLAG);
  check_etl_outliers(&s, 21, 3, OC_OUTLIER_DROP);
  check_etl_outliers(&s, 250, 5, OC_OUTLIER_FLAG);
  check_etl_outliers(&s, 250, 3, OC_OUTLIER_DROP);
  check_etl_outliers(&s, 5000, 4, OC_OUTLIER_DROP); /* longer than the series */
  oc_series_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matches_reference),
      cmocka_unit_test(test_all_missing_and_empty),
      cmocka_unit_test(test_causal),
      cmocka_unit_test(test_etl_flags_match_reference),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
