/* models.c: loading model versions (registered network, registered forecaster or forecaster spec), reference counting, and
 * forecasting with the per-model lock and the stored-history cache. */
#include "serve/models.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/progress.h"
#include "model/registry.h"
#include "store/datadir.h"
#include "serve/models_mlp.h"

struct oc_served_model {
  _Atomic long refs;
  char version[64], kind[32];
  double load_seconds;
  oc_mlp_served *mlp; /* a registered network, or: */
  pthread_mutex_t lock; /* guards everything below */
  oc_forecaster *forecaster; /* a spec or a registered forecaster, following the stored history */
  char *spec;                /* what a fresh copy is created from, for a given history */
  size_t seen_n;
  oc_date seen_last;
  double seen_last_value;
  bool *cached; /* [OC_FORECAST_MAX_HORIZON + 1]: cache[h] valid for the history seen */
  oc_forecast *cache;
  oc_date *cache_origin;
};

static void forget_history(oc_served_model *m) {
  m->seen_n = 0;
  memset(m->cached, 0, (OC_FORECAST_MAX_HORIZON + 1) * sizeof *m->cached);
}

/* A network with the bounds stored in its card; a version trained before they were stored gets them
 * calibrated here, on the histories its features need. */
static int load_network(oc_served_model *m, const char *data_dir, int64_t version, const char *series,
                        oc_series_loader load, void *ctx, oc_error *err) {
  m->mlp = oc_mlp_served_load(data_dir, version, err);
  if (!m->mlp) return -1;
  snprintf(m->kind, sizeof m->kind, "mlp");
  if (strcmp(oc_mlp_served_series(m->mlp), series) != 0) {
    return oc_error_set(err, "model %s forecasts %s, not %s", m->version, oc_mlp_served_series(m->mlp), series);
  }
  if (oc_mlp_served_calibrated(m->mlp)) return 0;
  oc_info("model %s has no stored interval calibration (trained by an older oilcast): calibrating it on the stored "
          "history now", m->version);
  const char *const *names;
  size_t nexog = oc_mlp_served_exogs(m->mlp, &names);
  oc_series history = {0};
  oc_series *exogs = oc_xcalloc(nexog + 1, sizeof *exogs);
  int rc = load(ctx, series, &history, err);
  for (size_t i = 0; rc == 0 && i < nexog; i++) rc = load(ctx, names[i], &exogs[i], err);
  if (rc == 0) rc = oc_mlp_served_calibrate(m->mlp, &history, exogs, err);
  for (size_t i = 0; i < nexog; i++) {
    if (exogs[i].name) oc_series_free(&exogs[i]);
  }
  free(exogs);
  if (history.name) oc_series_free(&history);
  return rc;
}

/* A registered forecaster version: its saved state, which has seen the card's training window (so the
 * stored history is followed by update when it extends that window, refitted otherwise). */
static int load_registered_forecaster(oc_served_model *m, oc_store *store, const char *data_dir, int64_t version,
                                      const char *series, oc_error *err) {
  json_t *card;
  if (oc_registry_load_forecaster(data_dir, store, version, &m->forecaster, &card, err) != 0) return -1;
  const char *card_series = json_string_value(json_object_get(card, "series"));
  json_t *training = json_object_get(card, "training");
  const char *last = json_string_value(json_object_get(training, "last"));
  int rc = 0;
  if (!card_series || strcmp(card_series, series) != 0)
    rc = oc_error_set(err, "model %s forecasts %s, not %s", m->version, card_series ? card_series : "?", series);
  else if (!last || oc_date_parse(last, strlen(last), &m->seen_last, NULL) != 0)
    rc = oc_error_set(err, "model %s: its card has no training.last date", m->version);
  if (rc == 0) {
    m->seen_n = (size_t)json_integer_value(json_object_get(training, "observations"));
    m->seen_last_value = json_number_value(json_object_get(training, "last_value"));
    m->spec = oc_xstrdup(oc_forecaster_name(m->forecaster));
    snprintf(m->kind, sizeof m->kind, "%s", oc_forecaster_kind(m->forecaster));
  }
  json_decref(card);
  return rc;
}

