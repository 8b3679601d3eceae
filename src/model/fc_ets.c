/* fc_ets.c: exponential smoothing on log prices: simple (ETS(A,N,N)) and Holt's damped trend
 * (ETS(A,Ad,N)), Hyndman et al. (2008) state-space form with additive errors:
 *   yhat = l + phi b;  e = y - yhat;  l' = l + phi b + alpha e;  b' = phi b + beta e
 * Smoothing parameters by maximum likelihood (concentrated: sigma^2 = SSE/n, loglik =
 * -n/2 (log(2 pi sigma^2) + 1), as statsmodels' ETSModel) with a bounded Nelder–Mead over
 * statsmodels' traditional bounds: 1e-4 <= alpha, beta/alpha <= 1-1e-4, 0.8 <= phi <= 0.98.
 * Initial states are known, not estimated: l = first log price of the fit window, b = 0.
 * trend=none (default, chosen on 2021-07..2022-12 validation origins: docs/evaluation.md), damped, or
 * auto (the lower AIC of the two). Analytic intervals: var_h = sigma^2 (1 + sum_{j<h} c_j^2),
 * c_j = alpha + beta phi (1 - phi^j) / (1 - phi), exponentiated (so the point forecast is the median
 * price). Fits on the last `window` observations (default 0 = all; chosen on validation origins); non-positive prices are dropped
 * (see oc_positive_log_prices).
 * Must not read past hist->n. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "model/fc_stats.h"
#include "model/forecaster.h"

typedef enum { TREND_NONE, TREND_DAMPED, TREND_AUTO } trend_choice;

typedef struct ets_state {
  trend_choice choice;
  long max_window;  /* most recent observations used for fitting (0 = all) */
  bool damped;      /* the model fitted */
  double alpha, beta, phi;
  double level, trend; /* filtered state after the last observation (log space) */
  double sigma2;
  double loglik, aic;
  size_t nobs;
} ets_state;

typedef struct ets_data {
  const double *y; /* log prices */
  size_t n;
  bool damped;
} ets_data;

/* Runs the filter from l = y[0], b = 0 over y; returns SSE and leaves the final state in *l, *b.
 * (Separate loops: this is the likelihood's inner loop.) */
static double ets_filter(const double *y, size_t n, bool damped, double alpha, double beta, double phi, double *l,
                         double *b) {
  double level = y[0], trend = 0, sse = 0;
  if (damped) {
    for (size_t t = 0; t < n; t++) {
      double pt = phi * trend, e = y[t] - (level + pt);
      sse += e * e;
      level += pt + alpha * e;
      trend = pt + beta * e;
    }
  } else {
    for (size_t t = 0; t < n; t++) {
      double e = y[t] - level;
      sse += e * e;
      level += alpha * e;
    }
  }
  *l = level;
  *b = trend;
  return sse;
}

/* x = (alpha, beta/alpha, phi) or (alpha): n log(SSE/n), the negative concentrated loglik up to
 * constants. */
static double ets_objective(const double *x, void *ctx) {
  const ets_data *d = ctx;
  double l, b;
  double sse = d->damped ? ets_filter(d->y, d->n, true, x[0], x[0] * x[1], x[2], &l, &b)
                         : ets_filter(d->y, d->n, false, x[0], 0, 1, &l, &b);
  return (double)d->n * log(sse / (double)d->n);
}

/* Maximum likelihood for one trend choice. Simple smoothing (one parameter): Brent's method over the
 * bounds. Damped trend: Nelder–Mead; a state fitted before with the same choice (the same forecaster
 * refitted on a longer history) starts from its previous optimum only, a fresh one tries two fixed
 * starts. */
static double ses_objective(double alpha, void *ctx) {
  ets_data *d = ctx;
  double x[1] = {alpha};
  return ets_objective(x, d);
}

static void ets_fit_one(const double *y, size_t n, bool damped, ets_state *out) {
  static const double lo[3] = {1e-4, 1e-4, 0.8}, hi[3] = {1 - 1e-4, 1 - 1e-4, 0.98};
  double starts[2][3] = {{0.9, 0.1, 0.95}, {0.3, 0.3, 0.9}};
  int n_starts = 2;
  if (out->nobs > 0 && out->damped == damped) {
    starts[0][0] = out->alpha;
    starts[0][1] = damped ? out->beta / out->alpha : 0.1;
    starts[0][2] = damped ? out->phi : 0.95;
    n_starts = 1;
  }
  ets_data d = {y, n, damped};
  size_t dim = damped ? 3 : 1;
  double best[3] = {0}, best_f = INFINITY;
  if (!damped) n_starts = 0; /* one dimension: Brent's method over the whole interval instead */
  if (!damped) oc_minimize_bounded_1d(ses_objective, &d, lo[0], hi[0], 1e-9, &best[0]);
  for (int s = 0; s < n_starts; s++) {
    double x[3];
    memcpy(x, starts[s], sizeof x);
    double f = oc_nelder_mead_bounded(ets_objective, &d, dim, x, lo, hi, 1500, 1e-12);
    if (f < best_f) {
      best_f = f;
      memcpy(best, x, sizeof best);
    }
  }
  out->damped = damped;
  out->alpha = best[0];
  out->beta = damped ? best[0] * best[1] : 0;
  out->phi = damped ? best[2] : 1;
  double sse = ets_filter(y, n, damped, out->alpha, out->beta, out->phi, &out->level, &out->trend);
  out->nobs = n;
  out->sigma2 = sse / (double)n;
  out->loglik = -0.5 * (double)n * (log(2 * M_PI * out->sigma2) + 1);
  out->aic = -2 * out->loglik + 2 * (double)(dim + 1);
}

