/* mlp_forecast.c: see mlp_forecast.h. */
#include "model/mlp_forecast.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "features/etl.h"

void oc_mlp_prediction_free(oc_mlp_prediction *p) {
  free(p->points);
  memset(p, 0, sizeof *p);
}

int oc_mlp_card_transform(const oc_model_card *card, oc_feature_transform *t, oc_error *err) {
  json_t *arr = json_array();
  for (size_t i = 0; i < card->n_features; i++) json_array_append_new(arr, json_string(card->features[i]));
  char *features = json_dumps(arr, JSON_COMPACT);
  json_decref(arr);
  int rc = oc_feature_transform_parse(features, card->normalization_json, card->policies_json, t, err);
  free(features);
  if (rc != 0) return oc_error_prefix(err, "model %s: ", card->version);
  if (t->n != card->n_features) {
    oc_feature_transform_free(t);
    return oc_error_set(err, "model %s: the normalization describes %zu features, the model takes %zu", card->version,
                        t->n, card->n_features);
  }
  return 0;
}

int oc_mlp_card_exogs(const oc_model_card *card, char ***names, size_t *n, oc_error *err) {
  oc_feature_transform t;
  if (oc_mlp_card_transform(card, &t, err) != 0) return -1;
  *n = t.nexog;
  *names = NULL;
  if (t.nexog) {
    *names = oc_xcalloc(t.nexog, sizeof **names);
    for (size_t i = 0; i < t.nexog; i++) (*names)[i] = oc_xstrdup(t.exog_names[i]);
  }
  oc_feature_transform_free(&t);
  return 0;
}

int oc_mlp_forecast(const oc_mlp *m, const oc_model_card *card, const oc_series *history, const oc_series *exogs,
                    size_t nexog, int days, oc_mlp_prediction *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  oc_feature_transform t;
  if (oc_mlp_card_transform(card, &t, err) != 0) return -1;
  int rc = oc_mlp_forecast_with(m, card, &t, history, exogs, nexog, days, out, err);
  oc_feature_transform_free(&t);
  return rc;
}

int oc_mlp_forecast_with(const oc_mlp *m, const oc_model_card *card, const oc_feature_transform *t,
                         const oc_series *history, const oc_series *exogs, size_t nexog, int days, oc_mlp_prediction *out,
                         oc_error *err) {
  memset(out, 0, sizeof *out);
  const int H = m->arch.n_out;
  if (days < 1 || days > H)
    return oc_error_set(err, "model %s forecasts 1 to %d trading days ahead (its horizons); %d requested",
                        card->version, H, days);
  const size_t n_features = t->n;
  double *row = oc_xmalloc(n_features * sizeof(double));
  oc_date as_of;
  const oc_series tail = oc_feature_inference_tail(history);
  if (oc_feature_transform_latest(t, &tail, exogs, nexog, row, &as_of, err) != 0) {
    free(row);
    return -1;
  }
  double last = NAN;
  for (size_t i = history->n; i-- > 0;)
    if (history->dates[i] == as_of) {
      last = history->values[i];
      break;
    }
  if (!(last > 0)) {
    free(row);
    char d[OC_DATE_STRLEN];
    return oc_error_set(err, "%s has no positive price at %s to forecast from", history->name, oc_date_format(as_of, d));
  }
  float *x = oc_xmalloc(n_features * sizeof(float)), *pred = oc_xmalloc((size_t)H * sizeof(float));
  for (size_t i = 0; i < n_features; i++) x[i] = (float)row[i];
  oc_mlp_workspace ws;
  oc_mlp_workspace_init(&ws, m, 1);
  oc_mlp_predict(m, &ws, x, 1, pred);
  oc_mlp_workspace_free(&ws);
  out->as_of = as_of;
  out->last_price = last;
  out->n = (size_t)days;
  out->points = oc_xcalloc((size_t)days, sizeof *out->points);
  for (int h = 1; h <= days; h++)
    out->points[h - 1] = (oc_mlp_prediction_point){.horizon = h, .date = oc_calendar_add_trading_days(as_of, h),
                                             .price = last * exp((double)pred[h - 1]), .log_return = pred[h - 1]};
  free(row);
  free(x);
  free(pred);
  return 0;
}
