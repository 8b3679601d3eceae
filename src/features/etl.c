/* etl.c: see etl.h. One preparation path (validate, clean, align, compute features) is shared by the
 * training build and the inference row, so the two cannot drift apart. Nothing here looks at a row
 * after the one it is computing except the targets, which are forward-looking by definition, and the
 * fitting of normalization and selection, which only reads rows dated <= train_end. */
#include "features/etl.h"

#include <assert.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/json.h"
#include "core/sha256.h"
#include "core/sort.h"
#include "features/features.h"
#include "features/rolling.h"
#include "features/trailing_mad.h"
#include "features/vectorize.h"
#include "oc_version.h"

void oc_etl_options_default(oc_etl_options *o) {
  *o = (oc_etl_options){
      .horizon = 7,
      .train_end = OC_DATE_INVALID,
      .val_frac = 0.1,
      .nonpositive = OC_NONPOS_DROP,
      .clip_floor = 0.01,
      .outliers = OC_OUTLIER_FLAG,
      .outlier_z = 5.0,
      .outlier_window = 250,
      .gap_days = 3,
      .ffill_days = 3,
      .normalization = OC_NORM_ZSCORE,
      .corr_threshold = 0.98,
      .near_constant_share = 0.99,
      .threads = 1,
  };
}

static const char *const nonpos_names[] = {"drop", "clip", "fail"};
static const char *const outlier_names[] = {"flag", "drop"};
static const char *const norm_names[] = {"zscore", "robust"};

static int name_index(const char *name, const char *const *names, int count) {
  for (int i = 0; name && i < count; i++)
    if (strcmp(name, names[i]) == 0) return i;
  return -1;
}

int oc_nonpos_policy_parse(const char *name, oc_nonpos_policy *out) {
  int i = name_index(name, nonpos_names, 3);
  if (i < 0) return -1;
  *out = (oc_nonpos_policy)i;
  return 0;
}
int oc_outlier_policy_parse(const char *name, oc_outlier_policy *out) {
  int i = name_index(name, outlier_names, 2);
  if (i < 0) return -1;
  *out = (oc_outlier_policy)i;
  return 0;
}
int oc_norm_method_parse(const char *name, oc_norm_method *out) {
  int i = name_index(name, norm_names, 2);
  if (i < 0) return -1;
  *out = (oc_norm_method)i;
  return 0;
}
const char *oc_nonpos_policy_name(oc_nonpos_policy p) { return nonpos_names[p]; }
const char *oc_outlier_policy_name(oc_outlier_policy p) { return outlier_names[p]; }
const char *oc_norm_method_name(oc_norm_method m) { return norm_names[m]; }

/* ---- preparation shared by build and inference ---- */

/* The rows prepared from a target's first `raw` observations: cleaned by the non-positive policy,
 * the outlier policy applied, the exogenous values aligned and every feature computed. Every stage is
 * causal (a row depends only on the observations up to it), so prepare() on a history that extends
 * those observations continues every array from where it stopped: the rows it adds are the rows a
 * preparation of the whole history has there, bit for bit. A zeroed struct has prepared nothing. */
typedef struct prepared {
  size_t raw;          /* target observations consumed */
  size_t nclean;       /* rows the non-positive policy left, before the outlier policy */
  oc_date *clean_dates;
  double *clean_close;
  size_t nret;         /* log returns of clean_close computed so far (only when outliers are looked for) */
  double *ret;
  size_t n;            /* rows after the outlier policy: the table's rows */
  oc_date *dates;
  double *close;
  size_t nexog;
  double **exog; /* aligned to dates */
  size_t nfeat;
  char **names;
  double **feat;
  oc_feature_stream *stream; /* the features' state after row n - 1 */
  /* The selection's order statistics: per feature, its finite values on rows [0, sorted_rows),
   * ascending (nsorted[f] of them); a longer training prefix merges its new rows in. */
  size_t sorted_rows;
  double **sorted;
  size_t *nsorted;
} prepared;

static void prepared_free(prepared *p) {
  free(p->clean_dates);
  free(p->clean_close);
  free(p->ret);
  free(p->dates);
  free(p->close);
  for (size_t e = 0; e < p->nexog; e++) free(p->exog ? p->exog[e] : NULL);
  free(p->exog);
  oc_features_free_columns(p->feat, p->nfeat);
  oc_features_free_names(p->names, p->nfeat);
  oc_feature_stream_free(p->stream);
  for (size_t f = 0; p->sorted && f < p->nfeat; f++) free(p->sorted[f]);
  free(p->sorted);
  free(p->nsorted);
  memset(p, 0, sizeof *p);
}

/* Room for `rows` rows in every array (the earlier rows kept). */
static void prepared_reserve(prepared *p, size_t rows) {
  rows++;
  p->clean_dates = oc_xrealloc(p->clean_dates, rows * sizeof *p->clean_dates);
  p->clean_close = oc_xrealloc(p->clean_close, rows * sizeof *p->clean_close);
  p->ret = oc_xrealloc(p->ret, rows * sizeof *p->ret);
  p->dates = oc_xrealloc(p->dates, rows * sizeof *p->dates);
  p->close = oc_xrealloc(p->close, rows * sizeof *p->close);
  for (size_t e = 0; e < p->nexog; e++) p->exog[e] = oc_xrealloc(p->exog[e], rows * sizeof *p->exog[e]);
  if (!p->feat) p->feat = oc_features_alloc_columns(p->nfeat, rows);
  else
    for (size_t f = 0; f < p->nfeat; f++) p->feat[f] = oc_xrealloc(p->feat[f], rows * sizeof *p->feat[f]);
}

static int validate_series(const oc_series *s, const char *role, oc_error *err) {
  char a[OC_DATE_STRLEN], b[OC_DATE_STRLEN];
  const char *name = s->name ? s->name : "(unnamed)";
  for (size_t i = 0; i < s->n; i++) {
    if (!isfinite(s->values[i]))
      return oc_error_set(err, "%s series %s: value at %s is not a finite number", role, name,
                          oc_date_format(s->dates[i], a));
    if (i > 0 && s->dates[i] <= s->dates[i - 1])
      return oc_error_set(err, "%s series %s: dates are not strictly ascending (%s then %s at row %zu)", role,
                          name, oc_date_format(s->dates[i - 1], a), oc_date_format(s->dates[i], b), i);
  }
  return 0;
}

