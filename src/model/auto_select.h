/* auto_select.h: `oilcast train --model auto`'s choice: every candidate forecaster is run through the
 * backtest protocol (backtest.h) on the same walk-forward validation origins, the last `origins`
 * observations of the history that still have `horizon` observations after them, and the one with the
 * lowest relMAE over all horizons wins (ties: the earlier candidate). The whole comparison is kept as
 * JSON for the model card, so the user sees what was beaten. No files, no store, no printing. */
#ifndef OC_MODEL_AUTO_SELECT_H
#define OC_MODEL_AUTO_SELECT_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"
#include "core/frame.h"
#include "model/backtest.h"

typedef struct oc_auto_config {
  size_t origins;     /* validation origins; default 250 */
  size_t horizon;     /* default 7 */
  size_t refit_every; /* default 20 */
  size_t threads;     /* 0 = one per CPU */
  const oc_series *exogs; /* the other series candidates may read (oc_backtest_config.exogs); may be NULL */
  size_t nexog;
} oc_auto_config;

void oc_auto_config_default(oc_auto_config *c);

typedef struct oc_auto_choice {
  size_t best;               /* index into the candidates */
  oc_backtest_result result; /* the validation backtest of every candidate */
} oc_auto_choice;

int oc_auto_select(const oc_series *hist, const char *const *candidates, size_t n, const oc_auto_config *c,
                   oc_auto_choice *out, oc_error *err);
void oc_auto_choice_free(oc_auto_choice *choice);
/* {"chosen": spec, "criterion": "validation relMAE, all horizons", "candidates": [{"model", "rel_mae",
 * "mae" (USD/bbl, mean over horizons), "coverage80", "width80"}...], "validation": <the backtest document>} (new reference). */
json_t *oc_auto_choice_to_json(const oc_auto_choice *choice);

#endif
