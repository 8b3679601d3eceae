/* forecast_served.c: see forecast_served.h. */
#include "cli/forecast_served.h"

#include <stdio.h>
#include <string.h>

#include "serve/models.h"

static int load_stored(void *ctx, const char *series, oc_series *out, oc_error *err) {
  return oc_store_series_load(ctx, series, OC_DATE_INVALID, OC_DATE_INVALID, out, err);
}

int oc_forecast_served(const char *data_dir, oc_store *store, int64_t version, const char *series,
                       const oc_series *history, size_t days, oc_served_points *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  if (days > OC_SERVED_MAX_DAYS) return oc_error_set(err, "--forecast-days %zu: at most %d", days, OC_SERVED_MAX_DAYS);
  char name[64];
  snprintf(name, sizeof name, "v%lld", (long long)version);
  if (series) snprintf(out->series, sizeof out->series, "%s", series);
  else if (oc_served_model_default_series(data_dir, name, out->series, sizeof out->series, err) != 0) return -1;
  oc_served_model *m = oc_served_model_load(data_dir, name, out->series, load_stored, store, err);
  if (!m) return -1;
  if (!days) days = oc_served_model_default_horizon(m);
  oc_series stored = {0};
  int rc = history ? 0 : load_stored(store, out->series, &stored, err);
  const oc_series *h = history ? history : &stored;
  oc_forecast fc;
  if (rc == 0) rc = oc_served_model_forecast(m, h, NULL, history == NULL, days, &fc, &out->as_of, err);
  if (rc == 0) {
    out->last_price = h->values[h->n - 1];
    out->n = days;
    for (size_t i = 0; i < days; i++) {
      out->dates[i] = oc_date_add_business_days(out->as_of, (int)i + 1);
      out->prices[i] = fc.mean[i];
    }
  }
  if (stored.name) oc_series_free(&stored);
  oc_served_model_release(m);
  return rc;
}
