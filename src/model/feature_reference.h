/* feature_reference.h: what a model's input looked like when it was trained, kept in its card
 * (model.json) as one "feature_reference" block, so the monitor can tell later whether the input has
 * drifted away from it (monitor/drift.h: PSI and the KS statistic).
 *
 * The input every kind reads is its series' daily log return, r_t = ln(p_t / p_{t-1}) between
 * consecutive stored observations (a pair with a price <= 0 is left out: WTI on 2020-04-20). The
 * block, for the training window (observations up to `last`):
 *   {"feature_reference": {"series": "WTI", "first": "1986-01-03", "last": "2024-05-31",
 *     "features": {"log_return": {"n": 9650,
 *       "edges": [e1..e9],            deciles of the reference: bins (-inf,e1], (e1,e2], ..., (e9,inf)
 *       "proportions": [p1..p10],     the reference's share in each bin (ties make them differ from 0.1)
 *       "quantiles": [q1..q200]}}}}   the reference's ECDF at resolution 1/200: q_k = the value of rank
 *                                      ceil(k n / 200), so F(x) ~= #{q_k <= x} / 200 (for KS)
 * Pure computation over a series; reads and writes nothing. */
#ifndef OC_MODEL_FEATURE_REFERENCE_H
#define OC_MODEL_FEATURE_REFERENCE_H

#include <jansson.h>
#include <stddef.h>

#include "core/date.h"
#include "core/frame.h"

#define OC_FEATURE_REFERENCE_BINS 10
#define OC_FEATURE_REFERENCE_QUANTILES 200
#define OC_FEATURE_REFERENCE_MIN 20 /* fewer returns than this: no reference (nothing to compare with) */

/* The daily log returns of hist between observations dated <= last, into out (room for hist->n);
 * returns how many. */
size_t oc_series_log_returns(const oc_series *hist, oc_date last, double *out);

/* The block above (a new object: {"series", "first", "last", "features"}), or NULL when hist has
 * fewer than OC_FEATURE_REFERENCE_MIN returns up to last. */
json_t *oc_feature_reference_block(const oc_series *hist, oc_date last);

#endif
