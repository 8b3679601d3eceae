/* models_mlp.c: loading a registered network through the registry, its interval calibration (stored
 * with the version, or computed here for versions trained before it was), and forecasts with bounds. */
#include "serve/models_mlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "model/forecast.h"
#include "model/mlp_calibration.h"
#include "model/registry.h"
#include "store/datadir.h"

struct oc_mlp_served {
  oc_mlp net;
  oc_model_card card;             /* card.calibration: the bounds */
  oc_feature_transform transform; /* parsed once: each forecast only reads it */
  bool transform_parsed;
};

oc_mlp_served *oc_mlp_served_load(const char *data_dir, int64_t version, oc_error *err) {
  oc_store *store = NULL;
  if (oc_datadir_open(data_dir, &store, err) != 0) return NULL;
  oc_mlp_served *m = oc_xcalloc(1, sizeof *m);
  int rc = oc_registry_load(data_dir, store, version, &m->net, &m->card, err);
  oc_store_close(store);
  if (rc == 0) rc = oc_forecast_transform(&m->card, &m->transform, err);
  m->transform_parsed = rc == 0;
  if (rc != 0) {
    oc_mlp_served_free(m);
    return NULL;
  }
  return m;
}

void oc_mlp_served_free(oc_mlp_served *m) {
  if (!m) return;
  if (m->transform_parsed) oc_feature_transform_free(&m->transform);
  oc_mlp_free(&m->net);
  if (m->card.version) oc_model_card_free(&m->card);
  free(m);
}

const char *oc_mlp_served_series(const oc_mlp_served *m) { return m->card.series; }
int oc_mlp_served_horizon(const oc_mlp_served *m) { return m->net.arch.n_out; }
bool oc_mlp_served_calibrated(const oc_mlp_served *m) { return m->card.calibration.q80 != NULL; }

size_t oc_mlp_served_exogs(const oc_mlp_served *m, const char *const **names) {
  *names = (const char *const *)m->transform.exog_names;
  return m->transform.nexog;
}

int oc_mlp_served_calibrate(oc_mlp_served *m, const oc_series *history, const oc_series *exogs, oc_error *err) {
  return oc_mlp_calibrate(&m->net, &m->card, history, exogs, m->transform.nexog, &m->card.calibration, err);
}

int oc_mlp_served_forecast(oc_mlp_served *m, const oc_series *history, const oc_series *exogs, size_t days,
                           oc_mlp_served_point *out, int32_t *origin, oc_error *err) {
  oc_forecast f;
  if (oc_mlp_forecast_with(&m->net, &m->card, &m->transform, history, exogs, m->transform.nexog, (int)days, &f, err) != 0)
    return -1;
  const double *q80 = m->card.calibration.q80, *q95 = m->card.calibration.q95;
  for (size_t h = 0; h < days; h++) {
    double r = f.points[h].log_return;
    out[h] = (oc_mlp_served_point){f.points[h].price, f.last_price * exp(r - q80[h]), f.last_price * exp(r + q80[h]),
                                   f.last_price * exp(r - q95[h]), f.last_price * exp(r + q95[h])};
  }
  *origin = f.as_of;
  oc_forecast_free(&f);
  return 0;
}
