/* fc_mlp.c: the reference network (model/mlp.h, trained by model/train.h) as a forecaster, in two
 * forms that share the network pass and differ in where the parameters come from:
 * - kind "mlp" (in the model table), trained here so the backtest judges it by the same protocol as the
 *   baselines. fit: ETL on the history up to the origin (features/etl.h: targets log(P[t+h]/P[t]) exist
 *   only where t+h is inside the history, normalization fitted on training rows only; through an ETL
 *   session from the process's shelf (below), so a refit prepares only the observations added since
 *   an earlier fit of a shorter history, whichever forecaster made it; with exog=A+B the
 *   exogenous series' features too, aligned as ETL aligns them), the training
 *   table's split for early stopping, one seeded fit. update: the normalized feature row at the new last
 *   date (computed from the history's inference tail, features/etl.h) through the network. Forecasts:
 *   last positive price times exp(predicted log return) for h <= the network's horizon, held flat
 *   beyond it; analytic bounds from the validation rows' residual spread per horizon (log space).
 * - a registered version (`oilcast train`'s model.safetensors + model.json, fc_mlp.h): its parameters are
 *   fixed, so fit only conditions on the history (calibrating the intervals first when the card holds
 *   none: versions trained before they were stored). Forecasts: the price at the feature row's date
 *   times exp(predicted log return h) for h = 1..H only, with the card's split-conformal bounds
 *   P * exp(pred -+ q) (model/mlp_calibration.h); it reads the card's exogenous series, and forecasts
 *   from a given history without touching its state.
 * Coordinates with the training engine only through its public headers; must not read past hist->n. */
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "features/etl.h"
#include "core/log.h"
#include "model/fc_mlp.h"
#include "model/forecaster.h"
#include "model/mlp.h"
#include "model/mlp_calibration.h"
#include "model/mlp_forecast.h"
#include "model/train.h"
#include "model/training_table.h"

#define MLP_MAX_EXOGS 4

typedef struct mlp_state {
  /* parameters */
  char exog_list[128];                /* exog=A+B, '+' replaced by NULs */
  const char *exog_names[MLP_MAX_EXOGS];
  size_t nexog;
  long horizon;
  oc_train_params train;
  long h1, h2;
  long bag; /* networks averaged (seeds seed, seed+1, ...), merged into one (oc_mlp_bag_merge) */
  double dropout;
  /* fitted */
  bool fitted;
  oc_mlp net;
  char *features_json, *normalization_json, *policies_json;
  oc_feature_transform transform;
  double resid_sd[OC_FORECAST_MAX_HORIZON]; /* validation residual sd of the log return, per horizon */
  /* filtered */
  double last_price;                        /* last positive price */
  double pred[OC_FORECAST_MAX_HORIZON];     /* predicted log returns from the last origin */
} mlp_state;

static void mlp_clear_fit(mlp_state *s) {
  if (!s->fitted) return;
  oc_mlp_free(&s->net);
  oc_feature_transform_free(&s->transform);
  free(s->features_json);
  free(s->normalization_json);
  free(s->policies_json);
  s->features_json = s->normalization_json = s->policies_json = NULL;
  s->fitted = false;
}

static void mlp_destroy(void *state) {
  mlp_state *s = state;
  mlp_clear_fit(s);
  free(s);
}

