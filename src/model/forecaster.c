/* forecaster.c: the generic half of every forecaster: the kind registry and spec parsing, the
 * fit/update/predict protocol, the split-conformal interval calibration every kind shares, replay
 * (genuine out-of-sample forecasts inside a history) and JSON save/load. It must not know anything
 * about a particular kind: kinds live in fc_*.c and are reached only through oc_model_type. */
#include "model/forecaster.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "model/fc_stats.h"

/* The kinds, each defined as `const oc_model_type oc_model_<kind>` in its fc_<kind>.c: adding one is
 * that file and one line here. */
#define OC_MODEL_KINDS(X) X(naive) X(drift) X(mean) X(ets) X(ar) X(arx) X(ensemble) X(mlp) X(auto)

#define DECLARE_KIND(kind) extern const oc_model_type oc_model_##kind;
OC_MODEL_KINDS(DECLARE_KIND)
#define LIST_KIND(kind) &oc_model_##kind,
const oc_model_type *const oc_model_types[] = {OC_MODEL_KINDS(LIST_KIND) NULL};

#define CONFORMAL_DEFAULT_WINDOW 250
#define CONFORMAL_DEFAULT_HORIZON 20
#define CONFORMAL_MIN_FIT 60

/* A forecast made at an origin, kept until its targets are observed. */
typedef struct pending_forecast {
  size_t origin; /* index of the last observation the forecast saw */
  double scale;  /* volatility at the origin (1 when unscaled) */
  double mean[OC_FORECAST_MAX_HORIZON];
} pending_forecast;

/* What a state read of an exogenous series: its observations dated up to the last target date seen
 * (a kind reads none later), counted, and the last of them. One arriving late (dated on or before that
 * date: Brent's price of a day WTI's was stored before it) or a revised last one changes it. */
typedef struct exog_seen {
  size_t n;
  oc_date last_date;
  double last_value;
} exog_seen;

struct oc_forecaster {
  const oc_model_type *type;
  void *state;
  char *spec;
  oc_conformal_config conformal;
  size_t cal_horizon;     /* horizons calibrated: 1..cal_horizon */
  size_t n_seen;          /* observations the state has seen */
  oc_date last_date;      /* hist->dates[n_seen-1]; OC_DATE_INVALID in a state saved before it was kept */
  double last_value;      /* hist->values[n_seen-1] */
  double ewma_var;        /* EWMA of squared price changes up to n_seen-1 */
  exog_seen *exogs_seen;  /* per exogenous series, what the state read of it; NULL until a fit or update
                           * records it (a loaded state) */
  /* residual rings, one per horizon: |y - yhat| / scale, most recent `window` */
  double *residuals;      /* cal_horizon * window */
  size_t res_count[OC_FORECAST_MAX_HORIZON];
  size_t res_next[OC_FORECAST_MAX_HORIZON];
  pending_forecast pending[OC_FORECAST_MAX_HORIZON]; /* ring by origin % cal_horizon */
  bool pending_valid[OC_FORECAST_MAX_HORIZON];
};

void oc_model_types_release_caches(void) {
  for (const oc_model_type *const *t = oc_model_types; *t; t++)
    if ((*t)->release_caches) (*t)->release_caches();
}

static const oc_model_type *type_named(const char *kind) {
  for (const oc_model_type *const *t = oc_model_types; *t; t++)
    if (strcmp((*t)->kind, kind) == 0) return *t;
  return NULL;
}

void oc_price_forecast_set_gaussian(oc_price_forecast *out, size_t h, double mean, double sd) {
  out->mean[h - 1] = mean;
  out->lo80[h - 1] = mean - OC_Z80 * sd;
  out->hi80[h - 1] = mean + OC_Z80 * sd;
  out->lo95[h - 1] = mean - OC_Z95 * sd;
  out->hi95[h - 1] = mean + OC_Z95 * sd;
}

void oc_price_forecast_set_lognormal(oc_price_forecast *out, size_t h, double mu, double sd) {
  out->mean[h - 1] = exp(mu);
  out->lo80[h - 1] = exp(mu - OC_Z80 * sd);
  out->hi80[h - 1] = exp(mu + OC_Z80 * sd);
  out->lo95[h - 1] = exp(mu - OC_Z95 * sd);
  out->hi95[h - 1] = exp(mu + OC_Z95 * sd);
}

