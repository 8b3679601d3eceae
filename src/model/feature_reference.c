/* feature_reference.c: see feature_reference.h. */
#include "model/feature_reference.h"

#include <math.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/sort.h"

size_t oc_series_log_returns(const oc_series *hist, oc_date last, double *out) {
  size_t n = 0;
  for (size_t i = 1; i < hist->n && hist->dates[i] <= last; i++)
    if (hist->values[i - 1] > 0 && hist->values[i] > 0) out[n++] = log(hist->values[i] / hist->values[i - 1]);
  return n;
}

/* The value of rank ceil(q n) (1-based) of sorted[0..n), q in (0, 1]. */
static double at_rank(const double *sorted, size_t n, double q) {
  size_t rank = (size_t)ceil(q * (double)n);
  return sorted[(rank ? rank : 1) - 1];
}

json_t *oc_feature_reference_block(const oc_series *hist, oc_date last) {
  double *r = oc_xmalloc((hist->n ? hist->n : 1) * sizeof *r);
  size_t n = oc_series_log_returns(hist, last, r);
  if (n < OC_FEATURE_REFERENCE_MIN) {
    free(r);
    return NULL;
  }
  double *scratch = oc_xmalloc(n * sizeof *scratch);
  oc_sort_doubles(r, n, scratch);
  free(scratch);
  json_t *edges = json_array(), *proportions = json_array(), *quantiles = json_array();
  double edge[OC_FEATURE_REFERENCE_BINS - 1];
  for (int b = 0; b < OC_FEATURE_REFERENCE_BINS - 1; b++) {
    edge[b] = at_rank(r, n, (double)(b + 1) / OC_FEATURE_REFERENCE_BINS);
    json_array_append_new(edges, json_real(edge[b]));
  }
  size_t in_bin[OC_FEATURE_REFERENCE_BINS] = {0}, b = 0;
  for (size_t i = 0; i < n; i++) { /* sorted: walk the bins upwards */
    while (b < OC_FEATURE_REFERENCE_BINS - 1 && r[i] > edge[b]) b++;
    in_bin[b]++;
  }
  for (b = 0; b < OC_FEATURE_REFERENCE_BINS; b++) json_array_append_new(proportions, json_real((double)in_bin[b] / (double)n));
  for (int k = 1; k <= OC_FEATURE_REFERENCE_QUANTILES; k++)
    json_array_append_new(quantiles, json_real(at_rank(r, n, (double)k / OC_FEATURE_REFERENCE_QUANTILES)));
  free(r);
  size_t last_i = 0;
  for (size_t i = 0; i < hist->n && hist->dates[i] <= last; i++) last_i = i;
  char first_s[OC_DATE_STRLEN], last_s[OC_DATE_STRLEN];
  return json_pack("{s:s, s:s, s:s, s:{s:{s:I, s:o, s:o, s:o}}}", "series", hist->name ? hist->name : "", "first",
                   oc_date_format(hist->dates[0], first_s), "last", oc_date_format(hist->dates[last_i], last_s),
                   "features", "log_return", "n", (json_int_t)n, "edges", edges, "proportions", proportions, "quantiles",
                   quantiles);
}