static void *ets_create(oc_model_params *p, oc_error *err) {
  ets_state *s = oc_xcalloc(1, sizeof *s);
  s->choice = TREND_NONE;
  s->max_window = 0;
  const char *trend = oc_model_param_str(p, "trend");
  if (trend) {
    if (strcmp(trend, "none") == 0) s->choice = TREND_NONE;
    else if (strcmp(trend, "damped") == 0) s->choice = TREND_DAMPED;
    else if (strcmp(trend, "auto") == 0) s->choice = TREND_AUTO;
    else {
      oc_error_set(err, "parameter trend=%s: expected none, damped or auto", trend);
      free(s);
      return NULL;
    }
  }
  if (oc_model_param_long(p, "window", 0, 100000000, &s->max_window, err) < 0) {
    free(s);
    return NULL;
  }
  return s;
}

static int ets_fit(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  ets_state *s = state;
  double *y = oc_xmalloc(hist->n * sizeof *y);
  size_t n = oc_positive_log_prices(hist, (size_t)s->max_window, y);
  if (n < 10) {
    free(y);
    return oc_error_set(err, "ets needs at least 10 positive prices in its window, has %zu", n);
  }
  ets_state fitted = *s;
  if (s->choice != TREND_DAMPED) ets_fit_one(y, n, false, &fitted);
  if (s->choice != TREND_NONE) {
    ets_state damped = *s;
    ets_fit_one(y, n, true, &damped);
    if (s->choice == TREND_DAMPED || damped.aic < fitted.aic) fitted = damped;
  }
  free(y);
  *s = fitted;
  return 0;
}

static int ets_update(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  ets_state *s = state;
  double y = hist->values[hist->n - 1];
  if (!(y > 0)) return 0;
  double pt = s->damped ? s->phi * s->trend : 0;
  double e = log(y) - (s->level + pt);
  s->level = s->level + pt + s->alpha * e;
  s->trend = s->damped ? pt + s->beta * e : 0;
  return 0;
}

static int ets_predict(const void *state, size_t horizon, oc_price_forecast *out, oc_error *err) {
  const ets_state *s = state;
  double phi_sum = 0, phi_pow = 1, var_sum = 0;
  for (size_t h = 1; h <= horizon; h++) {
    phi_pow *= s->phi;
    phi_sum += phi_pow;
    double mu = s->level + (s->damped ? phi_sum * s->trend : 0);
    if (h > 1) {
      size_t j = h - 1;
      double c = s->alpha + (s->damped ? s->beta * s->phi * (1 - pow(s->phi, (double)j)) / (1 - s->phi) : 0);
      var_sum += c * c;
    }
    oc_price_forecast_set_lognormal(out, h, mu, sqrt(s->sigma2 * (1 + var_sum)));
  }
  return 0;
}

static json_t *ets_save(const void *state) {
  const ets_state *s = state;
  return json_pack("{s:b,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:I}", "damped", s->damped, "alpha", s->alpha, "beta", s->beta,
                   "phi", s->phi, "level", s->level, "trend", s->trend, "sigma2", s->sigma2, "loglik", s->loglik, "aic",
                   s->aic, "nobs", (json_int_t)s->nobs);
}

static int ets_load(void *state, const json_t *saved, oc_error *err) {
  ets_state *s = state;
  json_error_t jerr;
  int damped;
  json_int_t nobs;
  if (json_unpack_ex((json_t *)saved, &jerr, JSON_STRICT, "{s:b,s:F,s:F,s:F,s:F,s:F,s:F,s:F,s:F,s:I}", "damped", &damped,
                     "alpha", &s->alpha, "beta", &s->beta, "phi", &s->phi, "level", &s->level, "trend", &s->trend, "sigma2",
                     &s->sigma2, "loglik", &s->loglik, "aic", &s->aic, "nobs", &nobs) < 0)
    return oc_error_set(err, "ets state: %s", jerr.text);
  s->damped = damped;
  s->nobs = (size_t)nobs;
  return 0;
}

static void ets_destroy(void *state) { free(state); }

const oc_model_type oc_model_ets = {
    .kind = "ets",
    .summary = "exponential smoothing on log price (trend=none|damped|auto; none = simple)",
    .create = ets_create,
    .fit = ets_fit,
    .update = ets_update,
    .predict = ets_predict,
    .save = ets_save,
    .load = ets_load,
    .destroy = ets_destroy,
};
