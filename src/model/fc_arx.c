/* fc_arx.c: AR on daily log returns with one exogenous series (exog=NAME, e.g. Brent for WTI): its
 * lagged log returns and the log spread target - exog as regressors, by least squares through the same
 * nested QR as `ar` (model/nested_ols.h). With y = log target, x = log exog aligned on the target's
 * dates, r(t) = y(t) - y(t-1), e(t) = x(t) - x(t-1), s(t) = y(t) - x(t):
 *   r(t) = c + g s(t-1) + sum_{i=1..p} (phi_i r(t-i) + b_i e(t-i)) + u(t)
 * The order p in 0..max_p (each order adds a lag of both returns) is the one with the lowest AIC over
 * the common sample; the intercept and the spread term are in every order. Forecasts hold the exog at
 * its last value (e = 0 ahead, a random walk in logs), so the spread moves with the forecast returns;
 * prices exponentiate the cumulated return forecasts (the median), and analytic bounds use the impulse
 * response of that recursion: var_h = sigma^2 sum_{j<h} (psi_0 + ... + psi_j)^2.
 * Alignment (docs/evaluation.md): the exog value at a target date t is its observation dated t (EIA's
 * Brent spot is a London assessment, published before WTI's Cushing close at 14:30 New York the same
 * day), else its latest earlier one; an exog value dated after t is never read, whatever the caller passes. Dates without a positive
 * target price or without an exog value yet are skipped, as `ar` skips non-positive prices.
 * Must not read past hist->n. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/frame.h"
#include "model/forecaster.h"
#include "model/nested_ols.h"

#define ARX_MAX_ORDER 20
#define ARX_FIXED 2 /* intercept, spread */

typedef struct arx_state {
  char exog[65];
  const char *exog_names[1];
  long max_p;
  long p;
  double c, g, phi[ARX_MAX_ORDER], b[ARX_MAX_ORDER];
  double sigma2, aic;
  double recent_r[ARX_MAX_ORDER], recent_e[ARX_MAX_ORDER]; /* [0] = latest */
  double last_y, last_x; /* the latest date with a positive price and an exog value */
} arx_state;

static void *arx_create(oc_model_params *params, oc_error *err) {
  const char *exog = oc_model_param_str(params, "exog");
  if (!exog) {
    oc_error_set(err, "arx needs exog=SERIES (the exogenous series, e.g. exog=Brent; `--exog` sets it)");
    return NULL;
  }
  if (strlen(exog) >= sizeof ((arx_state *)0)->exog || strchr(exog, '+')) {
    oc_error_set(err, "arx: exog=%s is not one series name (arx reads one exogenous series)", exog);
    return NULL;
  }
  arx_state *s = oc_xcalloc(1, sizeof *s);
  s->max_p = 5;
  if (oc_model_param_long(params, "max_p", 0, ARX_MAX_ORDER, &s->max_p, err) < 0) {
    free(s);
    return NULL;
  }
  snprintf(s->exog, sizeof s->exog, "%s", exog);
  s->exog_names[0] = s->exog;
  return s;
}

/* The log of the exog's value at date d: its observation dated d, else its latest earlier one; false
 * when it has none by d or that value is not positive. A bisection (oc_series_view_until): never looks
 * past d. */
static bool exog_log_at(const oc_series *x, oc_date d, double *out) {
  size_t n = oc_series_view_until(x, d).n;
  if (n == 0 || !(x->values[n - 1] > 0)) return false;
  *out = log(x->values[n - 1]);
  return true;
}

