/* forecaster.h: the one interface every price-forecasting model implements, so that backtest, tuning,
 * serving and the model registry never branch on the model kind. A model is a type (a struct of
 * function pointers, one per kind) plus an opaque state; oc_forecaster pairs them with the interval
 * calibration every model shares (split-conformal on its own recent out-of-sample errors).
 *
 * Protocol (no look-ahead by construction): the caller hands the model a history truncated at the
 * forecast origin (hist->n observations; the model must not read past hist->n) and, for a kind that
 * reads other series (oc_forecaster_exogs: a network trained with Brent features), those series in the
 * order it names them (exogs; NULL when it names none); a kind must not read an exogenous value dated
 * after the last date of hist.
 *   oc_forecaster_fit(f, hist, exogs)     estimate parameters on hist (and warm up the calibration);
 *                                         a version trained elsewhere (a registered network) keeps its
 *                                         parameters and only conditions on hist
 *   oc_forecaster_update(f, hist, exogs)  hist extends the last one: filter the new observations with
 *                                         the parameters fixed (no refit), as a state-space model is
 *   oc_forecaster_advance(f, hist, exogs) update when hist extends what f has seen and exogs hold what
 *                                         it read of them (up to its last date), else fit
 *   oc_forecaster_predict(f, H, fc)       point forecasts for the next H observations, 80%/95% bounds
 *   oc_forecaster_forecast_from(f, ...)   the same from another history, f untouched
 *   oc_forecaster_save / _load            a self-describing JSON text (kind, parameters, state,
 *                                         calibration)
 * Horizons count observations (trading days), not calendar days.
 * Must not read files or the store, print, or keep pointers into the caller's history. */
#ifndef OC_FORECASTER_H
#define OC_FORECASTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/date.h"
#include "core/error.h"
#include "core/frame.h"

#define OC_FORECAST_MAX_HORIZON 64

/* Prices forecast from one origin with their 80% and 95% bounds: arrays of `horizon` values, index
 * h-1 = h observations after the origin. The origin is the last observation the forecast saw (a kind
 * whose inputs are incomplete at the last date, such as a network missing an exogenous value, forecasts
 * from the latest complete one) and origin_price the price there. */
typedef struct oc_price_forecast {
  oc_date origin;
  double origin_price;
  size_t horizon;
  double mean[OC_FORECAST_MAX_HORIZON];
  double lo80[OC_FORECAST_MAX_HORIZON], hi80[OC_FORECAST_MAX_HORIZON];
  double lo95[OC_FORECAST_MAX_HORIZON], hi95[OC_FORECAST_MAX_HORIZON];
} oc_price_forecast;

/* Fill horizon h (1-based) with a point forecast and Gaussian bounds: in price space
 * (mean ± z sd) or in log space (exp(mu ± z sd), the point forecast exp(mu) being the median). */
void oc_price_forecast_set_gaussian(oc_price_forecast *out, size_t h, double mean, double sd);
void oc_price_forecast_set_lognormal(oc_price_forecast *out, size_t h, double mu, double sd);

/* Model parameters as text key/value pairs, parsed from a spec "kind[:key=value[:key=value...]]"
 * (e.g. "mean:k=10", "ets:trend=damped", "ensemble:members=naive+ets+ar:weights=equal"). */
#define OC_MODEL_MAX_PARAMS 16
typedef struct oc_model_params {
  size_t n;
  char key[OC_MODEL_MAX_PARAMS][32];
  char value[OC_MODEL_MAX_PARAMS][128];
  bool used[OC_MODEL_MAX_PARAMS];
} oc_model_params;

/* What a model kind provides. The state is opaque to everybody but the kind's own file. Every
 * function that can fail returns 0/-1 and fills err. predict fills mean and the model's own
 * (analytic) bounds, and may set origin and origin_price (the forecaster sets them to the last
 * observation seen first); the calibration layer may replace the bounds. exogs, max_horizon,
 * forecast_from and release_caches are optional (NULL): a kind that reads no other series, forecasts
 * any horizon, has no cheaper way to forecast from a given history than a fresh fit, and keeps
 * nothing between fits. */
typedef struct oc_model_type {
  const char *kind;    /* "naive", "ets", ... */
  const char *summary; /* one line for help texts */
  /* Reads the parameters it knows (marking them used); returns the new state or NULL with err. */
  void *(*create)(oc_model_params *params, oc_error *err);
  int (*fit)(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err);
  int (*update)(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err);
  int (*predict)(const void *state, size_t horizon, oc_price_forecast *out, oc_error *err);
  /* Parameters and filtered state as a JSON object (new reference); load restores it into a state
   * made by create with the same parameters. Both NULL for a state made from files (fc_mlp.h). */
  json_t *(*save)(const void *state);
  int (*load)(void *state, const json_t *saved, oc_error *err);
  void (*destroy)(void *state);
  /* The other series fit and update read, in the order they take them; returns how many. */
  size_t (*exogs)(const void *state, const char *const **names);
  /* The farthest horizon the fitted state forecasts (0: any up to OC_FORECAST_MAX_HORIZON). */
  size_t (*max_horizon)(const void *state);
  /* A forecast from another history with the fitted parameters, the state only read (so calls may run
   * on several threads at once); its bounds are final (the kind carries its own calibration). */
  int (*forecast_from)(const void *state, const oc_series *hist, const oc_series *exogs, size_t horizon,
                       oc_price_forecast *out, oc_error *err);
  /* Optional: frees what the kind keeps between fits of its forecasters to make a series of refits
   * cheaper (results never depend on it). */
  void (*release_caches)(void);
} oc_model_type;

