/* served_model.h: model versions as the server (and every forecast step) holds them: loaded once, shared by every endpoint variant
 * that names them, reference-counted so an endpoint's configuration can be swapped while requests
 * still use the old one (a request keeps its references until it has answered: no request ever mixes
 * two versions, none fails because of a swap). A model version names either a registered version of
 * any kind ("v3", model/registry.h hands it out as a forecaster) or a forecaster spec ("naive",
 * "ets:trend=damped", model/forecaster.h); either way it is brought to the stored history of its series
 * when loaded (fitted, or updated from the state it was saved in). Forecasting from the stored history
 * is cached per history state (the series' and what the model read of its exogenous series: a Brent
 * price that arrives after WTI's for the same day moves an arx forecast); the forecaster itself is not thread-safe, so each model serialises
 * those calls. Forecasts from a given history run in parallel and leave the model untouched
 * (oc_forecaster_forecast_from). Never branches on the model's kind. */
#ifndef OC_PIPELINE_SERVED_MODEL_H
#define OC_PIPELINE_SERVED_MODEL_H

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
/* The farthest horizon the model forecasts (a network's H: it predicts each of its horizons directly). */
size_t oc_served_model_max_horizon(const oc_served_model *m);
/* Observations ahead forecast when the caller names no horizon: the model's farthest when it is limited
 * (a network's H), else OC_SERVED_DEFAULT_HORIZON. */
#define OC_SERVED_DEFAULT_HORIZON 7
size_t oc_served_model_default_horizon(const oc_served_model *m);
/* The other series the model's features need (their stored histories go to forecast as exogs). */
size_t oc_served_model_exogs(const oc_served_model *m, const char *const **names);

/* Forecast of `horizon` observations after the last of history (out->origin: the observation it
 * forecast from). When history is the stored series (stored = true) the model follows it (update when
 * history extends what it saw and exogs hold what it read, refit otherwise) and the answer is cached
 * until either changes. A given history leaves the model untouched. */
int oc_served_model_forecast(oc_served_model *m, const oc_series *history, const oc_series *exogs, bool stored,
                             size_t horizon, oc_price_forecast *out, oc_error *err);

#endif