static void report_push_nonpositive(oc_etl_report *r, oc_date d, double v) {
  if (!r) return;
  r->nonpositive_dates = oc_xrealloc(r->nonpositive_dates, (r->nonpositive + 1) * sizeof(oc_date));
  r->nonpositive_values = oc_xrealloc(r->nonpositive_values, (r->nonpositive + 1) * sizeof(double));
  r->nonpositive_dates[r->nonpositive] = d;
  r->nonpositive_values[r->nonpositive] = v;
  r->nonpositive++;
}

static void report_gaps(const oc_series *t, int gap_days, oc_etl_report *r) {
  if (!r) return;
  for (size_t i = 1; i < t->n; i++) {
    int missing = oc_calendar_trading_days_between(t->dates[i - 1], t->dates[i]) - 1;
    if (missing <= gap_days) continue;
    r->gaps = oc_xrealloc(r->gaps, (r->ngaps + 1) * sizeof *r->gaps);
    r->gaps[r->ngaps++] = (oc_etl_gap){t->dates[i - 1], t->dates[i], missing};
  }
}

/* Applies the non-positive price policy to the observations p has not consumed; appends to
 * p->clean_dates/clean_close. */
static int clean_nonpositive(const oc_series *t, const oc_etl_options *o, prepared *p, oc_etl_report *r,
                             oc_error *err) {
  for (size_t i = p->raw; i < t->n; i++) {
    double v = t->values[i];
    if (v <= 0) {
      report_push_nonpositive(r, t->dates[i], v);
      if (o->nonpositive == OC_NONPOS_FAIL) {
        char d[OC_DATE_STRLEN];
        return oc_error_set(err,
                            "series %s: price %g on %s is not positive and the non-positive policy is 'fail' "
                            "(use drop or clip)",
                            t->name, v, oc_date_format(t->dates[i], d));
      }
      if (o->nonpositive == OC_NONPOS_DROP) continue;
      v = o->clip_floor;
    }
    p->clean_dates[p->nclean] = t->dates[i];
    p->clean_close[p->nclean++] = v;
  }
  p->raw = t->n;
  return 0;
}

/* Flags the clean rows from clean_from on whose log return has a robust z-score
 * 0.6745 * (r - median) / MAD above the threshold, median and MAD taken over the trailing window of
 * earlier returns (causal, features/trailing_mad.h), and appends them to the table's rows unless the
 * drop policy removes them. At least 20 earlier returns are needed before anything is flagged.
 * Without a report, flags the policy would not act on are not computed (the mlp forecaster's fits and
 * inference rows run this with the default flag policy and no report). */
static void handle_outliers(const oc_etl_options *o, prepared *p, size_t clean_from, oc_etl_report *r) {
  enum { MIN_HISTORY = 20 };
  size_t n = p->nclean;
  bool look = n >= 2 && (r || o->outliers != OC_OUTLIER_FLAG);
  double *med = NULL, *mad = NULL;
  if (look) {
    oc_log_returns_step(p->clean_close + p->nret, p->nret, n - p->nret, p->ret + p->nret);
    p->nret = n;
    med = oc_xmalloc(n * sizeof *med);
    mad = oc_xmalloc(n * sizeof *mad);
    oc_trailing_median_mad_from(p->ret, n, clean_from, (size_t)o->outlier_window, MIN_HISTORY, med, mad);
  }
  for (size_t t = clean_from; t < n; t++) {
    bool flag = look && isfinite(p->ret[t]) && mad[t] > 0 && 0.6745 * fabs(p->ret[t] - med[t]) / mad[t] > o->outlier_z;
    if (flag && r) {
      r->outlier_dates = oc_xrealloc(r->outlier_dates, (r->noutliers + 1) * sizeof(oc_date));
      r->outlier_dates[r->noutliers++] = p->clean_dates[t];
    }
    if (flag && o->outliers == OC_OUTLIER_DROP) continue;
    p->dates[p->n] = p->clean_dates[t];
    p->close[p->n++] = p->clean_close[t];
  }
  free(med);
  free(mad);
}

/* Exogenous values on the target's dates: the same day's value, else the latest earlier one at most
 * ffill_days trading days old, else NaN. Never a value dated after the target row. */
static void align_exog(const oc_series *e, const oc_date *dates, size_t n, int ffill_days, double *out,
                       oc_etl_exog_report *er) {
  /* exog rows before j are dated <= the current target date; a forecast's history is a short tail
   * of a long exog series, so the start is found by bisection */
  size_t j = 0, hi = n ? e->n : 0;
  while (j < hi) {
    size_t mid = j + (hi - j) / 2;
    if (e->dates[mid] <= dates[0]) j = mid + 1;
    else hi = mid;
  }
  for (size_t i = 0; i < n; i++) {
    while (j < e->n && e->dates[j] <= dates[i]) j++;
    out[i] = NAN;
    if (j > 0 && e->dates[j - 1] == dates[i]) {
      out[i] = e->values[j - 1];
      if (er) er->exact++;
    } else if (j > 0 && oc_calendar_trading_days_between(e->dates[j - 1], dates[i]) <= ffill_days) {
      out[i] = e->values[j - 1];
      if (er) er->filled++;
    } else if (er) {
      er->missing++;
    }
  }
}

/* Prepares target's observations beyond the p->raw already prepared (all of them for a zeroed p). A
 * p that has prepared rows must have been prepared from the same first observations of target and
 * exogs (and the same cleaning and alignment options): oc_etl_session checks it. A report covers every
 * row, so it is only made from a zeroed p. On error p is left half-extended: the caller frees it. */
