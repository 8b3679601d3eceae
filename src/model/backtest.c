/* backtest.c: walk-forward backtest engine and its metrics (see backtest.h and docs/evaluation.md).
 * Work is split into (model, block of refit_every origins) tasks pulled by worker threads from an
 * atomic counter; each task writes only its own slots, so the result does not depend on the thread
 * count or scheduling. Must not read past an origin when forecasting from it: every forecaster call
 * gets a view of the series truncated at the origin. */
#include "model/backtest.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/csv.h"
#include "core/json.h"
#include "model/fc_stats.h"
#include "model/train.h"

typedef struct task_queue {
  const oc_series *series;
  const char *const *specs; /* n_models, the last may be the hidden naive baseline */
  size_t n_models, n_blocks, refit_every, horizon;
  const oc_backtest_result *res;
  const oc_backtest_config *cfg;
  size_t done; /* tasks finished, under lock */
  oc_price_forecast *forecasts; /* n_models * n_origins */
  atomic_size_t next;
  atomic_bool failed;
  pthread_mutex_t lock;
  size_t failed_task; /* lowest failing task, for a deterministic message */
  oc_error error;
} task_queue;

/* The series of cfg->exogs named by f (views into them, in f's order) in views[0..k); -1 with err when
 * one is missing. */
static int find_exogs(const task_queue *q, const oc_forecaster *f, const oc_series **found, size_t *k, oc_error *err) {
  const char *const *names;
  *k = oc_forecaster_exogs(f, &names);
  if (*k > OC_BACKTEST_MAX_EXOGS)
    return oc_error_set(err, "%s reads %zu other series, more than %d", oc_forecaster_name(f), *k, OC_BACKTEST_MAX_EXOGS);
  for (size_t i = 0; i < *k; i++) {
    found[i] = NULL;
    for (size_t j = 0; j < q->cfg->nexog && !found[i]; j++)
      if (q->cfg->exogs[j].name && strcmp(q->cfg->exogs[j].name, names[i]) == 0) found[i] = &q->cfg->exogs[j];
    if (!found[i]) return oc_error_set(err, "%s reads the series %s, which the backtest was not given", oc_forecaster_name(f), names[i]);
  }
  return 0;
}

static int run_block(task_queue *q, size_t model, size_t block, oc_error *err) {
  const oc_backtest_result *r = q->res;
  size_t first = block * q->refit_every, last = first + q->refit_every;
  if (last > r->n_origins) last = r->n_origins;
  oc_forecaster *f = oc_forecaster_create(q->specs[model], err);
  if (!f) return -1;
  const oc_series *exog_full[OC_BACKTEST_MAX_EXOGS];
  oc_series exog_view[OC_BACKTEST_MAX_EXOGS];
  size_t nexog = 0;
  int rc = find_exogs(q, f, exog_full, &nexog, err);
  oc_series view = *q->series;
  for (size_t o = first; o < last && rc == 0; o++) {
    view.n = r->origin_index[o] + 1;
    /* the alignment rule of docs/evaluation.md: an exog value dated after the origin is not handed over */
    for (size_t i = 0; i < nexog; i++) exog_view[i] = oc_series_view_until(exog_full[i], r->origin_dates[o]);
    const oc_series *exogs = nexog ? exog_view : NULL;
    rc = o == first ? oc_forecaster_fit(f, &view, exogs, err) : oc_forecaster_update(f, &view, exogs, err);
    if (rc == 0) rc = oc_forecaster_predict(f, q->horizon, &q->forecasts[model * r->n_origins + o], err);
    if (rc < 0) {
      char date[OC_DATE_STRLEN];
      oc_error_prefix(err, "%s at origin %s: ", q->specs[model], oc_date_format(r->origin_dates[o], date));
    }
  }
  oc_forecaster_free(f);
  return rc;
}

