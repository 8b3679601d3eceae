/* drift.c: see drift.h. */
#include "monitor/drift.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/json.h"
#include "core/sort.h"
#include "model/feature_reference.h"
#include "model/model_file.h"

double oc_drift_psi(const double *edges, const double *reference, size_t bins, const double *recent, size_t n) {
  size_t counts[OC_FEATURE_REFERENCE_BINS] = {0};
  if (bins > OC_FEATURE_REFERENCE_BINS || n == 0) return NAN;
  for (size_t i = 0; i < n; i++) {
    size_t b = 0;
    while (b + 1 < bins && recent[i] > edges[b]) b++;
    counts[b]++;
  }
  double psi = 0;
  for (size_t b = 0; b < bins; b++) {
    double p = fmax(reference[b], OC_DRIFT_PSI_FLOOR), q = fmax((double)counts[b] / (double)n, OC_DRIFT_PSI_FLOOR);
    psi += (q - p) * log(q / p);
  }
  return psi;
}

double oc_drift_ks(const double *quantiles, size_t nq, const double *sorted, size_t n) {
  if (nq == 0 || n == 0) return NAN;
  size_t i = 0, j = 0;
  double d = 0;
  while (i < nq || j < n) { /* at each value x of either, after every value <= x */
    double x = j >= n || (i < nq && quantiles[i] <= sorted[j]) ? quantiles[i] : sorted[j];
    while (i < nq && quantiles[i] <= x) i++;
    while (j < n && sorted[j] <= x) j++;
    d = fmax(d, fabs((double)i / (double)nq - (double)j / (double)n));
  }
  return d;
}

const char *oc_drift_psi_band(double psi) { return psi < 0.1 ? "none" : psi < 0.25 ? "moderate" : "significant"; }

json_t *oc_feature_drift_json(const oc_feature_drift *d) {
  char first[OC_DATE_STRLEN], last[OC_DATE_STRLEN];
  return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:o, s:s, s:o}", "model_version", d->model_version, "series",
                   d->series, "feature", d->feature, "reference_n", (json_int_t)d->reference_n, "recent_n",
                   (json_int_t)d->recent_n, "recent_first", oc_date_format(d->recent_first, first), "recent_last",
                   oc_date_format(d->recent_last, last), "psi", oc_json_number(d->psi), "psi_band",
                   oc_drift_psi_band(d->psi), "ks", oc_json_number(d->ks));
}

/* The numbers of a JSON array into out (at most cap); how many. */
static size_t numbers(const json_t *array, double *out, size_t cap) {
  size_t i, n = 0;
  json_t *v;
  json_array_foreach(array, i, v) {
    if (n < cap && json_is_number(v)) out[n++] = json_number_value(v);
  }
  return n;
}

/* A series' latest log returns, sorted ascending, with the dates of the first and last. */
typedef struct recent_values {
  char *series;
  double *r;
  size_t n;
  oc_date first, last;
} recent_values;

static void recent_values_free(recent_values *rv) {
  free(rv->series);
  free(rv->r);
}

/* The latest `recent` log returns of the series into *out. */
static int recent_returns(oc_store *store, const char *series, size_t recent, recent_values *out, oc_error *err) {
  oc_series hist = {0};
  *out = (recent_values){.series = strdup(series), .first = OC_DATE_INVALID, .last = OC_DATE_INVALID};
  if (oc_store_series_load(store, series, OC_DATE_INVALID, OC_DATE_INVALID, &hist, err) != 0) {
    recent_values_free(out);
    return -1;
  }
  if (hist.n < 2) {
    oc_series_free(&hist);
    return 0;
  }
  size_t from = hist.n > recent + 1 ? hist.n - recent - 1 : 0;
  oc_series tail = {.name = hist.name, .n = hist.n - from, .dates = hist.dates + from, .values = hist.values + from};
  double *scratch = malloc(tail.n * sizeof *scratch);
  out->r = malloc(tail.n * sizeof *out->r);
  out->n = oc_series_log_returns(&tail, tail.dates[tail.n - 1], out->r);
  oc_sort_doubles(out->r, out->n, scratch);
  free(scratch);
  out->first = tail.dates[1];
  out->last = tail.dates[tail.n - 1];
  oc_series_free(&hist);
  return 0;
}

/* The recent values of one series, loaded at most once per oc_monitor_drift call (versions on the
 * same series share them). */
typedef struct recent_cache {
  recent_values *items;
  size_t n, cap;
} recent_cache;

static int cached_returns(oc_store *store, const char *series, size_t recent, recent_cache *cache,
                          const recent_values **out, oc_error *err) {
  for (size_t i = 0; i < cache->n; i++)
    if (strcmp(cache->items[i].series, series) == 0) return *out = &cache->items[i], 0;
  recent_values rv;
  if (recent_returns(store, series, recent, &rv, err) != 0) return -1;
  oc_xgrow((void **)&cache->items, &cache->cap, cache->n + 1, sizeof *cache->items);
  cache->items[cache->n] = rv;
  *out = &cache->items[cache->n++];
  return 0;
}