/* ---- parameters ---------------------------------------------------------------------------- */

static int parse_spec(const char *spec, char *kind, size_t kind_size, oc_model_params *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  const char *colon = strchr(spec, ':');
  size_t klen = colon ? (size_t)(colon - spec) : strlen(spec);
  if (klen == 0 || klen >= kind_size) return oc_error_set(err, "model spec '%s': missing or too long model kind", spec);
  memcpy(kind, spec, klen);
  kind[klen] = '\0';
  const char *p = colon ? colon + 1 : NULL;
  while (p) {
    const char *next = strchr(p, ':');
    size_t len = next ? (size_t)(next - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    if (!eq || eq == p) return oc_error_set(err, "model spec '%s': parameter '%.*s' is not key=value", spec, (int)len, p);
    size_t keylen = (size_t)(eq - p), vallen = len - keylen - 1;
    if (out->n == OC_MODEL_MAX_PARAMS) return oc_error_set(err, "model spec '%s': more than %d parameters", spec, OC_MODEL_MAX_PARAMS);
    if (keylen >= sizeof out->key[0] || vallen >= sizeof out->value[0] || vallen == 0)
      return oc_error_set(err, "model spec '%s': parameter '%.*s' has an empty or too long key or value", spec, (int)len, p);
    memcpy(out->key[out->n], p, keylen);
    out->key[out->n][keylen] = '\0';
    for (size_t k = 0; k < out->n; k++)
      if (strcmp(out->key[k], out->key[out->n]) == 0)
        return oc_error_set(err, "model spec '%s': parameter '%s' given twice", spec, out->key[k]);
    memcpy(out->value[out->n], eq + 1, vallen);
    out->value[out->n][vallen] = '\0';
    out->n++;
    p = next ? next + 1 : NULL;
  }
  return 0;
}

static long find_param(oc_model_params *p, const char *key) {
  for (size_t i = 0; i < p->n; i++)
    if (strcmp(p->key[i], key) == 0) {
      p->used[i] = true;
      return (long)i;
    }
  return -1;
}

const char *oc_model_param_str(oc_model_params *p, const char *key) {
  long i = find_param(p, key);
  return i < 0 ? NULL : p->value[i];
}

int oc_model_param_long(oc_model_params *p, const char *key, long min, long max, long *out, oc_error *err) {
  const char *v = oc_model_param_str(p, key);
  if (!v) return 0;
  char *end;
  long x = strtol(v, &end, 10);
  if (*end || x < min || x > max) return oc_error_set(err, "parameter %s=%s: expected an integer in [%ld, %ld]", key, v, min, max);
  *out = x;
  return 0;
}

int oc_model_param_double(oc_model_params *p, const char *key, double min, double max, double *out, oc_error *err) {
  const char *v = oc_model_param_str(p, key);
  if (!v) return 0;
  char *end;
  double x = strtod(v, &end);
  if (*end || !(x >= min && x <= max)) return oc_error_set(err, "parameter %s=%s: expected a number in [%g, %g]", key, v, min, max);
  *out = x;
  return 0;
}

static int read_conformal_params(oc_model_params *p, oc_conformal_config *c, size_t *cal_horizon, oc_error *err) {
  c->method = OC_INTERVALS_CONFORMAL;
  c->window = CONFORMAL_DEFAULT_WINDOW;
  c->min_residuals = 30;
  c->vol_scaled = true;
  c->vol_lambda = 0.94;
  const char *m = oc_model_param_str(p, "intervals");
  if (m && strcmp(m, "analytic") == 0) c->method = OC_INTERVALS_ANALYTIC;
  else if (m && strcmp(m, "conformal") != 0)
    return oc_error_set(err, "parameter intervals=%s: expected conformal or analytic", m);
  const char *s = oc_model_param_str(p, "conformal_scale");
  if (s && strcmp(s, "none") == 0) c->vol_scaled = false;
  else if (s && strcmp(s, "vol") != 0) return oc_error_set(err, "parameter conformal_scale=%s: expected vol or none", s);
  long w = (long)c->window, h = CONFORMAL_DEFAULT_HORIZON;
  if (oc_model_param_long(p, "conformal_window", 10, 5000, &w, err) < 0) return -1;
  if (oc_model_param_long(p, "conformal_horizon", 1, OC_FORECAST_MAX_HORIZON, &h, err) < 0) return -1;
  if (oc_model_param_double(p, "conformal_lambda", 0.5, 0.999, &c->vol_lambda, err) < 0) return -1;
  c->window = (size_t)w;
  *cal_horizon = (size_t)h;
  return 0;
}

/* ---- creation ------------------------------------------------------------------------------ */

/* The forecaster of type with the common parameters of params and, when state is NULL, a state the
 * kind creates from the rest of them (else that state, whose parameters the kind already holds). */
static oc_forecaster *forecaster_new(const oc_model_type *type, void *state, const char *spec, oc_model_params *params,
                                     oc_error *err) {
  oc_forecaster *f = oc_xcalloc(1, sizeof *f);
  f->type = type;
  f->spec = oc_xstrdup(spec);
  f->state = state;
  f->last_date = OC_DATE_INVALID;
  if (read_conformal_params(params, &f->conformal, &f->cal_horizon, err) < 0) goto fail;
  if (!f->state && !(f->state = type->create(params, err))) goto fail;
  for (size_t i = 0; i < params->n; i++)
    if (!params->used[i] && state == NULL) {
      oc_error_set(err, "model '%s': unknown parameter '%s'", type->kind, params->key[i]);
      goto fail;
    }
  f->residuals = oc_xcalloc(f->cal_horizon * f->conformal.window, sizeof *f->residuals);
  return f;
fail:
  oc_error_prefix(err, "model spec '%s': ", spec);
  oc_forecaster_free(f);
  return NULL;
}

oc_forecaster *oc_forecaster_create(const char *spec, oc_error *err) {
  char kind[32];
  oc_model_params params;
  if (parse_spec(spec, kind, sizeof kind, &params, err) < 0) return NULL;
  const oc_model_type *type = type_named(kind);
  if (!type) {
    oc_buf names = {0};
    for (const oc_model_type *const *t = oc_model_types; *t; t++) oc_buf_printf(&names, "%s%s", names.len ? ", " : "", (*t)->kind);
    oc_error_set(err, "unknown model '%s' (known: %s)", kind, names.data);
    oc_buf_free(&names);
    return NULL;
  }
  return forecaster_new(type, NULL, spec, &params, err);
}

char *oc_model_spec_with_exog(const char *spec, const char *exog_list) {
  char kind[32];
  oc_model_params params;
  oc_error ignored;
  const oc_model_type *type = parse_spec(spec, kind, sizeof kind, &params, &ignored) == 0 ? type_named(kind) : NULL;
  /* a spec that does not parse is copied: creating it says what is wrong */
  if (!type || !type->exogs || !exog_list || !*exog_list || oc_model_param_str(&params, "exog")) return oc_xstrdup(spec);
  oc_buf out = {0};
  oc_buf_printf(&out, "%s:exog=%s", spec, exog_list);
  for (char *c = out.data + strlen(spec); *c; c++)
    if (*c == ',') *c = '+';
  return out.data;
}

oc_forecaster *oc_forecaster_wrap(const oc_model_type *type, void *state, const char *spec, oc_error *err) {
  char kind[32];
  oc_model_params params;
  if (parse_spec(spec, kind, sizeof kind, &params, err) < 0 ||
      (strcmp(kind, type->kind) != 0 && oc_error_set(err, "model spec '%s' is not of kind %s", spec, type->kind))) {
    type->destroy(state);
    return NULL;
  }
  return forecaster_new(type, state, spec, &params, err);
}

void oc_forecaster_free(oc_forecaster *f) {
  if (!f) return;
  if (f->state) f->type->destroy(f->state);
  free(f->residuals);
  free(f->exogs_seen);
  free(f->spec);
  free(f);
}

const char *oc_forecaster_kind(const oc_forecaster *f) { return f->type->kind; }
const char *oc_forecaster_name(const oc_forecaster *f) { return f->spec; }

size_t oc_forecaster_exogs(const oc_forecaster *f, const char *const **names) {
  *names = NULL;
  return f->type->exogs ? f->type->exogs(f->state, names) : 0;
}

size_t oc_forecaster_max_horizon(const oc_forecaster *f) {
  size_t h = f->type->max_horizon ? f->type->max_horizon(f->state) : 0;
  assert(h <= OC_FORECAST_MAX_HORIZON);
  return h ? h : OC_FORECAST_MAX_HORIZON;
}

size_t oc_positive_log_prices(const oc_series *hist, size_t window, double *out) {
  size_t start = window > 0 && hist->n > window ? hist->n - window : 0, m = 0;
  for (size_t i = start; i < hist->n; i++)
    if (hist->values[i] > 0) out[m++] = log(hist->values[i]);
  return m;
}

/* ---- calibration --------------------------------------------------------------------------- */

static void calibration_reset(oc_forecaster *f) {
  memset(f->res_count, 0, sizeof f->res_count);
  memset(f->res_next, 0, sizeof f->res_next);
  memset(f->pending_valid, 0, sizeof f->pending_valid);
}

/* Volatility from scratch at the end of hist[0..n): EWMA of squared one-step price changes over at
 * most the last 500 changes, seeded with the mean of the first 20 of them. */
static double volatility_at(const oc_series *hist, size_t n, double lambda) {
  if (n < 3) return 1.0;
  size_t start = n > 501 ? n - 501 : 0;
  size_t seed_end = start + 21 < n ? start + 21 : n;
  double v = 0;
  for (size_t i = start + 1; i < seed_end; i++) {
    double d = hist->values[i] - hist->values[i - 1];
    v += d * d;
  }
  v /= (double)(seed_end - start - 1);
  for (size_t i = seed_end; i < n; i++) {
    double d = hist->values[i] - hist->values[i - 1];
    v = lambda * v + (1 - lambda) * d * d;
  }
  return v;
}

static double current_scale(const oc_forecaster *f) {
  if (!f->conformal.vol_scaled) return 1.0;
  double s = sqrt(f->ewma_var);
  return s > 1e-12 ? s : 1e-12;
}

/* Observation `index` (value y) has arrived: score every pending forecast that targeted it. */
static void calibration_observe(oc_forecaster *f, size_t index, double y) {
  for (size_t h = 1; h <= f->cal_horizon && h <= index; h++) {
    size_t origin = index - h, slot = origin % f->cal_horizon;
    const pending_forecast *pf = &f->pending[slot];
    if (!f->pending_valid[slot] || pf->origin != origin) continue;
    double r = fabs(y - pf->mean[h - 1]) / pf->scale;
    double *ring = f->residuals + (h - 1) * f->conformal.window;
    ring[f->res_next[h - 1]] = r;
    f->res_next[h - 1] = (f->res_next[h - 1] + 1) % f->conformal.window;
    if (f->res_count[h - 1] < f->conformal.window) f->res_count[h - 1]++;
  }
}

/* Records the model's forecast at the current origin (n_seen - 1) for later scoring. */
static int calibration_record(oc_forecaster *f, oc_error *err) {
  oc_price_forecast fc;
  if (f->type->predict(f->state, f->cal_horizon, &fc, err) < 0) return -1;
  size_t origin = f->n_seen - 1, slot = origin % f->cal_horizon;
  f->pending[slot].origin = origin;
  f->pending[slot].scale = current_scale(f);
  memcpy(f->pending[slot].mean, fc.mean, f->cal_horizon * sizeof fc.mean[0]);
  f->pending_valid[slot] = true;
  return 0;
}

/* Moves the forecaster's bookkeeping to observation index i of hist (i == n_seen). */
static void advance_observation(oc_forecaster *f, const oc_series *hist, size_t i) {
  double y = hist->values[i];
  if (i > 0) {
    double d = y - hist->values[i - 1];
    f->ewma_var = f->conformal.vol_lambda * f->ewma_var + (1 - f->conformal.vol_lambda) * d * d;
  }
  calibration_observe(f, i, y);
  f->n_seen = i + 1;
  f->last_date = hist->dates[i];
  f->last_value = y;
}

static bool conformal_on(const oc_forecaster *f) { return f->conformal.method == OC_INTERVALS_CONFORMAL; }

static int fit_state(oc_forecaster *f, const oc_series *hist, const oc_series *exogs, size_t n, oc_error *err) {
  oc_series view = *hist;
  view.n = n;
  if (f->type->fit(f->state, &view, exogs, err) < 0) return -1;
  f->n_seen = n;
  f->last_date = hist->dates[n - 1];
  f->last_value = hist->values[n - 1];
  f->ewma_var = volatility_at(hist, n, f->conformal.vol_lambda);
  return 0;
}

static int step_state(oc_forecaster *f, const oc_series *hist, const oc_series *exogs, size_t i, oc_error *err) {
  oc_series view = *hist;
  view.n = i + 1;
  if (f->type->update(f->state, &view, exogs, err) < 0) return -1;
  advance_observation(f, hist, i);
  return conformal_on(f) ? calibration_record(f, err) : 0;
}

/* Does hist extend what f has seen (the same observation where f's last one was)? */
static bool extends_seen(const oc_forecaster *f, const oc_series *hist) {
  return f->n_seen > 0 && hist->n >= f->n_seen && hist->values[f->n_seen - 1] == f->last_value &&
         (f->last_date == OC_DATE_INVALID || hist->dates[f->n_seen - 1] == f->last_date);
}

static exog_seen exog_seen_until(const oc_series *exog, oc_date last_date) {
  oc_series read = oc_series_view_until(exog, last_date);
  return read.n ? (exog_seen){read.n, read.dates[read.n - 1], read.values[read.n - 1]} : (exog_seen){0};
}

/* Records what the state read of exogs (after a fit or an update up to f->last_date). */
static void record_exogs_seen(oc_forecaster *f, const oc_series *exogs) {
  const char *const *names;
  size_t nexog = oc_forecaster_exogs(f, &names);
  if (nexog == 0 || !exogs) return;
  if (!f->exogs_seen) f->exogs_seen = oc_xcalloc(nexog, sizeof *f->exogs_seen);
  for (size_t k = 0; k < nexog; k++) f->exogs_seen[k] = exog_seen_until(&exogs[k], f->last_date);
}

/* Are exogs what the state read of them up to its last date? (Not known for a loaded state: taken as
 * yes, and recorded by its next update.) */
static bool exogs_as_seen(const oc_forecaster *f, const oc_series *exogs) {
  const char *const *names;
  size_t nexog = oc_forecaster_exogs(f, &names);
  if (nexog == 0 || !f->exogs_seen) return true;
  if (!exogs) return false;
  for (size_t k = 0; k < nexog; k++) {
    exog_seen now = exog_seen_until(&exogs[k], f->last_date), then = f->exogs_seen[k];
    if (now.n != then.n || now.last_date != then.last_date || now.last_value != then.last_value) return false;
  }
  return true;
}

bool oc_forecaster_has_seen(const oc_forecaster *f, const oc_series *hist, const oc_series *exogs) {
  return hist->n == f->n_seen && extends_seen(f, hist) && exogs_as_seen(f, exogs);
}

int oc_forecaster_fit(oc_forecaster *f, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  size_t n = hist->n;
  if (n < 2) return oc_error_set(err, "%s: cannot fit on %zu observations (need at least 2)", f->spec, n);
  calibration_reset(f);
  if (conformal_on(f)) {
    /* Warm-up: estimate on the history minus the calibration span, then filter through that span
     * with those parameters, scoring every forecast: the residuals are genuinely out of sample. */
    size_t span = f->conformal.window + f->cal_horizon;
    size_t fit_n = n > span + CONFORMAL_MIN_FIT ? n - span : n / 2;
    if (fit_n >= CONFORMAL_MIN_FIT / 2 && fit_n < n) {
      /* A history too short for the kind before the calibration span is not an error of the fit
       * itself: the forecaster then keeps the kind's analytic bounds. */
      oc_error warm_err = {0};
      bool warmed = fit_state(f, hist, exogs, fit_n, &warm_err) == 0 && calibration_record(f, &warm_err) == 0;
      for (size_t i = fit_n; warmed && i < n; i++) warmed = step_state(f, hist, exogs, i, &warm_err) == 0;
      if (!warmed) {
        oc_debug("%s: no conformal calibration (%s); analytic bounds", f->spec, warm_err.message);
        calibration_reset(f);
      }
    }
  }
  if (fit_state(f, hist, exogs, n, err) < 0) goto fail;
  if (conformal_on(f) && calibration_record(f, err) < 0) goto fail;
  record_exogs_seen(f, exogs);
  return 0;
fail:
  return oc_error_prefix(err, "fitting %s on %zu observations: ", f->spec, n);
}

int oc_forecaster_update(oc_forecaster *f, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  if (f->n_seen == 0) return oc_error_set(err, "%s: update before fit", f->spec);
  if (!extends_seen(f, hist))
    return oc_error_set(err, "%s: update history (%zu observations) does not extend the %zu already seen", f->spec,
                        hist->n, f->n_seen);
  for (size_t i = f->n_seen; i < hist->n; i++)
    if (step_state(f, hist, exogs, i, err) < 0)
      return oc_error_prefix(err, "updating %s at observation %zu: ", f->spec, i);
  record_exogs_seen(f, exogs);
  return 0;
}

int oc_forecaster_advance(oc_forecaster *f, const oc_series *hist, const oc_series *exogs, oc_error *err) {
  return extends_seen(f, hist) && exogs_as_seen(f, exogs) ? oc_forecaster_update(f, hist, exogs, err)
                                                          : oc_forecaster_fit(f, hist, exogs, err);
}

int oc_forecaster_forecast_from(const oc_forecaster *f, const oc_series *hist, const oc_series *exogs, size_t horizon,
                                oc_price_forecast *out, oc_error *err) {
  if (hist->n == 0) return oc_error_set(err, "%s: the history is empty", f->spec);
  if (horizon < 1 || horizon > oc_forecaster_max_horizon(f))
    return oc_error_set(err, "%s: horizon %zu outside 1..%zu", f->spec, horizon, oc_forecaster_max_horizon(f));
  if (f->type->forecast_from) {
    out->origin = hist->dates[hist->n - 1];
    out->origin_price = hist->values[hist->n - 1];
    out->horizon = horizon;
    return f->type->forecast_from(f->state, hist, exogs, horizon, out, err);
  }
  oc_forecaster *fresh = oc_forecaster_create(f->spec, err);
  if (!fresh) return -1;
  int rc = oc_forecaster_fit(fresh, hist, exogs, err);
  if (rc == 0) rc = oc_forecaster_predict(fresh, horizon, out, err);
  oc_forecaster_free(fresh);
  return rc;
}

/* The rank (1-based) of the conformal quantile of m scores at a coverage level: the
 * ceil((m+1)*level)-th smallest, capped at m. */
static size_t conformal_rank(size_t m, double level) {
  size_t k = (size_t)ceil((double)(m + 1) * level);
  return k > m ? m : k;
}

int oc_forecaster_predict(oc_forecaster *f, size_t horizon, oc_price_forecast *out, oc_error *err) {
  if (f->n_seen == 0) return oc_error_set(err, "%s: predict before fit", f->spec);
  if (horizon < 1 || horizon > OC_FORECAST_MAX_HORIZON)
    return oc_error_set(err, "%s: horizon %zu outside 1..%d", f->spec, horizon, OC_FORECAST_MAX_HORIZON);
  if (f->type->predict(f->state, horizon, out, err) < 0) return oc_error_prefix(err, "%s: ", f->spec);
  /* set after the kind's predict, which may clear *out (an ensemble sums its members into it) */
  out->origin = f->last_date;
  out->origin_price = f->last_value;
  out->horizon = horizon;
  if (!conformal_on(f)) return 0;
  double scale = current_scale(f);
  double *scratch = oc_xmalloc(f->conformal.window * sizeof *scratch);
  double widest80 = 0, widest95 = 0; /* the half-widths of the horizons before */
  for (size_t h = 1; h <= horizon && h <= f->cal_horizon; h++) {
    size_t m = f->res_count[h - 1];
    if (m < f->conformal.min_residuals) continue;
    const double *ring = f->residuals + (h - 1) * f->conformal.window;
    /* the 95% order statistic first: selecting it leaves the smaller scores in front, where the
     * 80% one is found without looking at the rest */
    size_t k95 = conformal_rank(m, 0.95), k80 = conformal_rank(m, 0.80);
    memcpy(scratch, ring, m * sizeof *ring);
    double q95 = oc_select_kth(scratch, m, k95 - 1) * scale;
    double q80 = (k80 < k95 ? oc_select_kth(scratch, k95 - 1, k80 - 1) : q95 / scale) * scale;
    /* never narrower than a horizon before: widening an interval keeps at least its coverage */
    q80 = widest80 = q80 > widest80 ? q80 : widest80;
    q95 = widest95 = q95 > widest95 ? q95 : widest95;
    double mu = out->mean[h - 1];
    out->lo80[h - 1] = mu - q80;
    out->hi80[h - 1] = mu + q80;
    out->lo95[h - 1] = mu - q95;
    out->hi95[h - 1] = mu + q95;
  }
  free(scratch);
  return 0;
}

int oc_forecaster_replay(oc_forecaster *model, const oc_series *hist, size_t fit_n, size_t horizon,
                         oc_replay_visit visit, void *ctx, oc_error *err) {
  oc_series view = *hist;
  oc_price_forecast fc;
  view.n = fit_n;
  if (oc_forecaster_fit(model, &view, NULL, err) < 0) return -1;
  for (size_t n = fit_n;; n++) {
    if (n > fit_n) {
      view.n = n;
      if (oc_forecaster_update(model, &view, NULL, err) < 0) return -1;
    }
    if (oc_forecaster_predict(model, horizon, &fc, err) < 0) return -1;
    if (visit(ctx, n - 1, &fc, err) < 0) return -1;
    if (n == hist->n) return 0;
  }
}

/* ---- save / load --------------------------------------------------------------------------- */

static json_t *doubles_to_json(const double *x, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_real(x[i]));
  return a;
}

