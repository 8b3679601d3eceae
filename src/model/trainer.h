/* trainer.h: what `oilcast train` does between reading the table and publishing the version: fit the
 * reference network on a training table (training_table.h) and fill its model card: features,
 * targets, the ETL metadata inference needs, checksums of the source prices and of the exact
 * matrices fitted, hyperparameters and metrics, including the validation MAE in price units next to
 * the no-change forecast's on the same rows. No files, no store, no printing. */
#ifndef OC_MODEL_TRAINER_H
#define OC_MODEL_TRAINER_H

#include "model/model_file.h"
#include "model/training_table.h"

/* arch supplies hidden sizes, dropout and BatchNorm settings (n_in, n_out come from the table);
 * data_path is recorded in the card. The table must have validation rows. On success *model, *card and *result belong to the caller. */
int oc_train_on_table(const oc_training_table *t, const oc_mlp_arch *arch, const oc_train_params *params,
                      const char *data_path, oc_epoch_callback on_epoch, void *ctx, oc_mlp *model,
                      oc_model_card *card, oc_fit_result *result, oc_error *err);

/* Seed bagging: k networks trained as above with seeds params->seed .. params->seed + k - 1, merged
 * into one k times as wide (oc_mlp_bag_merge: its output is their mean to float rounding). The card
 * is the first network's (its params keep the first seed) with the merged network's validation MAE,
 * the mean of the k best validation losses and their summed training time; result is the first fit
 * with that time. k == 1 is oc_train_on_table. */
int oc_train_bag_on_table(const oc_training_table *t, const oc_mlp_arch *arch, const oc_train_params *params, size_t k,
                          const char *data_path, oc_epoch_callback on_epoch, void *ctx, oc_mlp *model,
                          oc_model_card *card, oc_fit_result *result, oc_error *err);

#endif