static void *mlp_create(oc_model_params *p, oc_error *err) {
  mlp_state *s = oc_xcalloc(1, sizeof *s);
  s->horizon = 7;
  s->train = oc_train_params_default();
  s->h1 = 64;
  s->h2 = 32;
  s->bag = 1;
  s->dropout = 0.2;
  long epochs = s->train.epochs, batch = s->train.batch_size, seed = (long)s->train.seed, patience = s->train.early_stopping_patience;
  double lr = s->train.learning_rate, wd = s->train.weight_decay;
  if (oc_model_param_long(p, "horizon", 1, OC_FORECAST_MAX_HORIZON, &s->horizon, err) < 0 ||
      oc_model_param_long(p, "epochs", 1, 100000, &epochs, err) < 0 ||
      oc_model_param_long(p, "batch", 1, 65536, &batch, err) < 0 || oc_model_param_long(p, "seed", 0, 1L << 62, &seed, err) < 0 ||
      oc_model_param_long(p, "patience", 0, 100000, &patience, err) < 0 ||
      oc_model_param_long(p, "h1", 1, 4096, &s->h1, err) < 0 || oc_model_param_long(p, "h2", 1, 4096, &s->h2, err) < 0 ||
      oc_model_param_long(p, "bag", 1, 32, &s->bag, err) < 0 ||
      oc_model_param_double(p, "dropout", 0, 0.95, &s->dropout, err) < 0 ||
      oc_model_param_double(p, "lr", 1e-6, 1, &lr, err) < 0 || oc_model_param_double(p, "weight_decay", 0, 1, &wd, err) < 0) {
    free(s);
    return NULL;
  }
  const char *exog = oc_model_param_str(p, "exog");
  if (exog && strlen(exog) >= sizeof s->exog_list) {
    oc_error_set(err, "mlp: exog=%s is too long", exog);
    free(s);
    return NULL;
  }
  if (exog) snprintf(s->exog_list, sizeof s->exog_list, "%s", exog);
  for (char *name = exog ? s->exog_list : NULL; name; s->nexog++) {
    if (s->nexog == MLP_MAX_EXOGS || !*name) {
      oc_error_set(err, "mlp: exog=%s must name 1..%d series joined by '+'", exog, MLP_MAX_EXOGS);
      free(s);
      return NULL;
    }
    s->exog_names[s->nexog] = name;
    char *plus = strchr(name, '+');
    if (plus) *plus = '\0';
    name = plus ? plus + 1 : NULL;
  }
  s->train.epochs = (int)epochs;
  s->train.batch_size = (int)batch;
  s->train.seed = (uint64_t)seed;
  s->train.early_stopping_patience = (int)patience;
  s->train.learning_rate = (float)lr;
  s->train.weight_decay = (float)wd;
  return s;
}

static oc_mlp_arch mlp_arch(const mlp_state *s, int n_in) {
  oc_mlp_arch a = oc_mlp_arch_default(n_in, (int)s->horizon);
  a.h1 = (int)s->h1;
  a.h2 = (int)s->h2;
  a.dropout = (float)s->dropout;
  return a;
}

/* bag=K: K networks trained with seeds seed..seed+K-1 on the same rows, averaged as one (mlp.h). */
static int fit_bag(mlp_state *s, const oc_mlp_arch *arch, const oc_dataset *train, const oc_dataset *val, oc_error *err) {
  oc_mlp *nets = oc_xcalloc((size_t)s->bag, sizeof *nets);
  oc_train_params params = s->train;
  long fitted = 0;
  int rc = 0;
  for (; rc == 0 && fitted < s->bag; fitted++) {
    oc_fit_result result = {0};
    params.seed = s->train.seed + (uint64_t)fitted;
    rc = oc_mlp_fit(arch, &params, train, val, NULL, NULL, &nets[fitted], &result, err);
    oc_fit_result_free(&result);
    if (rc != 0) break;
  }
  if (rc == 0 && s->bag == 1) s->net = nets[0];
  else if (rc == 0) oc_mlp_bag_merge(nets, (size_t)s->bag, &s->net);
  for (long j = 0; j < fitted && s->bag > 1; j++) oc_mlp_free(&nets[j]);
  free(nets);
  return rc;
}

/* The network's log-return forecasts from the last date of hist. */
static int mlp_filter(mlp_state *s, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  if (s->nexog > 0 && !exogs) return oc_error_set(err, "mlp: the exogenous series %s were not given", s->exog_names[0]);
  oc_series tail = oc_feature_inference_tail(hist);
  double *row = oc_xmalloc(s->transform.n * sizeof *row);
  oc_date as_of;
  int rc = oc_feature_transform_latest(&s->transform, &tail, exogs, s->nexog, row, &as_of, err);
  if (rc == 0) {
    float *x = oc_xmalloc(s->transform.n * sizeof *x), out[OC_FORECAST_MAX_HORIZON];
    for (size_t i = 0; i < s->transform.n; i++) x[i] = (float)row[i];
    oc_mlp_workspace ws;
    oc_mlp_workspace_init(&ws, &s->net, 1);
    oc_mlp_predict(&s->net, &ws, x, 1, out);
    oc_mlp_workspace_free(&ws);
    for (long h = 0; h < s->horizon; h++) s->pred[h] = out[h];
    free(x);
    for (size_t i = hist->n; i-- > 0;)
      if (hist->values[i] > 0) {
        s->last_price = hist->values[i];
        break;
      }
  }
  free(row);
  return rc;
}

