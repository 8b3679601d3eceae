/* rolling.h: return, lag and rolling-window features as pure functions over double arrays. Each
 * writes n outputs for n inputs; out[t] depends only on in[0..t] (causal) and is NaN when the history
 * is insufficient or the window holds a missing (non-finite) input, never 0. One O(n) pass each: running
 * totals for mean/std (no per-window rescans) and van Herk/Gil-Werman blocks for min/max. Must not know about
 * dates, frames or files. */
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
/* Rolling mean and sample standard deviation (n-1 denominator, as pandas' rolling().std()) over the
 * last window values; either output may be NULL. The first value is at row window-1 when the inputs
 * are finite. A window of 1 has a mean but no standard deviation (NaN). */
void oc_rolling_mean_std(const double *in, size_t n, size_t window, double *mean, double *std);
/* Rolling minimum and maximum over the last window values; either output may be NULL. */
void oc_rolling_min_max(const double *in, size_t n, size_t window, double *min, double *max);

#endif
