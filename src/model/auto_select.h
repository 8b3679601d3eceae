/* auto_select.h: `oilcast train --model auto`'s choice: every candidate forecaster is run through the
 * backtest protocol (backtest.h) on the same walk-forward validation origins, the last `origins`
 * observations of the history that still have `horizon` observations after them, and the one with the
 * lowest relMAE over all horizons wins (ties: the earlier candidate). The whole comparison is kept as
 * JSON for the model card, so the user sees what was beaten.
 *
 * The same choice is also a model kind, `auto` (oc_model_auto, auto_select.c): at every fit it runs
 * the comparison on the history it is given (so only on origins whose targets are in that history)
 * and fits the winner, which then forecasts. In a backtest its row is what a user retraining
 * `--model auto` at every refit would have got. The `ensemble` kind's scored weights read the same
 * validation run (oc_auto_validate). No files, no store, no printing. */
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

/* The validation backtest alone: every candidate on the last c->origins origins of hist that have
 * c->horizon observations after them (every target is inside hist). */
int oc_auto_validate(const oc_series *hist, const char *const *candidates, size_t n, const oc_auto_config *c,
                     oc_backtest_result *out, oc_error *err);
/* The member specs of a combination kind (ensemble's members, auto's candidates): list "a+b+...",
 * each made "a:intervals=analytic" (the combination calibrates its own intervals), with exog applied
 * (oc_model_spec_with_exog; NULL: none) and checked by creating it; none of kind `self`, 2..max of
 * them. Returns how many, written to out (malloc'd specs), or -1 with err (out freed). */
int oc_combination_members(const char *list, const char *self, const char *exog, char **out, size_t max, oc_error *err);

int oc_auto_select(const oc_series *hist, const char *const *candidates, size_t n, const oc_auto_config *c,
                   oc_auto_choice *out, oc_error *err);
void oc_auto_choice_free(oc_auto_choice *choice);
/* {"chosen": spec, "criterion": "validation relMAE, all horizons", "candidates": [{"model", "rel_mae",
 * "mae" (USD/bbl, mean over horizons), "coverage80", "width80"}...], "validation": <the backtest document>} (new reference). */
json_t *oc_auto_choice_to_json(const oc_auto_choice *choice);

#endif
