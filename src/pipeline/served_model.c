/* served_model.c: loading model versions (any registered version, or a forecaster spec) as one forecaster,
 * reference counting, and forecasting with the per-model lock and the stored-history cache. Never
 * branches on the model's kind: model/registry.h hands out every version as an oc_forecaster. */
#include "pipeline/served_model.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/lock.h"
#include "core/progress.h"
#include "model/registry.h"
#include "store/datadir.h"

struct oc_served_model {
  _Atomic long refs;
  char version[64], kind[32];
  double load_seconds;
  oc_lock lock;              /* guards everything below */
  oc_forecaster *forecaster; /* following the stored history (given histories only read it) */
  bool following;            /* its last advance succeeded: it holds what it has seen */
  bool cached[OC_FORECAST_MAX_HORIZON + 1]; /* cache[h] valid for the history and exogs seen */
  oc_price_forecast cache[OC_FORECAST_MAX_HORIZON + 1];
};

/* Are history and exogs what the model saw last (an exogenous observation that arrived late counts as
 * new)? Caller holds m->lock. */
static bool same_history(const oc_served_model *m, const oc_series *history, const oc_series *exogs) {
  assert(oc_lock_held(&m->lock));
  return m->following && oc_forecaster_has_seen(m->forecaster, history, exogs);
}

/* The forecaster follows history now: its cached forecasts are forgotten. Caller holds m->lock. */
static int follow_history(oc_served_model *m, const oc_series *history, const oc_series *exogs, oc_error *err) {
  assert(oc_lock_held(&m->lock) && history->n > 0);
  memset(m->cached, 0, sizeof m->cached);
  m->following = oc_forecaster_advance(m->forecaster, history, exogs, err) == 0;
  return m->following ? 0 : -1;
}

/* A registered version (any kind), checked to forecast series. */
static int load_registered(oc_served_model *m, const char *data_dir, int64_t version, const char *series,
                           oc_error *err) {
  oc_store *store = NULL;
  json_t *card = NULL;
  if (oc_datadir_open(data_dir, &store, err) != 0) return -1;
  int rc = oc_registry_load_forecaster(data_dir, store, version, &m->forecaster, &card, err);
  oc_store_close(store);
  const char *card_series = json_string_value(json_object_get(card, "series"));
  if (rc == 0 && (!card_series || strcmp(card_series, series) != 0))
    rc = oc_error_set(err, "model %s forecasts %s, not %s", m->version, card_series ? card_series : "?", series);
  json_decref(card);
  return rc;
}

static int load_spec(oc_served_model *m, const char *data_dir, oc_error *err) {
  m->forecaster = oc_forecaster_create(m->version, err);
  if (!m->forecaster)
    return oc_error_prefix(err, "model version '%s' is neither registered in %s nor a forecaster spec: ", m->version,
                           data_dir);
  return 0;
}

/* Brings a loaded forecaster to the stored history of series and of the series its features read. */
static int follow_stored(oc_served_model *m, const char *series, oc_series_loader load, void *ctx, oc_error *err) {
  const char *const *names;
  size_t nexog = oc_forecaster_exogs(m->forecaster, &names);
  oc_series history = {0};
  oc_series *exogs = oc_xcalloc(nexog + 1, sizeof *exogs);
  int rc = load(ctx, series, &history, err);
  if (rc == 0 && history.n == 0) rc = oc_error_set(err, "series %s has no observations", series);
  for (size_t i = 0; rc == 0 && i < nexog; i++)
    if (load(ctx, names[i], &exogs[i], err) != 0) rc = oc_error_prefix(err, "model %s needs series %s: ", m->version, names[i]);
  if (rc == 0) {
    oc_lock_acquire(&m->lock);
    rc = follow_history(m, &history, exogs, err);
    oc_lock_release(&m->lock);
  }
  for (size_t i = 0; i < nexog; i++)
    if (exogs[i].name) oc_series_free(&exogs[i]);
  free(exogs);
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
  oc_lock_init(&m->lock);
  atomic_init(&m->refs, 1);
  int64_t registered;
  int rc = oc_model_version_parse(version, &registered) == 0 ? load_registered(m, data_dir, registered, series, err)
                                                             : load_spec(m, data_dir, err);
  if (rc == 0) {
    snprintf(m->kind, sizeof m->kind, "%s", oc_forecaster_kind(m->forecaster));
    rc = follow_stored(m, series, load, ctx, err);
  }
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
  oc_lock_destroy(&m->lock);
  free(m);
}

const char *oc_served_model_version(const oc_served_model *m) { return m->version; }
const char *oc_served_model_kind(const oc_served_model *m) { return m->kind; }
double oc_served_model_load_seconds(const oc_served_model *m) { return m->load_seconds; }

size_t oc_served_model_max_horizon(const oc_served_model *m) { return oc_forecaster_max_horizon(m->forecaster); }

size_t oc_served_model_default_horizon(const oc_served_model *m) {
  size_t max = oc_served_model_max_horizon(m);
  return max < OC_FORECAST_MAX_HORIZON ? max : OC_SERVED_DEFAULT_HORIZON;
}

size_t oc_served_model_exogs(const oc_served_model *m, const char *const **names) {
  return oc_forecaster_exogs(m->forecaster, names);
}

int oc_served_model_forecast(oc_served_model *m, const oc_series *history, const oc_series *exogs, bool stored,
                             size_t horizon, oc_price_forecast *out, oc_error *err) {
  size_t max = oc_served_model_max_horizon(m);
  if (horizon < 1 || horizon > max)
    return oc_error_set(err, "model %s forecasts 1 to %zu trading days ahead (its horizons); %zu requested", m->version,
                        max, horizon);
  if (history->n == 0) return oc_error_set(err, "the history is empty");
  /* A given history leaves the served forecaster untouched. */
  if (!stored) return oc_forecaster_forecast_from(m->forecaster, history, exogs, horizon, out, err);
  oc_lock_acquire(&m->lock);
  int rc = same_history(m, history, exogs) ? 0 : follow_history(m, history, exogs, err);
  if (rc == 0 && !m->cached[horizon]) {
    rc = oc_forecaster_predict(m->forecaster, horizon, &m->cache[horizon], err);
    m->cached[horizon] = rc == 0;
  }
  if (rc == 0) *out = m->cache[horizon];
  oc_lock_release(&m->lock);
  return rc;
}