static int prepare(const oc_series *target, const oc_series *exogs, size_t nexog, const oc_etl_options *o,
                   prepared *p, oc_etl_report *r, oc_error *err) {
  assert(!r || p->raw == 0);
  assert(p->raw == 0 || (p->nexog == nexog && target->n >= p->raw));
  if (validate_series(target, "target", err) != 0) return -1;
  for (size_t e = 0; e < nexog; e++)
    if (validate_series(&exogs[e], "exogenous", err) != 0) return -1;
  if (r) {
    r->rows_in = target->n;
    report_gaps(target, o->gap_days, r);
  }
  const char **exog_names = oc_xcalloc(nexog + 1, sizeof *exog_names);
  for (size_t e = 0; e < nexog; e++) exog_names[e] = exogs[e].name;
  if (!p->stream) {
    p->nexog = nexog;
    p->exog = oc_xcalloc(nexog + 1, sizeof *p->exog);
    p->nfeat = oc_features_count(nexog);
    p->names = oc_features_names(exog_names, nexog);
    p->stream = oc_feature_stream_new(nexog);
  }
  prepared_reserve(p, target->n);
  size_t clean_from = p->nclean, first_row = p->n;
  int rc = clean_nonpositive(target, o, p, r, err);
  if (rc == 0) {
    handle_outliers(o, p, clean_from, r);
    if (r) {
      r->nexog = nexog;
      r->exog = oc_xcalloc(nexog, sizeof *r->exog);
    }
    for (size_t e = 0; e < nexog; e++) {
      if (r) r->exog[e].name = oc_xstrdup(exogs[e].name);
      align_exog(&exogs[e], p->dates + first_row, p->n - first_row, o->ffill_days, p->exog[e] + first_row,
                 r ? &r->exog[e] : NULL);
    }
    oc_feature_input in = {p->n, p->dates, p->close, nexog, exog_names, (const double *const *)p->exog};
    oc_feature_stream_extend(p->stream, &in, p->feat, o->threads);
  }
  free(exog_names);
  return rc;
}

/* ---- selection and normalization (training rows only) ---- */

/* The finite values of feature f on the training rows [0, rows), ascending, as a stable sort orders
 * them (core/sort.h), in p->sorted[f]; returns how many. The values p->sorted[f] holds from the rows
 * [0, from) are kept and the sorted values of rows [from, rows) merged in (from the back, a tie
 * placing the new value last: the stable order). buf and tmp: rows doubles of scratch each. */
static size_t sorted_training_values(prepared *p, size_t f, size_t from, size_t rows, double *buf, double *tmp) {
  assert(from <= rows && (from == 0 || from == p->sorted_rows));
  size_t m_old = from ? p->nsorted[f] : 0, k = 0;
  const double *col = p->feat[f];
  for (size_t i = from; i < rows; i++)
    if (isfinite(col[i])) buf[k++] = col[i];
  oc_sort_doubles(buf, k, tmp);
  double *v = p->sorted[f] = oc_xrealloc(p->sorted[f], (m_old + k + 1) * sizeof *v);
  for (size_t i = m_old, j = k, at = m_old + k; j > 0; at--) {
    assert(at > i); /* an old value not yet placed is never overwritten */
    v[at - 1] = i > 0 && buf[j - 1] < v[i - 1] ? v[--i] : buf[--j];
  }
  return p->nsorted[f] = m_old + k;
}

static double quantile_sorted(const double *v, size_t m, double q) {
  assert(m >= 1 && q >= 0.0 && q <= 1.0);
  double pos = q * (double)(m - 1);
  size_t lo = (size_t)floor(pos);
  double frac = pos - (double)lo;
  return lo + 1 < m ? v[lo] + frac * (v[lo + 1] - v[lo]) : v[lo];
}

/* Center and scale of the sorted training values under the method. */
static void fit_scaler(const double *v, size_t m, oc_norm_method method, double *center, double *scale) {
  assert(m >= 1); /* a column without a finite training value has no scaler (the caller checks) */
  if (method == OC_NORM_ROBUST) {
    *center = quantile_sorted(v, m, 0.5);
    *scale = quantile_sorted(v, m, 0.75) - quantile_sorted(v, m, 0.25);
    return;
  }
  double sum = 0;
  for (size_t i = 0; i < m; i++) sum += v[i];
  double mean = sum / (double)m, ss = 0;
  for (size_t i = 0; i < m; i++) ss += (v[i] - mean) * (v[i] - mean);
  *center = mean;
  *scale = sqrt(ss / (double)m);
}

/* ---- correlations of one feature with every kept one, together ----
 * The selection's test is the Pearson correlation over the training rows where both features are
 * finite (NaN with fewer than 3 such rows or a zero variance): means first, then the centred sums,
 * each sum taken over the rows in ascending order. Feature f is compared with the kept features in
 * order until one exceeds the threshold; computing all of them at once (and reading the first that
 * exceeds it) decides the same. The kept features' training values are held in blocks of
 * KEPT_BLOCK slots, row by row within a block (kept_rows[(slot / KEPT_BLOCK) * rows * KEPT_BLOCK + row
 * * KEPT_BLOCK + slot % KEPT_BLOCK]: one cache line per row, read in order), so the sums of
 * KEPT_LANES pairs advance in one vector operation per row: every pair's sums keep their
 * order and operations (no reassociation, no fused multiply-add: the build does not contract), so
 * the correlations are bit for bit those of one pair at a time. A pair's rows where the kept value is
 * not finite add +0.0, which leaves a sum started at +0.0 unchanged (it can never become -0.0). */
#define KEPT_LANES 4
#define KEPT_BLOCK (2 * KEPT_LANES)
typedef double kept_vec __attribute__((vector_size(KEPT_LANES * sizeof(double))));
typedef long long kept_mask __attribute__((vector_size(KEPT_LANES * sizeof(double))));
typedef double kept_vec_unaligned __attribute__((vector_size(KEPT_LANES * sizeof(double)), aligned(8), may_alias));
#define KEPT_LOAD(p) (*(const kept_vec_unaligned *)(p))

/* x where mask is set, +0.0 elsewhere (macros: a vector-valued function changes the ABI between the
 * clones). */
#define KEPT_SELECT(x, mask) ((kept_vec)((kept_mask)(x) & (mask)))
/* Lanes holding a finite value (x - x is 0 exactly then, NaN for infinities and NaN). */
#define KEPT_FINITE(x) ((x) - (x) == 0.0)

/* The sums of one row for the KEPT_LANES pairs from slot c * KEPT_LANES: the means' pass, then the
 * centred pass (the arrays' element c). */
#define KEPT_MEANS_ROW(c)                                          \
  do {                                                             \
    kept_vec b = KEPT_LOAD(row + (c) * KEPT_LANES);                \
    kept_mask fin = KEPT_FINITE(b);                                \
    sa[c] += KEPT_SELECT(zero + a[i], fin);                        \
    sb[c] += KEPT_SELECT(b, fin);                                  \
    m[c] += KEPT_SELECT(one, fin);                                 \
  } while (0)
#define KEPT_CENTRED_ROW(c)                                        \
  do {                                                             \
    kept_vec b = KEPT_LOAD(row + (c) * KEPT_LANES);                \
    kept_mask fin = KEPT_FINITE(b);                                \
    kept_vec da = a[i] - ma[c], db = b - mb[c];                    \
    cov[c] += KEPT_SELECT(da * db, fin);                           \
    va[c] += KEPT_SELECT(da * da, fin);                            \
    vb[c] += KEPT_SELECT(db * db, fin);                            \
  } while (0)

