/* training_table.h: the ETL frame (features/etl.h states the contract) as the float matrices
 * train.h fits on: feature columns named by oilcast.features, targets by oilcast.targets; rows dated
 * after oilcast.train_end for validation, and for training the rows whose every target is dated on or
 * before it (a target h rows ahead is the price h rows later: the last H rows dated <= train_end would
 * train on validation-window prices, which early stopping then judges, so they are in neither set);
 * rows with any missing feature, target or close skipped. Also the price-unit error measures the
 * training report and the model card use. Reads a frame only: no files. */
#ifndef OC_MODEL_TRAINING_TABLE_H
#define OC_MODEL_TRAINING_TABLE_H

#include <stddef.h>

#include "core/date.h"
#include "core/error.h"
#include "core/frame.h"
#include "model/train.h"

typedef struct oc_training_table {
  size_t n_in, n_out;
  char **features, **targets; /* n_in and n_out names */
  float *x_train, *y_train, *x_val, *y_val;
  size_t n_train, n_val;
  double *close_val;          /* the validation rows' prices (for errors in price units) */
  oc_date train_end;
  size_t skipped;             /* rows left out for a missing value */
  size_t purged;              /* complete rows dated <= train_end whose targets reach past it */
  /* Metadata copied from the frame (NULL when absent), for the model card. */
  char *series, *features_json, *normalization_json, *policies_json, *source_checksum;
} oc_training_table;

int oc_training_table_from_frame(const oc_frame *f, oc_training_table *t, oc_error *err);
void oc_training_table_free(oc_training_table *t);
static inline oc_dataset oc_training_table_train(const oc_training_table *t) {
  return (oc_dataset){t->x_train, t->y_train, t->n_train};
}
static inline oc_dataset oc_training_table_val(const oc_training_table *t) {
  return (oc_dataset){t->x_val, t->y_val, t->n_val};
}

/* Mean absolute error in price units over n rows and H horizons, for log-return predictions:
 * |close*exp(pred) - close*exp(target)|; and the same for the no-change forecast (pred = 0). */
void oc_price_mae(const float *pred, const float *target, const double *close, size_t n, size_t H, double *model_mae,
                  double *naive_mae);

#endif