static void *worker(void *arg) {
  task_queue *q = arg;
  size_t total = q->n_models * q->n_blocks;
  for (;;) {
    size_t t = atomic_fetch_add(&q->next, 1);
    if (t >= total || atomic_load(&q->failed)) break;
    oc_error err = {0};
    /* block-major order: every model's first blocks start early, slow kinds do not queue last */
    if (run_block(q, t % q->n_models, t / q->n_models, &err) == 0) {
      pthread_mutex_lock(&q->lock);
      q->done++;
      if (q->cfg->on_progress) q->cfg->on_progress(q->cfg->progress_ctx, q->done, total);
      pthread_mutex_unlock(&q->lock);
    } else {
      pthread_mutex_lock(&q->lock);
      if (!atomic_load(&q->failed) || t < q->failed_task) {
        q->failed_task = t;
        q->error = err;
      }
      atomic_store(&q->failed, true);
      pthread_mutex_unlock(&q->lock);
    }
  }
  return NULL;
}

double oc_diebold_mariano_p(const double *d, size_t n, size_t h) {
  if (n < 2) return NAN;
  double mean = 0;
  for (size_t i = 0; i < n; i++) mean += d[i];
  mean /= (double)n;
  double var = 0;
  for (size_t k = 0; k < h && k < n; k++) {
    double g = 0;
    for (size_t t = k; t < n; t++) g += (d[t] - mean) * (d[t - k] - mean);
    g /= (double)n;
    var += k == 0 ? g : 2 * (1 - (double)k / (double)h) * g;
  }
  if (!(var > 0)) return mean == 0 ? 1.0 : 0.0;
  double dm = mean / sqrt(var / (double)n);
  double nn = (double)n, hh = (double)h;
  double hln = sqrt((nn + 1 - 2 * hh + hh * (hh - 1) / nn) / nn);
  return oc_student_t_two_sided_p(dm * hln, nn - 1);
}

/* Fills the rows of model m (naive_m = the naive baseline's model index). */
static void compute_rows(oc_backtest_result *r, const oc_series *s, size_t m, size_t naive_m, const char *name) {
  size_t n = r->n_origins;
  double *d = oc_xmalloc(n * sizeof *d);
  for (size_t h = 1; h <= r->horizon; h++) {
    oc_backtest_row *row = &r->rows[m * r->horizon + h - 1];
    memset(row, 0, sizeof *row);
    snprintf(row->model, sizeof row->model, "%s", name);
    row->horizon = h;
    row->origins = n;
    double sae = 0, sse = 0, sape = 0, hits = 0, in80 = 0, in95 = 0, width = 0, winkler = 0, naive_sae = 0;
    for (size_t o = 0; o < n; o++) {
      size_t i = r->origin_index[o];
      const oc_price_forecast *fc = &r->forecasts[m * n + o], *nv = &r->forecasts[naive_m * n + o];
      double y = s->values[i + h], y0 = s->values[i], f = fc->mean[h - 1];
      double e = y - f, ae = fabs(e), ne = fabs(y - nv->mean[h - 1]);
      sae += ae;
      sse += e * e;
      sape += ae / fabs(y);
      naive_sae += ne;
      d[o] = ae - ne;
      double pred_move = f - y0, move = y - y0;
      hits += pred_move == 0 ? 0.5 : (pred_move > 0 && move > 0) || (pred_move < 0 && move < 0) ? 1.0 : 0.0;
      double lo = fc->lo80[h - 1], hi = fc->hi80[h - 1];
      in80 += y >= lo && y <= hi;
      in95 += y >= fc->lo95[h - 1] && y <= fc->hi95[h - 1];
      width += hi - lo;
      winkler += (hi - lo) + (y < lo ? (lo - y) * 2 / 0.2 : 0) + (y > hi ? (y - hi) * 2 / 0.2 : 0);
    }
    double dn = (double)n;
    row->mae = sae / dn;
    row->rmse = sqrt(sse / dn);
    row->mape = 100 * sape / dn;
    row->mase = row->mae / r->mase_scale;
    row->rel_mae = naive_sae > 0 ? sae / naive_sae : (sae == 0 ? 1.0 : INFINITY);
    row->direction_hit = hits / dn;
    row->coverage80 = in80 / dn;
    row->coverage95 = in95 / dn;
    row->width80 = width / dn;
    row->winkler80 = winkler / dn;
    row->dm_pvalue = oc_diebold_mariano_p(d, n, h);
  }
  free(d);
}

