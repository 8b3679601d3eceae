/* backtest_years.c: the per-year robustness report (backtest_years.h) on top of oc_backtest_run; the
 * metrics are backtest.c's, this file only cuts the years and summarises. Must not print. */
#include "model/backtest_years.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "model/fc_stats.h"

int oc_backtest_by_year(const oc_series *s, const char *const *specs, size_t n_specs, const oc_backtest_config *base,
                        int from_year, int to_year, oc_backtest_years *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  if (from_year > to_year || from_year < 1900 || to_year > 9999)
    return oc_error_set(err, "backtest by year: years %d..%d are not a range of years", from_year, to_year);
  size_t n = (size_t)(to_year - from_year + 1);
  out->years = oc_xcalloc(n, sizeof *out->years);
  out->runs = oc_xcalloc(n, sizeof *out->runs);
  out->nexog = base->nexog;
  out->exogs = oc_xcalloc(base->nexog + 1, sizeof *out->exogs);
  for (size_t i = 0; i < base->nexog; i++) out->exogs[i] = oc_xstrdup(base->exogs[i].name);
  for (int year = from_year; year <= to_year; year++) {
    oc_backtest_config cfg = *base;
    cfg.start = oc_date_from_ymd(year, 1, 1);
    cfg.end = oc_date_from_ymd(year, 12, 31);
    if (oc_backtest_run(s, specs, n_specs, &cfg, &out->runs[out->n_years], err) != 0) {
      oc_error_prefix(err, "year %d: ", year);
      oc_backtest_years_free(out);
      return -1;
    }
    out->years[out->n_years++] = year;
  }
  return 0;
}

void oc_backtest_years_free(oc_backtest_years *y) {
  for (size_t i = 0; i < y->n_years; i++) oc_backtest_result_free(&y->runs[i]);
  for (size_t i = 0; i < y->nexog; i++) free(y->exogs[i]);
  free(y->exogs);
  free(y->runs);
  free(y->years);
  memset(y, 0, sizeof *y);
}

oc_backtest_years_summary oc_backtest_years_summarize(const oc_backtest_years *y, size_t model) {
  oc_backtest_years_summary sum = {.worst = -INFINITY, .coverage80_min = INFINITY, .coverage80_max = -INFINITY,
                                   .coverage95_min = INFINITY, .coverage95_max = -INFINITY};
  double *rel = oc_xmalloc((y->n_years ? y->n_years : 1) * sizeof *rel);
  for (size_t i = 0; i < y->n_years; i++) {
    oc_backtest_summary year = oc_backtest_summarize(&y->runs[i], model);
    rel[i] = year.rel_mae;
    sum.wins += rel[i] < 1;
    sum.losses += rel[i] > 1;
    if (rel[i] > sum.worst) {
      sum.worst = rel[i];
      sum.worst_year = y->years[i];
    }
    sum.coverage80_min = fmin(sum.coverage80_min, year.coverage80);
    sum.coverage80_max = fmax(sum.coverage80_max, year.coverage80);
    sum.coverage95_min = fmin(sum.coverage95_min, year.coverage95);
    sum.coverage95_max = fmax(sum.coverage95_max, year.coverage95);
  }
  /* the median: the mean of the two middle order statistics when the count is even */
  size_t n = y->n_years;
  if (n > 0) {
    double hi = oc_select_kth(rel, n, n / 2);
    sum.median = n % 2 ? hi : 0.5 * (hi + oc_select_kth(rel, n / 2, n / 2 - 1));
  }
  free(rel);
  return sum;
}

/* The smallest DM p-value of model m's horizons in run r. */
static double min_dm_p(const oc_backtest_result *r, size_t m) {
  double p = 1;
  for (size_t h = 0; h < r->horizon; h++)
    if (r->rows[m * r->horizon + h].dm_pvalue < p) p = r->rows[m * r->horizon + h].dm_pvalue;
  return p;
}

/* Model m's figures in year i: relMAE over all horizons and per horizon, the smallest DM p, coverage. */
static json_t *year_json(const oc_backtest_years *y, size_t i, size_t m) {
  const oc_backtest_result *r = &y->runs[i];
  oc_backtest_summary sm = oc_backtest_summarize(r, m);
  json_t *by_horizon = json_array();
  for (size_t h = 0; h < r->horizon; h++) json_array_append_new(by_horizon, oc_json_number(r->rows[m * r->horizon + h].rel_mae));
  return json_pack("{s:i,s:o,s:o,s:o,s:o,s:o}", "year", y->years[i], "rel_mae", oc_json_number(sm.rel_mae),
                   "rel_mae_by_horizon", by_horizon, "min_dm_pvalue", oc_json_number(min_dm_p(r, m)), "coverage80",
                   oc_json_number(sm.coverage80), "coverage95", oc_json_number(sm.coverage95));
}

