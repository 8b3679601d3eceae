/* drift.h: input drift of each deployed model version against the reference its card keeps
 * (model/feature_reference.h), over the latest `recent` values of the input:
 *   PSI = sum over the reference's 10 decile bins of (q_i - p_i) ln(q_i / p_i), p_i the reference's
 *         share of the bin, q_i the recent share (both floored at 1e-4 so an empty bin counts, as is
 *         conventional); below 0.1 no drift, 0.1..0.25 moderate, above 0.25 significant.
 *   KS  = sup_x |F_ref(x) - F_recent(x)|, F_ref the reference's ECDF as its card keeps it (200
 *         quantiles), F_recent the recent values' ECDF (both right-continuous; the supremum is taken
 *         at every value of either).
 * Reads the registry's cards and the store; writes nothing; prints nothing. */
#ifndef OC_MONITOR_DRIFT_H
#define OC_MONITOR_DRIFT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/error.h"
#include "store/store.h"

#define OC_DRIFT_RECENT_DEFAULT 60 /* the latest trading days compared with the reference */
#define OC_DRIFT_RECENT_MIN 10     /* fewer recent values: no figure */
#define OC_DRIFT_PSI_FLOOR 1e-4

typedef struct oc_feature_drift {
  char model_version[32]; /* "v3" */
  char series[OC_SERIES_NAME_MAX + 1];
  char feature[32];       /* "log_return" */
  size_t reference_n, recent_n;
  oc_date recent_first, recent_last; /* the dates of the first and last recent value */
  double psi, ks;
} oc_feature_drift;

/* PSI of recent[0..n) against bins (-inf,edges[0]], ..., (edges[bins-2],inf) with reference shares
 * reference[0..bins). */
double oc_drift_psi(const double *edges, const double *reference, size_t bins, const double *recent, size_t n);
/* KS between the ECDF of the ascending reference quantiles[0..nq) and of the ascending sorted[0..n). */
double oc_drift_ks(const double *quantiles, size_t nq, const double *sorted, size_t n);
/* "none", "moderate" or "significant" (the conventional bands 0.1 and 0.25). */
const char *oc_drift_psi_band(double psi);

/* One row as JSON (model_version, series, feature, reference_n, recent_n, recent_first, recent_last,
 * psi, psi_band, ks): the API's and the CLI's shape. */
json_t *oc_feature_drift_json(const oc_feature_drift *d);

/* The drift of one registered version (v: its registry row) into *out; *found false when its card
 * keeps no reference or its series has fewer than OC_DRIFT_RECENT_MIN recent values. A card that
 * cannot be read is an error naming it. */
int oc_monitor_version_drift(const char *data_dir, oc_store *store, const oc_model_version *v, size_t recent,
                             oc_feature_drift *out, bool *found, oc_error *err);

/* A deployed version whose drift could not be measured, and why (its card cannot be read). */
typedef struct oc_drift_unmeasured {
  char model_version[32];
  char error[sizeof ((oc_error *)0)->message];
} oc_drift_unmeasured;

/* One row per deployed version whose card has a reference and feature with enough recent values
 * (free *rows with free()). A version whose card cannot be read goes to *unmeasured (free() it) and
 * the others are still measured: one damaged card must not blind the monitor to the rest. */
int oc_monitor_drift(const char *data_dir, oc_store *store, size_t recent, oc_feature_drift **rows, size_t *n,
                     oc_drift_unmeasured **unmeasured, size_t *nunmeasured, oc_error *err);

#endif
