/* rng.c: see rng.h. xoshiro256** and splitmix64 as published by Blackman and Vigna (public domain
 * algorithms, written here from their description). */
#include "core/rng.h"

#include <assert.h>
#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void oc_rng_seed(oc_rng *rng, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

float oc_rng_uniform_float(oc_rng *rng) { return (float)(oc_rng_next(rng) >> 40) * 0x1.0p-24f; }

double oc_rng_uniform(oc_rng *rng) { return (double)(oc_rng_next(rng) >> 11) * 0x1.0p-53; }

uint64_t oc_rng_below(oc_rng *rng, uint64_t n) {
  assert(n > 0);
  /* Reject the top partial copy of [0, n) so every residue is equally likely. */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = oc_rng_next(rng);
  } while (x >= limit);
  return x % n;
}

double oc_rng_normal(oc_rng *rng) {
  double u1 = 1.0 - oc_rng_uniform(rng); /* (0, 1]: log is finite */
  double u2 = oc_rng_uniform(rng);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void oc_rng_shuffle(oc_rng *rng, uint32_t *idx, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)oc_rng_below(rng, i);
    uint32_t t = idx[i - 1];
    idx[i - 1] = idx[j];
    idx[j] = t;
  }
}
