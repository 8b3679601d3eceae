/* store_cluster.c: what the backends' ops for several nodes on one store share (store.h, issue 17):
 * the check of a rate-limit bucket's parameters. No backend type or SQL here. */
#include "store/store.h"

int oc_store_rate_check(const char *key_id, double per_second, double burst, oc_error *err) {
  if (burst >= 1 && per_second > 0) return 0;
  return oc_error_set(err, "rate limit of key %s: burst %g and rate %g/s must be >= 1 and > 0", key_id, burst,
                      per_second);
}