/* ---- the shelf of ETL sessions ----
 * A backtest fits a fresh forecaster for every block of origins (on any thread), and a conformal
 * forecaster fits twice per refit (the history minus its calibration span, then all of it): each
 * history extends one fitted earlier, but rarely the last one of the same forecaster. So the sessions
 * live on a process-wide shelf: a fit takes the session that holds the longest history not longer
 * than its own (which its history most likely extends; the session checks that bit for bit and starts
 * afresh if not), builds through it and puts it back; the shelf keeps the ETL_SHELF_SIZE most recently
 * returned. Taken sessions are used by one thread at a time; the frames are oc_etl_build's whichever
 * session is taken (features/etl.h), so the results do not depend on the order of fits or threads. */
enum { ETL_SHELF_SIZE = 4 };
static struct {
  pthread_mutex_t lock;
  oc_etl_session *session[ETL_SHELF_SIZE];
  size_t held[ETL_SHELF_SIZE]; /* observations session[i] last built from */
  unsigned long returned[ETL_SHELF_SIZE], clock; /* when session[i] came back: the least recent goes first */
} etl_shelf = {.lock = PTHREAD_MUTEX_INITIALIZER};

static oc_etl_session *etl_shelf_take(size_t n) {
  pthread_mutex_lock(&etl_shelf.lock);
  size_t best = ETL_SHELF_SIZE;
  for (size_t i = 0; i < ETL_SHELF_SIZE; i++)
    if (etl_shelf.session[i] && etl_shelf.held[i] <= n && (best == ETL_SHELF_SIZE || etl_shelf.held[i] > etl_shelf.held[best]))
      best = i;
  oc_etl_session *taken = NULL;
  if (best < ETL_SHELF_SIZE) {
    taken = etl_shelf.session[best];
    etl_shelf.session[best] = NULL;
  }
  pthread_mutex_unlock(&etl_shelf.lock);
  return taken ? taken : oc_etl_session_new();
}

/* Empties the shelf (oc_model_type.release_caches); sessions taken by running fits come back later. */
static void etl_shelf_clear(void) {
  oc_etl_session *held[ETL_SHELF_SIZE];
  pthread_mutex_lock(&etl_shelf.lock);
  for (size_t i = 0; i < ETL_SHELF_SIZE; i++) {
    held[i] = etl_shelf.session[i];
    etl_shelf.session[i] = NULL;
  }
  pthread_mutex_unlock(&etl_shelf.lock);
  for (size_t i = 0; i < ETL_SHELF_SIZE; i++) oc_etl_session_free(held[i]);
}

size_t oc_mlp_etl_sessions_kept(void) {
  size_t kept = 0;
  pthread_mutex_lock(&etl_shelf.lock);
  for (size_t i = 0; i < ETL_SHELF_SIZE; i++) kept += etl_shelf.session[i] != NULL;
  pthread_mutex_unlock(&etl_shelf.lock);
  return kept;
}

/* Puts s back holding n observations (0: its build failed, and it holds nothing worth keeping). */
static void etl_shelf_put(oc_etl_session *s, size_t n) {
  if (n == 0) {
    oc_etl_session_free(s);
    return;
  }
  pthread_mutex_lock(&etl_shelf.lock);
  size_t slot = 0;
  for (size_t i = 0; i < ETL_SHELF_SIZE; i++) {
    if (!etl_shelf.session[i]) {
      slot = i;
      break;
    }
    if (etl_shelf.returned[i] < etl_shelf.returned[slot]) slot = i;
  }
  oc_etl_session *evicted = etl_shelf.session[slot];
  etl_shelf.session[slot] = s;
  etl_shelf.held[slot] = n;
  etl_shelf.returned[slot] = ++etl_shelf.clock;
  pthread_mutex_unlock(&etl_shelf.lock);
  oc_etl_session_free(evicted);
}

