/* fc_ensemble.c: a weighted combination of other forecasters (members=naive+drift+ets+ar by
 * default). weights=learned (default): per horizon h, weight_k ∝ 1 / MSE_k,h of member k's genuine
 * out-of-sample forecasts over the last `validation` origins of the training history (each member is
 * fitted before that span and filtered through it: validation folds only, never data after the
 * origin). weights=equal: 1/K each. Then every member is refitted on the whole history. The
 * combination applies the weights to the point forecasts and to the members' analytic bounds.
 * Must not read past hist->n; members are reached only through the forecaster interface. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "model/forecaster.h"

#define ENSEMBLE_MAX_MEMBERS 8
#define ENSEMBLE_WEIGHT_HORIZON 20

typedef struct ensemble_state {
  size_t k;
  oc_forecaster *members[ENSEMBLE_MAX_MEMBERS];
  bool equal;
  long validation;
  double weight[ENSEMBLE_WEIGHT_HORIZON][ENSEMBLE_MAX_MEMBERS];
} ensemble_state;

static void ensemble_destroy(void *state) {
  ensemble_state *s = state;
  for (size_t i = 0; i < s->k; i++) oc_forecaster_free(s->members[i]);
  free(s);
}

static void *ensemble_create(oc_model_params *p, oc_error *err) {
  ensemble_state *s = oc_xcalloc(1, sizeof *s);
  s->validation = 250;
  const char *members = oc_model_param_str(p, "members");
  const char *weights = oc_model_param_str(p, "weights");
  char list[256];
  snprintf(list, sizeof list, "%s", members ? members : "naive+drift+ets+ar");
  if (weights && strcmp(weights, "equal") != 0 && strcmp(weights, "learned") != 0) {
    oc_error_set(err, "parameter weights=%s: expected learned or equal", weights);
    goto fail;
  }
  s->equal = weights && strcmp(weights, "equal") == 0;
  if (oc_model_param_long(p, "validation", 20, 100000, &s->validation, err) < 0) goto fail;
  char *save = NULL;
  for (char *name = strtok_r(list, "+", &save); name; name = strtok_r(NULL, "+", &save)) {
    if (strcmp(name, "ensemble") == 0) {
      oc_error_set(err, "an ensemble cannot contain an ensemble");
      goto fail;
    }
    if (s->k == ENSEMBLE_MAX_MEMBERS) {
      oc_error_set(err, "at most %d ensemble members", ENSEMBLE_MAX_MEMBERS);
      goto fail;
    }
    char spec[64];
    snprintf(spec, sizeof spec, "%s:intervals=analytic", name);
    s->members[s->k] = oc_forecaster_create(spec, err);
    if (!s->members[s->k]) goto fail;
    s->k++;
  }
  if (s->k < 2) {
    oc_error_set(err, "an ensemble needs at least two members (members=a+b+...)");
    goto fail;
  }
  for (size_t h = 0; h < ENSEMBLE_WEIGHT_HORIZON; h++)
    for (size_t i = 0; i < s->k; i++) s->weight[h][i] = 1.0 / (double)s->k;
  return s;
fail:
  ensemble_destroy(s);
  return NULL;
}

typedef struct validation_errors {
  const oc_series *hist;
  size_t first_origin;
  double sse[ENSEMBLE_WEIGHT_HORIZON];
  size_t count[ENSEMBLE_WEIGHT_HORIZON];
} validation_errors;

static int score_forecast(void *ctx, size_t origin, const oc_price_forecast *fc, oc_error *err) {
  validation_errors *v = ctx;
  for (size_t h = 1; h <= ENSEMBLE_WEIGHT_HORIZON && origin + h < v->hist->n; h++) {
    double e = v->hist->values[origin + h] - fc->mean[h - 1];
    v->sse[h - 1] += e * e;
    v->count[h - 1]++;
  }
  return 0;
}

static int ensemble_fit(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  ensemble_state *s = state;
  size_t span = (size_t)s->validation + ENSEMBLE_WEIGHT_HORIZON;
  if (!s->equal && hist->n > span + 60) {
    double inv[ENSEMBLE_WEIGHT_HORIZON][ENSEMBLE_MAX_MEMBERS];
    for (size_t i = 0; i < s->k; i++) {
      validation_errors v = {.hist = hist};
      if (oc_forecaster_replay(s->members[i], hist, hist->n - span, ENSEMBLE_WEIGHT_HORIZON, score_forecast, &v, err) < 0)
        return oc_error_prefix(err, "ensemble validation of %s: ", oc_forecaster_name(s->members[i]));
      for (size_t h = 0; h < ENSEMBLE_WEIGHT_HORIZON; h++)
        inv[h][i] = v.count[h] && v.sse[h] > 0 ? (double)v.count[h] / v.sse[h] : 0;
    }
    for (size_t h = 0; h < ENSEMBLE_WEIGHT_HORIZON; h++) {
      double total = 0;
      for (size_t i = 0; i < s->k; i++) total += inv[h][i];
      for (size_t i = 0; i < s->k; i++) s->weight[h][i] = total > 0 ? inv[h][i] / total : 1.0 / (double)s->k;
    }
  }
  for (size_t i = 0; i < s->k; i++)
    if (oc_forecaster_fit(s->members[i], hist, exogs, err) < 0) return -1;
  return 0;
}

static int ensemble_update(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  ensemble_state *s = state;
  for (size_t i = 0; i < s->k; i++)
    if (oc_forecaster_update(s->members[i], hist, exogs, err) < 0) return -1;
  return 0;
}

static int ensemble_predict(const void *state, size_t horizon, oc_price_forecast *out, oc_error *err) {
  const ensemble_state *s = state;
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < s->k; i++) {
    oc_price_forecast fc;
    if (oc_forecaster_predict(s->members[i], horizon, &fc, err) < 0) return -1;
    for (size_t h = 0; h < horizon; h++) {
      double w = s->weight[h < ENSEMBLE_WEIGHT_HORIZON ? h : ENSEMBLE_WEIGHT_HORIZON - 1][i];
      out->mean[h] += w * fc.mean[h];
      out->lo80[h] += w * fc.lo80[h];
      out->hi80[h] += w * fc.hi80[h];
      out->lo95[h] += w * fc.lo95[h];
      out->hi95[h] += w * fc.hi95[h];
    }
  }
  return 0;
}

static json_t *ensemble_save(const void *state) {
  const ensemble_state *s = state;
  json_t *members = json_array(), *weights = json_array();
  for (size_t i = 0; i < s->k; i++) {
    char *text = oc_forecaster_save(s->members[i]);
    json_array_append_new(members, json_loads(text, 0, NULL));
    free(text);
  }
  for (size_t h = 0; h < ENSEMBLE_WEIGHT_HORIZON; h++) {
    json_t *row = json_array();
    for (size_t i = 0; i < s->k; i++) json_array_append_new(row, json_real(s->weight[h][i]));
    json_array_append_new(weights, row);
  }
  return json_pack("{s:o,s:o}", "members", members, "weights", weights);
}

static int ensemble_load(void *state, const json_t *saved, oc_error *err) {
  ensemble_state *s = state;
  json_t *members = json_object_get(saved, "members"), *weights = json_object_get(saved, "weights");
  if (!json_is_array(members) || json_array_size(members) != s->k || !json_is_array(weights) ||
      json_array_size(weights) != ENSEMBLE_WEIGHT_HORIZON)
    return oc_error_set(err, "ensemble state: expected %zu members and %d weight rows", s->k, ENSEMBLE_WEIGHT_HORIZON);
  for (size_t i = 0; i < s->k; i++) {
    char *text = json_dumps(json_array_get(members, i), JSON_COMPACT | JSON_REAL_PRECISION(17));
    oc_forecaster *m = text ? oc_forecaster_load(text, err) : NULL;
    free(text);
    if (!m) return oc_error_prefix(err, "ensemble member %zu: ", i);
    oc_forecaster_free(s->members[i]);
    s->members[i] = m;
  }
  for (size_t h = 0; h < ENSEMBLE_WEIGHT_HORIZON; h++) {
    json_t *row = json_array_get(weights, h);
    if (!json_is_array(row) || json_array_size(row) != s->k) return oc_error_set(err, "ensemble state: weights[%zu] malformed", h);
    for (size_t i = 0; i < s->k; i++) {
      json_t *w = json_array_get(row, i);
      if (!json_is_number(w)) return oc_error_set(err, "ensemble state: weights[%zu][%zu] not a number", h, i);
      s->weight[h][i] = json_number_value(w);
    }
  }
  return 0;
}

const oc_model_type oc_model_ensemble = {
    .kind = "ensemble",
    .summary = "weighted members (members=naive+drift+ets+ar, weights=learned|equal, validation=250 origins)",
    .create = ensemble_create,
    .fit = ensemble_fit,
    .update = ensemble_update,
    .predict = ensemble_predict,
    .save = ensemble_save,
    .load = ensemble_load,
    .destroy = ensemble_destroy,
};
