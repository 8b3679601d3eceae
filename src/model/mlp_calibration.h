/* mlp_calibration.h: the reference network's prediction intervals, split-conformal on its own errors.
 * Forecasts are replayed at the most recent CALIBRATION_ORIGINS origins of the price history that
 * still have H observations after them (the origins after the card's train_end when there are at least
 * CALIBRATION_MIN of them, else the most recent ones, in-sample), each seeing at most the last
 * CALIBRATION_WINDOW observations; per horizon h the half-width q is the ceil((n + 1) p)-th smallest
 * absolute error of the predicted log return (p = 0.8, 0.95), raised to the previous horizon's q where
 * it is smaller (a band never narrows as the horizon grows; widening an interval keeps at least its
 * coverage), kept to the card's precision so a stored
 * calibration reads back bit-identically. Computed when a version is trained (`oilcast train` stores it in
 * model.json) and, for versions trained before that, by the server when it loads them. Deterministic:
 * the same network and histories give the same bits. Must not print or touch files. */
#ifndef OC_MODEL_MLP_CALIBRATION_H
#define OC_MODEL_MLP_CALIBRATION_H

#include <stddef.h>

#include "core/error.h"
#include "core/frame.h"
#include "model/mlp.h"
#include "model/model_file.h"
#include "store/store.h"

/* Calibrates m (with card) on history and exogs (the series oc_mlp_card_exogs names, in that
 * order) into *out (replacing what it held). */
int oc_mlp_calibrate(const oc_mlp *m, const oc_model_card *card, const oc_series *history, const oc_series *exogs,
                     size_t nexog, oc_mlp_calibration *out, oc_error *err);

/* The same on the stored histories of card->series and its exogenous series: fills card->calibration. */
int oc_mlp_calibrate_on_store(oc_store *store, const oc_mlp *m, oc_model_card *card, oc_error *err);

#endif