/* A registered version: a network or a forecaster. */
static int load_registered(oc_served_model *m, const char *data_dir, int64_t version, const char *series,
                           oc_series_loader load, void *ctx, oc_error *err) {
  oc_store *store = NULL;
  bool is_forecaster = false;
  if (oc_datadir_open(data_dir, &store, err) != 0) return -1;
  int rc = oc_registry_is_forecaster(data_dir, store, version, &is_forecaster, err);
  if (rc == 0 && is_forecaster) rc = load_registered_forecaster(m, store, data_dir, version, series, err);
  oc_store_close(store);
  if (rc == 0 && !is_forecaster) rc = load_network(m, data_dir, version, series, load, ctx, err);
  return rc;
}

static int load_spec(oc_served_model *m, const char *data_dir, const char *series, oc_series_loader load, void *ctx,
                     oc_error *err) {
  m->forecaster = oc_forecaster_create(m->version, err);
  if (!m->forecaster) {
    return oc_error_prefix(err, "model version '%s' is neither registered in %s nor a forecaster spec: ", m->version,
                           data_dir);
  }
  m->spec = oc_xstrdup(m->version);
  snprintf(m->kind, sizeof m->kind, "%s", oc_forecaster_kind(m->forecaster));
  oc_series history = {0};
  int rc = load(ctx, series, &history, err);
  if (rc == 0 && history.n == 0) rc = oc_error_set(err, "series %s has no observations", series);
  if (rc == 0) rc = oc_forecaster_fit(m->forecaster, &history, err);
  if (rc == 0) {
    m->seen_n = history.n;
    m->seen_last = history.dates[history.n - 1];
    m->seen_last_value = history.values[history.n - 1];
  }
  if (history.name) oc_series_free(&history);
  return rc;
}

int oc_served_model_default_series(const char *data_dir, const char *version, char *series, size_t cap,
                                   oc_error *err) {
  int64_t registered;
  snprintf(series, cap, "WTI");
  if (oc_model_version_parse(version, &registered) != 0) return 0;
  oc_store *store = NULL;
  if (oc_datadir_open(data_dir, &store, err) != 0) return -1;
  oc_model_version row;
  bool found = false;
  int rc = oc_store_model_version_get(store, registered, &row, &found, err);
  oc_store_close(store);
  if (rc != 0) return -1;
  if (!found) return oc_error_set(err, "model %s is not registered", version);
  snprintf(series, cap, "%s", row.series);
  oc_model_version_free(&row);
  return 0;
}

oc_served_model *oc_served_model_load(const char *data_dir, const char *version, const char *series,
                                      oc_series_loader load, void *ctx, oc_error *err) {
  double start = oc_monotonic_seconds();
  if (!*version || strlen(version) >= sizeof ((oc_served_model *)0)->version) {
    oc_error_set(err, "model version '%s': expected 1..63 characters", version);
    return NULL;
  }
  oc_served_model *m = oc_xcalloc(1, sizeof *m);
  snprintf(m->version, sizeof m->version, "%s", version);
  pthread_mutex_init(&m->lock, NULL);
  atomic_init(&m->refs, 1);
  m->cached = oc_xcalloc(OC_FORECAST_MAX_HORIZON + 1, sizeof *m->cached);
  m->cache = oc_xcalloc(OC_FORECAST_MAX_HORIZON + 1, sizeof *m->cache);
  m->cache_origin = oc_xcalloc(OC_FORECAST_MAX_HORIZON + 1, sizeof *m->cache_origin);
  int64_t registered;
  int rc = oc_model_version_parse(version, &registered) == 0
               ? load_registered(m, data_dir, registered, series, load, ctx, err)
               : load_spec(m, data_dir, series, load, ctx, err);
  if (rc != 0) {
    oc_error_prefix(err, "loading model %s: ", version);
    oc_served_model_release(m);
    return NULL;
  }
  m->load_seconds = oc_monotonic_seconds() - start;
  return m;
}

void oc_served_model_retain(oc_served_model *m) { atomic_fetch_add(&m->refs, 1); }

