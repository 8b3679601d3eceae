/* metrics.c: counters and histograms for the request path (fixed route x status matrix of atomics, so
 * recording never locks), labelled families behind a mutex, and the text exposition. */
#include "serve/metrics.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/csv.h"
#include "core/lock.h"

#define STATUS_MIN 100
#define STATUS_SPAN 500 /* 100..599 */

static const double latency_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                         0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5, 10};
#define BUCKET_COUNT (sizeof latency_buckets / sizeof latency_buckets[0])

typedef struct route_stats {
  _Atomic uint64_t by_status[STATUS_SPAN];
  _Atomic uint64_t buckets[BUCKET_COUNT + 1]; /* last = +Inf */
  _Atomic uint64_t sum_ns;
  _Atomic uint64_t count;
} route_stats;

typedef struct family_entry {
  char *labels; /* preformatted: name="value",... */
  double value;
  uint64_t refresh; /* the family's refresh that last set it */
} family_entry;

typedef struct family {
  const char *name, *help, *type;
  family_entry *entries;
  size_t count, cap;
  uint64_t refresh; /* oc_metrics_refresh_begin's count */
} metric_family;

struct oc_metrics {
  const oc_route *routes;
  size_t route_count;
  route_stats *stats; /* route_count + 1 */
  oc_lock lock;
  metric_family families[OC_METRIC_FAMILY_COUNT]; /* entries guarded by lock */
  struct timespec started;
};

oc_metrics *oc_metrics_new(const oc_route *routes, size_t route_count) {
  oc_metrics *m = oc_xcalloc(1, sizeof *m);
  m->routes = routes;
  m->route_count = route_count;
  m->stats = oc_xcalloc(route_count + 1, sizeof *m->stats);
  oc_lock_init(&m->lock);
  m->families[OC_METRIC_FORECASTS] = (metric_family){.name = "oilcast_forecasts_total", .help = "Forecasts served by endpoint, variant and model version.", .type = "counter"};
  m->families[OC_METRIC_AUTH_FAILURES] =
      (metric_family){.name = "oilcast_auth_failures_total", .help = "Requests refused by authentication or scope.", .type = "counter"};
  m->families[OC_METRIC_RATE_LIMITED] =
      (metric_family){.name = "oilcast_rate_limited_total", .help = "Requests refused by the per-key rate limit.", .type = "counter"};
  m->families[OC_METRIC_STORE_ERRORS] = (metric_family){.name = "oilcast_store_errors_total", .help = "Store operations that failed.", .type = "counter"};
  m->families[OC_METRIC_MODEL_LOAD] =
      (metric_family){.name = "oilcast_model_load_seconds", .help = "Time taken to load each served model version.", .type = "gauge"};
  m->families[OC_METRIC_LIVE_REL_MAE] = (metric_family){
      .name = "oilcast_forecast_rel_mae", .help = "Live MAE of stored forecasts over the no-change forecast's, latest scored origins.", .type = "gauge"};
  m->families[OC_METRIC_LIVE_COVERAGE80] = (metric_family){
      .name = "oilcast_forecast_coverage80", .help = "Share of live prices inside the 80% band, latest scored origins.", .type = "gauge"};
  m->families[OC_METRIC_LIVE_COVERAGE95] = (metric_family){
      .name = "oilcast_forecast_coverage95", .help = "Share of live prices inside the 95% band, latest scored origins.", .type = "gauge"};
  m->families[OC_METRIC_LIVE_ORIGINS] = (metric_family){
      .name = "oilcast_forecast_scored_origins", .help = "Scored origins behind the live figures (at most the window).", .type = "gauge"};
  m->families[OC_METRIC_LIVE_BIAS] = (metric_family){
      .name = "oilcast_forecast_bias", .help = "Mean live forecast minus actual price, latest scored origins.", .type = "gauge"};
  m->families[OC_METRIC_SERIES_STALENESS] = (metric_family){
      .name = "oilcast_series_staleness_trading_days", .help = "Trading days whose price should be stored and is not.", .type = "gauge"};
  m->families[OC_METRIC_JOB_FAILURES] = (metric_family){
      .name = "oilcast_job_consecutive_failures", .help = "Latest finished runs of the job that failed in a row.", .type = "gauge"};
  m->families[OC_METRIC_ALERTS] = (metric_family){
      .name = "oilcast_alerts", .help = "Alerts of the built-in evaluator by state.", .type = "gauge"};
  m->families[OC_METRIC_FEATURE_PSI] = (metric_family){
      .name = "oilcast_feature_psi", .help = "Population stability index of a deployed version's input against its training reference.", .type = "gauge"};
  m->families[OC_METRIC_FEATURE_KS] = (metric_family){
      .name = "oilcast_feature_ks", .help = "Kolmogorov-Smirnov statistic of a deployed version's input against its training reference.", .type = "gauge"};
  m->families[OC_METRIC_SENSOR_READINGS] = (metric_family){
      .name = "oilcast_sensor_readings_total", .help = "Sensor readings stored by the stream (each once).", .type = "counter"};
  m->families[OC_METRIC_SENSOR_LATE] = (metric_family){
      .name = "oilcast_sensor_late_readings_total", .help = "Sensor readings that came after their windows' grace.", .type = "counter"};
  m->families[OC_METRIC_SENSOR_DEAD_LETTERS] = (metric_family){
      .name = "oilcast_sensor_dead_letters_total", .help = "Sensor messages the stream could not read (stored with the reason).", .type = "counter"};
  m->families[OC_METRIC_SENSOR_ANOMALIES] = (metric_family){
      .name = "oilcast_sensor_anomalies_total", .help = "Sensor anomalies stored: spikes, stuck values and silences (once per episode).", .type = "counter"};
  m->families[OC_METRIC_SHADOW_FORECASTS] = (metric_family){
      .name = "oilcast_shadow_forecasts_total", .help = "Shadow challengers' forecasts beside invocations, by outcome.", .type = "counter"};
  clock_gettime(CLOCK_REALTIME, &m->started);
  return m;
}

