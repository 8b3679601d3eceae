/* backtest.c: the backtest pipeline step (backtest.h): store -> origin window -> oc_backtest_run (or
 * oc_backtest_by_year) -> the saved result document. Must not print; the metrics belong to
 * model/backtest.c and model/backtest_years.c. */
#include "pipeline/backtest.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "model/forecaster.h"
#include "pipeline/pipeline.h"

void oc_pipeline_backtest_options_default(oc_pipeline_backtest_options *o) {
  *o = (oc_pipeline_backtest_options){.series = "WTI", .models = OC_PIPELINE_BACKTEST_DEFAULT_MODELS,
                                      .start = OC_DATE_INVALID, .end = OC_DATE_INVALID, .horizon = 7,
                                      .refit_every = 20, .save = true, .from_year = 2015, .to_year = 2024};
}

/* The model specs of o, each with --exog applied (oc_model_spec_with_exog); free with specs_free. */
static char **model_specs(const oc_pipeline_backtest_options *o, size_t *n) {
  oc_pipeline_list models;
  oc_pipeline_list_split(o->models, &models);
  char **specs = oc_xcalloc(models.n + 1, sizeof *specs);
  for (size_t i = 0; i < models.n; i++) specs[i] = oc_model_spec_with_exog(models.items[i], o->exog);
  *n = models.n;
  oc_pipeline_list_free(&models);
  return specs;
}

static void specs_free(char **specs, size_t n) {
  for (size_t i = 0; i < n; i++) free(specs[i]);
  free(specs);
}

int oc_pipeline_backtest_check(const oc_pipeline_backtest_options *o, oc_error *err) {
  assert(o->series && o->models);
  size_t n;
  char **specs = model_specs(o, &n);
  int rc = n == 0 ? oc_pipeline_bad_option(err, "the model list '%s' names no model", o->models) : 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    oc_forecaster *f = oc_forecaster_create(specs[i], err);
    if (!f) rc = OC_PIPELINE_BAD_OPTION;
    oc_forecaster_free(f);
    for (size_t j = 0; rc == 0 && j < i; j++)
      if (strcmp(specs[j], specs[i]) == 0)
        rc = oc_pipeline_bad_option(err, "the model list '%s' names %s twice", o->models, specs[i]);
  }
  specs_free(specs, n);
  if (rc != 0) return rc;
  if (o->horizon < 1 || o->horizon > OC_FORECAST_MAX_HORIZON)
    return oc_pipeline_bad_option(err, "backtest: horizon %zu outside 1..%d", o->horizon, OC_FORECAST_MAX_HORIZON);
  if (o->refit_every < 1) return oc_pipeline_bad_option(err, "backtest: refit-every must be at least 1");
  if (o->by_year && (o->start != OC_DATE_INVALID || o->end != OC_DATE_INVALID))
    return oc_pipeline_bad_option(err, "backtest by year: the years set the windows (--from-year, --to-year), not --start/--end");
  if (o->by_year && (o->from_year < 1900 || o->to_year > 9999 || o->from_year > o->to_year))
    return oc_pipeline_bad_option(err, "backtest by year: %d..%d is not a range of years", o->from_year, o->to_year);
  if (o->start != OC_DATE_INVALID && o->end != OC_DATE_INVALID && o->start > o->end) {
    char start[OC_DATE_STRLEN], end[OC_DATE_STRLEN];
    oc_date_format(o->start, start);
    oc_date_format(o->end, end);
    return oc_pipeline_bad_option(err, "the start date %s is after the end date %s", start, end);
  }
  return 0;
}

/* The run's configuration; unset origin dates become those of the last default-many origins that
 * have `horizon` observations after them (left unset when there is none: the run says why). */
static oc_backtest_config window(const oc_series *s, const oc_pipeline_backtest_options *o) {
  oc_backtest_config cfg = {.start = o->start, .end = o->end, .horizon = o->horizon, .refit_every = o->refit_every,
                            .threads = o->threads, .on_progress = o->on_progress, .progress_ctx = o->progress_ctx};
  if (s->n > cfg.horizon + 1) {
    size_t last = s->n - 1 - cfg.horizon;
    size_t first = last >= OC_PIPELINE_BACKTEST_DEFAULT_ORIGINS - 1 ? last - (OC_PIPELINE_BACKTEST_DEFAULT_ORIGINS - 1) : 0;
    if (cfg.end == OC_DATE_INVALID) cfg.end = s->dates[last];
    if (cfg.start == OC_DATE_INVALID) cfg.start = s->dates[first];
  }
  return cfg;
}

