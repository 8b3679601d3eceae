/* metrics.h: the server's Prometheus metrics (the CloudWatch of the reference guide): requests by route
 * and status, latency histograms per route, labelled counters (forecasts by endpoint/variant/model
 * version, auth failures, rate-limit rejections, store errors), gauges (model load time), and process
 * memory and uptime, rendered in the Prometheus text exposition format 0.0.4. Recording is lock-free for
 * requests (atomics) and takes a short mutex for labelled families. Knows nothing about HTTP. */
#ifndef OC_SERVE_METRICS_H
#define OC_SERVE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "serve/router.h"

typedef struct oc_metrics oc_metrics;

typedef enum {
  OC_METRIC_FORECASTS,        /* oilcast_forecasts_total{endpoint,variant,model_version} */
  OC_METRIC_AUTH_FAILURES,    /* oilcast_auth_failures_total{reason} */
  OC_METRIC_RATE_LIMITED,     /* oilcast_rate_limited_total{key} */
  OC_METRIC_STORE_ERRORS,     /* oilcast_store_errors_total{operation} */
  OC_METRIC_MODEL_LOAD,       /* oilcast_model_load_seconds{model_version} (gauge) */
  /* live scores of stored forecasts (monitor/score.h), gauges read from the store at each scrape,
   * labelled {series,endpoint,variant,model_version,horizon,window} */
  OC_METRIC_LIVE_REL_MAE,     /* oilcast_forecast_rel_mae */
  OC_METRIC_LIVE_COVERAGE80,  /* oilcast_forecast_coverage80 */
  OC_METRIC_LIVE_COVERAGE95,  /* oilcast_forecast_coverage95 */
  OC_METRIC_LIVE_ORIGINS,     /* oilcast_forecast_scored_origins */
  /* data health and alerts (monitor/health.h, monitor/alerts.h), read from the store at each scrape */
  OC_METRIC_LIVE_BIAS,        /* oilcast_forecast_bias (labels as the live scores) */
  OC_METRIC_SERIES_STALENESS, /* oilcast_series_staleness_trading_days{series} */
  OC_METRIC_JOB_FAILURES,     /* oilcast_job_consecutive_failures{job} */
  OC_METRIC_ALERTS,           /* oilcast_alerts{state} */
  OC_METRIC_FEATURE_PSI,      /* oilcast_feature_psi{series,model_version,feature} */
  OC_METRIC_FEATURE_KS,       /* oilcast_feature_ks{series,model_version,feature} */
  /* the sensor stream's totals (pipeline/stream.h), read from the store at each scrape, no labels */
  OC_METRIC_SENSOR_READINGS,     /* oilcast_sensor_readings_total */
  OC_METRIC_SENSOR_LATE,         /* oilcast_sensor_late_readings_total */
  OC_METRIC_SENSOR_DEAD_LETTERS, /* oilcast_sensor_dead_letters_total */
  OC_METRIC_SENSOR_ANOMALIES,    /* oilcast_sensor_anomalies_total */
  /* shadow challengers (issue 16): forecasts beside invocations, by outcome "made" (then stored
   * with the answer), "failed" (its forecast failed) or "unavailable" (it could not be loaded) */
  OC_METRIC_SHADOW_FORECASTS,    /* oilcast_shadow_forecasts_total{endpoint,model_version,outcome} */
  OC_METRIC_FAMILY_COUNT
} oc_metric_family_id;

/* routes stays owned by the caller and must outlive the metrics. */
oc_metrics *oc_metrics_new(const oc_route *routes, size_t route_count);
void oc_metrics_free(oc_metrics *m);

/* route_index == route_count means "no route matched". */
void oc_metrics_observe_request(oc_metrics *m, size_t route_index, int status, double seconds);
/* labels: alternating name, value pairs (label_count pairs), in the family's documented order. */
void oc_metrics_add(oc_metrics *m, oc_metric_family_id family, double delta, size_t label_count,
                    const char *const *labels);
void oc_metrics_set(oc_metrics *m, oc_metric_family_id family, double value, size_t label_count,
                    const char *const *labels);

/* A gauge family read afresh from the store: begin, set every labelled value that still exists, end.
 * The end drops the values no set since the begin touched (a version no endpoint serves any more, a
 * job taken out of jobs.conf), which would otherwise keep their last value for ever; a refresh that
 * fails before its end leaves the family as it was. A scrape during the refresh sees each value old
 * or new, never a family emptied. */
uint64_t oc_metrics_refresh_begin(oc_metrics *m, oc_metric_family_id family);
void oc_metrics_refresh_end(oc_metrics *m, oc_metric_family_id family, uint64_t refresh);

/* Appends the whole exposition to out. */
void oc_metrics_render(oc_metrics *m, oc_buf *out);

/* Writes s as a Prometheus label value (escaping \, " and newline) to out. */
void oc_metrics_escape_label(oc_buf *out, const char *s);

/* Resident set size of this process in bytes (from /proc/self/statm), 0 if unknown. */
size_t oc_process_rss_bytes(void);

#endif