/* corr[k] for the slots k < nkept of kept_rows (in blocks as above, unused slots NaN), against
 * a[0..rows), the training rows. A block's two vectors of pairs at a time: six independent sums per
 * row keep the adder busy where three would wait on its latency. */
OC_VECTOR_CLONES static void training_corrs(const double *a, const double *kept_rows, size_t nkept, size_t rows,
                                            double *corr) {
  const kept_vec zero = {0}, one = zero + 1.0;
  for (size_t first = 0; first < nkept; first += KEPT_BLOCK) {
    const double *base = kept_rows + first * rows;
    kept_vec sa[2] = {zero, zero}, sb[2] = {zero, zero}, m[2] = {zero, zero};
    for (size_t i = 0; i < rows; i++) {
      if (!isfinite(a[i])) continue;
      const double *row = base + i * KEPT_BLOCK;
      KEPT_MEANS_ROW(0);
      KEPT_MEANS_ROW(1);
    }
    kept_vec ma[2] = {sa[0] / m[0], sa[1] / m[1]}, mb[2] = {sb[0] / m[0], sb[1] / m[1]};
    kept_vec cov[2] = {zero, zero}, va[2] = {zero, zero}, vb[2] = {zero, zero};
    for (size_t i = 0; i < rows; i++) {
      if (!isfinite(a[i])) continue;
      const double *row = base + i * KEPT_BLOCK;
      KEPT_CENTRED_ROW(0);
      KEPT_CENTRED_ROW(1);
    }
    for (size_t l = 0; l < KEPT_BLOCK && first + l < nkept; l++) {
      size_t h = l / KEPT_LANES, k = l % KEPT_LANES;
      corr[first + l] = m[h][k] >= 3 && va[h][k] > 0 && vb[h][k] > 0 ? cov[h][k] / sqrt(va[h][k] * vb[h][k]) : NAN;
    }
  }
}

static double largest_tie_share(const double *v, size_t m) {
  size_t best = 0, run = 0;
  for (size_t i = 0; i < m; i++) {
    run = (i > 0 && v[i] == v[i - 1]) ? run + 1 : 1;
    if (run > best) best = run;
  }
  return (double)best / (double)m;
}

typedef struct selection {
  size_t nkept;
  size_t *kept; /* feature indices */
  double *center, *scale;
  size_t ndropped;
  char **dropped_names, **dropped_reasons;
} selection;

static void selection_drop(selection *s, const char *name, oc_buf *reason) {
  s->dropped_names = oc_xrealloc(s->dropped_names, (s->ndropped + 1) * sizeof(char *));
  s->dropped_reasons = oc_xrealloc(s->dropped_reasons, (s->ndropped + 1) * sizeof(char *));
  s->dropped_names[s->ndropped] = oc_xstrdup(name);
  s->dropped_reasons[s->ndropped++] = oc_buf_steal(reason);
}

/* In feature-set order: drop features without training values, constant or near-constant ones, ones
 * with a zero scale, and any feature correlated above the threshold with one already kept. */
static void select_features(prepared *p, const unsigned char *train, const oc_etl_options *o, selection *s) {
  memset(s, 0, sizeof *s);
  s->kept = oc_xcalloc(p->nfeat, sizeof *s->kept);
  s->center = oc_xcalloc(p->nfeat, sizeof *s->center);
  s->scale = oc_xcalloc(p->nfeat, sizeof *s->scale);
  double *buf = oc_xmalloc((p->n + 1) * sizeof *buf), *tmp = oc_xmalloc((p->n + 1) * sizeof *tmp);
  /* the training rows are a prefix (dates ascend); the kept features' values on them in blocks
   * (training_corrs) */
  size_t rows = 0;
  while (rows < p->n && train[rows]) rows++;
  for (size_t i = rows; i < p->n; i++) assert(!train[i]);
  if (!p->sorted) {
    p->sorted = oc_xcalloc(p->nfeat, sizeof *p->sorted);
    p->nsorted = oc_xcalloc(p->nfeat, sizeof *p->nsorted);
  }
  const size_t sorted_from = p->sorted_rows <= rows ? p->sorted_rows : 0;
  const size_t slots = (p->nfeat + KEPT_BLOCK - 1) / KEPT_BLOCK * KEPT_BLOCK;
  double *kept_rows = oc_xmalloc((rows ? rows : 1) * slots * sizeof *kept_rows);
  for (size_t i = 0; i < rows * slots; i++) kept_rows[i] = NAN;
  double *corr = oc_xmalloc(slots * sizeof *corr);
  oc_buf reason = {0};
  for (size_t f = 0; f < p->nfeat; f++) {
    size_t m = sorted_training_values(p, f, sorted_from, rows, buf, tmp);
    const double *v = p->sorted[f];
    double share = m ? largest_tie_share(v, m) : 0, center = 0, scale = 0;
    if (m) fit_scaler(v, m, o->normalization, &center, &scale);
    if (m == 0) {
      oc_buf_puts(&reason, "no values on training rows");
    } else if (share >= 1.0) {
      oc_buf_printf(&reason, "constant (%.17g) on training rows", v[0]);
    } else if (share >= o->near_constant_share) {
      oc_buf_printf(&reason, "near-constant: one value covers %.2f%% of training rows", 100 * share);
    } else if (!(scale > 0) || !isfinite(scale)) {
      oc_buf_printf(&reason, "zero %s scale on training rows", oc_norm_method_name(o->normalization));
    } else {
      training_corrs(p->feat[f], kept_rows, s->nkept, rows, corr);
      for (size_t k = 0; k < s->nkept; k++)
        if (fabs(corr[k]) > o->corr_threshold) {
          oc_buf_printf(&reason, "|corr| %.4f > %.2f with %s", fabs(corr[k]), o->corr_threshold, p->names[s->kept[k]]);
          break;
        }
    }
    if (reason.len) {
      selection_drop(s, p->names[f], &reason);
      continue;
    }
    double *block = kept_rows + s->nkept / KEPT_BLOCK * KEPT_BLOCK * rows + s->nkept % KEPT_BLOCK;
    for (size_t i = 0; i < rows; i++) block[i * KEPT_BLOCK] = p->feat[f][i];
    s->center[s->nkept] = center;
    s->scale[s->nkept] = scale;
    s->kept[s->nkept++] = f;
  }
  p->sorted_rows = rows;
  oc_buf_free(&reason);
  free(buf);
  free(tmp);
  free(kept_rows);
  free(corr);
}

