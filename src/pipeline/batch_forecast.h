/* batch_forecast.h: batch predictions (the reference guide's batch transform): one forecast per input
 * row (series, origin date) by one registered version of any kind, each from the stored history up to
 * and including its origin (never later data), computed across threads, written in input order. The
 * version is loaded by the server's loader (pipeline/served_model.h) and every row is a forecast from a given
 * history there: a network applies its weights to the cut history, any other kind fits its spec afresh
 * on it, and both give the same bounds as the server. Input: CSV with columns `series` and `origin`
 * (any order, other columns ignored), or Parquet (.parquet) with a string column series and a DATE
 * column origin. Output: CSV `series,origin,as_of,date,horizon,price,lower80,upper80,lower95,upper95,
 * model` (as_of = the last observation the forecast used), or the same columns typed in Parquet.
 * All-or-nothing like an import: any bad row fails the batch naming FILE:LINE, and nothing is written.
 * Must not print. */
#ifndef OC_PIPELINE_BATCH_FORECAST_H
#define OC_PIPELINE_BATCH_FORECAST_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

typedef struct oc_batch_options {
  const char *data_dir;
  int64_t version;  /* a registered version of any kind */
  const char *in_path, *out_path;
  int days;         /* 0 = the version's default (pipeline/served_model.h: a network's H, else 7) */
  int threads;      /* >= 1 */
} oc_batch_options;

typedef struct oc_batch_report {
  size_t rows, forecasts; /* input rows; forecast lines written */
  double seconds;
} oc_batch_report;

int oc_batch_forecast(oc_store *store, const oc_batch_options *opt, oc_batch_report *report, oc_error *err);

#endif