static size_t default_threads(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (size_t)n : 1;
}

int oc_backtest_run(const oc_series *s, const char *const *specs, size_t n_specs, const oc_backtest_config *cfg,
                    oc_backtest_result *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  if (n_specs == 0) return oc_error_set(err, "backtest: no models given");
  if (cfg->horizon < 1 || cfg->horizon > OC_FORECAST_MAX_HORIZON)
    return oc_error_set(err, "backtest: horizon %zu outside 1..%d", cfg->horizon, OC_FORECAST_MAX_HORIZON);
  if (cfg->refit_every < 1) return oc_error_set(err, "backtest: refit-every must be at least 1");
  /* validate every spec up front so a typo fails before any work */
  size_t naive_m = n_specs;
  for (size_t m = 0; m < n_specs; m++) {
    oc_forecaster *f = oc_forecaster_create(specs[m], err);
    if (!f) return -1;
    if (naive_m == n_specs && strcmp(specs[m], "naive") == 0) naive_m = m;
    oc_forecaster_free(f);
  }
  size_t n_models = n_specs + (naive_m == n_specs ? 1 : 0);
  const char **all = oc_xmalloc(n_models * sizeof *all);
  for (size_t m = 0; m < n_specs; m++) all[m] = specs[m];
  all[n_models - 1] = naive_m == n_specs ? "naive" : all[n_models - 1];

  out->series = oc_xstrdup(s->name ? s->name : "");
  out->start = cfg->start;
  out->end = cfg->end;
  out->horizon = cfg->horizon;
  out->refit_every = cfg->refit_every;
  out->origin_index = oc_xmalloc((s->n ? s->n : 1) * sizeof *out->origin_index);
  out->origin_dates = oc_xmalloc((s->n ? s->n : 1) * sizeof *out->origin_dates);
  for (size_t i = 0; i + cfg->horizon < s->n; i++)
    if (s->dates[i] >= cfg->start && s->dates[i] <= cfg->end) {
      out->origin_index[out->n_origins] = i;
      out->origin_dates[out->n_origins++] = s->dates[i];
    }
  if (out->n_origins < 2) {
    char a[OC_DATE_STRLEN], b[OC_DATE_STRLEN];
    oc_error_set(err, "backtest: %zu origins in %s..%s with %zu observations after them (series %s has %zu observations); need at least 2",
                 out->n_origins, oc_date_format(cfg->start, a), oc_date_format(cfg->end, b), cfg->horizon, out->series, s->n);
    free(all);
    oc_backtest_result_free(out);
    return -1;
  }
  size_t first = out->origin_index[0];
  if (first < 2) {
    oc_error_set(err, "backtest: the first origin needs some history before it (it is observation %zu)", first);
    free(all);
    oc_backtest_result_free(out);
    return -1;
  }
  double scale = 0;
  for (size_t i = 1; i <= first; i++) scale += fabs(s->values[i] - s->values[i - 1]);
  out->mase_scale = scale / (double)first;

  task_queue q = {.series = s, .specs = all, .n_models = n_models, .refit_every = cfg->refit_every,
                  .horizon = cfg->horizon, .res = out, .cfg = cfg};
  q.n_blocks = (out->n_origins + cfg->refit_every - 1) / cfg->refit_every;
  q.forecasts = oc_xcalloc(n_models * out->n_origins, sizeof *q.forecasts);
  atomic_init(&q.next, 0);
  atomic_init(&q.failed, false);
  pthread_mutex_init(&q.lock, NULL);
  size_t threads = cfg->threads ? cfg->threads : default_threads();
  if (threads > n_models * q.n_blocks) threads = n_models * q.n_blocks;
  pthread_t *tids = oc_xmalloc(threads * sizeof *tids);
  size_t started = 0;
  for (size_t t = 1; t < threads; t++)
    if (pthread_create(&tids[t], NULL, worker, &q) == 0) started = t;
    else break;
  worker(&q);
  for (size_t t = 1; t <= started; t++) pthread_join(tids[t], NULL);
  free(tids);
  pthread_mutex_destroy(&q.lock);
  if (atomic_load(&q.failed)) {
    if (err) *err = q.error;
    oc_error_prefix(err, "backtest: ");
    free(q.forecasts);
    free(all);
    oc_backtest_result_free(out);
    return -1;
  }

  out->n_models = n_specs;
  out->models = oc_xmalloc(n_specs * sizeof *out->models);
  for (size_t m = 0; m < n_specs; m++) out->models[m] = oc_xstrdup(specs[m]);
  out->forecasts = q.forecasts;
  out->rows = oc_xcalloc(n_models * cfg->horizon, sizeof *out->rows);
  size_t baseline = naive_m == n_specs ? n_models - 1 : naive_m;
  for (size_t m = 0; m < n_specs; m++) compute_rows(out, s, m, baseline, specs[m]);
  free(all);
  return 0;
}

