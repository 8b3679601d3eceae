/* train.h: the train step as one call: choose (`auto`) or take a model kind, fit it, calibrate its
 * intervals, publish it as the next registered version and, when asked, deploy it on an endpoint.
 * The reference network trains on the ETL training table (Parquet, `oilcast etl`), optionally after a
 * hyperparameter search (model/tune.h), and gets its split-conformal intervals from the stored history
 * (model/mlp_calibration.h); every other kind is fitted on the stored series (model/forecaster.h),
 * after a walk-forward validation against no-change on the same origins (the relMAE every kind has).
 * When `auto` chooses the network, the network is trained as `mlp` is, with the comparison kept in its
 * card. With no model named, OC_TRAIN_DEFAULT_MODEL is fitted. A deployed version's first forecast is
 * made and stored at once (pipeline/forecast.h).
 * Never prints: what happened comes back in oc_train_result (progress through on_progress). */
#ifndef OC_PIPELINE_TRAIN_H
#define OC_PIPELINE_TRAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/error.h"
#include "model/auto_select.h"
#include "model/mlp.h"
#include "model/model_file.h"
#include "model/trainer.h"
#include "model/train.h"
#include "model/tune.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

/* The model `train` fits when none is named: the kind with the best worst year (near-ties: median year)
 * of relMAE on the validation years 2015-2022 of WTI (docs/evaluation.md, "Choosing by validation
 * years"); the reference guide's network is "mlp". */
#define OC_TRAIN_DEFAULT_MODEL "ets"
#define OC_TRAIN_MAX_BAG 32
#define OC_TRAIN_DEFAULT_SERIES "WTI"

typedef struct oc_train_options {
  const char *model;     /* OC_TRAIN_DEFAULT_MODEL (default), "mlp" (the network on the ETL table), "auto",
                          * or any forecaster spec ("ar", "ets:trend=damped") */
  const char *series;    /* the stored series a forecaster is fitted on, and `auto` compares on; NULL (default):
                          * OC_TRAIN_DEFAULT_SERIES. The network trains on its ETL table's series: a series named
                          * here (or compared on by `auto`) must be that one */
  const char *exog;      /* comma-separated stored series given to a forecaster whose kind reads other series
                          * (oc_model_spec_with_exog: arx, a spec'd mlp) and to `auto`'s candidates, which then
                          * include arx; NULL (default): none. The network ("mlp") takes them from its ETL table. */
  const char *data_path; /* the network's training table; relative paths are inside the data directory */
  oc_mlp_arch arch;      /* the network's widths and dropout (n_in, n_out come from the table) */
  oc_train_params params;
  size_t bag;            /* the network: networks averaged, seeds params.seed .. + bag - 1, merged into one
                          * (model/trainer.h); 1..OC_TRAIN_MAX_BAG, default 3 (docs/evaluation.md) */
  bool tune;             /* search the network's hyperparameters first (tuning) */
  oc_tune_config tuning;
  oc_auto_config choice; /* `auto`: validation origins, horizon, threads */
  bool deploy;           /* serve the new version at 100% on endpoint */
  const char *endpoint;
  /* the network's training: called after every epoch of every network of the bag and when each network
   * ends, with the bag's epochs done of its total (model/trainer.h); may be NULL */
  oc_train_progress_callback on_progress;
  void *on_progress_ctx;
} oc_train_options;

oc_train_options oc_train_options_default(void);

typedef struct oc_train_result {
  int64_t version;
  char kind[32], spec[160];
  json_t *selection;  /* `auto`'s comparison, or a named forecaster's against no-change (candidates,
                       * chosen, criterion), or NULL; then: */
  size_t validation_origins;       /* the origins it compared on, from validation_start to _end */
  oc_date validation_start, validation_end;
  oc_buf tuning;      /* the tuning trials as text, empty without tune */
  oc_buf summary;     /* what was trained, on what, how well it validated and where its files are: lines */
  char calibration_error[256]; /* why the intervals could not be calibrated now (they are when the version
                                * is loaded); empty when they were, or need none */
  int64_t forecast_id;         /* deploy: the stored forecast of the deployed version from the last
                                * observation (pipeline/forecast.h); 0 when it could not be made: */
  char forecast_error[256];    /* why, the version deployed all the same; empty otherwise */
} oc_train_result;

void oc_train_result_free(oc_train_result *r);

int oc_pipeline_train(const char *data_dir, oc_store *store, const oc_train_options *opt, oc_train_result *out,
                      oc_error *err);

#endif
