/* trainer.h: what `oilcast train` does between reading the table and publishing the version: fit the
 * reference network on a training table (training_table.h) and fill its model card: features,
 * targets, the ETL metadata inference needs, checksums of the source prices and of the exact
 * matrices fitted, hyperparameters and metrics, including the validation MAE in price units next to
 * the no-change forecast's on the same rows. No files, no store, no printing. */
#ifndef OC_MODEL_TRAINER_H
#define OC_MODEL_TRAINER_H

#include <stdbool.h>
#include <stdint.h>

#include "model/model_file.h"
#include "model/training_table.h"

/* arch supplies hidden sizes, dropout and BatchNorm settings (n_in, n_out come from the table);
 * data_path is recorded in the card, and the bag of one network (its seed). The table must have
 * validation rows. On success *model, *card and *result belong to the caller. */
int oc_train_on_table(const oc_training_table *t, const oc_mlp_arch *arch, const oc_train_params *params,
                      const char *data_path, oc_epoch_callback on_epoch, void *ctx, oc_mlp *model,
                      oc_model_card *card, oc_fit_result *result, oc_error *err);

/* Where a bag's training is: reported after every epoch of every network, then once more when a
 * network's training ends (network_done; epoch is its last, losses are that epoch's). The bag's work
 * is counted in epochs, a network's being its maximum: a network that stops early counts its
 * remaining epochs as done when it ends, so done never decreases and the last call of a bag that
 * trained has done == total. */
typedef struct oc_train_progress {
  size_t network, networks; /* the network being trained, 1-based, of the bag's */
  int epoch, epochs;        /* its epoch (1-based) and the most it may run */
  uint64_t done, total;     /* epochs of the bag: total = networks * epochs */
  bool network_done;
  float train_loss, val_loss, lr;
} oc_train_progress;

typedef void (*oc_train_progress_callback)(void *ctx, const oc_train_progress *at);

/* Seed bagging: k networks trained as above with seeds params->seed .. params->seed + k - 1, merged
 * into one k times as wide (oc_mlp_bag_merge: its output is their mean to float rounding). The card
 * is the first network's (its params keep the first seed) with the bag (k and the k seeds), the
 * merged network's validation MAE, the mean of the k best validation losses and their summed training
 * time; result is the first fit with that time. k == 1 trains the one network of oc_train_on_table.
 * on_progress may be NULL. */
int oc_train_bag_on_table(const oc_training_table *t, const oc_mlp_arch *arch, const oc_train_params *params, size_t k,
                          const char *data_path, oc_train_progress_callback on_progress, void *ctx, oc_mlp *model,
                          oc_model_card *card, oc_fit_result *result, oc_error *err);

#endif