static int mlp_fit(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  mlp_state *s = state;
  mlp_clear_fit(s);
  oc_etl_options opts;
  oc_etl_options_default(&opts);
  opts.horizon = (int)s->horizon;
  oc_frame frame = {0};
  oc_training_table table = {0};
  if (s->nexog > 0 && !exogs) return oc_error_set(err, "mlp: the exogenous series %s were not given", s->exog_names[0]);
  oc_etl_session *etl = etl_shelf_take(hist->n);
  int built = oc_etl_session_build(etl, hist, exogs, s->nexog, &opts, &frame, NULL, err);
  etl_shelf_put(etl, built == 0 ? hist->n : 0);
  if (built != 0) return oc_error_prefix(err, "mlp features: ");
  int rc = oc_training_table_from_frame(&frame, &table, err);
  if (rc == 0 && (table.n_train == 0 || table.n_val == 0))
    rc = oc_error_set(err, "mlp: %zu training and %zu validation rows: the history is too short", table.n_train, table.n_val);
  if (rc == 0) {
    oc_mlp_arch arch = mlp_arch(s, (int)table.n_in);
    oc_dataset train = oc_training_table_train(&table), val = oc_training_table_val(&table);
    rc = fit_bag(s, &arch, &train, &val, err);
  }
  if (rc == 0) {
    s->fitted = true;
    s->features_json = oc_xstrdup(oc_frame_get_meta(&frame, "oilcast.features"));
    s->normalization_json = oc_xstrdup(oc_frame_get_meta(&frame, "oilcast.normalization"));
    s->policies_json = oc_xstrdup(oc_frame_get_meta(&frame, "oilcast.policies"));
    rc = oc_feature_transform_parse(s->features_json, s->normalization_json, s->policies_json, &s->transform, err);
    if (rc != 0) {
      /* keep the free path simple: a transform that failed to parse is not freed twice */
      memset(&s->transform, 0, sizeof s->transform);
    }
  }
  if (rc == 0) {
    /* residual spread of the validation rows, per horizon */
    float *out = oc_xmalloc(table.n_val * (size_t)s->horizon * sizeof *out);
    oc_mlp_workspace ws;
    oc_mlp_workspace_init(&ws, &s->net, 256);
    oc_mlp_predict(&s->net, &ws, table.x_val, table.n_val, out);
    oc_mlp_workspace_free(&ws);
    for (long h = 0; h < s->horizon; h++) {
      double sq = 0;
      for (size_t i = 0; i < table.n_val; i++) {
        double e = (double)table.y_val[i * (size_t)s->horizon + (size_t)h] - (double)out[i * (size_t)s->horizon + (size_t)h];
        sq += e * e;
      }
      s->resid_sd[h] = sqrt(sq / (double)table.n_val);
    }
    free(out);
    rc = mlp_filter(s, hist, exogs, err);
  }
  oc_training_table_free(&table);
  oc_frame_free(&frame);
  if (rc != 0) mlp_clear_fit(s);
  return rc;
}

static int mlp_update(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  return mlp_filter(state, hist, exogs, err);
}

static size_t mlp_exogs(const void *state, const char *const **names) {
  const mlp_state *s = state;
  *names = s->nexog ? s->exog_names : NULL;
  return s->nexog;
}

static int mlp_predict(const void *state, size_t horizon, oc_price_forecast *out, oc_error *err) {
  const mlp_state *s = state;
  double mu0 = log(s->last_price);
  for (size_t h = 1; h <= horizon; h++) {
    size_t k = h <= (size_t)s->horizon ? h - 1 : (size_t)s->horizon - 1;
    oc_price_forecast_set_lognormal(out, h, mu0 + s->pred[k], s->resid_sd[k]);
  }
  return 0;
}

static json_t *mlp_save(const void *state) {
  const mlp_state *s = state;
  json_t *memory = json_array(), *resid = json_array(), *pred = json_array();
  for (size_t i = 0; i < s->net.n_floats; i++) json_array_append_new(memory, json_real(s->net.memory[i]));
  for (long h = 0; h < s->horizon; h++) {
    json_array_append_new(resid, json_real(s->resid_sd[h]));
    json_array_append_new(pred, json_real(s->pred[h]));
  }
  return json_pack("{s:i,s:i,s:i,s:i,s:o,s:s,s:s,s:s,s:o,s:o,s:f}", "n_in", s->net.arch.n_in, "h1", s->net.arch.h1, "h2",
                   s->net.arch.h2, "n_out", s->net.arch.n_out, "tensors", memory, "features", s->features_json,
                   "normalization", s->normalization_json, "policies", s->policies_json, "resid_sd", resid, "pred", pred,
                   "last_price", s->last_price);
}

static int read_doubles(const json_t *a, double *x, size_t n, const char *what, oc_error *err) {
  if (!json_is_array(a) || json_array_size(a) != n) return oc_error_set(err, "mlp state: %s must hold %zu numbers", what, n);
  for (size_t i = 0; i < n; i++) {
    if (!json_is_number(json_array_get(a, i))) return oc_error_set(err, "mlp state: %s[%zu] is not a number", what, i);
    x[i] = json_number_value(json_array_get(a, i));
  }
  return 0;
}

