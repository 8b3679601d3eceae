/* sort.c: see sort.h. */
#include "core/sort.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* An unsigned integer ordered as the doubles are: the sign bit set for non-negatives, every bit
 * flipped for negatives; both zeros map to the same key. */
static uint64_t sort_key(double v) {
  const uint64_t sign = UINT64_C(1) << 63;
  if (v == 0) return sign;
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  return bits & sign ? ~bits : bits | sign;
}

void oc_sort_doubles(double *v, size_t n, double *tmp) {
  enum { BYTES = 8, BUCKETS = 256 };
  if (n < 2) return;
  size_t count[BYTES][BUCKETS] = {{0}};
  for (size_t i = 0; i < n; i++) {
    assert(isfinite(v[i])); /* a NaN has no place in the order (sort.h: finite values only) */
    uint64_t key = sort_key(v[i]);
    for (int b = 0; b < BYTES; b++) count[b][(key >> (8 * b)) & (BUCKETS - 1)]++;
  }
  double *src = v, *dst = tmp;
  for (int b = 0; b < BYTES; b++) {
    size_t *start = count[b];
    if (start[(sort_key(src[0]) >> (8 * b)) & (BUCKETS - 1)] == n) continue; /* this byte never varies */
    size_t pos = 0;
    for (int d = 0; d < BUCKETS; d++) {
      size_t bucket = start[d];
      start[d] = pos;
      pos += bucket;
    }
    for (size_t i = 0; i < n; i++) dst[start[(sort_key(src[i]) >> (8 * b)) & (BUCKETS - 1)]++] = src[i];
    double *swap = src;
    src = dst;
    dst = swap;
  }
  if (src != v) memcpy(v, src, n * sizeof *v);
}