void oc_metrics_free(oc_metrics *m) {
  if (!m) return;
  for (size_t f = 0; f < OC_METRIC_FAMILY_COUNT; f++) {
    for (size_t i = 0; i < m->families[f].count; i++) free(m->families[f].entries[i].labels);
    free(m->families[f].entries);
  }
  oc_lock_destroy(&m->lock);
  free(m->stats);
  free(m);
}

void oc_metrics_observe_request(oc_metrics *m, size_t route_index, int status, double seconds) {
  assert(route_index <= m->route_count);
  route_stats *s = &m->stats[route_index];
  if (status >= STATUS_MIN && status < STATUS_MIN + STATUS_SPAN) {
    atomic_fetch_add_explicit(&s->by_status[status - STATUS_MIN], 1, memory_order_relaxed);
  }
  size_t b = 0;
  while (b < BUCKET_COUNT && seconds > latency_buckets[b]) b++;
  atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->sum_ns, (uint64_t)(seconds * 1e9), memory_order_relaxed);
  atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

void oc_metrics_escape_label(oc_buf *out, const char *s) {
  for (; *s; s++) {
    if (*s == '\\' || *s == '"') {
      oc_buf_putc(out, '\\');
      oc_buf_putc(out, *s);
    } else if (*s == '\n') {
      oc_buf_puts(out, "\\n");
    } else {
      oc_buf_putc(out, *s);
    }
  }
}

/* The entry of family f with these preformatted labels, created at 0 when new (then taking key's
 * bytes). Caller holds m->lock. */
static family_entry *entry_locked(oc_metrics *m, metric_family *f, oc_buf *key) {
  assert(oc_lock_held(&m->lock));
  for (size_t i = 0; i < f->count; i++)
    if (strcmp(f->entries[i].labels, key->data) == 0) return &f->entries[i];
  oc_xgrow((void **)&f->entries, &f->cap, f->count + 1, sizeof *f->entries);
  family_entry *e = &f->entries[f->count++];
  *e = (family_entry){.labels = oc_buf_steal(key), .value = 0};
  return e;
}

static void update_family(oc_metrics *m, oc_metric_family_id id, double value, bool add, size_t label_count,
                          const char *const *labels) {
  assert(id < OC_METRIC_FAMILY_COUNT);
  oc_buf key = {0};
  oc_buf_puts(&key, "");
  for (size_t i = 0; i < label_count; i++) {
    assert(labels[2 * i] != NULL); /* a name for every pair; a NULL value is written as "" */
    oc_buf_printf(&key, "%s%s=\"", i ? "," : "", labels[2 * i]);
    oc_metrics_escape_label(&key, labels[2 * i + 1] ? labels[2 * i + 1] : "");
    oc_buf_putc(&key, '"');
  }
  oc_lock_acquire(&m->lock);
  family_entry *e = entry_locked(m, &m->families[id], &key);
  e->value = add ? e->value + value : value;
  e->refresh = m->families[id].refresh;
  oc_lock_release(&m->lock);
  oc_buf_free(&key);
}

void oc_metrics_add(oc_metrics *m, oc_metric_family_id family, double delta, size_t label_count,
                    const char *const *labels) {
  update_family(m, family, delta, true, label_count, labels);
}

void oc_metrics_set(oc_metrics *m, oc_metric_family_id family, double value, size_t label_count,
                    const char *const *labels) {
  update_family(m, family, value, false, label_count, labels);
}

uint64_t oc_metrics_refresh_begin(oc_metrics *m, oc_metric_family_id family) {
  assert(family < OC_METRIC_FAMILY_COUNT);
  oc_lock_acquire(&m->lock);
  uint64_t refresh = ++m->families[family].refresh;
  oc_lock_release(&m->lock);
  return refresh;
}

