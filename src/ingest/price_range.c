/* price_range.c: see price_range.h. */
#include "ingest/price_range.h"

#include <stdio.h>
#include <string.h>

int oc_price_range_get(oc_store *store, const char *name, oc_price_range *out, oc_error *err) {
  *out = (oc_price_range){OC_PRICE_MIN_DEFAULT, OC_PRICE_MAX_DEFAULT, false, NULL, NULL};
  double min, max;
  if (oc_store_series_range_get(store, name, &out->own, &min, &max, err) != 0) return -1;
  if (out->own) out->min = min, out->max = max;
  return 0;
}

bool oc_price_range_check(const oc_price_range *range, const char *series, double value, char *reason, size_t cap) {
  if (value >= range->min && value <= range->max) return true;
  int n = snprintf(reason, cap, "price %.15g outside %s's %s %.15g..%.15g (", value, series,
                   range->own ? "range" : "default range", range->min, range->max);
  size_t used = n > 0 && (size_t)n < cap ? (size_t)n : cap;
  /* a unit is free text: quoted for the shell when it holds more than letters, digits and /._%- */
  bool plain_unit = range->new_unit && range->new_unit[0] &&
                    strspn(range->new_unit, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._%-") ==
                        strlen(range->new_unit);
  if (!range->new_source)
    snprintf(reason + used, cap - used, "change it: oilcast series set-range %s --min A --max B)", series);
  else
    snprintf(reason + used, cap - used, "a new series: create it with its range first, oilcast series set-range %s "
             "--min A --max B --unit %s%s%s --source %s)", series, plain_unit ? "" : "'", range->new_unit,
             plain_unit ? "" : "'", range->new_source);
  return false;
}