typedef enum { OC_INTERVALS_CONFORMAL = 0, OC_INTERVALS_ANALYTIC = 1 } oc_interval_method;

/* Split-conformal calibration settings (the defaults are documented in docs/evaluation.md). */
typedef struct oc_conformal_config {
  oc_interval_method method;
  size_t window;      /* residuals kept per horizon (most recent origins); default 250 */
  size_t min_residuals; /* below this, the model's analytic bounds are used; default 30 */
  bool vol_scaled;    /* scale residuals by the EWMA volatility of price changes at their origin */
  double vol_lambda;  /* EWMA decay for that volatility; default 0.94 */
} oc_conformal_config;

typedef struct oc_forecaster oc_forecaster;

/* Creates a forecaster from a spec (see oc_model_params). Common parameters for every kind:
 * intervals=conformal|analytic, conformal_window=N, conformal_scale=vol|none. Unknown kinds or
 * parameters are errors that list what is accepted. */
oc_forecaster *oc_forecaster_create(const char *spec, oc_error *err);
/* A forecaster around a state its kind made itself (a version trained elsewhere and loaded from its
 * files), with the common parameters of spec; takes the state (destroyed on failure too). */
oc_forecaster *oc_forecaster_wrap(const oc_model_type *type, void *state, const char *spec, oc_error *err);
void oc_forecaster_free(oc_forecaster *f);
const char *oc_forecaster_kind(const oc_forecaster *f);
/* The spec the forecaster was created from (its name in reports). */
const char *oc_forecaster_name(const oc_forecaster *f);

/* The other series the forecaster reads (see the protocol above); *names is NULL when it reads none. */
size_t oc_forecaster_exogs(const oc_forecaster *f, const char *const **names);
/* The farthest horizon it forecasts: OC_FORECAST_MAX_HORIZON, or less for a kind that predicts each of
 * a few horizons directly (a network's H). */
size_t oc_forecaster_max_horizon(const oc_forecaster *f);

int oc_forecaster_fit(oc_forecaster *f, const oc_series *hist, const oc_series *exogs, oc_error *err);
int oc_forecaster_update(oc_forecaster *f, const oc_series *hist, const oc_series *exogs, oc_error *err);
int oc_forecaster_advance(oc_forecaster *f, const oc_series *hist, const oc_series *exogs, oc_error *err);
/* Has f seen exactly hist, and exogs as they are (no observation dated up to its last date arrived or
 * changed since)? Then predict answers for them; otherwise advance first. */
bool oc_forecaster_has_seen(const oc_forecaster *f, const oc_series *hist, const oc_series *exogs);
int oc_forecaster_predict(oc_forecaster *f, size_t horizon, oc_price_forecast *out, oc_error *err);
/* A forecast from hist leaving f untouched: the kind's forecast_from where it has one (thread-safe),
 * else a fresh forecaster of f's spec fitted on hist. */
int oc_forecaster_forecast_from(const oc_forecaster *f, const oc_series *hist, const oc_series *exogs, size_t horizon,
                                oc_price_forecast *out, oc_error *err);

/* JSON text {"format":"oilcast-forecaster","version":1,"spec":...,"kind":...,"model":{...},
 * "calibration":{...}}; the caller frees it. NULL for a version whose saved form is its own files (a
 * registered network: model/registry.h keeps it). */
char *oc_forecaster_save(const oc_forecaster *f);
oc_forecaster *oc_forecaster_load(const char *json_text, oc_error *err);

/* spec with ":exog=LIST" appended (exog_list: series names joined by ',' or '+'; LIST joins them by
 * '+', as a spec's parameter cannot hold ',') when its kind reads exogenous
 * series (it has an exogs function: arx, mlp) and spec names none; otherwise a copy of spec. What
 * `--exog` does to every model of a backtest or a training run. The caller frees it. */
char *oc_model_spec_with_exog(const char *spec, const char *exog_list);

/* The registered kinds, NULL-terminated. */
extern const oc_model_type *const oc_model_types[];

/* Frees every kind's caches (release_caches): a long-running process (serve) calls it when a
 * training or a backtest is over, so that what made its refits cheaper does not stay resident. */
void oc_model_types_release_caches(void);

/* Parsing helpers for the kinds' create functions: each reads one parameter (marking it used) and
 * leaves *out unchanged when absent. */
int oc_model_param_long(oc_model_params *p, const char *key, long min, long max, long *out, oc_error *err);
int oc_model_param_double(oc_model_params *p, const char *key, double min, double max, double *out,
                          oc_error *err);
const char *oc_model_param_str(oc_model_params *p, const char *key);

/* Fits `model` on hist truncated to `fit_n` observations, then updates it one observation at a time
 * up to hist->n, calling visit after the fit and after every update with the forecast made at that
 * origin (origin = index of the last observation seen). Used to obtain genuine out-of-sample
 * forecasts inside a training history (conformal warm-up, ensemble weights). */
typedef int (*oc_replay_visit)(void *ctx, size_t origin, const oc_price_forecast *fc, oc_error *err);
int oc_forecaster_replay(oc_forecaster *model, const oc_series *hist, size_t fit_n, size_t horizon,
                         oc_replay_visit visit, void *ctx, oc_error *err);

/* Log-space models (ets, ar) drop non-positive prices (WTI settled at -36.98 on 2020-04-20; its
 * logarithm does not exist): fitting and filtering skip them as if the day were missing. Writes the
 * logs of the positive prices among the last `window` observations of hist (0 = all) into out (room
 * for hist->n values), in date order, and returns how many. */
size_t oc_positive_log_prices(const oc_series *hist, size_t window, double *out);

#endif
