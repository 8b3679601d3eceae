/* models.c: loading model versions (registry artifact or forecaster spec), reference counting, and
 * forecasting with the per-model lock and the stored-history cache. */
#include "serve/models.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/progress.h"

struct oc_served_model {
  _Atomic long refs;
  char version[64], kind[32];
  double load_seconds;
  char *saved; /* the artifact's JSON text; NULL when version is a spec */
  pthread_mutex_t lock; /* guards everything below */
  oc_forecaster *forecaster; /* follows the stored history */
  size_t seen_n;
  oc_date seen_last;
  double seen_last_value;
  bool *cached; /* [OC_FORECAST_MAX_HORIZON + 1]: cache[h] valid for the history seen */
  oc_forecast *cache;
};

static oc_forecaster *fresh_copy(const oc_served_model *m, oc_error *err) {
  return m->saved ? oc_forecaster_load(m->saved, err) : oc_forecaster_create(m->version, err);
}

oc_served_model *oc_served_model_load(const char *data_dir, const char *version, const oc_series *history,
                                      oc_error *err) {
  double start = oc_monotonic_seconds();
  if (!*version || strlen(version) >= sizeof ((oc_served_model *)0)->version) {
    oc_error_set(err, "model version '%s': expected 1..63 characters", version);
    return NULL;
  }
  oc_served_model *m = oc_xcalloc(1, sizeof *m);
  snprintf(m->version, sizeof m->version, "%s", version);
  pthread_mutex_init(&m->lock, NULL);
  atomic_init(&m->refs, 1);
  oc_buf path = {0};
  oc_buf_printf(&path, "%s/models/artifacts/%s/forecaster.json", data_dir, version);
  bool artifact = !strchr(version, '/') && version[0] != '.' && oc_path_exists(path.data);
  if (artifact) {
    size_t len;
    if (oc_read_file(path.data, &m->saved, &len, err) == 0) m->forecaster = oc_forecaster_load(m->saved, err);
    if (!m->forecaster) oc_error_prefix(err, "loading model %s from %s: ", version, path.data);
  } else {
    m->forecaster = oc_forecaster_create(version, err);
    if (!m->forecaster) {
      oc_error_prefix(err, "model version '%s' is neither in %s/models/artifacts/ nor a forecaster spec: ", version,
                      data_dir);
    }
  }
  oc_buf_free(&path);
  if (!m->forecaster) {
    oc_served_model_release(m);
    return NULL;
  }
  snprintf(m->kind, sizeof m->kind, "%s", oc_forecaster_kind(m->forecaster));
  m->cached = oc_xcalloc(OC_FORECAST_MAX_HORIZON + 1, sizeof *m->cached);
  m->cache = oc_xcalloc(OC_FORECAST_MAX_HORIZON + 1, sizeof *m->cache);
  if (history && history->n) {
    int rc = artifact ? oc_forecaster_update(m->forecaster, history, err) : oc_forecaster_fit(m->forecaster, history, err);
    if (rc != 0) {
      oc_error_prefix(err, "fitting model %s on the stored %s history: ", version, history->name);
      oc_served_model_release(m);
      return NULL;
    }
    m->seen_n = history->n;
    m->seen_last = history->dates[history->n - 1];
    m->seen_last_value = history->values[history->n - 1];
  }
  m->load_seconds = oc_monotonic_seconds() - start;
  return m;
}

void oc_served_model_retain(oc_served_model *m) { atomic_fetch_add(&m->refs, 1); }

void oc_served_model_release(oc_served_model *m) {
  if (!m || atomic_fetch_sub(&m->refs, 1) != 1) return;
  oc_forecaster_free(m->forecaster);
  free(m->saved);
  free(m->cached);
  free(m->cache);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

const char *oc_served_model_version(const oc_served_model *m) { return m->version; }
const char *oc_served_model_kind(const oc_served_model *m) { return m->kind; }
double oc_served_model_load_seconds(const oc_served_model *m) { return m->load_seconds; }

/* Brings the model up to the stored history. Caller holds m->lock. */
static int follow_history(oc_served_model *m, const oc_series *history, oc_error *err) {
  size_t n = history->n;
  if (n == m->seen_n && n && history->dates[n - 1] == m->seen_last && history->values[n - 1] == m->seen_last_value) {
    return 0;
  }
  bool extends = m->seen_n && n > m->seen_n && history->dates[m->seen_n - 1] == m->seen_last &&
                 history->values[m->seen_n - 1] == m->seen_last_value;
  int rc = extends ? oc_forecaster_update(m->forecaster, history, err) : oc_forecaster_fit(m->forecaster, history, err);
  memset(m->cached, 0, (OC_FORECAST_MAX_HORIZON + 1) * sizeof *m->cached);
  if (rc != 0) {
    m->seen_n = 0;
    return -1;
  }
  m->seen_n = n;
  m->seen_last = history->dates[n - 1];
  m->seen_last_value = history->values[n - 1];
  return 0;
}

int oc_served_model_forecast(oc_served_model *m, const oc_series *history, bool stored, size_t horizon,
                             oc_forecast *out, oc_error *err) {
  if (horizon < 1 || horizon > OC_FORECAST_MAX_HORIZON) {
    return oc_error_set(err, "forecast horizon %zu is outside 1..%d", horizon, OC_FORECAST_MAX_HORIZON);
  }
  if (history->n == 0) return oc_error_set(err, "the history is empty");
  if (!stored) {
    oc_forecaster *copy = fresh_copy(m, err);
    if (!copy) return -1;
    int rc = oc_forecaster_fit(copy, history, err);
    if (rc == 0) rc = oc_forecaster_predict(copy, horizon, out, err);
    oc_forecaster_free(copy);
    return rc;
  }
  pthread_mutex_lock(&m->lock);
  int rc = follow_history(m, history, err);
  if (rc == 0 && !m->cached[horizon]) {
    rc = oc_forecaster_predict(m->forecaster, horizon, &m->cache[horizon], err);
    m->cached[horizon] = rc == 0;
  }
  if (rc == 0) *out = m->cache[horizon];
  pthread_mutex_unlock(&m->lock);
  return rc;
}