static int json_to_doubles(const json_t *a, double *x, size_t n, const char *what, oc_error *err) {
  if (!json_is_array(a) || json_array_size(a) != n) return oc_error_set(err, "%s: expected an array of %zu numbers", what, n);
  for (size_t i = 0; i < n; i++) {
    json_t *v = json_array_get(a, i);
    if (!json_is_number(v)) return oc_error_set(err, "%s[%zu]: not a number", what, i);
    x[i] = json_number_value(v);
  }
  return 0;
}

char *oc_forecaster_save(const oc_forecaster *f) {
  if (!f->type->save) return NULL;
  json_t *cal = json_object();
  json_object_set_new(cal, "n_seen", json_integer((json_int_t)f->n_seen));
  json_object_set_new(cal, "last_value", json_real(f->last_value));
  if (f->last_date != OC_DATE_INVALID) {
    char date[OC_DATE_STRLEN];
    json_object_set_new(cal, "last_date", json_string(oc_date_format(f->last_date, date)));
  }
  json_object_set_new(cal, "ewma_var", json_real(f->ewma_var));
  json_t *rings = json_array();
  for (size_t h = 0; h < f->cal_horizon; h++) {
    /* stored oldest first so a reload is independent of the ring position */
    size_t m = f->res_count[h], w = f->conformal.window;
    double *ordered = oc_xmalloc((m ? m : 1) * sizeof *ordered);
    size_t first = m < w ? 0 : f->res_next[h];
    for (size_t i = 0; i < m; i++) ordered[i] = f->residuals[h * w + (first + i) % w];
    json_array_append_new(rings, doubles_to_json(ordered, m));
    free(ordered);
  }
  json_object_set_new(cal, "residuals", rings);
  json_t *pend = json_array();
  for (size_t s = 0; s < f->cal_horizon; s++) {
    if (!f->pending_valid[s]) continue;
    json_t *p = json_object();
    json_object_set_new(p, "origin", json_integer((json_int_t)f->pending[s].origin));
    json_object_set_new(p, "scale", json_real(f->pending[s].scale));
    json_object_set_new(p, "mean", doubles_to_json(f->pending[s].mean, f->cal_horizon));
    json_array_append_new(pend, p);
  }
  json_object_set_new(cal, "pending", pend);
  json_t *root = json_object();
  json_object_set_new(root, "format", json_string("oilcast-forecaster"));
  json_object_set_new(root, "version", json_integer(1));
  json_object_set_new(root, "spec", json_string(f->spec));
  json_object_set_new(root, "kind", json_string(f->type->kind));
  json_object_set_new(root, "model", f->type->save(f->state));
  json_object_set_new(root, "calibration", cal);
  char *text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
  json_decref(root);
  return text;
}

