/* models_mlp.c: loading a registered network through the registry, conformal calibration, and
 * forecasts with bounds. */
#include "serve/models_mlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "model/forecast.h"
#include "model/registry.h"
#include "store/datadir.h"

#define CALIBRATION_ORIGINS 250
#define CALIBRATION_MIN 20
#define CALIBRATION_WINDOW 600 /* observations the features see per calibration origin */

struct oc_mlp_served {
  oc_mlp net;
  oc_model_card card;
  char **exog_names;
  size_t nexog;
  double q80[64], q95[64]; /* log-return half-widths per horizon */
};

oc_mlp_served *oc_mlp_served_load(const char *data_dir, int64_t version, oc_error *err) {
  oc_store *store = NULL;
  if (oc_datadir_open(data_dir, &store, err) != 0) return NULL;
  oc_mlp_served *m = oc_xcalloc(1, sizeof *m);
  int rc = oc_registry_load(data_dir, store, version, &m->net, &m->card, err);
  oc_store_close(store);
  if (rc == 0 && m->net.arch.n_out > 64) rc = oc_error_set(err, "model v%lld: horizon %d is above 64", (long long)version, m->net.arch.n_out);
  if (rc == 0) rc = oc_forecast_required_exogs(&m->card, &m->exog_names, &m->nexog, err);
  if (rc != 0) {
    oc_mlp_served_free(m);
    return NULL;
  }
  return m;
}

void oc_mlp_served_free(oc_mlp_served *m) {
  if (!m) return;
  for (size_t i = 0; i < m->nexog; i++) free(m->exog_names[i]);
  free(m->exog_names);
  oc_mlp_free(&m->net);
  if (m->card.version) oc_model_card_free(&m->card);
  free(m);
}

const char *oc_mlp_served_series(const oc_mlp_served *m) { return m->card.series; }
int oc_mlp_served_horizon(const oc_mlp_served *m) { return m->net.arch.n_out; }

size_t oc_mlp_served_exogs(const oc_mlp_served *m, const char *const **names) {
  *names = (const char *const *)m->exog_names;
  return m->nexog;
}

/* The observations of s dated <= last, as a view into s (no copy), at most window long. */
static oc_series view_until(const oc_series *s, oc_date last, size_t window) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s->dates[mid] <= last) lo = mid + 1;
    else hi = mid;
  }
  size_t start = lo > window ? lo - window : 0;
  return (oc_series){.name = s->name, .n = lo - start, .dates = s->dates + start, .values = s->values + start};
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int oc_mlp_served_calibrate(oc_mlp_served *m, const oc_series *history, const oc_series *exogs, oc_error *err) {
  const int H = m->net.arch.n_out;
  size_t n = history->n;
  if (n < (size_t)H + 2) return oc_error_set(err, "model %s: %zu observations are too few to calibrate", m->card.version, n);
  size_t last_origin = n - 1 - (size_t)H, first_origin = last_origin > CALIBRATION_ORIGINS ? last_origin - CALIBRATION_ORIGINS : 0;
  size_t after_training = 0;
  while (after_training < n && history->dates[after_training] <= m->card.train_end) after_training++;
  /* Out-of-sample origins when there are enough of them; otherwise the most recent ones, in-sample. */
  if (after_training + CALIBRATION_MIN <= last_origin && after_training > first_origin) first_origin = after_training;
  double *residuals = oc_xcalloc((size_t)H * (last_origin - first_origin + 1), sizeof *residuals);
  size_t count = 0;
  oc_series *views = oc_xcalloc(m->nexog ? m->nexog : 1, sizeof *views);
  for (size_t t = first_origin; t <= last_origin; t++) {
    if (!(history->values[t] > 0)) continue;
    oc_series target = view_until(history, history->dates[t], CALIBRATION_WINDOW);
    for (size_t k = 0; k < m->nexog; k++) views[k] = view_until(&exogs[k], history->dates[t], CALIBRATION_WINDOW);
    oc_forecast f;
    oc_error ignored;
    if (oc_mlp_forecast(&m->net, &m->card, &target, views, m->nexog, H, &f, &ignored) != 0) continue;
    bool usable = f.as_of == history->dates[t];
    for (int h = 1; usable && h <= H; h++) usable = history->values[t + (size_t)h] > 0;
    if (usable) {
      for (int h = 1; h <= H; h++) {
        double actual = log(history->values[t + (size_t)h] / history->values[t]);
        residuals[(size_t)(h - 1) * (last_origin - first_origin + 1) + count] = fabs(actual - f.points[h - 1].log_return);
      }
      count++;
    }
    oc_forecast_free(&f);
  }
  free(views);
  if (count < CALIBRATION_MIN) {
    free(residuals);
    return oc_error_set(err, "model %s: only %zu usable origins to calibrate its intervals (need %d)", m->card.version,
                        count, CALIBRATION_MIN);
  }
  for (int h = 0; h < H; h++) {
    double *r = residuals + (size_t)h * (last_origin - first_origin + 1);
    qsort(r, count, sizeof *r, compare_double);
    /* Split-conformal quantile: the ceil((n + 1) p)-th smallest residual. */
    size_t k80 = (size_t)ceil((double)(count + 1) * 0.8), k95 = (size_t)ceil((double)(count + 1) * 0.95);
    m->q80[h] = r[(k80 > count ? count : k80) - 1];
    m->q95[h] = r[(k95 > count ? count : k95) - 1];
  }
  free(residuals);
  return 0;
}

int oc_mlp_served_forecast(oc_mlp_served *m, const oc_series *history, const oc_series *exogs, size_t days,
                           oc_mlp_served_point *out, int32_t *origin, oc_error *err) {
  oc_forecast f;
  if (oc_mlp_forecast(&m->net, &m->card, history, exogs, m->nexog, (int)days, &f, err) != 0) return -1;
  for (size_t h = 0; h < days; h++) {
    double r = f.points[h].log_return;
    out[h] = (oc_mlp_served_point){f.points[h].price, f.last_price * exp(r - m->q80[h]), f.last_price * exp(r + m->q80[h]),
                                   f.last_price * exp(r - m->q95[h]), f.last_price * exp(r + m->q95[h])};
  }
  *origin = f.as_of;
  oc_forecast_free(&f);
  return 0;
}
