/* forecast.h: the forecast step as one call: a registered version of any kind (named, or the one an
 * endpoint serves) forecasts a series from its stored history, or from a given one, and the forecast is
 * stored (the store's forecasts, what the dashboard and the monitor read). Or the same question asked
 * of a running server (opt.url). The model is loaded as the server loads it (pipeline/served_model.h), so the
 * CLI, the scheduler and the server answer alike. Never prints. */
#ifndef OC_PIPELINE_FORECAST_H
#define OC_PIPELINE_FORECAST_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/frame.h"
#include "model/forecaster.h"
#include "pipeline/pipeline.h"
#include "pipeline/served_model.h"
#include "store/store.h"

typedef struct oc_forecast_options {
  const char *endpoint;     /* the endpoint whose version answers (NULL: OC_DEFAULT_ENDPOINT) ... */
  int64_t version;          /* ... unless a version is named (> 0) */
  const char *series;       /* NULL: the version's own series */
  const oc_series *history; /* NULL: the stored history; else this one (its name is ignored) */
  double current_price;     /* NAN: none; else appended one trading day after the stored history (a
                             * given history ends with its own) */
  size_t days;              /* observations ahead; 0: the model's default */
  bool save;                /* store the forecast (not for a remote one: the server stores its own); a
                             * read-only store leaves it unsaved (stored_id 0), not failed */
  const char *url;          /* a running server to ask instead (its endpoint; version must be 0) */
  const char *api_key;      /* for url: read scope */
} oc_forecast_options;

/* The options oc_pipeline_forecast takes when nothing is said: the default endpoint, stored history,
 * the model's horizon, save on. */
oc_forecast_options oc_forecast_options_default(void);

typedef struct oc_forecast_result {
  char series[OC_SERIES_NAME_MAX + 1];
  char model_version[64], model_kind[32];
  oc_price_forecast forecast;            /* forecast.horizon points after forecast.origin */
  oc_date dates[OC_FORECAST_MAX_HORIZON]; /* the trading day of each point */
  int64_t stored_id;                     /* the stored forecast's id; 0 when not saved */
  /* Through an endpoint with a shadow challenger (oc_forecast_shadow_version), saving: the challenger's
   * forecast, stored beside the answer and never returned; a challenger that fails leaves the forecast
   * made (shadow_stored_id 0, shadow_problem says why). */
  char shadow_version[64];               /* "" when the endpoint has none */
  int64_t shadow_stored_id;
  char shadow_problem[256];
} oc_forecast_result;

/* OC_PIPELINE_BAD_OPTION (pipeline.h) when opt.days is beyond the model's horizon. */
int oc_pipeline_forecast(const char *data_dir, oc_store *store, const oc_forecast_options *opt, oc_forecast_result *out,
                         oc_error *err);

/* A forecast as the store records it, endpoint and variant empty (the caller names them when it has
 * them); created now. */
void oc_forecast_record_fill(oc_forecast_record *rec, const oc_price_forecast *fc, const char *series,
                             const char *model_version, const char *model_kind, const char *history,
                             const char *request_id);

/* ---- Shadow challengers (monitor/promote.h) ----
 * An endpoint whose promotion loop evaluates a challenger in shadow: every forecast the endpoint makes
 * (an API invocation, `oilcast forecast` through the endpoint, a scheduled forecast) also makes the
 * challenger's from the same history and origin, stored under the endpoint with variant
 * OC_SHADOW_VARIANT (so scoring pairs it with the served forecast on the same origins) and never
 * returned. A challenger that cannot forecast never fails the forecast served. */
#define OC_SHADOW_VARIANT "shadow"

/* The endpoint's shadow challenger ("vN") into version[64]; "" when it has none (no challenger, or one
 * served as a weighted variant). One store read. */
int oc_forecast_shadow_version(oc_store *store, const char *endpoint, char version[64], oc_error *err);

/* The challenger's forecast beside `served` (the record of the endpoint's answer, endpoint set): from
 * the same history (stored: the stored series) and the challenger's own exogenous series, as many
 * steps as served has (at most the challenger's horizon), recorded as served is but for its variant,
 * model version and kind. */
int oc_forecast_shadow(oc_served_model *challenger, const oc_series *history, const oc_series *exogs, bool stored,
                       const oc_forecast_record *served, oc_forecast_record *out, oc_error *err);

/* The forecast object (docs/openapi.yaml's Forecast), appended to out as one JSON object: the one shape
 * of an invocation's answer, GET /v1/forecasts/latest and the "forecast" event. last_price is null when
 * rec->origin_price is unknown (NAN: forecasts stored before the store kept it). points_json: rec's
 * points array as oc_forecast_points_json writes it, for a caller that keeps it formatted; NULL: it is
 * formatted here. */
void oc_forecast_object_json(oc_buf *out, const oc_forecast_record *rec, const char *points_json, size_t points_len);
/* rec's points as the forecast object's "points" array. */
void oc_forecast_points_json(oc_buf *out, const oc_forecast_record *rec);

#endif
