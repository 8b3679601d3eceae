/* health.c: see health.h. */
#include "monitor/health.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/fsutil.h"
#include "monitor/score.h"
#include "schedule/jobs.h"

int oc_monitor_staleness(oc_store *store, int64_t now, oc_series_staleness **rows, size_t *n, oc_error *err) {
  oc_series_info *list;
  size_t count;
  *rows = NULL;
  *n = 0;
  if (oc_store_series_list(store, &list, &count, err) != 0) return -1;
  oc_date expected = oc_calendar_previous_trading_day((oc_date)(now / 86400));
  oc_series_staleness *out = calloc(count ? count : 1, sizeof *out);
  size_t m = 0;
  for (size_t i = 0; i < count; i++) {
    if (list[i].count == 0) continue;
    oc_series_staleness *r = &out[m++];
    snprintf(r->series, sizeof r->series, "%s", list[i].name);
    r->last = list[i].last;
    r->expected = expected;
    int behind = oc_calendar_trading_days_between(list[i].last, expected);
    r->behind = behind > 0 ? behind : 0;
  }
  oc_series_info_list_free(list, count);
  *rows = out;
  *n = m;
  return 0;
}

json_t *oc_series_staleness_json(const oc_series_staleness *row) {
  char last[OC_DATE_STRLEN], expected[OC_DATE_STRLEN];
  return json_pack("{s:s, s:s, s:s, s:I}", "series", row->series, "last_date", oc_date_format(row->last, last),
                   "expected_date", oc_date_format(row->expected, expected), "trading_days_behind",
                   (json_int_t)row->behind);
}

int oc_monitor_job_failures(oc_store *store, oc_job_failures **rows, size_t *n, oc_error *err) {
  return oc_store_job_failures(store, rows, n, err);
}

/* Keeps the rows of jobs data_dir's jobs file defines: a job taken out of it never runs again, and its
 * last failure would stay a failure for ever. A file that does not parse keeps every row (the
 * scheduler and `jobs check` name its error; the figures must not hide a failure meanwhile). */
static void keep_scheduled_jobs(const char *data_dir, oc_job_failures *rows, size_t *n) {
  char *path = oc_path_join(data_dir, OC_JOBS_FILE);
  oc_jobs jobs;
  oc_error err;
  int rc = oc_jobs_read(path, &jobs, &err);
  free(path);
  if (rc != 0) return;
  size_t kept = 0;
  for (size_t i = 0; i < *n; i++)
    if (oc_jobs_find(&jobs, rows[i].job)) rows[kept++] = rows[i];
  *n = kept;
  oc_jobs_free(&jobs);
}

static const char *const score_labels[] = {"series", "endpoint", "variant", "model_version", "horizon", "window", NULL};
static const char *const series_labels[] = {"series", NULL};
static const char *const job_labels[] = {"job", NULL};
static const char *const drift_label_names[] = {"series", "model_version", "feature", NULL};

const oc_figure_kind oc_monitor_figure_kinds[] = {
    {"oilcast_forecast_rel_mae", score_labels},
    {"oilcast_forecast_coverage80", score_labels},
    {"oilcast_forecast_coverage95", score_labels},
    {"oilcast_forecast_bias", score_labels},
    {"oilcast_series_staleness_trading_days", series_labels},
    {"oilcast_job_consecutive_failures", job_labels},
    {"oilcast_feature_psi", drift_label_names},
    {"oilcast_feature_ks", drift_label_names},
    {NULL, NULL}};

const char *const *oc_monitor_figure_labels(const char *metric) {
  for (size_t i = 0; oc_monitor_figure_kinds[i].metric; i++)
    if (strcmp(oc_monitor_figure_kinds[i].metric, metric) == 0) return oc_monitor_figure_kinds[i].labels;
  return NULL;
}

/* Whether labels has exactly the names of its figure kind (what rules match on); asserted only. */
__attribute__((unused)) static bool labels_of_kind(const char *metric, const json_t *labels) {
  const char *const *names = oc_monitor_figure_labels(metric);
  size_t n = 0;
  while (names && names[n]) {
    if (!json_object_get(labels, names[n])) return false;
    n++;
  }
  return names && json_object_size(labels) == n;
}

static void add_figure(oc_figures *f, size_t *cap, const char *metric, json_t *labels, double value) {
  assert(labels_of_kind(metric, labels));
  oc_xgrow((void **)&f->items, cap, f->n + 1, sizeof *f->items);
  f->items[f->n++] = (oc_figure){metric, labels, value};
}

