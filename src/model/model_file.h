/* model_file.h: one trained model version on disk, models/artifacts/vN/:
 *   model.safetensors  the tensors in the safetensors format (8-byte little-endian header length, a
 *                      JSON header {"name": {"dtype": "F32", "shape": [...], "data_offsets": [b, e]}},
 *                      then the raw little-endian float32 data), readable by Python's safetensors or
 *                      any 20-line json+struct reader; BatchNorm running statistics included;
 *   model.json         the model card: architecture, features and targets, the normalization and ETL
 *                      policies inference must reapply, training data checksums, hyperparameters,
 *                      metrics, creation time, oilcast version, the sha256 of model.safetensors and
 *                      the interval calibration (mlp_calibration.h; absent from versions trained
 *                      before it was stored there) and the bag: how many networks were averaged
 *                      into this one and their seeds (absent from versions trained before).
 * Both are written atomically; a version directory is written once and never changed. Loading checks
 * everything (header bounds, dtypes, shapes against the card, contiguous offsets, finite values, the
 * sha256) and rejects truncated, tampered or mismatched files with a message naming file and field.
 * Knows nothing of the store (registry.h) or of how features are computed. */
#ifndef OC_MODEL_FILE_H
#define OC_MODEL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/error.h"
#include "model/mlp.h"
#include "model/train.h"

#define OC_MODEL_TENSORS_FILE "model.safetensors"
#define OC_MODEL_CARD_FILE "model.json"
#define OC_MODEL_CARD_FORMAT "oilcast-model/1"
/* Significant digits of the card's real numbers (what model.json keeps of a double). */
#define OC_MODEL_CARD_DIGITS 9

typedef struct oc_model_metrics {
  int epochs_run, best_epoch;
  double train_loss, val_loss;   /* at the best epoch */
  double val_mae_price;          /* USD/bbl: close*exp(pred) against close*exp(target), all horizons */
  double naive_mae_price;        /* the no-change forecast on the same rows and horizons */
  double train_seconds;
} oc_model_metrics;

/* The network's split-conformal interval half-widths per horizon, in log-return space: a forecast
 * price P * exp(pred) gets the bounds P * exp(pred -+ q). Computed by mlp_calibration.h. */
typedef struct oc_mlp_calibration {
  size_t origins;                    /* forecasts whose errors were ranked */
  oc_date first_origin, last_origin;
  bool out_of_sample;                /* every origin after the card's train_end */
  double *q80, *q95;                 /* [n_targets]; both NULL: not calibrated */
} oc_mlp_calibration;

void oc_mlp_calibration_free(oc_mlp_calibration *cal);

/* The model card. Strings are owned (free with oc_model_card_free). The *_json fields hold JSON text
 * exactly as the training frame's metadata carried it (inference hands them back to features/etl.h). */
typedef struct oc_model_card {
  char *version;            /* "v3" */
  char *series;             /* "WTI" */
  size_t n_features;
  char **features;          /* model input order; n_features == arch.n_in */
  size_t n_targets;
  char **targets;           /* target_h1..target_hH; n_targets == arch.n_out */
  char *normalization_json; /* oilcast.normalization */
  char *policies_json;      /* oilcast.policies */
  char *data_path;          /* the training table as given */
  char *source_checksum;    /* oilcast.source_checksum: the stored prices the table came from */
  char *data_sha256;        /* the training and validation matrices exactly as fitted */
  oc_date train_end;
  size_t train_rows, val_rows;
  oc_train_params params;
  oc_model_metrics metrics;
  char *created;            /* ISO 8601 UTC, "2026-11-26T16:40:00Z" */
  char *oilcast_version;
  char *selection_json;     /* `train --model auto`'s comparison (auto_select.h), or NULL */
  char *feature_reference_json; /* the input's training-time reference (feature_reference.h), or NULL */
  oc_mlp_calibration calibration; /* model.json 'calibration', optional */
  size_t bag_networks;      /* networks averaged into this one (seed bagging, trainer.h); its hidden widths
                             * are bag_networks times a member's. 0: not recorded (model.json without 'bag',
                             * written before oilcast recorded it) */
  uint64_t *bag_seeds;      /* [bag_networks]: each member's seed, in the order they were merged */
  char tensors_sha256[65];  /* set by oc_model_save */
} oc_model_card;

void oc_model_card_free(oc_model_card *card);

/* The safetensors bytes of m (header padded with spaces to a multiple of 8, tensors in memory order). */
void oc_safetensors_encode(const oc_mlp *m, oc_buf *out);
/* Parses safetensors bytes into *m for the architecture arch (which fixes every name and shape); name
 * is used in messages. Fails on any inconsistency, leaving *m empty. */
int oc_safetensors_decode(const char *data, size_t len, const oc_mlp_arch *arch, const char *name, oc_mlp *m,
                          oc_error *err);

/* Writes dir/model.safetensors then dir/model.json (creating dir), setting card->tensors_sha256. */
int oc_model_save(const char *dir, const oc_mlp *m, oc_model_card *card, oc_error *err);
/* Reads and validates dir/model.json and dir/model.safetensors. */
int oc_model_load(const char *dir, oc_mlp *m, oc_model_card *card, oc_error *err);

/* JSON text (a table's normalization, its policies) as a card read from model.json holds it: real
 * numbers kept to OC_MODEL_CARD_DIGITS. The trainer's card holds this, so the freshly trained model
 * computes exactly what its registered version will (features, and so the interval calibration). */
char *oc_model_card_json_as_kept(const char *text);

/* The card as JSON text (what model.json holds, indented) and back. */
char *oc_model_card_to_json(const oc_model_card *card, const oc_mlp_arch *arch);
int oc_model_card_from_json(const char *text, const char *name, oc_model_card *card, oc_mlp_arch *arch,
                            oc_error *err);

/* sha256 (hex) of float matrices as fitted: x then y of train then validation, little-endian float32. */
void oc_training_data_sha256(const oc_dataset *train, const oc_dataset *val, size_t n_in, size_t n_out,
                             char hex[65]);

#endif
