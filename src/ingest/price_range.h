/* price_range.h: the values a price series accepts, at every edge where prices come in (file imports
 * and API posts through the batch, the histories given to an invocation). A series may have its own
 * range in the store (oc_store_series_range_set, `oilcast series set-range`); otherwise the default,
 * OC_PRICE_MIN_DEFAULT..OC_PRICE_MAX_DEFAULT, applies (docs/ingest.md says why these). A value outside
 * is refused, never clipped. Must not print. */
#ifndef OC_INGEST_PRICE_RANGE_H
#define OC_INGEST_PRICE_RANGE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "store/store.h"

/* WTI settled at -37.63 USD/bbl on 2020-04-20 and has never been above 147.27: -1000..100000 keeps
 * every physical oil price (and other units an operator may store: cents, rubles, per tonne) while
 * refusing the 1e308 that would turn forecasts into infinities. */
#define OC_PRICE_MIN_DEFAULT (-1000.0)
#define OC_PRICE_MAX_DEFAULT 100000.0

typedef struct oc_price_range {
  double min, max; /* inclusive, min < max */
  bool own;        /* the series' own (stored) range, not the default */
  /* A series an import is about to create (not stored yet; NULL otherwise): the unit and source it
   * would get, which `series set-range` must be given to create it with its range beforehand. */
  const char *new_unit, *new_source;
} oc_price_range;

/* The range of series name (the default when it has none of its own, or does not exist yet;
 * new_unit and new_source NULL). */
int oc_price_range_get(oc_store *store, const char *name, oc_price_range *out, oc_error *err);

/* True when value lies in range; otherwise false with the reason in reason (cap bytes), naming the
 * series and the command that changes its range (for a new series, the one that creates it with it). */
bool oc_price_range_check(const oc_price_range *range, const char *series, double value, char *reason, size_t cap);

#endif