void oc_backtest_result_free(oc_backtest_result *r) {
  for (size_t m = 0; m < r->n_models; m++) free(r->models[m]);
  free(r->models);
  free(r->series);
  free(r->origin_index);
  free(r->origin_dates);
  free(r->forecasts);
  free(r->rows);
  memset(r, 0, sizeof *r);
}

oc_backtest_summary oc_backtest_summarize(const oc_backtest_result *r, size_t model) {
  oc_backtest_summary sum = {0};
  double mae = 0, naive_mae = 0;
  for (size_t h = 0; h < r->horizon; h++) {
    const oc_backtest_row *row = &r->rows[model * r->horizon + h];
    mae += row->mae;
    naive_mae += row->mae / row->rel_mae;
    sum.coverage80 += row->coverage80 / (double)r->horizon;
    sum.coverage95 += row->coverage95 / (double)r->horizon;
    sum.width80 += row->width80 / (double)r->horizon;
  }
  sum.rel_mae = naive_mae > 0 ? mae / naive_mae : 1.0;
  return sum;
}

/* ---- output -------------------------------------------------------------------------------- */

json_t *oc_backtest_to_json(const oc_backtest_result *r, const char *created_at) {
  char a[OC_DATE_STRLEN], b[OC_DATE_STRLEN], fo[OC_DATE_STRLEN], lo[OC_DATE_STRLEN];
  json_t *rows = json_array(), *summary = json_array();
  for (size_t m = 0; m < r->n_models; m++) {
    for (size_t h = 0; h < r->horizon; h++) {
      const oc_backtest_row *x = &r->rows[m * r->horizon + h];
      json_t *o = json_object();
      json_object_set_new(o, "model", json_string(x->model));
      json_object_set_new(o, "horizon", json_integer((json_int_t)x->horizon));
      json_object_set_new(o, "origins", json_integer((json_int_t)x->origins));
      json_object_set_new(o, "mae", oc_json_number(x->mae));
      json_object_set_new(o, "rmse", oc_json_number(x->rmse));
      json_object_set_new(o, "mape", oc_json_number(x->mape));
      json_object_set_new(o, "mase", oc_json_number(x->mase));
      json_object_set_new(o, "rel_mae", oc_json_number(x->rel_mae));
      json_object_set_new(o, "direction_hit", oc_json_number(x->direction_hit));
      json_object_set_new(o, "coverage80", oc_json_number(x->coverage80));
      json_object_set_new(o, "coverage95", oc_json_number(x->coverage95));
      json_object_set_new(o, "width80", oc_json_number(x->width80));
      json_object_set_new(o, "winkler80", oc_json_number(x->winkler80));
      json_object_set_new(o, "dm_pvalue", oc_json_number(x->dm_pvalue));
      json_array_append_new(rows, o);
    }
    oc_backtest_summary sm = oc_backtest_summarize(r, m);
    json_array_append_new(summary, json_pack("{s:s,s:o,s:o,s:o,s:o}", "model", r->models[m], "rel_mae", oc_json_number(sm.rel_mae),
                                             "coverage80", oc_json_number(sm.coverage80), "coverage95",
                                             oc_json_number(sm.coverage95), "width80", oc_json_number(sm.width80)));
  }
  return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:s,s:o,s:o}", "series", r->series, "start", oc_date_format(r->start, a),
                   "end", oc_date_format(r->end, b), "horizon", (json_int_t)r->horizon, "refit_every",
                   (json_int_t)r->refit_every, "origins", (json_int_t)r->n_origins, "first_origin",
                   oc_date_format(r->origin_dates[0], fo), "last_origin", oc_date_format(r->origin_dates[r->n_origins - 1], lo),
                   "created_at", created_at ? created_at : "", "rows", rows, "summary", summary);
}