static void selection_free(selection *s) {
  for (size_t i = 0; i < s->ndropped; i++) {
    free(s->dropped_names[i]);
    free(s->dropped_reasons[i]);
  }
  free(s->dropped_names);
  free(s->dropped_reasons);
  free(s->kept);
  free(s->center);
  free(s->scale);
}

/* ---- metadata ---- */

static char *json_take(json_t *j) {
  char *text = oc_json_dumps(j, OC_JSON_COMPACT);
  json_decref(j);
  char *copy = oc_xstrdup(text);
  free(text);
  return copy;
}

static void set_meta_json(oc_frame *f, const char *key, json_t *j) {
  char *text = json_take(j);
  oc_frame_set_meta(f, key, text);
  free(text);
}

static json_t *policies_json(const oc_etl_options *o, const oc_series *exogs, size_t nexog, bool train_end_given) {
  json_t *exog = json_array();
  for (size_t e = 0; e < nexog; e++) json_array_append_new(exog, json_string(exogs[e].name));
  return json_pack("{s:s, s:f, s:s, s:f, s:i, s:i, s:s, s:i, s:o, s:s, s:s, s:f, s:f, s:f, s:s, s:s}",
                   "non_positive", oc_nonpos_policy_name(o->nonpositive), "clip_floor", o->clip_floor,
                   "outliers", oc_outlier_policy_name(o->outliers), "outlier_z", o->outlier_z, "outlier_window",
                   o->outlier_window, "gap_report_days", o->gap_days, "gaps", "report (rows kept, features treat "
                   "consecutive observations as adjacent)", "exog_ffill_days", o->ffill_days, "exog", exog,
                   "exog_alignment", "target calendar, same-day value else forward-fill, never a later value",
                   "normalization", oc_norm_method_name(o->normalization), "corr_threshold", o->corr_threshold,
                   "near_constant_share", o->near_constant_share, "val_frac", o->val_frac, "train_end_from",
                   train_end_given ? "option" : "val_frac", "spread", "exog - target");
}

void oc_etl_source_checksum(const oc_series *target, const oc_series *exogs, size_t nexog, char hex[65]) {
  oc_sha256 ctx;
  oc_sha256_init(&ctx);
  char line[96], d[OC_DATE_STRLEN];
  for (size_t s = 0; s <= nexog; s++) {
    const oc_series *series = s == 0 ? target : &exogs[s - 1];
    oc_sha256_update(&ctx, series->name, strlen(series->name));
    oc_sha256_update(&ctx, "\n", 1);
    for (size_t i = 0; i < series->n; i++) {
      int len = snprintf(line, sizeof line, "%s,%.17g\n", oc_date_format(series->dates[i], d), series->values[i]);
      oc_sha256_update(&ctx, line, (size_t)len);
    }
  }
  uint8_t digest[32];
  oc_sha256_final(&ctx, digest);
  oc_hex_encode(digest, 32, hex);
}

/* ---- the build ---- */

/* Chooses train_end and counts rows with all targets on each side of it. */
static int split_rows(const prepared *p, const oc_etl_options *o, oc_date *train_end, size_t *train_rows,
                      size_t *val_rows, oc_error *err) {
  size_t h = (size_t)o->horizon, with_targets = p->n > h ? p->n - h : 0;
  if (with_targets < 2)
    return oc_error_set(err,
                        "the target has %zu rows after cleaning; horizon %d needs at least %zu rows (two rows with "
                        "all %d targets)",
                        p->n, o->horizon, h + 2, o->horizon);
  if (o->train_end != OC_DATE_INVALID) {
    *train_end = o->train_end;
  } else {
    size_t val = (size_t)llround((double)with_targets * o->val_frac);
    if (val >= with_targets) return oc_error_set(err, "--val-frac %g leaves no training rows", o->val_frac);
    *train_end = p->dates[with_targets - val - 1];
  }
  *train_rows = 0;
  for (size_t i = 0; i < with_targets; i++) *train_rows += p->dates[i] <= *train_end;
  *val_rows = with_targets - *train_rows;
  if (*train_rows == 0) {
    char a[OC_DATE_STRLEN], b[OC_DATE_STRLEN];
    return oc_error_set(err, "no training rows: train end %s is before the first row (%s)",
                        oc_date_format(*train_end, a), oc_date_format(p->dates[0], b));
  }
  return 0;
}

static void fill_frame(const prepared *p, const selection *s, const oc_etl_options *o, oc_frame *out) {
  oc_frame_init(out, p->n);
  memcpy(out->dates, p->dates, p->n * sizeof *p->dates);
  memcpy(oc_frame_add_column(out, "close"), p->close, p->n * sizeof *p->close);
  for (size_t k = 0; k < s->nkept; k++) {
    const double *src = p->feat[s->kept[k]];
    double *dst = oc_frame_add_column(out, p->names[s->kept[k]]);
    for (size_t i = 0; i < p->n; i++) dst[i] = (src[i] - s->center[k]) / s->scale[k];
  }
  char name[32];
  for (int h = 1; h <= o->horizon; h++) {
    snprintf(name, sizeof name, "target_h%d", h);
    double *dst = oc_frame_add_column(out, name);
    for (size_t i = 0; i + (size_t)h < p->n; i++) dst[i] = log(p->close[i + (size_t)h] / p->close[i]);
  }
}

