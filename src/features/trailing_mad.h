/* trailing_mad.h: the median and the median absolute deviation of a trailing window, for every row of
 * a series, as the ETL's outlier detection uses them (features/etl.h). The window is kept sorted from
 * one row to the next (one insertion and one removal by bisection), so a row costs O(log window)
 * comparisons plus moving at most `window` doubles, not a selection over a fresh copy. Causal: row t
 * reads only x[0..t). Must not know about dates, frames, policies or thresholds. */
#ifndef OC_TRAILING_MAD_H
#define OC_TRAILING_MAD_H

#include <stddef.h>

/* For every t < n: median[t] and mad[t] (the median of |x - median[t]|, unscaled) of the finite values
 * among x[max(0, t - window) .. t - 1]; non-finite values are left out but still occupy their place
 * in the window. Both are NaN when fewer than min_count (at least 1) finite values are there. Medians
 * of an even count are (lower + upper) / 2. window >= 1. */
void oc_trailing_median_mad(const double *x, size_t n, size_t window, size_t min_count, double *median,
                            double *mad);
/* The same for the rows t in [first, n) only (median and mad are written there alone): what a series
 * extended by the rows from `first` on adds, bit for bit the values of the whole computation. */
void oc_trailing_median_mad_from(const double *x, size_t n, size_t first, size_t window, size_t min_count,
                                 double *median, double *mad);

#endif