static int add_scores(oc_store *store, oc_figures *out, size_t *cap, oc_error *err) {
  oc_monitor_options o = oc_monitor_options_default();
  oc_monitor_result r;
  if (oc_monitor_performance(store, &o, &r, err) != 0) return -1;
  if (oc_monitor_keep_serving(store, &r, err) != 0) {
    oc_monitor_result_free(&r);
    return -1;
  }
  for (size_t i = 0; i < r.n; i++) {
    const oc_forecast_performance *p = &r.rows[i].perf;
    const oc_forecast_line *l = &p->line;
    char horizon[24], window[24];
    snprintf(horizon, sizeof horizon, "%lld", (long long)l->horizon);
    snprintf(window, sizeof window, "%zu", r.rows[i].window);
    const struct {
      const char *metric;
      double value;
    } figures[] = {{"oilcast_forecast_rel_mae", r.rows[i].rel_mae},
                   {"oilcast_forecast_coverage80", p->coverage80},
                   {"oilcast_forecast_coverage95", p->coverage95},
                   {"oilcast_forecast_bias", p->bias}};
    for (size_t k = 0; k < sizeof figures / sizeof figures[0]; k++)
      add_figure(out, cap, figures[k].metric,
                 json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "series", l->series, "endpoint", l->endpoint, "variant",
                           l->variant, "model_version", l->model_version, "horizon", horizon, "window", window),
                 figures[k].value);
  }
  oc_monitor_result_free(&r);
  return 0;
}

static json_t *drift_labels(const oc_feature_drift *d) {
  return json_pack("{s:s, s:s, s:s}", "series", d->series, "model_version", d->model_version, "feature", d->feature);
}

int oc_monitor_health_read(const char *data_dir, oc_store *store, int64_t now, oc_monitor_health *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  if (oc_monitor_staleness(store, now, &out->stale, &out->nstale, err) != 0 ||
      oc_monitor_job_failures(store, &out->jobs, &out->njobs, err) != 0 ||
      oc_monitor_drift(data_dir, store, OC_DRIFT_RECENT_DEFAULT, &out->drift, &out->ndrift, &out->unmeasured,
                       &out->nunmeasured, err) != 0) {
    oc_monitor_health_free(out);
    return -1;
  }
  keep_scheduled_jobs(data_dir, out->jobs, &out->njobs);
  return 0;
}

json_t *oc_monitor_health_json(const oc_monitor_health *h) {
  json_t *series = json_array(), *jobs = json_array(), *drift = json_array();
  for (size_t i = 0; i < h->nstale; i++) json_array_append_new(series, oc_series_staleness_json(&h->stale[i]));
  for (size_t i = 0; i < h->njobs; i++)
    json_array_append_new(jobs, json_pack("{s:s, s:I}", "job", h->jobs[i].job, "consecutive_failures",
                                          (json_int_t)h->jobs[i].consecutive));
  for (size_t i = 0; i < h->ndrift; i++) json_array_append_new(drift, oc_feature_drift_json(&h->drift[i]));
  json_t *unmeasured = json_array();
  for (size_t i = 0; i < h->nunmeasured; i++)
    json_array_append_new(unmeasured, json_pack("{s:s, s:s}", "model_version", h->unmeasured[i].model_version, "error",
                                                 h->unmeasured[i].error));
  return json_pack("{s:o, s:o, s:o, s:o}", "series", series, "jobs", jobs, "drift", drift, "drift_unmeasured",
                   unmeasured);
}

void oc_monitor_health_free(oc_monitor_health *h) {
  free(h->stale);
  free(h->jobs);
  free(h->drift);
  free(h->unmeasured);
  memset(h, 0, sizeof *h);
}

int oc_monitor_figures(const char *data_dir, oc_store *store, int64_t now, oc_figures *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  size_t cap = 0;
  oc_monitor_health h;
  if (add_scores(store, out, &cap, err) != 0 || oc_monitor_health_read(data_dir, store, now, &h, err) != 0) {
    oc_figures_free(out);
    return -1;
  }
  for (size_t i = 0; i < h.nstale; i++)
    add_figure(out, &cap, "oilcast_series_staleness_trading_days", json_pack("{s:s}", "series", h.stale[i].series),
               (double)h.stale[i].behind);
  for (size_t i = 0; i < h.njobs; i++)
    add_figure(out, &cap, "oilcast_job_consecutive_failures", json_pack("{s:s}", "job", h.jobs[i].job),
               (double)h.jobs[i].consecutive);
  for (size_t i = 0; i < h.ndrift; i++) {
    add_figure(out, &cap, "oilcast_feature_psi", drift_labels(&h.drift[i]), h.drift[i].psi);
    add_figure(out, &cap, "oilcast_feature_ks", drift_labels(&h.drift[i]), h.drift[i].ks);
  }
  oc_monitor_health_free(&h);
  return 0;
}

void oc_figures_free(oc_figures *figures) {
  for (size_t i = 0; i < figures->n; i++) json_decref(figures->items[i].labels);
  free(figures->items);
  memset(figures, 0, sizeof *figures);
}