static int load_calibration(oc_forecaster *f, const json_t *cal, oc_error *err) {
  json_t *n_seen = json_object_get(cal, "n_seen"), *rings = json_object_get(cal, "residuals");
  json_t *pend = json_object_get(cal, "pending");
  if (!json_is_integer(n_seen) || json_integer_value(n_seen) < 1 || !json_is_array(rings) ||
      json_array_size(rings) != f->cal_horizon || !json_is_array(pend) ||
      !json_is_number(json_object_get(cal, "last_value")) || !json_is_number(json_object_get(cal, "ewma_var")))
    return oc_error_set(err, "calibration: missing or malformed n_seen/last_value/ewma_var/residuals/pending");
  f->n_seen = (size_t)json_integer_value(n_seen);
  f->last_value = json_number_value(json_object_get(cal, "last_value"));
  const char *last_date = json_string_value(json_object_get(cal, "last_date"));
  if (last_date && oc_date_parse(last_date, strlen(last_date), &f->last_date, NULL) != 0)
    return oc_error_set(err, "calibration: last_date '%s' is not YYYY-MM-DD", last_date);
  f->ewma_var = json_number_value(json_object_get(cal, "ewma_var"));
  for (size_t h = 0; h < f->cal_horizon; h++) {
    json_t *ring = json_array_get(rings, h);
    size_t m = json_is_array(ring) ? json_array_size(ring) : 0;
    if (m > f->conformal.window) return oc_error_set(err, "calibration: horizon %zu has %zu residuals, window is %zu", h + 1, m, f->conformal.window);
    if (json_to_doubles(ring, f->residuals + h * f->conformal.window, m, "calibration.residuals", err) < 0) return -1;
    f->res_count[h] = m;
    f->res_next[h] = m % f->conformal.window;
  }
  size_t i;
  json_t *p;
  json_array_foreach(pend, i, p) {
    json_t *origin = json_object_get(p, "origin"), *scale = json_object_get(p, "scale");
    if (!json_is_integer(origin) || json_integer_value(origin) < 0 || !json_is_number(scale))
      return oc_error_set(err, "calibration.pending[%zu]: missing origin or scale", i);
    size_t o = (size_t)json_integer_value(origin), slot = o % f->cal_horizon;
    f->pending[slot].origin = o;
    f->pending[slot].scale = json_number_value(scale);
    if (json_to_doubles(json_object_get(p, "mean"), f->pending[slot].mean, f->cal_horizon, "calibration.pending.mean", err) < 0)
      return -1;
    f->pending_valid[slot] = true;
  }
  return 0;
}

