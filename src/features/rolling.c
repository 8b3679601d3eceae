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
  const double inv_window = 1.0 / (double)window, inv_dof = window > 1 ? 1.0 / (double)(window - 1) : NAN;
  for (size_t i = 0; i < n; i++) {
    /* Selects instead of branches: the missing-value test is unpredictable only at its edges. */
    double x = in[i];
    int ok = isfinite(x);
    x = ok ? x : 0.0;
    missing += !ok;
    total += x;
    total_sq += x * x;
    if (i >= window) {
      double old = in[i - window];
      int old_ok = isfinite(old);
      old = old_ok ? old : 0.0;
      missing -= !old_ok;
      total -= old;
      total_sq -= old * old;
    }
    int full = i + 1 >= window && missing == 0;
    if (mean) mean[i] = full ? total * inv_window : NAN;
    if (std) {
      double variance = (total_sq - total * total * inv_window) * inv_dof;
      std[i] = full ? (variance > 0 ? sqrt(variance) : 0.0) : NAN;
    }
  }
}

/* Rolling extreme by van Herk / Gil-Werman: split the rows into blocks of `window` rows. The window
 * ending at row i (offset k in its block) is the previous block's suffix from offset k+1 joined with
 * this block's prefix up to i, or the whole prefix when k = window-1. Only rows <= i are read for
 * out[i]; the work is a few branch-free passes with a window-sized buffer. Missing inputs count as
 * +inf (min) or -inf (max); the windows holding them are blanked by the caller. */
static inline __attribute__((always_inline)) double pick(double a, double b, int is_max) {
  return is_max ? (a > b ? a : b) : (a < b ? a : b);
}

static inline __attribute__((always_inline)) void rolling_extreme(const double *in, size_t n, size_t window,
                                                                   int is_max, double *prev_suffix, double *out) {
  const double neutral = is_max ? -INFINITY : INFINITY;
  for (size_t block = 0; block < n; block += window) {
    size_t end = block + window < n ? block + window : n;
    double run = neutral;
    for (size_t i = block; i < end; i++) {
      double x = isfinite(in[i]) ? in[i] : neutral;
      run = pick(run, x, is_max);
      size_t k = i - block;
      if (i + 1 < window)
        out[i] = NAN;
      else
        out[i] = k + 1 == window ? run : pick(prev_suffix[k + 1], run, is_max);
    }
    run = neutral;
    for (size_t i = end; i-- > block;) {
      double x = isfinite(in[i]) ? in[i] : neutral;
      run = pick(run, x, is_max);
      prev_suffix[i - block] = run;
    }
  }
}

void oc_rolling_min_max(const double *in, size_t n, size_t window, double *min, double *max) {
  double *suffix = oc_xmalloc((window + 1) * sizeof *suffix);
  if (min) rolling_extreme(in, n, window, 0, suffix, min);
  if (max) rolling_extreme(in, n, window, 1, suffix, max);
  free(suffix);
  size_t missing = 0;
  for (size_t i = 0; i < n; i++) {
    missing += !isfinite(in[i]);
    if (i >= window) missing -= !isfinite(in[i - window]);
    if (missing) {
      if (min) min[i] = NAN;
      if (max) max[i] = NAN;
    }
  }
}