static void fill_metadata(const prepared *p, const selection *s, const oc_etl_options *o, oc_date train_end,
                          const oc_series *target, const oc_series *exogs, size_t nexog, oc_frame *out) {
  char text[64];
  oc_frame_set_meta(out, "oilcast.series", target->name);
  snprintf(text, sizeof text, "%d", o->horizon);
  oc_frame_set_meta(out, "oilcast.horizon", text);
  json_t *features = json_array(), *params = json_array(), *targets = json_array(), *dropped = json_array();
  for (size_t k = 0; k < s->nkept; k++) {
    const char *name = p->names[s->kept[k]];
    json_array_append_new(features, json_string(name));
    json_array_append_new(params, json_pack("{s:s, s:f, s:f}", "name", name, "center", s->center[k], "scale",
                                            s->scale[k]));
  }
  for (int h = 1; h <= o->horizon; h++) {
    snprintf(text, sizeof text, "target_h%d", h);
    json_array_append_new(targets, json_string(text));
  }
  for (size_t d = 0; d < s->ndropped; d++)
    json_array_append_new(dropped, json_pack("{s:s, s:s}", "name", s->dropped_names[d], "reason",
                                             s->dropped_reasons[d]));
  set_meta_json(out, "oilcast.features", features);
  set_meta_json(out, "oilcast.targets", targets);
  oc_frame_set_meta(out, "oilcast.train_end", oc_date_format(train_end, text));
  set_meta_json(out, "oilcast.normalization",
                json_pack("{s:s, s:o}", "method", oc_norm_method_name(o->normalization), "params", params));
  set_meta_json(out, "oilcast.policies", policies_json(o, exogs, nexog, o->train_end != OC_DATE_INVALID));
  set_meta_json(out, "oilcast.dropped_features", dropped);
  char hex[OC_SHA256_HEX_LEN];
  oc_etl_source_checksum(target, exogs, nexog, hex);
  oc_frame_set_meta(out, "oilcast.source_checksum", hex);
  oc_frame_set_meta(out, "oilcast.version", OILCAST_VERSION);
}

int oc_etl_options_check(const oc_etl_options *o, oc_error *err) {
  if (o->horizon < 1 || o->horizon > 365) return oc_error_set(err, "horizon %d is outside 1..365", o->horizon);
  if (!(o->val_frac >= 0 && o->val_frac < 1)) return oc_error_set(err, "val-frac %g is outside [0, 1)", o->val_frac);
  if (!(o->clip_floor > 0)) return oc_error_set(err, "clip floor %g must be positive", o->clip_floor);
  if (o->outlier_window < 20) return oc_error_set(err, "outlier window %d must be at least 20", o->outlier_window);
  if (o->gap_days < 0 || o->ffill_days < 0) return oc_error_set(err, "gap and forward-fill limits must be >= 0");
  if (!(o->corr_threshold > 0 && o->corr_threshold <= 1))
    return oc_error_set(err, "correlation threshold %g is outside (0, 1]", o->corr_threshold);
  if (!(o->near_constant_share > 0 && o->near_constant_share <= 1))
    return oc_error_set(err, "near-constant share %g is outside (0, 1]", o->near_constant_share);
  return 0;
}

/* ---- the session: what the last build prepared, for a history that extends it ---- */

struct oc_etl_session {
  prepared p;          /* from the observations below */
  oc_series target;    /* copies of the observations p was prepared from */
  size_t nexog;
  oc_series *exogs;
  oc_etl_options options;
  size_t last_prepared; /* target observations the last build prepared itself */
};

oc_etl_session *oc_etl_session_new(void) { return oc_xcalloc(1, sizeof(oc_etl_session)); }

static void session_forget(oc_etl_session *s) {
  prepared_free(&s->p);
  oc_series_free(&s->target);
  for (size_t e = 0; e < s->nexog; e++) oc_series_free(&s->exogs[e]);
  free(s->exogs);
  s->exogs = NULL;
  s->nexog = 0;
}

void oc_etl_session_free(oc_etl_session *s) {
  if (!s) return;
  session_forget(s);
  free(s);
}

/* Do the options prepare() reads agree? */
static bool same_preparation(const oc_etl_options *a, const oc_etl_options *b) {
  return a->nonpositive == b->nonpositive && a->clip_floor == b->clip_floor && a->outliers == b->outliers &&
         a->outlier_z == b->outlier_z && a->outlier_window == b->outlier_window && a->ffill_days == b->ffill_days;
}

/* Are held's observations the first ones of series, bit for bit (and its name the same)? */
static bool series_extends(const oc_series *held, const oc_series *series) {
  return strcmp(held->name, series->name ? series->name : "") == 0 && series->n >= held->n &&
         memcmp(held->dates, series->dates, held->n * sizeof *held->dates) == 0 &&
         memcmp(held->values, series->values, held->n * sizeof *held->values) == 0;
}

static bool session_extends(const oc_etl_session *s, const oc_series *target, const oc_series *exogs, size_t nexog,
                            const oc_etl_options *o) {
  if (!s->p.stream || nexog != s->nexog || !same_preparation(&s->options, o) || !series_extends(&s->target, target))
    return false;
  /* An exogenous series that ended before the target and has caught up brings values dated on rows
   * already aligned without them (forward-filled or missing): those rows must be aligned again. */
  oc_date last_prepared = s->target.n ? s->target.dates[s->target.n - 1] : OC_DATE_INVALID;
  for (size_t e = 0; e < nexog; e++) {
    const oc_series *held = &s->exogs[e];
    if (!series_extends(held, &exogs[e])) return false;
    if (exogs[e].n > held->n && s->target.n && exogs[e].dates[held->n] <= last_prepared) return false;
  }
  return true;
}

static void series_copy(oc_series *copy, const oc_series *series) {
  oc_series_init(copy, series->name ? series->name : "", series->n);
  memcpy(copy->dates, series->dates, series->n * sizeof *series->dates);
  memcpy(copy->values, series->values, series->n * sizeof *series->values);
}

/* Records the observations s->p now holds. */
static void session_remember(oc_etl_session *s, const oc_series *target, const oc_series *exogs, size_t nexog,
                             const oc_etl_options *o) {
  oc_series_free(&s->target);
  series_copy(&s->target, target);
  if (!s->exogs) s->exogs = oc_xcalloc(nexog + 1, sizeof *s->exogs);
  for (size_t e = 0; e < nexog; e++) {
    oc_series_free(&s->exogs[e]);
    series_copy(&s->exogs[e], &exogs[e]);
  }
  s->nexog = nexog;
  s->options = *o;
}

