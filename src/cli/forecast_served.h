/* forecast_served.h: `oilcast forecast` for a registered version that is not a network (a forecaster
 * chosen by `oilcast train --model auto` or named by --model): resolved and run through the server's
 * model loader (serve/models.h), the one place that turns a version into a runnable model, so the CLI
 * and the server answer the same. A separate header because model/forecast.h (the network's forecast
 * type) and model/forecaster.h each define oc_forecast. Must not print. */
#ifndef OC_CLI_FORECAST_SERVED_H
#define OC_CLI_FORECAST_SERVED_H

#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/error.h"
#include "core/frame.h"
#include "store/store.h"

#define OC_SERVED_MAX_DAYS 64

typedef struct oc_served_points {
  char series[OC_SERIES_NAME_MAX + 1];
  oc_date as_of;     /* the forecast origin */
  double last_price; /* the price at as_of */
  size_t n;
  oc_date dates[OC_SERVED_MAX_DAYS];
  double prices[OC_SERVED_MAX_DAYS];
} oc_served_points;

/* Forecasts `days` business days (0: the version's default, serve/models.h) with registered version.
 * history NULL: the stored series (the version's own unless series is given), followed from the state
 * the version was saved in; else that history, on a fresh fit of the same spec. */
int oc_forecast_served(const char *data_dir, oc_store *store, int64_t version, const char *series,
                       const oc_series *history, size_t days, oc_served_points *out, oc_error *err);

#endif
