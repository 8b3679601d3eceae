/* rolling.h: return, lag and rolling-window features as pure functions over double arrays. Each
 * writes n outputs for n inputs; out[t] depends only on in[0..t] (causal) and is NaN when the history
 * is insufficient or the window holds a missing (non-finite) input, never 0. One O(n) pass each: running
 * totals for mean/std (no per-window rescans) and a doubling table (minimum of 2^k rows) for min/max.
 *
 * The rolling windows and the row-wise functions also exist in streaming form, for computing a long
 * series in cache-sized blocks with results bit-identical to the whole-array call (which is one step
 * over every row): a step's `in` points at the block's first row, and the rows before it that the
 * function looks back on must be readable there wherever they exist. Must not know about dates,
 * frames or files. */
#ifndef OC_ROLLING_H
#define OC_ROLLING_H

#include <stddef.h>

/* out[0] = NaN, out[t] = log(price[t] / price[t-1]); NaN where either price is not positive. */
void oc_log_returns(const double *price, size_t n, double *out);
/* out[t] = in[t - lag] (NaN for t < lag). */
void oc_lag(const double *in, size_t n, size_t lag, double *out);
/* out[t] = in[t] - in[t-1] (NaN at t = 0 or when either is missing). */
void oc_diff(const double *in, size_t n, double *out);
/* out[t] = a[t] - b[t]. */
void oc_subtract(const double *a, const double *b, size_t n, double *out);
/* out[t] = price[t] / ref[t] - 1 (NaN where ref is missing or 0). */
void oc_relative_to(const double *price, const double *ref, size_t n, double *out);
/* v[i] = sqrt(v[i]), or 0 where v[i] < below (a variance that rounding left at or under its floor);
 * NaN stays NaN. Vectorized: square roots are the costliest step of the standard deviations. */
void oc_sqrt_or_zero(double *v, size_t n, double below);
/* Rolling mean and sample standard deviation (n-1 denominator, as pandas' rolling().std()) over the
 * last window values; either output may be NULL. The first value is at row window-1 when the inputs
 * are finite. A window of 1 has a mean but no standard deviation (NaN). */
void oc_rolling_mean_std(const double *in, size_t n, size_t window, double *mean, double *std);
/* Rolling minimum and maximum over the last window values; either output may be NULL. */
void oc_rolling_min_max(const double *in, size_t n, size_t window, double *min, double *max);

/* ---- streaming form ---- */

/* first_row is the absolute row of in[0] / price[0]. Look back one row (returns, diff) or lag rows. */
void oc_log_returns_step(const double *price, size_t first_row, size_t count, double *out);
void oc_lag_step(const double *in, size_t first_row, size_t count, size_t lag, double *out);
void oc_diff_step(const double *in, size_t first_row, size_t count, double *out);

/* A set of rolling windows over one input, stepped together: each window's running totals for the
 * mean and standard deviation, and a shared doubling table for the minimum and maximum. Stepping the
 * windows together is what makes them fast: their running totals advance in one loop (the dependency
 * chains overlap) and the min/max table levels serve every window. A step looks back longest-1 rows. */
#define OC_ROLLING_MAX_WINDOWS 8
typedef struct oc_rolling_set {
  size_t nwindows, longest, row;
  size_t window[OC_ROLLING_MAX_WINDOWS], missing[OC_ROLLING_MAX_WINDOWS];
  double total[OC_ROLLING_MAX_WINDOWS], total_sq[OC_ROLLING_MAX_WINDOWS];
  double *scratch; /* two table levels of a sub-block and its look-back */
} oc_rolling_set;
/* nwindows (1..OC_ROLLING_MAX_WINDOWS) window lengths, each at least 1. */
void oc_rolling_set_init(oc_rolling_set *s, const size_t *windows, size_t nwindows);
void oc_rolling_set_free(oc_rolling_set *s);
/* out holds 4 * nwindows columns of count values: for each window, in the order given at init, its
 * mean, sample standard deviation, minimum and maximum of the window ending at each row. */
void oc_rolling_set_step(oc_rolling_set *s, const double *in, size_t count, double *const *out);

#endif
