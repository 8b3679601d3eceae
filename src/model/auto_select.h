/* auto_select.h: `oilcast train --model auto`'s choice: every candidate forecaster is run through the
 * backtest protocol (backtest.h) on the same walk-forward validation origins, the last `years` blocks
 * of `origins` observations each (about a year of trading days per block) among those of the history
 * that still have `horizon` observations after them. Each candidate is scored by its relMAE (over all
 * horizons) in every block; the rule (oc_auto_select) is its worst block, near-ties by its median
 * block. With one block that is the lowest relMAE of the single window (ties: the earlier candidate).
 * The whole comparison is kept as JSON for the model card, so the user sees what was beaten.
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
#include "model/backtest_years.h"

/* Two candidates whose worst blocks differ by at most this much relMAE are a near-tie: their median
 * blocks decide (docs/evaluation.md, "Choosing by validation years"). */
#define OC_AUTO_NEAR_TIE 0.001

typedef struct oc_auto_config {
  size_t origins;     /* validation origins per block; default 250 */
  size_t years;       /* blocks of `origins`, the most recent last; 0 or 1: the single window; default 2, chosen
                       * on validation years (docs/evaluation.md) */
  size_t horizon;     /* default 7 */
  size_t refit_every; /* default 20 */
  size_t threads;     /* 0 = one per CPU */
  const oc_series *exogs; /* the other series candidates may read (oc_backtest_config.exogs); may be NULL */
  size_t nexog;
} oc_auto_config;

void oc_auto_config_default(oc_auto_config *c);

typedef struct oc_auto_choice {
  size_t best;               /* index into the candidates */
  /* every candidate's validation backtest per block, oldest first; years[i] is the calendar year of
   * block i's last origin; the last run is the most recent c->origins origins (the single window) */
  oc_backtest_years blocks;
} oc_auto_choice;

/* The validation backtest alone: every candidate on the last c->origins origins of hist that have
 * c->horizon observations after them (every target is inside hist); c->years is not read. */
int oc_auto_validate(const oc_series *hist, const char *const *candidates, size_t n, const oc_auto_config *c,
                     oc_backtest_result *out, oc_error *err);
/* The member specs of a combination kind (ensemble's members, auto's candidates): list "a+b+...",
 * each made "a:intervals=analytic" (the combination calibrates its own intervals), with exog applied
 * (oc_model_spec_with_exog; NULL: none) and checked by creating it; none of kind `self`, 2..max of
 * them. Returns how many, written to out (malloc'd specs), or -1 with err (out freed). */
int oc_combination_members(const char *list, const char *self, const char *exog, char **out, size_t max, oc_error *err);

/* Every candidate on the last c->years blocks of c->origins validation origins (each block its own
 * backtest, refits starting at its first origin), then the choice: the candidate with the lowest
 * worst-block relMAE; among the candidates whose worst block is within OC_AUTO_NEAR_TIE of that
 * lowest, the lowest median block wins; exact ties go to the earlier candidate. hist must have
 * more than years * origins + horizon observations. */
int oc_auto_select(const oc_series *hist, const char *const *candidates, size_t n, const oc_auto_config *c,
                   oc_auto_choice *out, oc_error *err);
void oc_auto_choice_free(oc_auto_choice *choice);
/* That rule alone: the index of the chosen candidate among the first n models of every block's run. */
size_t oc_auto_rule(const oc_backtest_years *blocks, size_t n);
/* {"chosen": spec, "criterion": text, "candidates": [{"model", "rel_mae", "mae" (USD/bbl, mean over
 * horizons), "coverage80", "width80" (these four on the most recent block), "years": [relMAE per block,
 * oldest first], "worst", "median"}...], "validation_years": [{"year", "start", "end", "origins"} per
 * block], "validation": <the most recent block's backtest document>} (new reference). */
json_t *oc_auto_choice_to_json(const oc_auto_choice *choice);
/* The validation window of a choice: origins over every block, the first block's start, the last's end. */
size_t oc_auto_choice_origins(const oc_auto_choice *choice, oc_date *start, oc_date *end);

#endif
