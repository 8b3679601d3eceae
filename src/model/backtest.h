/* backtest.h: the one walk-forward evaluation protocol for every model (docs/evaluation.md).
 * Origins: every observation dated in [start, end] with `horizon` observations after it. Expanding
 * window: at an origin the model sees the series up to and including that observation only. Each
 * model is refitted every `refit_every` origins (a block) and updated without refitting in between;
 * blocks are independent (fresh forecaster per block), so they run on any number of threads with
 * bit-identical results. Exogenous series (cfg->exogs) are cut at the origin's date the same way.
 * Metrics per model and horizon, relative to the naive forecast on the same
 * origins (naive is always run, reported or not). Must not read the store or files, or print. */
#ifndef OC_BACKTEST_H
#define OC_BACKTEST_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/error.h"
#include "core/frame.h"
#include "model/forecaster.h"

#define OC_BACKTEST_MAX_EXOGS 8 /* exogenous series one model reads */

typedef struct oc_backtest_config {
  oc_date start, end;
  size_t horizon;     /* 1..OC_FORECAST_MAX_HORIZON */
  size_t refit_every; /* >= 1 */
  size_t threads;     /* 0 = one per online CPU */
  /* The other series models may read (oc_forecaster_exogs names them), whole: at an origin dated t a
   * model is handed each truncated to its observations dated <= t. A model naming a series not here
   * is an error. May be NULL (nexog 0). */
  const oc_series *exogs;
  size_t nexog;
  /* Called after every finished (model, block) task with the count done so far, never concurrently;
   * may be NULL (for a progress bar). */
  void (*on_progress)(void *ctx, size_t done, size_t total);
  void *progress_ctx;
} oc_backtest_config;

typedef struct oc_backtest_row {
  char model[128];
  size_t horizon, origins;
  double mae, rmse, mape, mase, rel_mae, direction_hit, coverage80, coverage95, width80, winkler80, dm_pvalue;
} oc_backtest_row;

typedef struct oc_backtest_result {
  char *series;
  oc_date start, end;
  size_t horizon, refit_every;
  size_t n_origins;
  size_t *origin_index;  /* n_origins indices into the series */
  oc_date *origin_dates; /* n_origins */
  size_t n_models;
  char **models;          /* specs as given */
  oc_price_forecast *forecasts; /* n_models * n_origins, model-major */
  oc_backtest_row *rows;  /* n_models * horizon, model-major */
  double mase_scale;      /* mean |y(t) - y(t-1)| over the history before the first origin */
} oc_backtest_result;

/* Runs specs (model specs as for oc_forecaster_create) over s. */
int oc_backtest_run(const oc_series *s, const char *const *specs, size_t n_specs, const oc_backtest_config *cfg,
                    oc_backtest_result *out, oc_error *err);
void oc_backtest_result_free(oc_backtest_result *r);

/* Per-model summary over all horizons: relMAE = sum_h MAE / sum_h MAE(naive); coverage and width
 * averaged over horizons. */
typedef struct oc_backtest_summary {
  double rel_mae, coverage80, coverage95, width80;
} oc_backtest_summary;
oc_backtest_summary oc_backtest_summarize(const oc_backtest_result *r, size_t model);

/* Diebold–Mariano test of equal accuracy for loss differentials d[0..n) at horizon h: Newey–West
 * long-run variance with h-1 lags (Bartlett weights 1 - k/h), Harvey–Leybourne–Newbold small-sample
 * correction, two-sided p-value from Student t with n-1 degrees of freedom. 1 when every d is 0. */
double oc_diebold_mariano_p(const double *d, size_t n, size_t h);

/* Output: "table" (aligned text with a per-model summary), "csv" (the dashboard's columns) or "json"
 * (the GET /v1/backtests/latest shape; created_at is copied verbatim). */
int oc_backtest_format(const oc_backtest_result *r, const char *format, const char *created_at, oc_buf *out, oc_error *err);
json_t *oc_backtest_to_json(const oc_backtest_result *r, const char *created_at);

/* One row in the CSV columns of OC_BACKTEST_CSV_HEADER, with its newline. */
void oc_backtest_csv_row(oc_buf *out, const oc_backtest_row *x);

#define OC_BACKTEST_CSV_HEADER \
  "model,horizon,origins,mae,rmse,mape,mase,rel_mae,direction_hit,coverage80,coverage95,width80,winkler80,dm_pvalue"

#endif