int oc_pipeline_models_exogs(const char *const *specs, size_t n_specs, oc_series_memo *memo, oc_series **out, size_t *nexog,
                             oc_error *err) {
  oc_series *exogs = NULL;
  size_t n = 0;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n_specs; i++) {
    oc_forecaster *f = oc_forecaster_create(specs[i], err);
    const char *const *names;
    size_t k = f ? oc_forecaster_exogs(f, &names) : 0;
    rc = f ? 0 : -1;
    for (size_t j = 0; rc == 0 && j < k; j++) {
      bool have = false;
      for (size_t e = 0; e < n; e++) have |= strcmp(exogs[e].name, names[j]) == 0;
      if (have) continue;
      const oc_series *x = oc_series_memo_get(memo, names[j], err);
      if (!x) {
        rc = oc_error_prefix(err, "%s reads series %s: ", specs[i], names[j]);
        break;
      }
      exogs = oc_xrealloc(exogs, (n + 1) * sizeof *exogs);
      exogs[n++] = *x;
    }
    oc_forecaster_free(f);
  }
  *out = exogs;
  *nexog = n;
  return rc;
}

/* Saves the result document (oc_backtest_to_json) with the run's summary columns. */
static int save(oc_store *store, const oc_pipeline_backtest_options *o, oc_pipeline_backtest_result *out,
                oc_error *err) {
  const oc_backtest_result *r = &out->run;
  json_t *doc = oc_backtest_to_json(r, out->created_at_iso);
  char *text = oc_json_dumps(doc, OC_JSON_COMPACT);
  json_decref(doc);
  oc_backtest_record rec = {.series = r->series, .start = r->start, .end = r->end, .horizon = (int64_t)r->horizon,
                            .refit_every = (int64_t)r->refit_every, .origins = (int64_t)r->n_origins,
                            .models = (char *)o->models, .created_at = out->created_at, .result_json = text};
  int rc = oc_store_backtest_save(store, &rec, err);
  free(text);
  if (rc == 0) out->saved_id = rec.id;
  return rc;
}

/* Saves the by-year report document (oc_backtest_years_to_json, what --format json prints) with its
 * configuration as given. */
static int save_years(oc_store *store, const oc_pipeline_backtest_options *o, oc_pipeline_backtest_result *out,
                      oc_error *err) {
  json_t *doc = oc_backtest_years_to_json(&out->years, out->created_at_iso);
  char *text = oc_json_dumps(doc, OC_JSON_COMPACT);
  json_decref(doc);
  oc_backtest_years_record rec = {.series = (char *)o->series, .created_at = out->created_at,
                                  .models = (char *)o->models, .exog = (char *)(o->exog ? o->exog : ""),
                                  .horizon = (int64_t)o->horizon, .refit_every = (int64_t)o->refit_every,
                                  .from_year = o->from_year, .to_year = o->to_year, .report_json = text};
  int rc = oc_store_backtest_years_save(store, &rec, err);
  free(text);
  if (rc == 0) out->saved_id = rec.id;
  return rc;
}

int oc_pipeline_backtest(const char *data_dir, oc_store *store, const oc_pipeline_backtest_options *opt,
                         oc_pipeline_backtest_result *out, oc_error *err) {
  assert(store && opt && out);
  memset(out, 0, sizeof *out);
  int bad = oc_pipeline_backtest_check(opt, err);
  if (bad != 0) return bad;
  oc_series s = {0};
  if (oc_store_series_load(store, opt->series, OC_DATE_INVALID, OC_DATE_INVALID, &s, err) != 0) return -1;
  size_t n_specs;
  char **specs = model_specs(opt, &n_specs);
  oc_backtest_config cfg = window(&s, opt);
  oc_series_memo memo = {.store = store};
  oc_series *exogs;
  int rc = oc_pipeline_models_exogs((const char *const *)specs, n_specs, &memo, &exogs, &cfg.nexog, err);
  cfg.exogs = exogs;
  oc_info("backtest %s: %zu models, %zu other series, horizon %zu, refit every %zu", opt->series, n_specs, cfg.nexog,
          cfg.horizon, cfg.refit_every);
  if (rc == 0 && opt->by_year)
    rc = oc_backtest_by_year(&s, (const char *const *)specs, n_specs, &cfg, opt->from_year, opt->to_year, &out->years, err);
  else if (rc == 0)
    rc = oc_backtest_run(&s, (const char *const *)specs, n_specs, &cfg, &out->run, err);
  free(exogs);
  oc_series_memo_free(&memo);
  specs_free(specs, n_specs);
  oc_series_free(&s);
  oc_model_types_release_caches(); /* a server runs backtests now and then: nothing stays for the next */
  if (rc == 0) {
    out->created_at = (int64_t)time(NULL);
    oc_timestamp_format(out->created_at, out->created_at_iso);
    if (opt->save) rc = opt->by_year ? save_years(store, opt, out, err) : save(store, opt, out, err);
  }
  if (rc != 0) oc_pipeline_backtest_result_free(out);
  return rc;
}

void oc_pipeline_backtest_result_free(oc_pipeline_backtest_result *r) {
  oc_backtest_result_free(&r->run);
  oc_backtest_years_free(&r->years);
  memset(r, 0, sizeof *r);
}
