/* simulate.h: a SIMULATED oil market, for the demo and the benchmarks (never mistake it for data).
 * Log price with mean reversion towards a slowly wandering long-run level, volatility regimes that
 * switch as a Markov chain (calm / normal / turbulent), and rare jumps; one value per trading day,
 * rounded to cents, levels roughly 20..150 USD. Deterministic: the same seed, series index and length
 * give bit-identical output (core/rng.h; rand() is never used). */
#ifndef OC_SIMULATE_H
#define OC_SIMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/error.h"
#include "core/rng.h"

/* Fills dates[0..n) with consecutive trading days from start (or the next trading day) and
 * values[0..n) with the simulated prices of series number `index` for this seed. Different indexes
 * are independent markets with their own levels and volatility. */
void oc_simulate_series(uint64_t seed, size_t index, oc_date start, size_t n, oc_date *dates, double *values);

/* A regime change in the trend: the log price (and the long-run level it reverts to) moves by
 * drift_before per trading day until day number `at`, and by drift_after from it on (e.g. +0.006 then
 * -0.006: a rally that turns into a slide). All zero: no trend, the plain market. */
typedef struct oc_regime_change {
  size_t at;
  double drift_before, drift_after;
} oc_regime_change;

/* oc_simulate_series with a regime change (NULL: none; then identical to oc_simulate_series). */
void oc_simulate_series_changed(uint64_t seed, size_t index, oc_date start, size_t n, const oc_regime_change *change,
                                oc_date *dates, double *values);

typedef struct oc_simulate_options {
  uint64_t seed;
  size_t days;   /* trading days per series */
  oc_date start; /* first date (moved to the next trading day if needed) */
  const char *const *names; /* nseries names */
  size_t nseries;
  oc_regime_change change; /* zero: none */
} oc_simulate_options;

/* The first line of every file oc_simulate_market_csv writes begins with this mark; the importer
 * (ingest/import.h) records such a file as simulated whatever source it is imported as. */
#define OC_SIMULATE_MARK "# SIMULATED by oilcast simulate market"

/* Writes an importable CSV: the mark line (OC_SIMULATE_MARK, the seed), then `date,value` for one
 * series, or long format `date,series,value` (each series' rows together) for several. Written to a
 * temporary file and renamed into place. */
int oc_simulate_market_csv(const oc_simulate_options *opt, const char *path, oc_error *err);

#endif