static int mlp_load(void *state, const json_t *saved, oc_error *err) {
  mlp_state *s = state;
  json_error_t jerr;
  int n_in, h1, h2, n_out;
  json_t *tensors, *resid, *pred;
  const char *features, *normalization, *policies;
  if (json_unpack_ex((json_t *)saved, &jerr, JSON_STRICT, "{s:i,s:i,s:i,s:i,s:o,s:s,s:s,s:s,s:o,s:o,s:F}", "n_in", &n_in,
                     "h1", &h1, "h2", &h2, "n_out", &n_out, "tensors", &tensors, "features", &features, "normalization",
                     &normalization, "policies", &policies, "resid_sd", &resid, "pred", &pred, "last_price",
                     &s->last_price) < 0)
    return oc_error_set(err, "mlp state: %s", jerr.text);
  if (n_out != s->horizon || h1 != s->h1 * s->bag || h2 != s->h2 * s->bag)
    return oc_error_set(err, "mlp state: network %dx%d with %d outputs does not match the spec (%ldx%ld times bag %ld, horizon %ld)",
                        h1, h2, n_out, s->h1, s->h2, s->bag, s->horizon);
  oc_mlp_arch arch = mlp_arch(s, n_in);
  arch.h1 = h1;
  arch.h2 = h2;
  char msg[256];
  if (oc_mlp_arch_check(&arch, msg, sizeof msg) != 0) return oc_error_set(err, "mlp state: %s", msg);
  mlp_clear_fit(s);
  oc_mlp_init(&s->net, &arch);
  s->fitted = true;
  s->features_json = oc_xstrdup(features);
  s->normalization_json = oc_xstrdup(normalization);
  s->policies_json = oc_xstrdup(policies);
  if (oc_feature_transform_parse(features, normalization, policies, &s->transform, err) != 0) {
    memset(&s->transform, 0, sizeof s->transform);
    return -1;
  }
  if (s->transform.n != (size_t)n_in) return oc_error_set(err, "mlp state: %zu features for a %d-input network", s->transform.n, n_in);
  if (!json_is_array(tensors) || json_array_size(tensors) != s->net.n_floats)
    return oc_error_set(err, "mlp state: tensors must hold %zu numbers", s->net.n_floats);
  for (size_t i = 0; i < s->net.n_floats; i++) {
    json_t *v = json_array_get(tensors, i);
    if (!json_is_number(v)) return oc_error_set(err, "mlp state: tensors[%zu] is not a number", i);
    s->net.memory[i] = (float)json_number_value(v);
  }
  if (read_doubles(resid, s->resid_sd, (size_t)s->horizon, "resid_sd", err) < 0 ||
      read_doubles(pred, s->pred, (size_t)s->horizon, "pred", err) < 0)
    return -1;
  return 0;
}

const oc_model_type oc_model_mlp = {
    .kind = "mlp",
    .summary = "the reference network on the ETL features (horizon=7, epochs=100, h1=64, h2=32, dropout=0.2, lr, batch, seed, bag=1 "
               "exog=A+B)",
    .create = mlp_create,
    .fit = mlp_fit,
    .update = mlp_update,
    .predict = mlp_predict,
    .save = mlp_save,
    .load = mlp_load,
    .destroy = mlp_destroy,
    .exogs = mlp_exogs,
    .release_caches = etl_shelf_clear,
};

/* ---- a registered version --------------------------------------------------------------------- */

typedef struct registered_state {
  oc_mlp net;
  oc_model_card card;             /* card.calibration: the bounds, once calibrated */
  oc_feature_transform transform; /* parsed once: forecasts only read it */
  /* conditioned on the last history */
  oc_date as_of;
  double price;                               /* at as_of */
  double pred[OC_FORECAST_MAX_HORIZON];       /* predicted log returns from as_of */
} registered_state;

static void registered_destroy(void *state) {
  registered_state *s = state;
  oc_feature_transform_free(&s->transform);
  oc_mlp_free(&s->net);
  oc_model_card_free(&s->card);
  free(s);
}