void oc_served_model_release(oc_served_model *m) {
  if (!m || atomic_fetch_sub(&m->refs, 1) != 1) return;
  oc_forecaster_free(m->forecaster);
  free(m->spec);
  oc_mlp_served_free(m->mlp);
  free(m->cached);
  free(m->cache);
  free(m->cache_origin);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

const char *oc_served_model_version(const oc_served_model *m) { return m->version; }
const char *oc_served_model_kind(const oc_served_model *m) { return m->kind; }
double oc_served_model_load_seconds(const oc_served_model *m) { return m->load_seconds; }

size_t oc_served_model_default_horizon(const oc_served_model *m) {
  return m->mlp ? (size_t)oc_mlp_served_horizon(m->mlp) : OC_SERVED_DEFAULT_HORIZON;
}

size_t oc_served_model_exogs(const oc_served_model *m, const char *const **names) {
  if (m->mlp) return oc_mlp_served_exogs(m->mlp, names);
  *names = NULL;
  return 0;
}

/* Is history what the model saw last? Caller holds m->lock. */
static bool same_history(const oc_served_model *m, const oc_series *history) {
  size_t n = history->n;
  return m->seen_n && n == m->seen_n && history->dates[n - 1] == m->seen_last &&
         history->values[n - 1] == m->seen_last_value;
}

static void remember_history(oc_served_model *m, const oc_series *history) {
  m->seen_n = history->n;
  m->seen_last = history->dates[history->n - 1];
  m->seen_last_value = history->values[history->n - 1];
}

/* One forecast, uncached. For a spec, f is the forecaster to use (already following history). */
static int compute(oc_served_model *m, oc_forecaster *f, const oc_series *history, const oc_series *exogs,
                   size_t horizon, oc_forecast *out, oc_date *origin, oc_error *err) {
  if (!m->mlp) {
    *origin = history->dates[history->n - 1];
    return oc_forecaster_predict(f, horizon, out, err);
  }
  if (horizon > (size_t)oc_mlp_served_horizon(m->mlp)) {
    return oc_error_set(err, "model %s forecasts 1 to %d business days ahead (its horizons); %zu requested", m->version,
                        oc_mlp_served_horizon(m->mlp), horizon);
  }
  oc_mlp_served_point points[OC_FORECAST_MAX_HORIZON];
  int32_t as_of;
  if (oc_mlp_served_forecast(m->mlp, history, exogs, horizon, points, &as_of, err) != 0) return -1;
  out->horizon = horizon;
  for (size_t h = 0; h < horizon; h++) {
    out->mean[h] = points[h].price;
    out->lo80[h] = points[h].lower80;
    out->hi80[h] = points[h].upper80;
    out->lo95[h] = points[h].lower95;
    out->hi95[h] = points[h].upper95;
  }
  *origin = as_of;
  return 0;
}

int oc_served_model_forecast(oc_served_model *m, const oc_series *history, const oc_series *exogs, bool stored,
                             size_t horizon, oc_forecast *out, oc_date *origin, oc_error *err) {
  if (horizon < 1 || horizon > OC_FORECAST_MAX_HORIZON) {
    return oc_error_set(err, "forecast horizon %zu is outside 1..%d", horizon, OC_FORECAST_MAX_HORIZON);
  }
  if (history->n == 0) return oc_error_set(err, "the history is empty");
  if (!stored && !m->mlp) {
    /* A given history: a fresh forecaster of the same spec fitted on it; the served one is untouched. */
    oc_forecaster *copy = oc_forecaster_create(m->spec, err);
    if (!copy) return -1;
    int rc = oc_forecaster_fit(copy, history, err);
    if (rc == 0) rc = compute(m, copy, history, exogs, horizon, out, origin, err);
    oc_forecaster_free(copy);
    return rc;
  }
  /* A given history and a network: the network and its calibrated bounds are only read. */
  if (!stored) return compute(m, NULL, history, exogs, horizon, out, origin, err);
  pthread_mutex_lock(&m->lock);
  int rc = 0;
  if (!same_history(m, history)) {
    if (m->forecaster) {
      bool extends = m->seen_n && history->n > m->seen_n && history->dates[m->seen_n - 1] == m->seen_last &&
                     history->values[m->seen_n - 1] == m->seen_last_value;
      rc = extends ? oc_forecaster_update(m->forecaster, history, err) : oc_forecaster_fit(m->forecaster, history, err);
    }
    forget_history(m);
    if (rc == 0) remember_history(m, history);
  }
  if (rc == 0 && !m->cached[horizon]) {
    rc = compute(m, m->forecaster, history, exogs, horizon, &m->cache[horizon], &m->cache_origin[horizon], err);
    m->cached[horizon] = rc == 0;
  }
  if (rc == 0) {
    *out = m->cache[horizon];
    *origin = m->cache_origin[horizon];
  }
  pthread_mutex_unlock(&m->lock);
  return rc;
}
