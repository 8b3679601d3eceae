/* batch_forecast.h: batch predictions (the reference guide's batch transform): one forecast per input
 * row (series, origin date) by one registered network, each from the stored history up to and
 * including its origin (never later data), computed across threads, written in input order. Input: CSV
 * with columns `series` and `origin` (any order, other columns ignored), or Parquet (.parquet) with a
 * string column series and a DATE column origin. Output: CSV `series,origin,as_of,date,horizon,price,
 * model` (as_of = the last observation the forecast used), or the same columns typed in Parquet.
 * All-or-nothing like an import: any bad row fails the batch naming FILE:LINE, and nothing is written. */
#ifndef OC_MODEL_BATCH_FORECAST_H
#define OC_MODEL_BATCH_FORECAST_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

typedef struct oc_batch_options {
  const char *data_dir;
  int64_t version;  /* registered network */
  const char *in_path, *out_path;
  int days;         /* 1..H; 0 = H */
  int threads;      /* >= 1 */
} oc_batch_options;

typedef struct oc_batch_report {
  size_t rows, forecasts; /* input rows; forecast lines written */
  double seconds;
} oc_batch_report;

int oc_batch_forecast(oc_store *store, const oc_batch_options *opt, oc_batch_report *report, oc_error *err);

#endif
