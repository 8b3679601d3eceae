/* sha256.c: FIPS 180-4 SHA-256: a portable block function, and one using the x86 SHA extensions
 * (SHA-NI) chosen at run time when the CPU has them (about 10x faster: imports hash every file they
 * read). Both are pinned by the NIST test vectors in tests/unit/test_core.c and by each other on random
 * inputs in tests/unit/test_sha256.c. */
#include "core/sha256.h"

#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void compress_portable(uint32_t state[8], const uint8_t block[64]) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 |
           (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
  for (int i = 0; i < 64; i++) {
    uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    uint32_t ch = (e & f) ^ (~e & g);
    uint32_t t1 = h + S1 + ch + K[i] + w[i];
    uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = S0 + maj;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

static void blocks_portable(uint32_t state[8], const uint8_t *data, size_t blocks) {
  for (; blocks; blocks--, data += 64) compress_portable(state, data);
}

#if defined(__x86_64__)
/* Four rounds per step: message words W[4i..4i+3] (byte-swapped, then extended with the sha256msg
 * instructions) plus K, through two sha256rnds2. The state lives as ABEF / CDGH, the layout the
 * instructions use. */
__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_shani(uint32_t state[8], const uint8_t *data,
                                                                       size_t blocks) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[0]), 0xB1); /* CDAB */
  __m128i state1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[4]), 0x1B); /* EFGH */
  __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);                                   /* ABEF */
  state1 = _mm_blend_epi16(state1, tmp, 0xF0);                                         /* CDGH */
  for (; blocks; blocks--, data += 64) {
    __m128i abef = state0, cdgh = state1, w[16];
    for (int i = 0; i < 16; i++) {
      if (i < 4) {
        w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * i)), bswap);
      } else {
        __m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(w[i - 4], w[i - 3]), _mm_alignr_epi8(w[i - 1], w[i - 2], 4));
        w[i] = _mm_sha256msg2_epu32(t, w[i - 1]);
      }
      __m128i msg = _mm_add_epi32(w[i], _mm_loadu_si128((const __m128i *)&K[4 * i]));
      state1 = _mm_sha256rnds2_epu32(state1, state0, msg);
      state0 = _mm_sha256rnds2_epu32(state0, state1, _mm_shuffle_epi32(msg, 0x0E));
    }
    state0 = _mm_add_epi32(state0, abef);
    state1 = _mm_add_epi32(state1, cdgh);
  }
  tmp = _mm_shuffle_epi32(state0, 0x1B);    /* FEBA */
  state1 = _mm_shuffle_epi32(state1, 0xB1); /* DCHG */
  _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(tmp, state1, 0xF0)); /* DCBA */
  _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(state1, tmp, 8));   /* HGFE */
}

static bool cpu_has_shani(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3)) return false;
  return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)); /* CPUID.7.0:EBX.SHA */
}
#endif

/* -1 = not probed yet; probing is idempotent, so concurrent first uses agree. */
static _Atomic int use_shani = -1;

bool oc_sha256_use_cpu_extensions(bool enabled) {
#if defined(__x86_64__)
  use_shani = enabled ? cpu_has_shani() : 0;
  return use_shani;
#else
  (void)enabled;
  return false;
#endif
}

static void compress_blocks(uint32_t state[8], const uint8_t *data, size_t blocks) {
#if defined(__x86_64__)
  if (use_shani < 0) use_shani = cpu_has_shani();
  if (use_shani) {
    blocks_shani(state, data, blocks);
    return;
  }
#endif
  blocks_portable(state, data, blocks);
}

void oc_sha256_init(oc_sha256 *ctx) {
  static const uint32_t init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(ctx->state, init, sizeof init);
  ctx->total_len = 0;
  ctx->block_len = 0;
}

void oc_sha256_update(oc_sha256 *ctx, const void *data, size_t len) {
  const uint8_t *p = data;
  ctx->total_len += len;
  if (ctx->block_len) {
    size_t take = 64 - ctx->block_len < len ? 64 - ctx->block_len : len;
    memcpy(ctx->block + ctx->block_len, p, take);
    ctx->block_len += take;
    p += take;
    len -= take;
    if (ctx->block_len < 64) return;
    compress_blocks(ctx->state, ctx->block, 1);
    ctx->block_len = 0;
  }
  compress_blocks(ctx->state, p, len / 64);
  p += len / 64 * 64;
  len %= 64;
  memcpy(ctx->block, p, len);
  ctx->block_len = len;
}

void oc_sha256_final(oc_sha256 *ctx, uint8_t digest[32]) {
  uint64_t bits = ctx->total_len * 8;
  uint8_t pad = 0x80;
  oc_sha256_update(ctx, &pad, 1);
  uint8_t zero = 0;
  while (ctx->block_len != 56) oc_sha256_update(ctx, &zero, 1);
  uint8_t len_be[8];
  for (int i = 0; i < 8; i++) len_be[i] = (uint8_t)(bits >> (56 - 8 * i));
  oc_sha256_update(ctx, len_be, 8);
  for (int i = 0; i < 8; i++) {
    digest[4 * i] = (uint8_t)(ctx->state[i] >> 24);
    digest[4 * i + 1] = (uint8_t)(ctx->state[i] >> 16);
    digest[4 * i + 2] = (uint8_t)(ctx->state[i] >> 8);
    digest[4 * i + 3] = (uint8_t)ctx->state[i];
  }
}

void oc_hex_encode(const uint8_t *bytes, size_t n, char *hex) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    hex[2 * i] = digits[bytes[i] >> 4];
    hex[2 * i + 1] = digits[bytes[i] & 15];
  }
  hex[2 * n] = '\0';
}

void oc_sha256_hex(const void *data, size_t len, char *hex) {
  oc_sha256 ctx;
  uint8_t digest[32];
  oc_sha256_init(&ctx);
  oc_sha256_update(&ctx, data, len);
  oc_sha256_final(&ctx, digest);
  oc_hex_encode(digest, 32, hex);
}

bool oc_consttime_equal(const void *a, const void *b, size_t n) {
  const volatile uint8_t *x = a, *y = b;
  uint8_t diff = 0;
  for (size_t i = 0; i < n; i++) diff |= x[i] ^ y[i];
  return diff == 0;
}
