/* backtest.h: the backtest pipeline step (what `oilcast backtest` runs): loads a stored series, picks
 * the window of forecast origins (by default the last 500 with `horizon` observations after them),
 * runs the walk-forward backtest of the named models (model/backtest.h) and saves the result document
 * the dashboard draws (GET /v1/backtests/latest) in the store; or, by_year, the robustness report
 * (model/backtest_years.h), saved as its own record (GET /v1/backtests/years). Nothing is saved unless
 * the run succeeded: a bad option, series or model spec stores nothing. Must not print (the caller
 * formats the result with oc_backtest_format or oc_backtest_years_format) or know about the CLI. */
#ifndef OC_PIPELINE_BACKTEST_H
#define OC_PIPELINE_BACKTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/error.h"
#include "model/backtest.h"
#include "model/backtest_years.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

#define OC_PIPELINE_BACKTEST_DEFAULT_MODELS "naive,drift,mean,ets,ar,ensemble,auto"
#define OC_PIPELINE_BACKTEST_DEFAULT_ORIGINS 500

/* Named oc_pipeline_backtest_* because model/backtest.h owns oc_backtest_config and _result. */
typedef struct oc_pipeline_backtest_options {
  const char *series; /* stored series; default "WTI" */
  const char *models; /* comma-separated model specs (oc_forecaster_create), saved as given;
                       * default OC_PIPELINE_BACKTEST_DEFAULT_MODELS */
  const char *exog;   /* comma-separated stored series given to every model whose kind reads other series
                       * (arx, mlp: oc_model_spec_with_exog) and naming none; NULL (default): none. Series a
                       * spec names itself (arx:exog=Brent) are loaded too. */
  oc_date start, end; /* origin dates; OC_DATE_INVALID (default): the first / last of the last
                       * OC_PIPELINE_BACKTEST_DEFAULT_ORIGINS possible origins */
  size_t horizon;     /* 1..OC_FORECAST_MAX_HORIZON; default 7 */
  size_t refit_every; /* origins between refits, >= 1; default 20 */
  size_t threads;     /* 0 (default) = one per online CPU; results do not depend on it */
  bool save;          /* store the run or the by-year report (default true) */
  /* The robustness report (model/backtest_years.h) instead of one window: one backtest per calendar
   * year from_year..to_year (defaults 2015..2024); start and end must then be unset. */
  bool by_year;
  int from_year, to_year;
  /* Called after every finished (model, refit block) task, never concurrently; may be NULL. */
  void (*on_progress)(void *ctx, size_t done, size_t total);
  void *progress_ctx;
} oc_pipeline_backtest_options;

void oc_pipeline_backtest_options_default(oc_pipeline_backtest_options *o);
/* The checks oc_pipeline_backtest makes before it touches the store (at least one model, every spec
 * known, horizon and refit-every in range, start <= end), for callers that want them earlier; 0 or
 * OC_PIPELINE_BAD_OPTION (pipeline.h). The run checks the rest against the data. */
int oc_pipeline_backtest_check(const oc_pipeline_backtest_options *o, oc_error *err);

typedef struct oc_pipeline_backtest_result {
  oc_backtest_result run;  /* origins, forecasts, metrics per model and horizon (empty for by_year) */
  oc_backtest_years years; /* by_year: the run of each year */
  int64_t created_at;      /* Unix seconds when the run finished */
  char created_at_iso[OC_TIMESTAMP_STRLEN]; /* the same in ISO 8601 UTC, as the saved document has it */
  int64_t saved_id;        /* the stored run's (by_year: report's) id; 0 when not saved */
} oc_pipeline_backtest_result;

/* Every stored series the models of specs read (oc_forecaster_exogs), each once, loaded through memo:
 * *out a malloc'd array of *nexog views into memo's series (free the array, then the memo). The train
 * step shares it. */
int oc_pipeline_models_exogs(const char *const *specs, size_t n_specs, oc_series_memo *memo, oc_series **out, size_t *nexog,
                             oc_error *err);

/* Runs the step (see above); on failure out is left empty and err says what failed. */
int oc_pipeline_backtest(const char *data_dir, oc_store *store, const oc_pipeline_backtest_options *opt,
                         oc_pipeline_backtest_result *out, oc_error *err);
void oc_pipeline_backtest_result_free(oc_pipeline_backtest_result *r);

#endif