static int etl_build(oc_etl_session *session, const oc_series *target, const oc_series *exogs, size_t nexog,
                     const oc_etl_options *o, oc_frame *out, oc_etl_report *r, oc_error *err) {
  memset(out, 0, sizeof *out);
  if (r) memset(r, 0, sizeof *r);
  if (oc_etl_options_check(o, err) != 0) return -1;
  /* a report covers every row: it comes from a fresh preparation */
  if (session && (r || !session_extends(session, target, exogs, nexog, o))) session_forget(session);
  prepared fresh = {0}, *p = session ? &session->p : &fresh;
  if (session) session->last_prepared = target->n - p->raw;
  int rc = prepare(target, exogs, nexog, o, p, r, err);
  oc_date train_end = OC_DATE_INVALID;
  size_t train_rows = 0, val_rows = 0;
  if (rc == 0) rc = split_rows(p, o, &train_end, &train_rows, &val_rows, err);
  if (rc != 0) {
    if (session) session_forget(session);
    else prepared_free(p);
    return -1;
  }
  unsigned char *train = oc_xmalloc(p->n + 1);
  for (size_t i = 0; i < p->n; i++) train[i] = p->dates[i] <= train_end;
  selection s;
  select_features(p, train, o, &s);
  free(train);
  if (s.nkept == 0) {
    rc = oc_error_set(err,
                      "no feature has usable values on the %zu training rows (the target has %zu rows after "
                      "cleaning; every feature needs at most %zu)",
                      train_rows, p->n, oc_features_required_history());
  } else {
    fill_frame(p, &s, o, out);
    fill_metadata(p, &s, o, train_end, target, exogs, nexog, out);
    if (r) {
      r->rows_out = p->n;
      r->train_end = train_end;
      r->train_rows = train_rows;
      r->validation_rows = val_rows;
      r->features_kept = s.nkept;
      r->features_dropped = s.ndropped;
      r->dropped_names = s.dropped_names;
      r->dropped_reasons = s.dropped_reasons;
      s.dropped_names = s.dropped_reasons = NULL;
      s.ndropped = 0;
    }
  }
  selection_free(&s);
  if (session && rc == 0) session_remember(session, target, exogs, nexog, o);
  else if (session) session_forget(session);
  else prepared_free(p);
  return rc;
}

int oc_etl_build(const oc_series *target, const oc_series *exogs, size_t nexog, const oc_etl_options *o,
                 oc_frame *out, oc_etl_report *r, oc_error *err) {
  return etl_build(NULL, target, exogs, nexog, o, out, r, err);
}

size_t oc_etl_session_last_prepared(const oc_etl_session *s) { return s->last_prepared; }

int oc_etl_session_build(oc_etl_session *session, const oc_series *target, const oc_series *exogs, size_t nexog,
                         const oc_etl_options *o, oc_frame *out, oc_etl_report *r, oc_error *err) {
  return etl_build(session, target, exogs, nexog, o, out, r, err);
}

void oc_etl_report_free(oc_etl_report *r) {
  if (!r) return;
  free(r->nonpositive_dates);
  free(r->nonpositive_values);
  free(r->gaps);
  free(r->outlier_dates);
  for (size_t e = 0; e < r->nexog; e++) free(r->exog[e].name);
  free(r->exog);
  for (size_t i = 0; i < r->features_dropped; i++) {
    free(r->dropped_names[i]);
    free(r->dropped_reasons[i]);
  }
  free(r->dropped_names);
  free(r->dropped_reasons);
  memset(r, 0, sizeof *r);
}

void oc_etl_report_format(const oc_etl_report *r, oc_buf *out) {
  char a[OC_DATE_STRLEN], b[OC_DATE_STRLEN];
  oc_buf_printf(out, "rows: %zu read, %zu in the table\n", r->rows_in, r->rows_out);
  oc_buf_printf(out, "non-positive prices: %zu\n", r->nonpositive);
  for (size_t i = 0; i < r->nonpositive; i++)
    oc_buf_printf(out, "  %s %g\n", oc_date_format(r->nonpositive_dates[i], a), r->nonpositive_values[i]);
  oc_buf_printf(out, "gaps: %zu\n", r->ngaps);
  for (size_t i = 0; i < r->ngaps; i++)
    oc_buf_printf(out, "  %d trading days missing between %s and %s\n", r->gaps[i].missing_trading_days,
                  oc_date_format(r->gaps[i].last_before, a), oc_date_format(r->gaps[i].first_after, b));
  oc_buf_printf(out, "outliers (robust z of log returns): %zu", r->noutliers);
  for (size_t i = 0; i < r->noutliers && i < 10; i++)
    oc_buf_printf(out, "%s%s", i ? ", " : " (", oc_date_format(r->outlier_dates[i], a));
  oc_buf_printf(out, "%s\n", r->noutliers > 10 ? ", ...)" : (r->noutliers ? ")" : ""));
  for (size_t e = 0; e < r->nexog; e++)
    oc_buf_printf(out, "exog %s: %zu same-day, %zu forward-filled, %zu missing\n", r->exog[e].name, r->exog[e].exact,
                  r->exog[e].filled, r->exog[e].missing);
  oc_buf_printf(out, "split: %zu training rows (<= %s), %zu validation rows\n", r->train_rows,
                oc_date_format(r->train_end, a), r->validation_rows);
  oc_buf_printf(out, "features: %zu kept, %zu dropped\n", r->features_kept, r->features_dropped);
  for (size_t i = 0; i < r->features_dropped; i++)
    oc_buf_printf(out, "  dropped %s: %s\n", r->dropped_names[i], r->dropped_reasons[i]);
}

/* ---- inference ---- */

void oc_feature_transform_free(oc_feature_transform *t) {
  for (size_t i = 0; i < t->n; i++) free(t->names[i]);
  for (size_t e = 0; e < t->nexog; e++) free(t->exog_names[e]);
  free(t->names);
  free(t->center);
  free(t->scale);
  free(t->exog_names);
  memset(t, 0, sizeof *t);
}

static json_t *parse_json(const char *text, const char *what, oc_error *err) {
  json_error_t je;
  json_t *j = text ? json_loads(text, 0, &je) : NULL;
  if (!j) oc_error_set(err, "%s: %s", what, text ? je.text : "missing");
  return j;
}

static int parse_policies(json_t *pol, oc_feature_transform *t, oc_error *err) {
  const char *nonpos, *outliers, *norm;
  json_t *exog;
  json_error_t je;
  oc_etl_options *o = &t->options;
  oc_etl_options_default(o);
  if (json_unpack_ex(pol, &je, 0, "{s:s, s:F, s:s, s:F, s:i, s:i, s:s, s:o}", "non_positive", &nonpos, "clip_floor",
                     &o->clip_floor, "outliers", &outliers, "outlier_z", &o->outlier_z, "outlier_window",
                     &o->outlier_window, "exog_ffill_days", &o->ffill_days, "normalization", &norm, "exog",
                     &exog) != 0)
    return oc_error_set(err, "oilcast.policies: %s", je.text);
  if (oc_nonpos_policy_parse(nonpos, &o->nonpositive) != 0 || oc_outlier_policy_parse(outliers, &o->outliers) != 0 ||
      oc_norm_method_parse(norm, &o->normalization) != 0 || !json_is_array(exog))
    return oc_error_set(err, "oilcast.policies: unknown policy name or exog list");
  t->nexog = json_array_size(exog);
  t->exog_names = oc_xcalloc(t->nexog + 1, sizeof *t->exog_names);
  for (size_t e = 0; e < t->nexog; e++) {
    const char *name = json_string_value(json_array_get(exog, e));
    if (!name) return oc_error_set(err, "oilcast.policies: exog entry %zu is not a string", e);
    t->exog_names[e] = oc_xstrdup(name);
  }
  return 0;
}