void oc_metrics_refresh_end(oc_metrics *m, oc_metric_family_id family, uint64_t refresh) {
  assert(family < OC_METRIC_FAMILY_COUNT);
  oc_lock_acquire(&m->lock);
  metric_family *f = &m->families[family];
  size_t kept = 0;
  for (size_t i = 0; i < f->count; i++) {
    if (f->entries[i].refresh < refresh) free(f->entries[i].labels);
    else f->entries[kept++] = f->entries[i];
  }
  f->count = kept;
  oc_lock_release(&m->lock);
}

size_t oc_process_rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  int n = fscanf(f, "%lu %lu", &size, &resident);
  fclose(f);
  if (n != 2) return 0;
  return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static void route_labels(oc_buf *out, const oc_metrics *m, size_t r) {
  if (r == m->route_count) {
    oc_buf_puts(out, "method=\"\",route=\"unmatched\"");
    return;
  }
  oc_buf_printf(out, "method=\"%s\",route=\"", m->routes[r].method);
  oc_metrics_escape_label(out, m->routes[r].pattern);
  oc_buf_putc(out, '"');
}

static void render_requests(oc_metrics *m, oc_buf *out) {
  oc_buf_puts(out, "# HELP oilcast_http_requests_total HTTP requests by route and status.\n"
                   "# TYPE oilcast_http_requests_total counter\n");
  for (size_t r = 0; r <= m->route_count; r++) {
    for (int s = 0; s < STATUS_SPAN; s++) {
      uint64_t v = atomic_load_explicit(&m->stats[r].by_status[s], memory_order_relaxed);
      if (!v) continue;
      oc_buf_puts(out, "oilcast_http_requests_total{");
      route_labels(out, m, r);
      oc_buf_printf(out, ",status=\"%d\"} %llu\n", s + STATUS_MIN, (unsigned long long)v);
    }
  }
  oc_buf_puts(out, "# HELP oilcast_http_request_duration_seconds Time from request start to response queued.\n"
                   "# TYPE oilcast_http_request_duration_seconds histogram\n");
  for (size_t r = 0; r <= m->route_count; r++) {
    route_stats *s = &m->stats[r];
    uint64_t count = atomic_load_explicit(&s->count, memory_order_relaxed);
    if (!count) continue;
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= BUCKET_COUNT; b++) {
      cumulative += atomic_load_explicit(&s->buckets[b], memory_order_relaxed);
      oc_buf_puts(out, "oilcast_http_request_duration_seconds_bucket{");
      route_labels(out, m, r);
      if (b < BUCKET_COUNT) oc_buf_printf(out, ",le=\"%g\"} %llu\n", latency_buckets[b], (unsigned long long)cumulative);
      else oc_buf_printf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
    }
    oc_buf_puts(out, "oilcast_http_request_duration_seconds_sum{");
    route_labels(out, m, r);
    oc_buf_printf(out, "} %.9f\n", (double)atomic_load_explicit(&s->sum_ns, memory_order_relaxed) * 1e-9);
    oc_buf_puts(out, "oilcast_http_request_duration_seconds_count{");
    route_labels(out, m, r);
    /* count may lag the buckets by in-progress observations; report the buckets' total for consistency */
    oc_buf_printf(out, "} %llu\n", (unsigned long long)cumulative);
  }
}

void oc_metrics_render(oc_metrics *m, oc_buf *out) {
  render_requests(m, out);
  oc_lock_acquire(&m->lock);
  for (size_t id = 0; id < OC_METRIC_FAMILY_COUNT; id++) {
    metric_family *f = &m->families[id];
    oc_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
    for (size_t i = 0; i < f->count; i++) {
      /* a live relMAE over a zero naive error is NaN: written the way Prometheus spells it */
      double v = f->entries[i].value;
      char value[OC_NUMBER_STRLEN];
      oc_buf_printf(out, "%s{%s} %s\n", f->name, f->entries[i].labels,
                    isnan(v) ? "NaN" : isinf(v) ? (v > 0 ? "+Inf" : "-Inf") : oc_format_number(v, value));
    }
  }
  oc_lock_release(&m->lock);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  double start = (double)m->started.tv_sec + (double)m->started.tv_nsec * 1e-9;
  double uptime = (double)now.tv_sec + (double)now.tv_nsec * 1e-9 - start;
  oc_buf_printf(out,
                "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                "# TYPE process_resident_memory_bytes gauge\n"
                "process_resident_memory_bytes %zu\n"
                "# HELP process_start_time_seconds Start time of the process since the Unix epoch.\n"
                "# TYPE process_start_time_seconds gauge\n"
                "process_start_time_seconds %.3f\n"
                "# HELP oilcast_uptime_seconds Seconds since the server started.\n"
                "# TYPE oilcast_uptime_seconds gauge\n"
                "oilcast_uptime_seconds %.3f\n",
                oc_process_rss_bytes(), start, uptime);
}
