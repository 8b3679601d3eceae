/* price_range.c: see price_range.h. */
#include "ingest/price_range.h"

#include <stdio.h>

int oc_price_range_get(oc_store *store, const char *name, oc_price_range *out, oc_error *err) {
  *out = (oc_price_range){OC_PRICE_MIN_DEFAULT, OC_PRICE_MAX_DEFAULT, false};
  double min, max;
  if (oc_store_series_range_get(store, name, &out->own, &min, &max, err) != 0) return -1;
  if (out->own) out->min = min, out->max = max;
  return 0;
}

bool oc_price_range_check(const oc_price_range *range, const char *series, double value, char *reason, size_t cap) {
  if (value >= range->min && value <= range->max) return true;
  snprintf(reason, cap, "price %.15g outside %s's %s %.15g..%.15g (change it: oilcast series set-range %s --min A --max B)",
           value, series, range->own ? "range" : "default range", range->min, range->max, series);
  return false;
}
