/* models_mlp.h: a registered reference-network version (model/registry.h) as the server serves it:
 * the network, its card, and the split-conformal bounds of model/mlp_calibration.h, per horizon, in
 * log-return space: price * exp(pred +- q). The bounds come stored in the card; a version trained
 * before they were stored is calibrated once when loaded. Kept apart from models.c because
 * model/forecast.h and model/forecaster.h each define their own forecast type. Loading is not
 * thread-safe; forecasts only read the loaded version and may run on several threads at once. */
#ifndef OC_SERVE_MODELS_MLP_H
#define OC_SERVE_MODELS_MLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/frame.h"

typedef struct oc_mlp_served oc_mlp_served;

/* One day of a forecast with its bounds (prices). */
typedef struct oc_mlp_served_point {
  double price, lower80, upper80, lower95, upper95;
} oc_mlp_served_point;

oc_mlp_served *oc_mlp_served_load(const char *data_dir, int64_t version, oc_error *err);
void oc_mlp_served_free(oc_mlp_served *m);
const char *oc_mlp_served_series(const oc_mlp_served *m);
int oc_mlp_served_horizon(const oc_mlp_served *m);
/* Names of the exogenous series the features need, in the order forecasts take them. */
size_t oc_mlp_served_exogs(const oc_mlp_served *m, const char *const **names);
/* Does its card hold the bounds? Otherwise oc_mlp_served_calibrate must run before forecasts. */
bool oc_mlp_served_calibrated(const oc_mlp_served *m);
/* Calibrates the bounds on history (and exogs): model/mlp_calibration.h. */
int oc_mlp_served_calibrate(oc_mlp_served *m, const oc_series *history, const oc_series *exogs, oc_error *err);
/* days (1..H) points after the last usable date of history; *origin receives that date. */
int oc_mlp_served_forecast(oc_mlp_served *m, const oc_series *history, const oc_series *exogs, size_t days,
                           oc_mlp_served_point *out, int32_t *origin, oc_error *err);

#endif
