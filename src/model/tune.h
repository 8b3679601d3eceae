/* tune.h: hyperparameter search for the reference network (`oilcast train --tune`): random search or
 * successive halving over learning rate (log-uniform), hidden sizes, dropout, weight decay and batch
 * size. Objective: the mean validation MAE of the predicted log returns (all horizons) over expanding
 * walk-forward folds carved out of the training rows only (never the validation rows of the table and
 * never a backtest window); rows whose targets reach into a fold's validation block are purged from
 * its training set. Trials and folds are independent fits run on threads (train.h); results are
 * deterministic for a seed whatever the thread count. No files, no store, no printing. */
#ifndef OC_MODEL_TUNE_H
#define OC_MODEL_TUNE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "model/mlp.h"
#include "model/train.h"
#include "model/training_table.h"

typedef enum { OC_TUNE_RANDOM = 0, OC_TUNE_HALVING = 1 } oc_tune_method;

typedef struct oc_tune_config {
  int trials;            /* default 50 */
  oc_tune_method method; /* default random */
  int threads;           /* default 2 */
  uint64_t seed;         /* sampling and every fit's seed derive from it; default 42 */
  int folds;             /* walk-forward folds; default 3 */
  double fold_share;     /* share of the training rows the folds validate on; default 0.3 */
  oc_train_params base;  /* everything not searched (epochs = the full budget, patience, loss...) */
} oc_tune_config;

void oc_tune_config_default(oc_tune_config *c);
/* "random" | "halving"; -1 otherwise. */
int oc_tune_method_parse(const char *name, oc_tune_method *out);

typedef struct oc_tune_trial {
  int id;              /* 1-based, in sampling order */
  oc_mlp_arch arch;    /* n_in/n_out from the table */
  oc_train_params params;
  int epochs;          /* budget of the last evaluation (halving: its rung) */
  double score;        /* mean fold MAE of log returns; lower is better */
} oc_tune_trial;

typedef struct oc_tune_result {
  size_t n;
  oc_tune_trial *trials; /* sorted: largest budget first, then by score */
  double seconds;
} oc_tune_result;

int oc_tune_run(const oc_training_table *t, const oc_tune_config *c, oc_tune_result *out, oc_error *err);
void oc_tune_result_free(oc_tune_result *r);
/* Copies a trial's searched settings (hidden sizes, dropout, learning rate, weight decay, batch size)
 * onto arch and params, leaving every other field as it was (for training the winner). */
void oc_tune_apply(const oc_tune_trial *trial, oc_mlp_arch *arch, oc_train_params *params);
/* `oilcast train --tune`: runs the search with c (whose base is the user's other settings), applies
 * the winner onto arch and params, and appends the trial table and the choice to report. */
int oc_tune_choose(const oc_training_table *t, const oc_tune_config *c, oc_mlp_arch *arch, oc_train_params *params,
                   oc_buf *report, oc_error *err);
/* The trials as an aligned table, best first. */
void oc_tune_format(const oc_tune_result *r, oc_buf *out);

#endif
