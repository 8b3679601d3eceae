/* health.h: the data-health figures of the operations loop, and every figure an alert rule can watch.
 *
 * Staleness: a series is a trading-day series (core/calendar.h); the price of trading day D is known
 * once D is over, so at a moment `now` the latest price that should be stored is the one of the last
 * trading day strictly before today (UTC). A series is behind by the number of trading days after its
 * last observation up to that day (0: fresh). A Monday morning is not stale for Friday's price; the
 * Tuesday after Good Friday still expects Thursday's only until Monday's is due.
 *
 * Job failures: per job of the store's run history that the jobs file still defines, how many of its
 * latest finished runs failed in a row (0 when the latest finished run succeeded).
 *
 * Figures: the gauges `/metrics` exposes and alert rules name (monitor/alerts.h), with their labels:
 *   oilcast_forecast_rel_mae, oilcast_forecast_coverage80, oilcast_forecast_coverage95,
 *   oilcast_forecast_bias        {series, endpoint, variant, model_version, horizon, window}
 *   oilcast_series_staleness_trading_days                         {series}
 *   oilcast_job_consecutive_failures                               {job}
 *   oilcast_feature_psi, oilcast_feature_ks          {series, model_version, feature} (drift.h)
 * Reads the store and the registry's cards only; prints nothing. */
#ifndef OC_MONITOR_HEALTH_H
#define OC_MONITOR_HEALTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/error.h"
#include "monitor/drift.h"
#include "store/store.h"

typedef struct oc_series_staleness {
  char series[OC_SERIES_NAME_MAX + 1];
  oc_date last;     /* its last observation */
  oc_date expected; /* the latest trading day whose price should be stored at now */
  int64_t behind;   /* trading days in (last, expected]; 0 when fresh */
} oc_series_staleness;

/* One row per series with observations, by name (free *rows with free()). */
int oc_monitor_staleness(oc_store *store, int64_t now, oc_series_staleness **rows, size_t *n, oc_error *err);
json_t *oc_series_staleness_json(const oc_series_staleness *row);

/* One row per job with a finished run, by job name (store.h's oc_job_failures; free *rows with free()). */
int oc_monitor_job_failures(oc_store *store, oc_job_failures **rows, size_t *n, oc_error *err);

/* All of data health at once: what `oilcast monitor health` and GET /v1/monitor/health show. */
typedef struct oc_monitor_health {
  oc_series_staleness *stale;
  size_t nstale;
  oc_job_failures *jobs;
  size_t njobs;
  oc_feature_drift *drift; /* over the latest OC_DRIFT_RECENT_DEFAULT trading days */
  size_t ndrift;
  oc_drift_unmeasured *unmeasured; /* deployed versions whose drift could not be measured */
  size_t nunmeasured;
} oc_monitor_health;

int oc_monitor_health_read(const char *data_dir, oc_store *store, int64_t now, oc_monitor_health *out, oc_error *err);
/* {"series": [staleness...], "jobs": [{job, consecutive_failures}...], "drift": [drift.h rows...],
 *  "drift_unmeasured": [{model_version, error}...]} */
json_t *oc_monitor_health_json(const oc_monitor_health *health);
void oc_monitor_health_free(oc_monitor_health *health);

/* One figure: a gauge name (above), its labels (a JSON object of strings, owned) and its value. */
typedef struct oc_figure {
  const char *metric; /* static */
  json_t *labels;
  double value;
} oc_figure;

typedef struct oc_figures {
  oc_figure *items;
  size_t n;
} oc_figures;

/* The figures above with their labels: what an alert rule may watch, and match on. Ended by {NULL}. */
typedef struct oc_figure_kind {
  const char *metric;
  const char *const *labels; /* NULL-terminated */
} oc_figure_kind;
extern const oc_figure_kind oc_monitor_figure_kinds[];
/* metric's labels (NULL-terminated), or NULL when no figure has that name. */
const char *const *oc_monitor_figure_labels(const char *metric);

/* Every figure at now: the live scores over the default windows (as scored so far), staleness, job
 * failures, and the input drift of the deployed versions of data_dir's registry. */
int oc_monitor_figures(const char *data_dir, oc_store *store, int64_t now, oc_figures *out, oc_error *err);
void oc_figures_free(oc_figures *figures);

#endif
