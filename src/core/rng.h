/* rng.h: a small, seedable pseudo-random generator (xoshiro256**, seeded through splitmix64) for
 * everything that must be reproducible from a seed: weight initialisation, mini-batch shuffles,
 * dropout masks, random search. One oc_rng per thread of work; it has no global state and must
 * never be replaced by rand() (whose sequence is libc-specific and shared by the whole process).
 * Not for secrets. */
#ifndef OC_RNG_H
#define OC_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct oc_rng {
  uint64_t s[4];
} oc_rng;

void oc_rng_seed(oc_rng *rng, uint64_t seed);

/* The next 64 random bits. Inline: dropout draws thousands of these per mini-batch. */
static inline uint64_t oc_rng_next(oc_rng *rng) {
  uint64_t *s = rng->s;
  uint64_t x = s[1] * 5;
  uint64_t result = ((x << 7) | (x >> 57)) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 45) | (s[3] >> 19);
  return result;
}

/* Uniform in [0, 1) with 24 (float) or 53 (double) random bits. */
float oc_rng_uniform_float(oc_rng *rng);
double oc_rng_uniform(oc_rng *rng);
/* Uniform integer in [0, n), without modulo bias; n > 0. */
uint64_t oc_rng_below(oc_rng *rng, uint64_t n);
/* Standard normal (Box-Muller, one value per call). */
double oc_rng_normal(oc_rng *rng);
/* Fisher-Yates shuffle of idx[0..n). */
void oc_rng_shuffle(oc_rng *rng, uint32_t *idx, size_t n);

#endif
