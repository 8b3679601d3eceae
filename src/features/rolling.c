/* rolling.c: see rolling.h. Missing inputs (NaN/inf) are counted per window instead of being summed,
 * so one missing value blanks exactly the windows that contain it and the running totals stay finite. */
#include "features/rolling.h"

#include <math.h>
#include <stdlib.h>

#include "core/buf.h"

void oc_log_returns(const double *price, size_t n, double *out) {
  if (n == 0) return;
  out[0] = NAN;
  for (size_t i = 1; i < n; i++)
    out[i] = (price[i] > 0 && price[i - 1] > 0) ? log(price[i] / price[i - 1]) : NAN;
}

void oc_lag(const double *in, size_t n, size_t lag, double *out) {
  for (size_t i = 0; i < n; i++) out[i] = i >= lag ? in[i - lag] : NAN;
}

void oc_diff(const double *in, size_t n, double *out) {
  if (n == 0) return;
  out[0] = NAN;
  for (size_t i = 1; i < n; i++) out[i] = in[i] - in[i - 1];
}

void oc_subtract(const double *a, const double *b, size_t n, double *out) {
  for (size_t i = 0; i < n; i++) out[i] = a[i] - b[i];
}

void oc_relative_to(const double *price, const double *ref, size_t n, double *out) {
  for (size_t i = 0; i < n; i++) out[i] = ref[i] != 0.0 ? price[i] / ref[i] - 1.0 : NAN;
}

void oc_rolling_mean_std(const double *in, size_t n, size_t window, double *mean, double *std) {
  double total = 0.0, total_sq = 0.0;
  size_t missing = 0;
  for (size_t i = 0; i < n; i++) {
    double x = in[i];
    if (isfinite(x)) {
      total += x;
      total_sq += x * x;
    } else {
      missing++;
    }
    if (i >= window) {
      double old = in[i - window];
      if (isfinite(old)) {
        total -= old;
        total_sq -= old * old;
      } else {
        missing--;
      }
    }
    int full = i + 1 >= window && missing == 0;
    if (mean) mean[i] = full ? total / (double)window : NAN;
    if (std) {
      if (full && window > 1) {
        double variance = (total_sq - total * total / (double)window) / (double)(window - 1);
        std[i] = variance > 0 ? sqrt(variance) : 0.0;
      } else {
        std[i] = NAN;
      }
    }
  }
}

/* A monotonic deque of row indices in a ring of power-of-two capacity >= window + 1. */
typedef struct index_deque {
  size_t *slot;
  size_t mask, head, tail; /* head: oldest; tail: one past newest (both unbounded, masked on use) */
} index_deque;

static void deque_init(index_deque *d, size_t window) {
  size_t cap = 1;
  while (cap < window + 1) cap <<= 1;
  d->slot = oc_xmalloc(cap * sizeof *d->slot);
  d->mask = cap - 1;
  d->head = d->tail = 0;
}

/* Pushes row i after removing every newer-but-dominated row (keep_smaller: a min deque) and every row
 * that left the window; returns the row holding the window's extreme. */
static size_t deque_push(index_deque *d, const double *in, size_t i, size_t window, int keep_smaller) {
  double x = in[i];
  while (d->tail != d->head) {
    double back = in[d->slot[(d->tail - 1) & d->mask]];
    if (keep_smaller ? back < x : back > x) break;
    d->tail--;
  }
  d->slot[d->tail++ & d->mask] = i;
  while (d->slot[d->head & d->mask] + window <= i) d->head++;
  return d->slot[d->head & d->mask];
}

void oc_rolling_min_max(const double *in, size_t n, size_t window, double *min, double *max) {
  index_deque lo, hi;
  deque_init(&lo, window);
  deque_init(&hi, window);
  size_t missing = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(in[i])) missing++;
    if (i >= window && !isfinite(in[i - window])) missing--;
    int full = i + 1 >= window && missing == 0;
    if (isfinite(in[i])) {
      size_t lo_at = deque_push(&lo, in, i, window, 1);
      size_t hi_at = deque_push(&hi, in, i, window, 0);
      if (min) min[i] = full ? in[lo_at] : NAN;
      if (max) max[i] = full ? in[hi_at] : NAN;
    } else {
      if (min) min[i] = NAN;
      if (max) max[i] = NAN;
    }
  }
  free(lo.slot);
  free(hi.slot);
}
