/* fc_ensemble.c: a weighted combination of other forecasters (members=naive+drift+ets+ar by
 * default). Per horizon h, weight_k ∝ 1 / MSE_k,h of member k's genuine out-of-sample forecasts over
 * the last `validation` origins of the training history whose targets are in it (never data after the
 * origin), recomputed at every fit:
 * - weights=learned (default): each member is fitted before that span and filtered through it without
 *   refitting (one fit per member);
 * - weights=scored: the errors a deployed member would have been scored on: the members' walk-forward
 *   validation backtest (model/auto_select.h's oc_auto_validate: the backtest protocol, refitted every
 *   `refit` origins, horizons 1..20), the same forecasts `--model auto` compares;
 * - weights=equal: 1/K each.
 * Then every member is refitted on the whole history. The combination applies the weights to the
 * point forecasts and to the members' analytic bounds. Must not read past hist->n; members are reached
 * only through the forecaster interface. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "model/auto_select.h"
#include "model/forecaster.h"

#define ENSEMBLE_MAX_MEMBERS 8
#define ENSEMBLE_WEIGHT_HORIZON 20

typedef struct ensemble_state {
  size_t k;
  oc_forecaster *members[ENSEMBLE_MAX_MEMBERS];
  enum { WEIGHTS_LEARNED, WEIGHTS_SCORED, WEIGHTS_EQUAL } rule;
  long validation, refit;
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
  s->refit = 20;
  const char *members = oc_model_param_str(p, "members");
  const char *weights = oc_model_param_str(p, "weights");
  if (!weights || strcmp(weights, "learned") == 0) s->rule = WEIGHTS_LEARNED;
  else if (strcmp(weights, "scored") == 0) s->rule = WEIGHTS_SCORED;
  else if (strcmp(weights, "equal") == 0) s->rule = WEIGHTS_EQUAL;
  else {
    oc_error_set(err, "parameter weights=%s: expected learned, scored or equal", weights);
    goto fail;
  }
  if (oc_model_param_long(p, "validation", 20, 100000, &s->validation, err) < 0 ||
      oc_model_param_long(p, "refit", 1, 100000, &s->refit, err) < 0)
    goto fail;
  char *specs[ENSEMBLE_MAX_MEMBERS];
  int n = oc_combination_members(members ? members : "naive+drift+ets+ar", "ensemble", NULL, specs, ENSEMBLE_MAX_MEMBERS, err);
  for (int i = 0; i < n; i++) {
    s->members[s->k] = oc_forecaster_create(specs[i], err);
    assert(s->members[s->k]); /* oc_combination_members created it once already */
    s->k++;
    free(specs[i]);
  }
  if (n < 0) goto fail;
  for (size_t h = 0; h < ENSEMBLE_WEIGHT_HORIZON; h++)
    for (size_t i = 0; i < s->k; i++) s->weight[h][i] = 1.0 / (double)s->k;
  return s;
fail:
  ensemble_destroy(s);
  return NULL;
}

/* Squared errors per horizon and member of forecasts made inside the history. */
typedef struct validation_errors {
  const oc_series *hist;
  double sse[ENSEMBLE_WEIGHT_HORIZON][ENSEMBLE_MAX_MEMBERS];
  size_t count[ENSEMBLE_WEIGHT_HORIZON][ENSEMBLE_MAX_MEMBERS];
  size_t member; /* the member replay_score is scoring */
} validation_errors;

/* Adds the errors of fc, made at origin, whose targets are inside v->hist (the member v->member). */
static void add_errors(validation_errors *v, size_t member, size_t origin, const oc_price_forecast *fc, size_t horizon) {
  for (size_t h = 1; h <= horizon && origin + h < v->hist->n; h++) {
    double e = v->hist->values[origin + h] - fc->mean[h - 1];
    v->sse[h - 1][member] += e * e;
    v->count[h - 1][member]++;
  }
}

static int replay_score(void *ctx, size_t origin, const oc_price_forecast *fc, oc_error *err) {
  validation_errors *v = ctx;
  add_errors(v, v->member, origin, fc, ENSEMBLE_WEIGHT_HORIZON);
  return 0;
}

/* weights=learned: each member fitted before the last `validation` origins and filtered through them. */
static int learned_errors(ensemble_state *s, validation_errors *v, oc_error *err) {
  size_t span = (size_t)s->validation + ENSEMBLE_WEIGHT_HORIZON;
  for (size_t i = 0; i < s->k; i++) {
    v->member = i;
    if (oc_forecaster_replay(s->members[i], v->hist, v->hist->n - span, ENSEMBLE_WEIGHT_HORIZON, replay_score, v, err) < 0)
      return oc_error_prefix(err, "ensemble validation of %s: ", oc_forecaster_name(s->members[i]));
  }
  return 0;
}

/* weights=scored: the members' walk-forward validation backtest over the last `validation` origins
 * with ENSEMBLE_WEIGHT_HORIZON observations after them. */
static int scored_errors(ensemble_state *s, validation_errors *v, oc_error *err) {
  const char *specs[ENSEMBLE_MAX_MEMBERS];
  for (size_t i = 0; i < s->k; i++) specs[i] = oc_forecaster_name(s->members[i]);
  oc_auto_config c = {.origins = (size_t)s->validation, .horizon = ENSEMBLE_WEIGHT_HORIZON,
                       .refit_every = (size_t)s->refit, .threads = 1};
  oc_backtest_result r;
  if (oc_auto_validate(v->hist, specs, s->k, &c, &r, err) != 0) return oc_error_prefix(err, "ensemble validation: ");
  for (size_t i = 0; i < s->k; i++)
    for (size_t o = 0; o < r.n_origins; o++) add_errors(v, i, r.origin_index[o], &r.forecasts[i * r.n_origins + o], r.horizon);
  oc_backtest_result_free(&r);
  return 0;
}

static int ensemble_fit(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  ensemble_state *s = state;
  size_t span = (size_t)s->validation + ENSEMBLE_WEIGHT_HORIZON;
  if (s->rule != WEIGHTS_EQUAL && hist->n > span + 60) {
    validation_errors *v = oc_xcalloc(1, sizeof *v);
    v->hist = hist;
    int rc = s->rule == WEIGHTS_SCORED ? scored_errors(s, v, err) : learned_errors(s, v, err);
    for (size_t h = 0; rc == 0 && h < ENSEMBLE_WEIGHT_HORIZON; h++) {
      double inv[ENSEMBLE_MAX_MEMBERS], total = 0;
      for (size_t i = 0; i < s->k; i++) {
        inv[i] = v->count[h][i] && v->sse[h][i] > 0 ? (double)v->count[h][i] / v->sse[h][i] : 0;
        total += inv[i];
      }
      for (size_t i = 0; i < s->k; i++) s->weight[h][i] = total > 0 ? inv[i] / total : 1.0 / (double)s->k;
    }
    free(v);
    if (rc < 0) return -1;
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
    .summary = "weighted members (members=naive+drift+ets+ar, weights=learned|scored|equal, validation=250 origins, refit=20)",
    .create = ensemble_create,
    .fit = ensemble_fit,
    .update = ensemble_update,
    .predict = ensemble_predict,
    .save = ensemble_save,
    .load = ensemble_load,
    .destroy = ensemble_destroy,
};