/* Without oilcast.policies: default policies, and the exogenous series the spread features name
 * ("spread_X", "spread_X_chg"), in order of first mention. */
static int exogs_from_feature_names(json_t *features, oc_feature_transform *t, oc_error *err) {
  oc_etl_options_default(&t->options);
  if (!json_is_array(features)) return oc_error_set(err, "oilcast.features: not a JSON array");
  t->exog_names = oc_xcalloc(json_array_size(features) + 1, sizeof *t->exog_names);
  for (size_t i = 0; i < json_array_size(features); i++) {
    const char *name = json_string_value(json_array_get(features, i));
    if (!name || strncmp(name, "spread_", 7) != 0) continue;
    size_t len = strlen(name + 7);
    if (len > 4 && strcmp(name + 7 + len - 4, "_chg") == 0) len -= 4;
    char *exog = strndup(name + 7, len);
    size_t e = 0;
    while (e < t->nexog && strcmp(t->exog_names[e], exog) != 0) e++;
    if (e == t->nexog)
      t->exog_names[t->nexog++] = exog;
    else
      free(exog);
  }
  return 0;
}

int oc_feature_transform_parse(const char *features_json, const char *normalization_json,
                               const char *policies_json, oc_feature_transform *t, oc_error *err) {
  memset(t, 0, sizeof *t);
  json_t *features = parse_json(features_json, "oilcast.features", err);
  json_t *norm = features ? parse_json(normalization_json, "oilcast.normalization", err) : NULL;
  json_t *pol = norm && policies_json ? parse_json(policies_json, "oilcast.policies", err) : NULL;
  int rc = -1;
  if (!norm || (policies_json && !pol)) goto done;
  if (pol ? parse_policies(pol, t, err) != 0 : exogs_from_feature_names(features, t, err) != 0) goto done;
  json_t *params = json_object_get(norm, "params");
  if (!json_is_array(features) || !json_is_array(params) || json_array_size(params) != json_array_size(features)) {
    oc_error_set(err, "oilcast.normalization: params must list one entry per feature of oilcast.features");
    goto done;
  }
  size_t n = json_array_size(features);
  t->names = oc_xcalloc(n + 1, sizeof *t->names);
  t->center = oc_xcalloc(n + 1, sizeof *t->center);
  t->scale = oc_xcalloc(n + 1, sizeof *t->scale);
  for (size_t i = 0; i < n; i++) {
    const char *name = json_string_value(json_array_get(features, i)), *pname;
    json_error_t je;
    if (!name || json_unpack_ex(json_array_get(params, i), &je, 0, "{s:s, s:F, s:F}", "name", &pname, "center",
                                &t->center[i], "scale", &t->scale[i]) != 0 ||
        strcmp(name, pname) != 0 || !(t->scale[i] > 0)) {
      oc_error_set(err, "oilcast.normalization: entry %zu does not match feature %s or has no positive scale", i,
                   name ? name : "(not a string)");
      goto done;
    }
    t->names[t->n++] = oc_xstrdup(name);
  }
  rc = 0;
done:
  json_decref(features);
  json_decref(norm);
  json_decref(pol);
  if (rc != 0) oc_feature_transform_free(t);
  return rc;
}

int oc_feature_transform_from_frame(const oc_frame *f, oc_feature_transform *t, oc_error *err) {
  return oc_feature_transform_parse(oc_frame_get_meta(f, "oilcast.features"),
                                    oc_frame_get_meta(f, "oilcast.normalization"),
                                    oc_frame_get_meta(f, "oilcast.policies"), t, err);
}

oc_series oc_feature_inference_tail(const oc_series *history) {
  oc_series tail = *history;
  size_t keep = oc_features_required_history() + OC_FEATURE_INFERENCE_EXTRA_HISTORY;
  if (history->n > keep) {
    tail.dates = history->dates + (history->n - keep);
    tail.values = history->values + (history->n - keep);
    tail.n = keep;
  }
  return tail;
}

int oc_feature_transform_latest(const oc_feature_transform *t, const oc_series *target, const oc_series *exogs,
                                size_t nexog, double *row, oc_date *as_of, oc_error *err) {
  if (nexog != t->nexog)
    return oc_error_set(err, "the features expect %zu exogenous series, %zu given", t->nexog, nexog);
  for (size_t e = 0; e < nexog; e++)
    if (strcmp(exogs[e].name, t->exog_names[e]) != 0)
      return oc_error_set(err, "exogenous series %zu is %s, the features expect %s", e, exogs[e].name,
                          t->exog_names[e]);
  prepared p = {0};
  int rc = prepare(target, exogs, nexog, &t->options, &p, NULL, err);
  size_t need = oc_features_required_history();
  if (rc == 0 && p.n < need)
    rc = oc_error_set(err,
                      "history too short: %s has %zu usable observations (after the %s policy for non-positive "
                      "prices); the features need at least %zu",
                      target->name, p.n, oc_nonpos_policy_name(t->options.nonpositive), need);
  char d[OC_DATE_STRLEN];
  for (size_t i = 0; rc == 0 && i < t->n; i++) {
    size_t f = 0;
    while (f < p.nfeat && strcmp(p.names[f], t->names[i]) != 0) f++;
    if (f == p.nfeat) {
      rc = oc_error_set(err, "feature %s is not part of oilcast's feature set", t->names[i]);
      break;
    }
    double x = p.feat[f][p.n - 1];
    if (!isfinite(x)) {
      rc = oc_error_set(err, "feature %s has no value at %s (is an exogenous series missing there beyond the %d-day "
                        "forward-fill limit?)", t->names[i], oc_date_format(p.dates[p.n - 1], d), t->options.ffill_days);
      break;
    }
    row[i] = (x - t->center[i]) / t->scale[i];
  }
  if (rc == 0) *as_of = p.dates[p.n - 1];
  prepared_free(&p);
  return rc;
}
