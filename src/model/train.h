/* train.h: fitting the reference network (mlp.h) on plain float matrices: Adam, mini-batches in a
 * seeded shuffle, early stopping on validation loss with best-weights restore, learning-rate
 * reduction on plateau; and running many independent fits on a pool of threads.
 * Deterministic: the same data, parameters and seed give a bit-identical model whatever the number
 * of threads or the CPU, because one fit runs on one thread and its matrix products take their sums
 * in one fixed order (layers.c). Knows nothing of files, frames or features. */
#ifndef OC_MODEL_TRAIN_H
#define OC_MODEL_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "model/mlp.h"

typedef enum { OC_LOSS_MSE = 0, OC_LOSS_HUBER = 1 } oc_loss_kind;

typedef struct oc_train_params {
  int epochs;             /* default 100 */
  int batch_size;         /* default 32; the last batch of an epoch may be smaller */
  float learning_rate;    /* default 1e-3 */
  float weight_decay;     /* decoupled (AdamW) on dense weights only; default 0 */
  oc_loss_kind loss;      /* default MSE */
  float huber_delta;      /* default 1.0 */
  float adam_beta1, adam_beta2, adam_epsilon; /* Keras defaults 0.9, 0.999, 1e-7 */
  int early_stopping_patience; /* epochs without val improvement before stopping; 0 = never stop early */
  int lr_patience;        /* epochs without improvement (by more than 1e-4) before lr *= lr_factor; 0 = off */
  float lr_factor;        /* default 0.5 */
  float min_lr;           /* default 1e-6 */
  uint64_t seed;          /* initialisation, shuffles and dropout masks all come from it */
} oc_train_params;

oc_train_params oc_train_params_default(void);
/* Checks ranges; -1 with a message naming the parameter. */
int oc_train_params_check(const oc_train_params *p, oc_error *err);
const char *oc_loss_name(oc_loss_kind loss);
/* "mse" or "huber"; -1 otherwise. */
int oc_loss_parse(const char *name, oc_loss_kind *out);
/* Loss of pred against target (both [N]); dpred may be NULL. */
float oc_loss_eval(oc_loss_kind loss, float huber_delta, float *dpred, const float *pred, const float *target, size_t N);

/* Rows: x[n, n_in] and y[n, n_out], row-major; not owned. */
typedef struct oc_dataset {
  const float *x;
  const float *y;
  size_t n;
} oc_dataset;

typedef struct oc_fit_result {
  int epochs_run;
  int best_epoch;      /* 1-based epoch whose weights were kept */
  float best_val_loss; /* validation loss of the kept weights (train loss when there is no validation set) */
  float final_lr;
  float *train_loss;   /* [epochs_run], mean training-mode loss per epoch */
  float *val_loss;     /* [epochs_run], inference-mode validation loss per epoch (NaN without validation) */
  double seconds;
} oc_fit_result;

void oc_fit_result_free(oc_fit_result *r);

/* Called after every epoch (1-based); may be NULL. */
typedef void (*oc_epoch_callback)(void *ctx, int epoch, int epochs, float train_loss, float val_loss, float lr);

/* Initialises *model for arch from params->seed and trains it on train (val may have n == 0: then
 * early stopping and the plateau rule watch the training loss). Fails on invalid arch or params,
 * shapes, non-finite inputs or a diverging loss, leaving *model empty. */
int oc_mlp_fit(const oc_mlp_arch *arch, const oc_train_params *params, const oc_dataset *train, const oc_dataset *val,
               oc_epoch_callback on_epoch, void *ctx, oc_mlp *model, oc_fit_result *result, oc_error *err);


/* One independent fit for oc_mlp_fit_parallel: inputs first, outputs after. */
typedef struct oc_fit_job {
  oc_mlp_arch arch;
  oc_train_params params;
  oc_dataset train, val;
  oc_mlp model;
  oc_fit_result result;
  int status; /* 0 or -1 */
  oc_error error;
} oc_fit_job;

/* Runs every job on up to `threads` threads (each job on one). Returns 0 when every job succeeded,
 * else -1 (each job's status and error say which and why). Results do not depend on `threads`. */
int oc_mlp_fit_parallel(oc_fit_job *jobs, size_t n, int threads);

#endif