/* The network's log returns from the latest complete feature row of hist (up to H of them). */
static int registered_apply(const registered_state *s, const oc_series *hist, const oc_series *exogs, oc_date *as_of,
                            double *price, double *pred, oc_error *err) {
  oc_mlp_prediction p;
  if (oc_mlp_forecast_with(&s->net, &s->card, &s->transform, hist, exogs, s->transform.nexog, s->net.arch.n_out, &p,
                           err) != 0)
    return -1;
  *as_of = p.as_of;
  *price = p.last_price;
  for (size_t h = 0; h < p.n; h++) pred[h] = p.points[h].log_return;
  oc_mlp_prediction_free(&p);
  return 0;
}

static int registered_update(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  registered_state *s = state;
  return registered_apply(s, hist, exogs, &s->as_of, &s->price, s->pred, err);
}

static int registered_fit(void *state, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  registered_state *s = state;
  if (!s->card.calibration.q80) {
    oc_info("model %s has no stored interval calibration (trained by an older oilcast): calibrating it on the "
            "history it forecasts from", s->card.version);
    if (oc_mlp_calibrate(&s->net, &s->card, hist, exogs, s->transform.nexog, &s->card.calibration, err) != 0) return -1;
  }
  return registered_update(state, hist, exogs, err);
}

/* Price bounds P * exp(pred -+ q) around the point P * exp(pred), h = 1..horizon (<= H). */
static int registered_bounds(const registered_state *s, oc_date as_of, double price, const double *pred, size_t horizon,
                             oc_price_forecast *out, oc_error *err) {
  const double *q80 = s->card.calibration.q80, *q95 = s->card.calibration.q95;
  if (!q80) return oc_error_set(err, "model %s: its intervals are not calibrated yet (fit it on a history first)", s->card.version);
  assert(horizon <= (size_t)s->net.arch.n_out);
  out->origin = as_of;
  out->origin_price = price;
  for (size_t h = 0; h < horizon; h++) {
    double r = pred[h];
    out->mean[h] = price * exp(r);
    out->lo80[h] = price * exp(r - q80[h]);
    out->hi80[h] = price * exp(r + q80[h]);
    out->lo95[h] = price * exp(r - q95[h]);
    out->hi95[h] = price * exp(r + q95[h]);
  }
  return 0;
}

static int registered_predict(const void *state, size_t horizon, oc_price_forecast *out, oc_error *err) {
  const registered_state *s = state;
  return registered_bounds(s, s->as_of, s->price, s->pred, horizon, out, err);
}

static int registered_forecast_from(const void *state, const oc_series *hist, const oc_series *exogs, size_t horizon,
                                    oc_price_forecast *out, oc_error *err) {
  const registered_state *s = state;
  oc_date as_of;
  double price, pred[OC_FORECAST_MAX_HORIZON];
  if (registered_apply(s, hist, exogs, &as_of, &price, pred, err) != 0) return -1;
  return registered_bounds(s, as_of, price, pred, horizon, out, err);
}

static size_t registered_exogs(const void *state, const char *const **names) {
  const registered_state *s = state;
  *names = (const char *const *)s->transform.exog_names;
  return s->transform.nexog;
}

static size_t registered_max_horizon(const void *state) {
  const registered_state *s = state;
  return (size_t)s->net.arch.n_out;
}

/* Not in the model table: a registered version is made from its files (oc_mlp_forecaster_from_version),
 * never from a spec, and its files are its saved form (save and load are the registry's). */
static const oc_model_type registered_network = {
    .kind = "mlp",
    .summary = "a network registered by `oilcast train`",
    .fit = registered_fit,
    .update = registered_update,
    .predict = registered_predict,
    .destroy = registered_destroy,
    .exogs = registered_exogs,
    .max_horizon = registered_max_horizon,
    .forecast_from = registered_forecast_from,
};

oc_forecaster *oc_mlp_forecaster_from_version(oc_mlp *net, oc_model_card *card, oc_error *err) {
  registered_state *s = oc_xcalloc(1, sizeof *s);
  s->net = *net;
  s->card = *card;
  memset(net, 0, sizeof *net);
  memset(card, 0, sizeof *card);
  if (oc_mlp_card_transform(&s->card, &s->transform, err) != 0) {
    oc_mlp_free(&s->net);
    oc_model_card_free(&s->card);
    free(s);
    return NULL;
  }
  /* its own calibration gives the bounds: the common conformal layer stays out */
  return oc_forecaster_wrap(&registered_network, s, "mlp:intervals=analytic", err);
}
