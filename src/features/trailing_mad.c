/* trailing_mad.c: see trailing_mad.h. The results are the exact order statistics of the window (every
 * median is an element, or the mean of two, of the values a full sort would give), so they equal what a
 * selection over a copy of the window returns, bit for bit. */
#include "features/trailing_mad.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* First index of the ascending s[0..m) whose value is >= v. */
static size_t lower_bound(const double *s, size_t m, double v) {
  size_t lo = 0, hi = m;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s[mid] < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static void sorted_insert(double *s, size_t *m, double v) {
  size_t at = lower_bound(s, *m, v);
  memmove(s + at + 1, s + at, (*m - at) * sizeof *s);
  s[at] = v;
  (*m)++;
}

/* Removes one element equal to v, which the window holds. */
static void sorted_remove(double *s, size_t *m, double v) {
  size_t at = lower_bound(s, *m, v);
  memmove(s + at, s + at + 1, (*m - at - 1) * sizeof *s);
  (*m)--;
}

/* The distances |s[i] - med| of the sorted s[0..m), where s[i] <= med below `split` and s[i] >= med
 * from it on, form two ascending sequences walking away from the split: below[i] = |s[split-1-i] - med|
 * and above[j] = |s[split+j] - med| (rounding is monotone, so the order survives the subtraction).
 * Returns the k-th smallest (0-based) of their merge: the least count i taken from below whose next
 * element is not smaller than the last one taken from above (k + 1 - i elements) is found by bisection. */
static double kth_distance(const double *s, size_t m, size_t split, double med, size_t k) {
#define BELOW(i) fabs(s[split - 1 - (i)] - med)
#define ABOVE(j) fabs(s[split + (j)] - med)
  size_t n_below = split, n_above = m - split, take = k + 1;
  size_t lo = take > n_above ? take - n_above : 0, hi = take < n_below ? take : n_below;
  while (lo < hi) {
    size_t i = lo + (hi - lo) / 2;
    if (ABOVE(take - i - 1) > BELOW(i))
      lo = i + 1;
    else
      hi = i;
  }
  size_t j = take - lo;
  double last_below = lo > 0 ? BELOW(lo - 1) : -INFINITY, last_above = j > 0 ? ABOVE(j - 1) : -INFINITY;
  return last_below > last_above ? last_below : last_above;
#undef BELOW
#undef ABOVE
}

void oc_trailing_median_mad(const double *x, size_t n, size_t window, size_t min_count, double *median,
                            double *mad) {
  oc_trailing_median_mad_from(x, n, 0, window, min_count, median, mad);
}

void oc_trailing_median_mad_from(const double *x, size_t n, size_t first, size_t window, size_t min_count,
                                 double *median, double *mad) {
  assert(window >= 1 && min_count >= 1 && first <= n);
  size_t cap = window < n ? window : n;
  double *sorted = oc_xmalloc((cap + 1) * sizeof *sorted);
  size_t m = 0;
  /* the window as row first - 1 left it: x[first-1-window .. first-2] */
  for (size_t j = first > window + 1 ? first - 1 - window : 0; j + 1 < first; j++)
    if (isfinite(x[j])) sorted_insert(sorted, &m, x[j]);
  for (size_t t = first; t < n; t++) {
    /* the window moves from x[t-1-window .. t-2] to x[t-window .. t-1] */
    if (t > window && isfinite(x[t - 1 - window])) sorted_remove(sorted, &m, x[t - 1 - window]);
    if (t > 0 && isfinite(x[t - 1])) sorted_insert(sorted, &m, x[t - 1]);
    if (m == 0 || m < min_count) {
      median[t] = mad[t] = NAN;
      continue;
    }
    size_t half = m / 2;
    double med = m % 2 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
    median[t] = med;
    mad[t] = m % 2 ? kth_distance(sorted, m, half, med, half)
                   : (kth_distance(sorted, m, half, med, half - 1) + kth_distance(sorted, m, half, med, half)) / 2;
  }
  free(sorted);
}
