/* simulate.c: see simulate.h. The parameters are chosen so that charts look like an oil market (long
 * calm stretches, volatile episodes, occasional crashes and spikes) and models face near-random-walk
 * prices; nothing here claims to be calibrated to real WTI. */
#include "ingest/simulate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/progress.h"

/* Daily volatility of log price per regime, and the chance of staying in the regime each day. */
static const double regime_sigma[3] = {0.011, 0.019, 0.042};
static const double regime_stay[3] = {0.992, 0.990, 0.975};

void oc_simulate_series(uint64_t seed, size_t index, oc_date start, size_t n, oc_date *dates, double *values) {
  oc_simulate_series_changed(seed, index, start, n, NULL, dates, values);
}

void oc_simulate_series_changed(uint64_t seed, size_t index, oc_date start, size_t n, const oc_regime_change *change,
                                oc_date *dates, double *values) {
  oc_rng rng;
  oc_rng_seed(&rng, seed ^ (0xD1B54A32D192ED03ull * (index + 1)));
  const double lo = log(20.0), hi = log(150.0);
  double level = log(35.0 + 55.0 * oc_rng_uniform(&rng)); /* long-run level, wanders slowly */
  double x = level + 0.15 * oc_rng_normal(&rng);
  double vol_scale = 0.8 + 0.4 * oc_rng_uniform(&rng);
  const double kappa = 0.004 + 0.004 * oc_rng_uniform(&rng); /* reversion speed per day */
  int regime = 1;
  oc_date d = oc_calendar_trading_day_on_or_after(start);
  for (size_t t = 0; t < n; t++) {
    dates[t] = d;
    double price = round(exp(x) * 100.0) / 100.0;
    values[t] = price < 0.01 ? 0.01 : price;
    d = oc_calendar_next_trading_day(d);
    /* Regime switch: leave with probability 1 - stay, to one of the other two regimes. */
    if (oc_rng_uniform(&rng) > regime_stay[regime]) regime = (regime + 1 + (oc_rng_uniform(&rng) < 0.5)) % 3;
    double drift = change ? (t + 1 < change->at ? change->drift_before : change->drift_after) : 0.0;
    level += 0.004 * oc_rng_normal(&rng) + drift;
    if (level < lo + 0.4) level += 0.002; /* keep the long-run level inside ~25..120 */
    if (level > hi - 0.3) level -= 0.002;
    double jump = oc_rng_uniform(&rng) < 0.003 ? 0.07 * oc_rng_normal(&rng) - 0.02 : 0.0;
    x += kappa * (level - x) + vol_scale * regime_sigma[regime] * oc_rng_normal(&rng) + jump + drift;
    if (x < lo) x = lo + (lo - x) * 0.5; /* soft floor and ceiling: reflect back inside the range */
    if (x > hi) x = hi - (x - hi) * 0.5;
  }
}

/* Appends a price with exactly two decimals (values are already rounded to cents). */
static void put_cents(oc_buf *b, double value) {
  long long cents = llround(value * 100.0);
  oc_buf_printf(b, "%lld.%02lld", cents / 100, cents % 100);
}

/* How many of n trading days from start (the first on or after it) fall on or before 9999-12-31, the
 * last date oilcast stores; counted day by day, so that no calendar past that year is asked for. */
static size_t trading_days_that_fit(oc_date start, size_t n) {
  const oc_date last = oc_date_from_ymd(9999, 12, 31);
  size_t fit = 0;
  for (oc_date d = start; d <= last && fit < n; d++) fit += oc_calendar_is_trading_day(d);
  return fit;
}

int oc_simulate_market_csv(const oc_simulate_options *opt, const char *path, oc_error *err) {
  if (opt->nseries == 0 || opt->days == 0) return oc_error_set(err, "simulate: need at least one series and one day");
  size_t fit = trading_days_that_fit(opt->start, opt->days);
  if (fit < opt->days) { /* they would be written as "invalid", which no import reads */
    char start[OC_DATE_STRLEN];
    return oc_error_set(err, "simulate: %zu trading days from %s run past 9999-12-31 (at most %zu fit)", opt->days,
                        oc_date_format(opt->start, start), fit);
  }
  oc_buf tmp = {0};
  oc_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp.data, "wb");
  if (!f) {
    oc_error_errno(err, "cannot create %s", tmp.data);
    oc_buf_free(&tmp);
    return -1;
  }
  bool long_format = opt->nseries > 1;
  fprintf(f, OC_SIMULATE_MARK " (seed %llu): not market data\n", (unsigned long long)opt->seed);
  fputs(long_format ? "date,series,value\n" : "date,value\n", f);
  oc_date *dates = oc_xmalloc(opt->days * sizeof *dates);
  double *values = oc_xmalloc(opt->days * sizeof *values);
  oc_buf line = {0};
  oc_progress progress;
  oc_progress_start(&progress, "simulating", opt->nseries);
  for (size_t s = 0; s < opt->nseries; s++) {
    oc_progress_update(&progress, s, opt->names[s]);
    oc_simulate_series_changed(opt->seed, s, opt->start, opt->days, &opt->change, dates, values);
    for (size_t t = 0; t < opt->days; t++) {
      char date[OC_DATE_STRLEN];
      oc_buf_puts(&line, oc_date_format(dates[t], date));
      oc_buf_putc(&line, ',');
      if (long_format) {
        oc_buf_puts(&line, opt->names[s]);
        oc_buf_putc(&line, ',');
      }
      put_cents(&line, values[t]);
      oc_buf_putc(&line, '\n');
      if (line.len > (1 << 20)) {
        fwrite(line.data, 1, line.len, f);
        oc_buf_clear(&line);
      }
    }
  }
  oc_progress_finish(&progress);
  fwrite(line.data ? line.data : "", 1, line.len, f);
  oc_buf_free(&line);
  free(dates);
  free(values);
  int rc = 0;
  if (ferror(f) | (fflush(f) != 0) | (fsync(fileno(f)) != 0)) rc = oc_error_errno(err, "cannot write %s", tmp.data);
  if (fclose(f) != 0 && rc == 0) rc = oc_error_errno(err, "cannot write %s", tmp.data);
  if (rc == 0 && rename(tmp.data, path) != 0) rc = oc_error_errno(err, "cannot rename %s to %s", tmp.data, path);
  if (rc != 0) unlink(tmp.data);
  oc_buf_free(&tmp);
  return rc;
}