static void recent_cache_free(recent_cache *cache) {
  for (size_t i = 0; i < cache->n; i++) recent_values_free(&cache->items[i]);
  free(cache->items);
}

/* v's card, or NULL and err naming it. */
static json_t *load_card(const char *data_dir, const oc_model_version *v, oc_error *err) {
  char *dir = oc_path_join(data_dir, v->path), *path = oc_path_join(dir, OC_MODEL_CARD_FILE);
  free(dir);
  json_error_t jerr;
  json_t *card = json_load_file(path, 0, &jerr);
  if (!card) oc_error_set(err, "%s: %s", path, jerr.text);
  free(path);
  return card;
}

/* The drift of v against the reference of its card (taken); cache: the recent values read so far. */
static int version_drift(json_t *card, oc_store *store, const oc_model_version *v, size_t recent,
                         recent_cache *cache, oc_feature_drift *out, bool *found, oc_error *err) {
  *found = false;
  json_t *ref = json_object_get(card, "feature_reference");
  json_t *feature = json_object_get(json_object_get(ref, "features"), "log_return");
  const char *series = json_string_value(json_object_get(ref, "series"));
  int rc = 0;
  double edges[OC_FEATURE_REFERENCE_BINS - 1], shares[OC_FEATURE_REFERENCE_BINS];
  double quantiles[OC_FEATURE_REFERENCE_QUANTILES];
  size_t nedges = numbers(json_object_get(feature, "edges"), edges, OC_FEATURE_REFERENCE_BINS - 1);
  size_t nshares = numbers(json_object_get(feature, "proportions"), shares, OC_FEATURE_REFERENCE_BINS);
  size_t nq = numbers(json_object_get(feature, "quantiles"), quantiles, OC_FEATURE_REFERENCE_QUANTILES);
  const recent_values *rv;
  if (series && nshares >= 2 && nedges + 1 == nshares && nq > 0 &&
      (rc = cached_returns(store, series, recent, cache, &rv, err)) == 0 && rv->n >= OC_DRIFT_RECENT_MIN) {
    memset(out, 0, sizeof *out);
    *found = true;
    snprintf(out->model_version, sizeof out->model_version, "v%lld", (long long)v->version);
    snprintf(out->series, sizeof out->series, "%s", series);
    snprintf(out->feature, sizeof out->feature, "log_return");
    out->reference_n = (size_t)json_integer_value(json_object_get(feature, "n"));
    out->recent_n = rv->n;
    out->recent_first = rv->first;
    out->recent_last = rv->last;
    out->psi = oc_drift_psi(edges, shares, nshares, rv->r, rv->n);
    out->ks = oc_drift_ks(quantiles, nq, rv->r, rv->n);
  }
  json_decref(card);
  return rc;
}

int oc_monitor_version_drift(const char *data_dir, oc_store *store, const oc_model_version *v, size_t recent,
                             oc_feature_drift *out, bool *found, oc_error *err) {
  json_t *card = load_card(data_dir, v, err);
  if (!card) return -1;
  recent_cache cache = {0};
  int rc = version_drift(card, store, v, recent, &cache, out, found, err);
  recent_cache_free(&cache);
  return rc;
}

int oc_monitor_drift(const char *data_dir, oc_store *store, size_t recent, oc_feature_drift **rows, size_t *n,
                     oc_drift_unmeasured **unmeasured, size_t *nunmeasured, oc_error *err) {
  oc_model_version *versions;
  size_t nv, cap = 0, unmeasured_cap = 0;
  *rows = NULL;
  *n = 0;
  *unmeasured = NULL;
  *nunmeasured = 0;
  if (oc_store_model_version_list(store, &versions, &nv, err) != 0) return -1;
  recent_cache cache = {0};
  int rc = 0;
  for (size_t i = 0; i < nv && rc == 0; i++) {
    if (strcmp(versions[i].status, "deployed") != 0) continue;
    oc_error card_err;
    json_t *card = load_card(data_dir, &versions[i], &card_err);
    if (!card) {
      oc_xgrow((void **)unmeasured, &unmeasured_cap, *nunmeasured + 1, sizeof **unmeasured);
      oc_drift_unmeasured *u = &(*unmeasured)[(*nunmeasured)++];
      snprintf(u->model_version, sizeof u->model_version, "v%lld", (long long)versions[i].version);
      snprintf(u->error, sizeof u->error, "%s", card_err.message);
      continue;
    }
    oc_feature_drift d;
    bool found;
    rc = version_drift(card, store, &versions[i], recent, &cache, &d, &found, err);
    if (rc == 0 && found) {
      oc_xgrow((void **)rows, &cap, *n + 1, sizeof **rows);
      (*rows)[(*n)++] = d;
    }
  }
  recent_cache_free(&cache);
  oc_model_version_list_free(versions, nv);
  if (rc != 0) {
    free(*rows);
    free(*unmeasured);
    *rows = NULL;
    *unmeasured = NULL;
    *n = *nunmeasured = 0;
  }
  return rc;
}