static void csv_number(oc_buf *out, double x) {
  char text[OC_NUMBER_STRLEN];
  oc_buf_putc(out, ',');
  if (isfinite(x)) oc_buf_puts(out, oc_format_number(x, text));
}

void oc_backtest_csv_row(oc_buf *out, const oc_backtest_row *x) {
  /* model specs may contain ':' but never ',' or '"' (',' separates specs on the command line) */
  oc_buf_printf(out, "%s,%zu,%zu", x->model, x->horizon, x->origins);
  const double v[] = {x->mae, x->rmse, x->mape, x->mase, x->rel_mae, x->direction_hit, x->coverage80,
                      x->coverage95, x->width80, x->winkler80, x->dm_pvalue};
  for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) csv_number(out, v[k]);
  oc_buf_putc(out, '\n');
}

int oc_backtest_format(const oc_backtest_result *r, const char *format, const char *created_at, oc_buf *out, oc_error *err) {
  if (strcmp(format, "json") == 0) {
    json_t *j = oc_backtest_to_json(r, created_at);
    oc_json_write(out, j, OC_JSON_INDENT);
    json_decref(j);
    oc_buf_putc(out, '\n');
    return 0;
  }
  if (strcmp(format, "csv") == 0) {
    oc_buf_puts(out, OC_BACKTEST_CSV_HEADER "\n");
    for (size_t i = 0; i < r->n_models * r->horizon; i++) oc_backtest_csv_row(out, &r->rows[i]);
    return 0;
  }
  if (strcmp(format, "table") != 0) return oc_error_set(err, "unknown format '%s' (table, csv or json)", format);
  char a[OC_DATE_STRLEN], b[OC_DATE_STRLEN];
  oc_buf_printf(out, "Backtest %s: %zu origins %s..%s, horizons 1..%zu, refit every %zu origins, expanding window\n\n",
                r->series, r->n_origins, oc_date_format(r->origin_dates[0], a),
                oc_date_format(r->origin_dates[r->n_origins - 1], b), r->horizon, r->refit_every);
  int w = 22; /* the model column fits the longest spec */
  for (size_t m = 0; m < r->n_models; m++)
    if ((int)strlen(r->models[m]) > w) w = (int)strlen(r->models[m]);
  oc_buf_printf(out, "%-*s %2s %9s %9s %7s %7s %7s %6s %6s %6s %8s %9s %7s\n", w, "model", "h", "MAE", "RMSE", "MAPE%", "MASE",
                "relMAE", "dir", "cov80", "cov95", "width80", "winkler80", "DM p");
  for (size_t i = 0; i < r->n_models * r->horizon; i++) {
    const oc_backtest_row *x = &r->rows[i];
    oc_buf_printf(out, "%-*s %2zu %9.4f %9.4f %7.3f %7.4f %7.4f %6.3f %6.3f %6.3f %8.3f %9.3f %7.4f\n", w, x->model, x->horizon,
                  x->mae, x->rmse, x->mape, x->mase, x->rel_mae, x->direction_hit, x->coverage80, x->coverage95, x->width80,
                  x->winkler80, x->dm_pvalue);
  }
  oc_buf_printf(out, "\nSummary over horizons 1..%zu (relMAE = sum of MAE / sum of naive MAE)\n", r->horizon);
  oc_buf_printf(out, "%-*s %7s %6s %6s %8s\n", w, "model", "relMAE", "cov80", "cov95", "width80");
  for (size_t m = 0; m < r->n_models; m++) {
    oc_backtest_summary sm = oc_backtest_summarize(r, m);
    oc_buf_printf(out, "%-*s %7.4f %6.3f %6.3f %8.3f\n", w, r->models[m], sm.rel_mae, sm.coverage80, sm.coverage95, sm.width80);
  }
  return 0;
}
