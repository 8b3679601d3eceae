/* store_pg_endpoint_config.c: the PostgreSQL side of endpoint configurations and per-series price
 * ranges (migration 13: endpoints.config, series.price_min/price_max), the twins of
 * store_sqlite_endpoint_config.c and store_sqlite_series_range.c. The document is opaque JSON text
 * here and a range two numbers; this file must not parse the one nor enforce the other. */
#include <math.h>
#include <stdlib.h>

#include "core/buf.h"
#include "store/store_pg_internal.h"

int oc_pg_endpoint_config_set(oc_store *store, const char *name, const char *config,
                              const oc_endpoint_variant *variants, size_t n, int64_t now, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  oc_pg_params p = {0};
  oc_pg_text(&p, name);
  oc_pg_text(&p, config);
  bool ok = oc_pg_endpoint_rows_set(s, name, variants, n, now, err) &&
            oc_pg_run(s, "UPDATE endpoints SET config = $2 WHERE name = $1", &p, "storing an endpoint configuration",
                      NULL, err) == 0;
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_endpoint_config_get(oc_store *store, const char *name, char **config, bool *found, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  *config = NULL;
  oc_pg_params p = {0};
  oc_pg_text(&p, name);
  PGresult *r = oc_pg_query(s, "SELECT config FROM endpoints WHERE name = $1", &p, "reading an endpoint configuration",
                            err);
  if (!r) return -1;
  *found = PQntuples(r) == 1;
  if (*found && !oc_pg_is_null(r, 0, 0)) *config = oc_pg_get_strdup(r, 0, 0);
  PQclear(r);
  return 0;
}

int oc_pg_endpoint_names(oc_store *store, char ***names, size_t *n, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  PGresult *r = oc_pg_query(s, "SELECT name FROM endpoints ORDER BY name COLLATE \"C\"", NULL, "listing endpoints", err);
  if (!r) return -1;
  size_t count = (size_t)PQntuples(r);
  char **out = count ? oc_xcalloc(count, sizeof *out) : NULL;
  for (size_t i = 0; i < count; i++) out[i] = oc_pg_get_strdup(r, (int)i, 0);
  PQclear(r);
  *names = out;
  *n = count;
  return 0;
}

int oc_pg_series_range_set(oc_store *store, const char *name, bool set, double min, double max, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  if (set && !(isfinite(min) && isfinite(max) && min < max))
    return oc_error_set(err, "series %s: a price range needs finite min < max, not %g..%g", name, min, max);
  oc_pg_params p = {0};
  oc_pg_text(&p, name);
  oc_pg_double(&p, set ? min : NAN); /* NaN: NULL, no range of its own */
  oc_pg_double(&p, set ? max : NAN);
  if (oc_pg_op_begin(s, err) != 0) return -1;
  int64_t changed = 0;
  bool ok = oc_pg_run(s, "UPDATE series SET price_min = $2, price_max = $3 WHERE name = $1", &p,
                      "setting a series' price range", &changed, err) == 0;
  if (ok && changed == 0) {
    oc_error_set(err, "no series named '%s' (see: oilcast series list)", name);
    ok = false;
  }
  if (ok) ok = oc_pg_change_record(s, OC_CHANGE_OBSERVATIONS, name, err) == 0;
  return oc_pg_op_end(s, ok, err);
}

int oc_pg_series_range_get(oc_store *store, const char *name, bool *set, double *min, double *max, oc_error *err) {
  oc_pg_store *s = oc_pg_of(store);
  oc_pg_params p = {0};
  oc_pg_text(&p, name);
  PGresult *r = oc_pg_query(s, "SELECT price_min, price_max FROM series WHERE name = $1 AND price_min IS NOT NULL", &p,
                            "reading a series' price range", err);
  if (!r) return -1;
  *set = PQntuples(r) == 1;
  if (*set) {
    *min = oc_pg_get_double(r, 0, 0);
    *max = oc_pg_get_double(r, 0, 1);
  }
  PQclear(r);
  return 0;
}