oc_forecaster *oc_forecaster_load(const char *json_text, oc_error *err) {
  json_error_t jerr;
  json_t *root = json_loads(json_text, 0, &jerr);
  if (!root) {
    oc_error_set(err, "forecaster JSON: %s at line %d column %d (byte %d)", jerr.text, jerr.line, jerr.column, jerr.position);
    return NULL;
  }
  oc_forecaster *f = NULL;
  const char *format = json_string_value(json_object_get(root, "format"));
  json_t *version = json_object_get(root, "version");
  const char *spec = json_string_value(json_object_get(root, "spec"));
  const char *kind = json_string_value(json_object_get(root, "kind"));
  if (!format || strcmp(format, "oilcast-forecaster") != 0 || !json_is_integer(version) || json_integer_value(version) != 1 ||
      !spec || !kind) {
    oc_error_set(err, "forecaster JSON: not an oilcast-forecaster version 1 document (format, version, spec, kind)");
    goto done;
  }
  f = oc_forecaster_create(spec, err);
  if (!f) goto done;
  if (strcmp(kind, f->type->kind) != 0) {
    oc_error_set(err, "forecaster JSON: kind '%s' does not match spec '%s'", kind, spec);
    goto fail;
  }
  if (f->type->load(f->state, json_object_get(root, "model"), err) < 0 ||
      load_calibration(f, json_object_get(root, "calibration"), err) < 0)
    goto fail;
  goto done;
fail:
  oc_error_prefix(err, "loading forecaster '%s': ", spec);
  oc_forecaster_free(f);
  f = NULL;
done:
  json_decref(root);
  return f;
}