json_t *oc_backtest_years_to_json(const oc_backtest_years *y, const char *created_at) {
  assert(y->n_years > 0);
  const oc_backtest_result *first = &y->runs[0];
  json_t *models = json_array(), *exogs = json_array(), *years = json_array(), *results = json_array();
  for (size_t i = 0; i < y->nexog; i++) json_array_append_new(exogs, json_string(y->exogs[i]));
  for (size_t i = 0; i < y->n_years; i++) {
    const oc_backtest_result *r = &y->runs[i];
    char a[OC_DATE_STRLEN], b[OC_DATE_STRLEN];
    json_array_append_new(years, json_pack("{s:i,s:I,s:s,s:s}", "year", y->years[i], "origins", (json_int_t)r->n_origins,
                                           "first_origin", oc_date_format(r->origin_dates[0], a), "last_origin",
                                           oc_date_format(r->origin_dates[r->n_origins - 1], b)));
  }
  for (size_t m = 0; m < first->n_models; m++) {
    json_array_append_new(models, json_string(first->models[m]));
    json_t *per_year = json_array();
    for (size_t i = 0; i < y->n_years; i++) json_array_append_new(per_year, year_json(y, i, m));
    oc_backtest_years_summary s = oc_backtest_years_summarize(y, m);
    json_array_append_new(
        results, json_pack("{s:s,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "model", first->models[m], "wins",
                           (json_int_t)s.wins, "losses", (json_int_t)s.losses, "worst_year",
                           s.worst_year ? json_integer(s.worst_year) : json_null(), "worst_rel_mae", oc_json_number(s.worst),
                           "median_rel_mae", oc_json_number(s.median), "coverage80_min", oc_json_number(s.coverage80_min),
                           "coverage80_max", oc_json_number(s.coverage80_max), "coverage95_min",
                           oc_json_number(s.coverage95_min), "coverage95_max", oc_json_number(s.coverage95_max), "years",
                           per_year));
  }
  return json_pack("{s:s,s:s,s:i,s:i,s:I,s:I,s:o,s:o,s:o,s:o}", "series", first->series, "created_at",
                   created_at ? created_at : "", "from_year", y->years[0], "to_year", y->years[y->n_years - 1], "horizon",
                   (json_int_t)first->horizon, "refit_every", (json_int_t)first->refit_every, "models", models, "exog",
                   exogs, "years", years, "results", results);
}

int oc_backtest_years_format(const oc_backtest_years *y, const char *format, const char *created_at, oc_buf *out,
                             oc_error *err) {
  if (y->n_years == 0) return oc_error_set(err, "backtest by year: no years to show");
  const oc_backtest_result *first = &y->runs[0];
  if (strcmp(format, "json") == 0) {
    json_t *doc = oc_backtest_years_to_json(y, created_at);
    oc_json_write(out, doc, OC_JSON_INDENT);
    json_decref(doc);
    oc_buf_putc(out, '\n');
    return 0;
  }
  if (strcmp(format, "csv") == 0) {
    oc_buf_puts(out, OC_BACKTEST_YEARS_CSV_HEADER "\n");
    for (size_t i = 0; i < y->n_years; i++)
      for (size_t k = 0; k < y->runs[i].n_models * y->runs[i].horizon; k++) {
        oc_buf_printf(out, "%d,", y->years[i]);
        oc_backtest_csv_row(out, &y->runs[i].rows[k]);
      }
    return 0;
  }
  if (strcmp(format, "table") != 0)
    return oc_error_set(err, "backtest by year: unknown format '%s' (table, csv or json)", format);
  oc_buf_printf(out, "Backtest %s by year %d..%d: horizons 1..%zu, refit every %zu origins, expanding window; relMAE against "
                "naive (all horizons, then each), the smallest DM p of the horizons, coverage averaged over horizons\n",
                first->series, y->years[0], y->years[y->n_years - 1], first->horizon, first->refit_every);
  for (size_t m = 0; m < first->n_models; m++) {
    oc_buf_printf(out, "\n%s\nyear  origins  relMAE ", first->models[m]);
    for (size_t h = 1; h <= first->horizon; h++) oc_buf_printf(out, "    h%-3zu", h);
    oc_buf_puts(out, "  minDMp  cov80  cov95\n");
    for (size_t i = 0; i < y->n_years; i++) {
      const oc_backtest_result *r = &y->runs[i];
      oc_backtest_summary sm = oc_backtest_summarize(r, m);
      oc_buf_printf(out, "%4d  %7zu  %6.4f ", y->years[i], r->n_origins, sm.rel_mae);
      for (size_t h = 0; h < r->horizon; h++) oc_buf_printf(out, "  %6.4f", r->rows[m * r->horizon + h].rel_mae);
      oc_buf_printf(out, "  %6.3f  %5.3f  %5.3f\n", min_dm_p(r, m), sm.coverage80, sm.coverage95);
    }
    oc_backtest_years_summary s = oc_backtest_years_summarize(y, m);
    oc_buf_printf(out, "better than naive in %zu of %zu years, worse in %zu; worst year %d (%.4f), median year %.4f\n",
                  s.wins, y->n_years, s.losses, s.worst_year, s.worst, s.median);
  }
  return 0;
}
