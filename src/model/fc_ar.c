/* fc_ar.c: AR(p) on daily log returns, r(t) = c + phi_1 r(t-1) + ... + phi_p r(t-p) + e(t), by ordinary
 * least squares through one Householder QR (LAPACK dgeqrf). The order p in 0..max_p is the one with
 * the lowest AIC = T log(SSE/T) + 2 k over the common sample (the first max_p returns held back so
 * every order is judged on the same rows), and its coefficients come from the same factorisation.
 * Price forecasts exponentiate the cumulated return forecasts (the median price); analytic bounds use
 * the psi weights: var_h = sigma^2 sum_{j<h} (psi_0 + ... + psi_j)^2. Fits on the returns inside the
 * last `window` observations (default 0 = all); non-positive prices are dropped (see
 * oc_positive_log_prices), so a return spans the gap. intercept=1 by default (a drift term). Both
 * defaults were chosen on 2021-07..2022-12 validation origins (docs/evaluation.md).
 * Must not read past hist->n. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "model/forecaster.h"
#include "model/nested_ols.h"

#define AR_MAX_ORDER 30

typedef struct ar_state {
  long max_p, max_window;
  bool intercept;
  long p;
  double c, phi[AR_MAX_ORDER];
  double sigma2;
  double aic;
  double recent[AR_MAX_ORDER]; /* recent[0] = latest log return */
  double last_log;
} ar_state;

static void *ar_create(oc_model_params *params, oc_error *err) {
  ar_state *s = oc_xcalloc(1, sizeof *s);
  s->max_p = 10;
  s->max_window = 0;
  long intercept = 1;
  if (oc_model_param_long(params, "max_p", 0, AR_MAX_ORDER, &s->max_p, err) < 0 ||
      oc_model_param_long(params, "window", 0, 100000000, &s->max_window, err) < 0 ||
      oc_model_param_long(params, "intercept", 0, 1, &intercept, err) < 0) {
    free(s);
    return NULL;
  }
  s->intercept = intercept;
  return s;
}

/* Every order 0..max_p on the common sample (rows max_p..m) from one factorisation of
 * [intercept, lag 1..max_p, r] (model/nested_ols.h); fills s->p, c, phi, sigma2 and aic from the
 * order with the lowest AIC. */
static int ar_estimate(ar_state *s, const double *r, size_t m, size_t max_p, oc_error *err) {
  size_t rows = m - max_p, k0 = s->intercept ? 1 : 0, cols = k0 + max_p + 1;
  double *a = oc_xmalloc(rows * cols * sizeof *a);
  /* column-major, as LAPACK itself: no transposed copy */
  for (size_t i = 0; i < rows; i++) {
    size_t t = max_p + i;
    if (k0) a[i] = 1;
    for (size_t j = 1; j <= max_p; j++) a[(k0 + j - 1) * rows + i] = r[t - j];
    a[(cols - 1) * rows + i] = r[t];
  }
  oc_nested_ols fit;
  int rc = oc_nested_ols_fit(a, rows, k0, 1, max_p, &fit, err);
  free(a);
  if (rc != 0) return oc_error_prefix(err, "AR estimation: ");
  s->p = (long)fit.order;
  s->c = k0 ? fit.beta[0] : 0;
  for (size_t j = 0; j < fit.order; j++) s->phi[j] = fit.beta[k0 + j];
  s->sigma2 = fit.sse / (double)rows;
  s->aic = fit.aic;
  return 0;
}

static int ar_fit(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  ar_state *s = state;
  double *r = oc_xmalloc(hist->n * sizeof *r);
  size_t logs = oc_positive_log_prices(hist, (size_t)s->max_window, r);
  if (logs < 12) {
    free(r);
    return oc_error_set(err, "ar needs at least 12 positive prices in its window, has %zu", logs);
  }
  double last_log = r[logs - 1];
  size_t m = logs - 1;
  for (size_t t = 0; t < m; t++) r[t] = r[t + 1] - r[t];
  size_t max_p = (size_t)s->max_p;
  if (max_p > (m - 10) / 2) max_p = (m - 10) / 2;
  if (ar_estimate(s, r, m, max_p, err) < 0) goto fail;
  memset(s->recent, 0, sizeof s->recent);
  for (size_t j = 0; j < (size_t)s->p; j++) s->recent[j] = r[m - 1 - j];
  s->last_log = last_log;
  free(r);
  return 0;
fail:
  free(r);
  return -1;
}

