/* backtest_years.h: the robustness report (`oilcast backtest --by-year`): the walk-forward backtest of
 * backtest.h run separately on each calendar year's origins (the same protocol: expanding window, so
 * every forecast of a year is made from data up to its origin, refit blocks starting at the year's
 * first origin), then per model: relMAE, DM p-values and coverage per year and horizon, and the years
 * it beats or loses to no-change. Must not read the store or files, or print. */
#ifndef OC_BACKTEST_YEARS_H
#define OC_BACKTEST_YEARS_H

#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/frame.h"
#include "model/backtest.h"

typedef struct oc_backtest_years {
  size_t n_years;
  int *years;               /* n_years, ascending */
  oc_backtest_result *runs; /* n_years: one backtest per year, the same models */
  size_t nexog;
  char **exogs;             /* nexog names: the other series the models were given (base->exogs) */
} oc_backtest_years;

/* Runs specs over the origins of each year from_year..to_year (base's start and end are replaced by
 * the year's bounds; its horizon, refit_every, threads, exogs and progress are used as given). A year
 * with fewer than 2 origins is an error naming it. */
int oc_backtest_by_year(const oc_series *s, const char *const *specs, size_t n_specs, const oc_backtest_config *base,
                        int from_year, int to_year, oc_backtest_years *out, oc_error *err);
void oc_backtest_years_free(oc_backtest_years *y);

/* Per model over the years: how many years its relMAE (all horizons) is below / above 1, its worst
 * and median year relMAE, and the range of its yearly coverage (averaged over horizons). */
typedef struct oc_backtest_years_summary {
  size_t wins, losses;
  double worst, median;
  int worst_year;
  double coverage80_min, coverage80_max, coverage95_min, coverage95_max;
} oc_backtest_years_summary;
oc_backtest_years_summary oc_backtest_years_summarize(const oc_backtest_years *y, size_t model);

/* The report as one JSON document: what is stored (migration 21), served (GET /v1/backtests/years)
 * and printed by --format json (docs/openapi.yaml, BacktestYears): series, created_at (copied
 * verbatim), years from..to, horizon, refit_every, the model specs as run and the other series they
 * read; per year its origins; per model and year relMAE over all horizons and per horizon, the
 * smallest DM p, cov80, cov95; per model its wins, losses, worst and median year and coverage range.
 * y must hold at least one year. */
json_t *oc_backtest_years_to_json(const oc_backtest_years *y, const char *created_at);

/* "table": per model, one line per year (origins, relMAE over all horizons and per horizon, the
 * smallest DM p, cov80, cov95) and the wins/losses line; "csv": "year," + OC_BACKTEST_CSV_HEADER,
 * every (year, model, horizon) row; "json": oc_backtest_years_to_json, indented. */
int oc_backtest_years_format(const oc_backtest_years *y, const char *format, const char *created_at, oc_buf *out,
                             oc_error *err);

#define OC_BACKTEST_YEARS_CSV_HEADER "year," OC_BACKTEST_CSV_HEADER

#endif