static int arx_fit(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  arx_state *s = state;
  if (!exogs) return oc_error_set(err, "arx: the exogenous series %s was not given", s->exog);
  if (hist->name && strcmp(hist->name, s->exog) == 0)
    return oc_error_set(err, "arx: exog=%s is the series it forecasts (its spread to itself is constant): name "
                        "another series", s->exog);
  double *y = oc_xmalloc(hist->n * sizeof *y), *x = oc_xmalloc(hist->n * sizeof *x);
  size_t m = 0;
  for (size_t i = 0; i < hist->n; i++)
    if (hist->values[i] > 0 && exog_log_at(&exogs[0], hist->dates[i], &x[m])) y[m++] = log(hist->values[i]);
  size_t max_p = (size_t)s->max_p;
  /* rows t = max_p+1 .. m-1 (a row needs s(t-1) and max_p lags of both returns): at least 10 more
   * rows than regressors */
  while (max_p > 0 && m < max_p + 1 + ARX_FIXED + 2 * max_p + 11) max_p--;
  if (m < ARX_FIXED + 13) {
    free(y);
    free(x);
    return oc_error_set(err, "arx needs at least %d dates with a positive price and a value of %s, has %zu", ARX_FIXED + 13,
                        s->exog, m);
  }
  size_t first = max_p + 1, rows = m - first, cols = ARX_FIXED + 2 * max_p + 1;
  double *a = oc_xmalloc(rows * cols * sizeof *a);
  for (size_t i = 0; i < rows; i++) {
    size_t t = first + i;
    a[i] = 1;
    a[rows + i] = y[t - 1] - x[t - 1];
    for (size_t j = 1; j <= max_p; j++) {
      a[(ARX_FIXED + 2 * (j - 1)) * rows + i] = y[t - j] - y[t - j - 1];
      a[(ARX_FIXED + 2 * (j - 1) + 1) * rows + i] = x[t - j] - x[t - j - 1];
    }
    a[(cols - 1) * rows + i] = y[t] - y[t - 1];
  }
  oc_nested_ols fit;
  int rc = oc_nested_ols_fit(a, rows, ARX_FIXED, 2, max_p, &fit, err);
  free(a);
  if (rc == 0) {
    s->p = (long)fit.order;
    s->c = fit.beta[0];
    s->g = fit.beta[1];
    for (size_t j = 0; j < fit.order; j++) {
      s->phi[j] = fit.beta[ARX_FIXED + 2 * j];
      s->b[j] = fit.beta[ARX_FIXED + 2 * j + 1];
    }
    s->sigma2 = fit.sse / (double)rows;
    s->aic = fit.aic;
    memset(s->recent_r, 0, sizeof s->recent_r);
    memset(s->recent_e, 0, sizeof s->recent_e);
    for (size_t j = 0; j < fit.order; j++) {
      s->recent_r[j] = y[m - 1 - j] - y[m - 2 - j];
      s->recent_e[j] = x[m - 1 - j] - x[m - 2 - j];
    }
    s->last_y = y[m - 1];
    s->last_x = x[m - 1];
  } else {
    oc_error_prefix(err, "arx estimation: ");
  }
  free(y);
  free(x);
  return rc;
}

static int arx_update(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  arx_state *s = state;
  if (!exogs) return oc_error_set(err, "arx: the exogenous series %s was not given", s->exog);
  double price = hist->values[hist->n - 1], lx;
  if (!(price > 0) || !exog_log_at(&exogs[0], hist->dates[hist->n - 1], &lx)) return 0;
  double ly = log(price);
  if (s->p > 0) {
    memmove(s->recent_r + 1, s->recent_r, (size_t)(s->p - 1) * sizeof s->recent_r[0]);
    memmove(s->recent_e + 1, s->recent_e, (size_t)(s->p - 1) * sizeof s->recent_e[0]);
    s->recent_r[0] = ly - s->last_y;
    s->recent_e[0] = lx - s->last_x;
  }
  s->last_y = ly;
  s->last_x = lx;
  return 0;
}

