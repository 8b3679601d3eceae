/* mlp_forecast.h: a trained reference network applied to a price history: the normalized feature row at
 * last date of a price history (features/etl.h recomputes it as ETL did, from the card's normalization
 * and policies, on the history's inference tail: its last 561 observations, older ones move the
 * features far below the network's precision), one network pass, and prices P_last * exp(predicted
 * log return h) for the trading days h = 1..days after that date.
 * Policy for the number of days: the network predicts its H horizons directly, so days must be in
 * 1..H; more days would need recursive forecasting on predicted prices, which this model was not
 * trained for, so it is refused (the caller names H in its message). Must not print or touch files. */
#ifndef OC_MODEL_MLP_FORECAST_H
#define OC_MODEL_MLP_FORECAST_H

#include <stddef.h>

#include "core/date.h"
#include "core/error.h"
#include "core/frame.h"
#include "features/etl.h"
#include "model/mlp.h"
#include "model/model_file.h"

typedef struct oc_mlp_prediction_point {
  int horizon;       /* trading days ahead, 1-based */
  oc_date date;
  double price;
  double log_return; /* predicted log(P[t+h] / P[t]) */
} oc_mlp_prediction_point;

typedef struct oc_mlp_prediction {
  oc_date as_of;     /* last date of the history the features saw */
  double last_price; /* the price at as_of */
  size_t n;
  oc_mlp_prediction_point *points;
} oc_mlp_prediction;

void oc_mlp_prediction_free(oc_mlp_prediction *p);

/* The card's feature transform (features/etl.h), checked against its feature count: forecasts of one
 * version parse it once (oc_mlp_forecast_with). Free with oc_feature_transform_free. */
int oc_mlp_card_transform(const oc_model_card *card, oc_feature_transform *t, oc_error *err);

/* The exogenous series (names, in order) the card's features need; *names is NULL when n = 0. Free
 * the array and its strings. */
int oc_mlp_card_exogs(const oc_model_card *card, char ***names, size_t *n, oc_error *err);

/* Forecasts days (1..H) trading days after the end of history. exogs are the series named by
 * oc_mlp_card_exogs, in that order. A history too short for the features is an error that
 * says how many observations are needed. */
int oc_mlp_forecast(const oc_mlp *m, const oc_model_card *card, const oc_series *history, const oc_series *exogs,
                    size_t nexog, int days, oc_mlp_prediction *out, oc_error *err);
/* The same with the card's transform t parsed once (oc_mlp_card_transform): the same result. */
int oc_mlp_forecast_with(const oc_mlp *m, const oc_model_card *card, const oc_feature_transform *t,
                         const oc_series *history, const oc_series *exogs, size_t nexog, int days, oc_mlp_prediction *out,
                         oc_error *err);

#endif
