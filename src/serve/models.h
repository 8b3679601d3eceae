/* models.h: model versions as the server holds them: loaded once, shared by every endpoint variant
 * that names them, reference-counted so an endpoint's configuration can be swapped while requests
 * still use the old one (a request keeps its references until it has answered: no request ever mixes
 * two versions, none fails because of a swap). A model version names either a trained version in the
 * registry ("v3": the reference network, models_mlp.h, with the conformal bounds stored in its card, or a
 * registered forecaster of any kind, restored from its saved state and following the stored history) or
 * a forecaster spec ("naive", "drift", "ets:trend=damped", model/forecaster.h), fitted on the stored
 * history of its series when loaded. Forecasting from the stored history is cached per history state;
 * the forecaster itself is not thread-safe, so each model serialises those calls. Forecasts from a given
 * history run in parallel (a fresh forecaster each, or the network, which they only read). */
#ifndef OC_SERVE_MODELS_H
#define OC_SERVE_MODELS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "core/frame.h"
#include "model/forecaster.h"

typedef struct oc_served_model oc_served_model;

/* Loads a stored series by name (the store, for the server). */
typedef int (*oc_series_loader)(void *ctx, const char *series, oc_series *out, oc_error *err);

/* The series a version forecasts when an endpoint names none: a registered version's own series,
 * else WTI. */
int oc_served_model_default_series(const char *data_dir, const char *version, char *series, size_t cap,
                                   oc_error *err);

/* Loads version to forecast series, fitting or calibrating it on the stored histories load provides. */
oc_served_model *oc_served_model_load(const char *data_dir, const char *version, const char *series,
                                      oc_series_loader load, void *ctx, oc_error *err);
void oc_served_model_retain(oc_served_model *m);
void oc_served_model_release(oc_served_model *m);

const char *oc_served_model_version(const oc_served_model *m);
const char *oc_served_model_kind(const oc_served_model *m);
double oc_served_model_load_seconds(const oc_served_model *m);
/* Observations ahead forecast when the caller names no horizon: a network's H (it predicts each of
 * its horizons directly), else OC_SERVED_DEFAULT_HORIZON. */
#define OC_SERVED_DEFAULT_HORIZON 7
size_t oc_served_model_default_horizon(const oc_served_model *m);
/* The other series the model's features need (their stored histories go to forecast as exogs). */
size_t oc_served_model_exogs(const oc_served_model *m, const char *const **names);

/* Forecast of `horizon` observations after the last of history. When history is the stored series
 * (stored = true) the model is refreshed incrementally (update when history extends what it saw, refit
 * otherwise) and the answer cached until the history changes. A given history leaves the model
 * untouched: a forecaster's spec is fitted on it afresh, a network is applied to it as it is. */
int oc_served_model_forecast(oc_served_model *m, const oc_series *history, const oc_series *exogs, bool stored,
                             size_t horizon, oc_forecast *out, oc_date *origin, oc_error *err);

#endif
