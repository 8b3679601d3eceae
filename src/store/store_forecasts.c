/* store_forecasts.c: what the backends' forecasts_save share (store.h): the check of a batch of
 * forecast records before anything is written, and which record's series is recorded as changed. No
 * backend type or SQL here. */
#include <string.h>

#include "store/store.h"

int oc_store_forecasts_check(const char *display, const oc_forecast_record *recs, size_t n, oc_error *err) {
  if (n == 0) return oc_error_set(err, "store %s: a batch of forecasts needs at least one", display);
  for (size_t i = 0; i < n; i++) {
    if (recs[i].n_points == 0 || recs[i].n_points > OC_STORED_FORECAST_MAX_POINTS)
      return oc_error_set(err, "store %s: a forecast needs 1..%d points, not %zu (forecast %zu of %zu, series %s)",
                          display, OC_STORED_FORECAST_MAX_POINTS, recs[i].n_points, i + 1, n, recs[i].series);
  }
  return 0;
}

bool oc_forecasts_first_of_series(const oc_forecast_record *recs, size_t i) {
  for (size_t j = 0; j < i; j++)
    if (strcmp(recs[j].series, recs[i].series) == 0) return false;
  return true;
}