static int arx_predict(const void *state, size_t horizon, oc_price_forecast *out, oc_error *err) {
  const arx_state *s = state;
  size_t p = (size_t)s->p;
  /* r[p-1+k], e[p-1+k]: returns k steps after the origin (e = 0 ahead); dr/ds: the impulse response
   * of r and of the spread to a unit shock at step 1 */
  double r[ARX_MAX_ORDER + OC_FORECAST_MAX_HORIZON], e[ARX_MAX_ORDER + OC_FORECAST_MAX_HORIZON];
  double dr[OC_FORECAST_MAX_HORIZON + 1] = {0};
  for (size_t j = 0; j < p; j++) {
    r[p - 1 - j] = s->recent_r[j];
    e[p - 1 - j] = s->recent_e[j];
  }
  double cum = s->last_y, spread = s->last_y - s->last_x, ds = 0, psi_cum = 0, var_sum = 0;
  for (size_t h = 1; h <= horizon; h++) {
    double rhat = s->c + s->g * spread, psi = h == 1 ? 1 : s->g * ds;
    for (size_t i = 1; i <= p; i++) {
      rhat += s->phi[i - 1] * r[p - 1 + h - i] + s->b[i - 1] * e[p - 1 + h - i];
      if (h > i) psi += s->phi[i - 1] * dr[h - i];
    }
    r[p - 1 + h] = rhat;
    e[p - 1 + h] = 0;
    cum += rhat;
    spread += rhat;
    dr[h] = psi;
    ds += psi;
    psi_cum += psi;
    var_sum += psi_cum * psi_cum;
    oc_price_forecast_set_lognormal(out, h, cum, sqrt(s->sigma2 * var_sum));
  }
  return 0;
}

static json_t *doubles_json(const double *v, long n) {
  json_t *a = json_array();
  for (long i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
  return a;
}

static json_t *arx_save(const void *state) {
  const arx_state *s = state;
  return json_pack("{s:I,s:f,s:f,s:o,s:o,s:f,s:f,s:o,s:o,s:f,s:f}", "p", (json_int_t)s->p, "c", s->c, "g", s->g, "phi",
                   doubles_json(s->phi, s->p), "b", doubles_json(s->b, s->p), "sigma2", s->sigma2, "aic", s->aic,
                   "recent_r", doubles_json(s->recent_r, s->p), "recent_e", doubles_json(s->recent_e, s->p), "last_y",
                   s->last_y, "last_x", s->last_x);
}

static int arx_load(void *state, const json_t *saved, oc_error *err) {
  arx_state *s = state;
  json_error_t jerr;
  json_int_t p;
  json_t *arrays[4];
  if (json_unpack_ex((json_t *)saved, &jerr, JSON_STRICT, "{s:I,s:F,s:F,s:o,s:o,s:F,s:F,s:o,s:o,s:F,s:F}", "p", &p, "c", &s->c,
                     "g", &s->g, "phi", &arrays[0], "b", &arrays[1], "sigma2", &s->sigma2, "aic", &s->aic, "recent_r",
                     &arrays[2], "recent_e", &arrays[3], "last_y", &s->last_y, "last_x", &s->last_x) < 0)
    return oc_error_set(err, "arx state: %s", jerr.text);
  if (p < 0 || p > ARX_MAX_ORDER) return oc_error_set(err, "arx state: order %lld outside 0..%d", (long long)p, ARX_MAX_ORDER);
  double *into[4] = {s->phi, s->b, s->recent_r, s->recent_e};
  static const char *const names[4] = {"phi", "b", "recent_r", "recent_e"};
  for (size_t k = 0; k < 4; k++) {
    if (!json_is_array(arrays[k]) || json_array_size(arrays[k]) != (size_t)p)
      return oc_error_set(err, "arx state: order %lld does not match its %s array", (long long)p, names[k]);
    for (size_t i = 0; i < (size_t)p; i++) {
      json_t *v = json_array_get(arrays[k], i);
      if (!json_is_number(v)) return oc_error_set(err, "arx state: %s[%zu] is not a number", names[k], i);
      into[k][i] = json_number_value(v);
    }
  }
  s->p = (long)p;
  return 0;
}

static void arx_destroy(void *state) { free(state); }

static size_t arx_exogs(const void *state, const char *const **names) {
  const arx_state *s = state;
  *names = s->exog_names;
  return 1;
}

const oc_model_type oc_model_arx = {
    .kind = "arx",
    .summary = "AR(p) on log returns with lagged exog returns and the spread, p by AIC (exog=SERIES, max_p=5)",
    .create = arx_create,
    .fit = arx_fit,
    .update = arx_update,
    .predict = arx_predict,
    .save = arx_save,
    .load = arx_load,
    .destroy = arx_destroy,
    .exogs = arx_exogs,
};
