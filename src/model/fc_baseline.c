/* fc_baseline.c: the reference forecasts every other model must beat, on prices (not logs):
 *   naive  y(T+h) = y(T)                                   (no change: the random-walk forecast)
 *   drift  y(T+h) = y(T) + h (y(T) - y(T-w)) / w            (w = window, 0 = the whole history)
 *   mean   y(T+h) = mean of the last k prices
 * Their analytic bounds are the textbook Gaussian ones (Hyndman & Athanasopoulos, FPP3 §5.5) with
 * sigma estimated from the last `sigma_window` one-step changes (naive, drift) or the last k prices
 * (mean). They keep no history of their own: fit and update both recompute from the history given,
 * reading only its tail. Must not read past hist->n. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "model/forecaster.h"

typedef struct baseline_state {
  long window;       /* drift: changes used for the slope (0 = all); mean: k */
  long sigma_window; /* naive/drift: changes used for sigma */
  double last;       /* y(T) */
  double level;      /* forecast at h = 0 (last value, or the mean) */
  double slope;      /* per step (drift only) */
  double sigma;      /* one-step standard deviation */
  double n_used;     /* observations behind the slope / mean (for the interval correction) */
} baseline_state;

/* Standard deviation of the last `count` one-step changes of hist (population of changes, ddof 1). */
static double change_sd(const oc_series *hist, size_t count) {
  size_t n = hist->n;
  if (count > n - 1) count = n - 1;
  if (count < 2) return 0;
  double sum = 0, sq = 0;
  for (size_t i = n - count; i < n; i++) sum += hist->values[i] - hist->values[i - 1];
  double mean = sum / (double)count;
  for (size_t i = n - count; i < n; i++) {
    double d = hist->values[i] - hist->values[i - 1] - mean;
    sq += d * d;
  }
  return sqrt(sq / (double)(count - 1));
}

static void *baseline_create(oc_model_params *p, const char *window_key, long default_window, long min_window,
                             oc_error *err) {
  baseline_state *s = oc_xcalloc(1, sizeof *s);
  s->window = default_window;
  s->sigma_window = 250;
  if ((window_key && oc_model_param_long(p, window_key, min_window, 1000000, &s->window, err) < 0) ||
      oc_model_param_long(p, "sigma_window", 2, 1000000, &s->sigma_window, err) < 0) {
    free(s);
    return NULL;
  }
  return s;
}

static void *naive_create(oc_model_params *p, oc_error *err) { return baseline_create(p, NULL, 0, 0, err); }
static void *drift_create(oc_model_params *p, oc_error *err) { return baseline_create(p, "window", 0, 0, err); }
static void *mean_create(oc_model_params *p, oc_error *err) { return baseline_create(p, "k", 5, 1, err); }

static int naive_fit(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  baseline_state *s = state;
  s->last = s->level = hist->values[hist->n - 1];
  s->slope = 0;
  s->sigma = change_sd(hist, (size_t)s->sigma_window);
  return 0;
}

static int drift_fit(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  baseline_state *s = state;
  size_t n = hist->n, w = s->window == 0 || (size_t)s->window > n - 1 ? n - 1 : (size_t)s->window;
  s->last = s->level = hist->values[n - 1];
  s->slope = (hist->values[n - 1] - hist->values[n - 1 - w]) / (double)w;
  s->sigma = change_sd(hist, (size_t)s->sigma_window);
  s->n_used = (double)w;
  return 0;
}

static int mean_fit(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  baseline_state *s = state;
  size_t n = hist->n, k = (size_t)s->window > n ? n : (size_t)s->window;
  double sum = 0, sq = 0;
  for (size_t i = n - k; i < n; i++) sum += hist->values[i];
  double mean = sum / (double)k;
  for (size_t i = n - k; i < n; i++) sq += (hist->values[i] - mean) * (hist->values[i] - mean);
  s->last = hist->values[n - 1];
  s->level = mean;
  s->slope = 0;
  s->sigma = k > 1 ? sqrt(sq / (double)(k - 1)) : 0;
  s->n_used = (double)k;
  return 0;
}

static int naive_predict(const void *state, size_t horizon, oc_price_forecast *out, oc_error *err) {
  const baseline_state *s = state;
  for (size_t h = 1; h <= horizon; h++) {
    oc_price_forecast_set_gaussian(out, h, s->level, s->sigma * sqrt((double)h));
  }
  return 0;
}

static int drift_predict(const void *state, size_t horizon, oc_price_forecast *out, oc_error *err) {
  const baseline_state *s = state;
  for (size_t h = 1; h <= horizon; h++) {
    oc_price_forecast_set_gaussian(out, h, s->level + (double)h * s->slope, s->sigma * sqrt((double)h * (1 + (double)h / s->n_used)));
  }
  return 0;
}

static int mean_predict(const void *state, size_t horizon, oc_price_forecast *out, oc_error *err) {
  const baseline_state *s = state;
  for (size_t h = 1; h <= horizon; h++) {
    oc_price_forecast_set_gaussian(out, h, s->level, s->sigma * sqrt(1 + 1 / s->n_used));
  }
  return 0;
}

static json_t *baseline_save(const void *state) {
  const baseline_state *s = state;
  return json_pack("{s:f,s:f,s:f,s:f,s:f}", "last", s->last, "level", s->level, "slope", s->slope, "sigma", s->sigma,
                   "n_used", s->n_used);
}

static int baseline_load(void *state, const json_t *saved, oc_error *err) {
  baseline_state *s = state;
  json_error_t jerr;
  if (json_unpack_ex((json_t *)saved, &jerr, JSON_STRICT, "{s:F,s:F,s:F,s:F,s:F}", "last", &s->last, "level", &s->level,
                     "slope", &s->slope, "sigma", &s->sigma, "n_used", &s->n_used) < 0)
    return oc_error_set(err, "model state: %s", jerr.text);
  return 0;
}

static void baseline_destroy(void *state) { free(state); }

const oc_model_type oc_model_naive = {
    .kind = "naive",
    .summary = "no change: tomorrow's price is today's",
    .create = naive_create,
    .fit = naive_fit,
    .update = naive_fit,
    .predict = naive_predict,
    .save = baseline_save,
    .load = baseline_load,
    .destroy = baseline_destroy,
};
const oc_model_type oc_model_drift = {
    .kind = "drift",
    .summary = "last price plus the average change per day (window=N days, 0 = all)",
    .create = drift_create,
    .fit = drift_fit,
    .update = drift_fit,
    .predict = drift_predict,
    .save = baseline_save,
    .load = baseline_load,
    .destroy = baseline_destroy,
};
const oc_model_type oc_model_mean = {
    .kind = "mean",
    .summary = "mean of the last k prices (k=5)",
    .create = mean_create,
    .fit = mean_fit,
    .update = mean_fit,
    .predict = mean_predict,
    .save = baseline_save,
    .load = baseline_load,
    .destroy = baseline_destroy,
};