static int ar_update(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  ar_state *s = state;
  double y = hist->values[hist->n - 1];
  if (!(y > 0)) return 0;
  double ly = log(y);
  if (s->p > 0) memmove(s->recent + 1, s->recent, (size_t)(s->p - 1) * sizeof s->recent[0]);
  s->recent[0] = ly - s->last_log;
  s->last_log = ly;
  return 0;
}

static int ar_predict(const void *state, size_t horizon, oc_price_forecast *out, oc_error *err) {
  const ar_state *s = state;
  size_t p = (size_t)s->p;
  double lags[AR_MAX_ORDER + OC_FORECAST_MAX_HORIZON]; /* lags[p-1+k] = return k steps after the origin */
  double psi[OC_FORECAST_MAX_HORIZON];
  for (size_t j = 0; j < p; j++) lags[p - 1 - j] = s->recent[j];
  double cum = s->last_log, psi_cum = 0, var_sum = 0;
  for (size_t h = 1; h <= horizon; h++) {
    double rhat = s->c;
    for (size_t i = 1; i <= p; i++) rhat += s->phi[i - 1] * lags[p - 1 + h - i];
    lags[p - 1 + h] = rhat;
    cum += rhat;
    /* psi weights of the return process: psi_0 = 1, psi_j = sum_i phi_i psi_{j-i} */
    size_t j = h - 1;
    psi[j] = j == 0 ? 1 : 0;
    for (size_t i = 1; i <= p && i <= j; i++) psi[j] += s->phi[i - 1] * psi[j - i];
    psi_cum += psi[j];
    var_sum += psi_cum * psi_cum;
    oc_price_forecast_set_lognormal(out, h, cum, sqrt(s->sigma2 * var_sum));
  }
  return 0;
}

static json_t *ar_save(const void *state) {
  const ar_state *s = state;
  json_t *phi = json_array(), *recent = json_array();
  for (long i = 0; i < s->p; i++) {
    json_array_append_new(phi, json_real(s->phi[i]));
    json_array_append_new(recent, json_real(s->recent[i]));
  }
  return json_pack("{s:I,s:f,s:o,s:f,s:f,s:o,s:f}", "p", (json_int_t)s->p, "c", s->c, "phi", phi, "sigma2", s->sigma2,
                   "aic", s->aic, "recent", recent, "last_log", s->last_log);
}

static int ar_load(void *state, const json_t *saved, oc_error *err) {
  ar_state *s = state;
  json_error_t jerr;
  json_int_t p;
  json_t *phi, *recent;
  if (json_unpack_ex((json_t *)saved, &jerr, JSON_STRICT, "{s:I,s:F,s:o,s:F,s:F,s:o,s:F}", "p", &p, "c", &s->c, "phi", &phi,
                     "sigma2", &s->sigma2, "aic", &s->aic, "recent", &recent, "last_log", &s->last_log) < 0)
    return oc_error_set(err, "ar state: %s", jerr.text);
  if (p < 0 || p > AR_MAX_ORDER || !json_is_array(phi) || !json_is_array(recent) || json_array_size(phi) != (size_t)p ||
      json_array_size(recent) != (size_t)p)
    return oc_error_set(err, "ar state: order %lld does not match its phi/recent arrays", (long long)p);
  s->p = (long)p;
  for (size_t i = 0; i < (size_t)p; i++) {
    json_t *a = json_array_get(phi, i), *b = json_array_get(recent, i);
    if (!json_is_number(a) || !json_is_number(b)) return oc_error_set(err, "ar state: phi[%zu]/recent[%zu] not numbers", i, i);
    s->phi[i] = json_number_value(a);
    s->recent[i] = json_number_value(b);
  }
  return 0;
}

static void ar_destroy(void *state) { free(state); }

const oc_model_type oc_model_ar = {
    .kind = "ar",
    .summary = "AR(p) on log returns by least squares, p by AIC (max_p=10, intercept=0|1)",
    .create = ar_create,
    .fit = ar_fit,
    .update = ar_update,
    .predict = ar_predict,
    .save = ar_save,
    .load = ar_load,
    .destroy = ar_destroy,
};
