/* sha512.c: SHA-512, HMAC-SHA-512 and PBKDF2-HMAC-SHA-512 (see sha512.h), portable C. Speed is not
 * a goal: a password hash costs 101 iterations. Must not hold state between calls. */
#include "core/sha512.h"

#include <assert.h>
#include <string.h>

static const uint64_t round_constants[80] = {
    0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL, 0x3956c25bf348b538ULL,
    0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL, 0xd807aa98a3030242ULL, 0x12835b0145706fbeULL,
    0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL, 0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL,
    0xc19bf174cf692694ULL, 0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
    0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL, 0x983e5152ee66dfabULL,
    0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL, 0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL,
    0x06ca6351e003826fULL, 0x142929670a0e6e70ULL, 0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL,
    0x53380d139d95b3dfULL, 0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
    0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL, 0xd192e819d6ef5218ULL,
    0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL, 0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL,
    0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL, 0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL,
    0x682e6ff3d6b2b8a3ULL, 0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
    0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL, 0xca273eceea26619cULL,
    0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL, 0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL,
    0x113f9804bef90daeULL, 0x1b710b35131c471bULL, 0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL,
    0x431d67c49c100d4cULL, 0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL,
};

static inline uint64_t rotr(uint64_t x, unsigned n) { return (x >> n) | (x << (64 - n)); }

static void compress(uint64_t state[8], const uint8_t block[128]) {
  uint64_t w[80];
  for (int i = 0; i < 16; i++) {
    w[i] = 0;
    for (int b = 0; b < 8; b++) w[i] = (w[i] << 8) | block[8 * i + b];
  }
  for (int i = 16; i < 80; i++) {
    uint64_t s0 = rotr(w[i - 15], 1) ^ rotr(w[i - 15], 8) ^ (w[i - 15] >> 7);
    uint64_t s1 = rotr(w[i - 2], 19) ^ rotr(w[i - 2], 61) ^ (w[i - 2] >> 6);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint64_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6],
           h = state[7];
  for (int i = 0; i < 80; i++) {
    uint64_t t1 = h + (rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41)) + ((e & f) ^ (~e & g)) + round_constants[i] + w[i];
    uint64_t t2 = (rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
  }
  state[0] += a, state[1] += b, state[2] += c, state[3] += d;
  state[4] += e, state[5] += f, state[6] += g, state[7] += h;
}

void oc_sha512_init(oc_sha512 *ctx) {
  static const uint64_t initial[8] = {0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
                                      0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
                                      0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};
  memcpy(ctx->state, initial, sizeof initial);
  ctx->total_len = 0;
  ctx->block_len = 0;
}

void oc_sha512_update(oc_sha512 *ctx, const void *data, size_t len) {
  const uint8_t *p = data;
  ctx->total_len += len;
  while (len > 0) {
    size_t take = sizeof ctx->block - ctx->block_len;
    if (take > len) take = len;
    memcpy(ctx->block + ctx->block_len, p, take);
    ctx->block_len += take, p += take, len -= take;
    if (ctx->block_len == sizeof ctx->block) {
      compress(ctx->state, ctx->block);
      ctx->block_len = 0;
    }
  }
}

void oc_sha512_final(oc_sha512 *ctx, uint8_t digest[OC_SHA512_LEN]) {
  uint64_t bits = ctx->total_len * 8;
  static const uint8_t pad[128] = {0x80};
  /* 0x80, zeros up to 112 mod 128, then the 128-bit length (its high 64 bits are 0 here) */
  size_t pad_len = ctx->block_len < 112 ? 112 - ctx->block_len : 240 - ctx->block_len;
  uint8_t length[16] = {0};
  for (int i = 0; i < 8; i++) length[15 - i] = (uint8_t)(bits >> (8 * i));
  oc_sha512_update(ctx, pad, pad_len);
  oc_sha512_update(ctx, length, sizeof length);
  assert(ctx->block_len == 0);
  for (int i = 0; i < 8; i++)
    for (int b = 0; b < 8; b++) digest[8 * i + b] = (uint8_t)(ctx->state[i] >> (56 - 8 * b));
}

/* The HMAC's inner and outer hashes with the padded key already absorbed, so PBKDF2's iterations
 * hash the key once. */
typedef struct hmac_keyed {
  oc_sha512 inner, outer;
} hmac_keyed;

static void hmac_key(hmac_keyed *h, const void *key, size_t key_len) {
  uint8_t block[128] = {0};
  if (key_len > sizeof block) {
    oc_sha512 k;
    oc_sha512_init(&k);
    oc_sha512_update(&k, key, key_len);
    oc_sha512_final(&k, block);
  } else {
    memcpy(block, key, key_len);
  }
  uint8_t ipad[128], opad[128];
  for (size_t i = 0; i < sizeof block; i++) ipad[i] = block[i] ^ 0x36, opad[i] = block[i] ^ 0x5c;
  oc_sha512_init(&h->inner);
  oc_sha512_update(&h->inner, ipad, sizeof ipad);
  oc_sha512_init(&h->outer);
  oc_sha512_update(&h->outer, opad, sizeof opad);
}

/* mac = HMAC(key of h, a || b). */
static void hmac_run(const hmac_keyed *h, const void *a, size_t a_len, const void *b, size_t b_len,
                     uint8_t mac[OC_SHA512_LEN]) {
  oc_sha512 inner = h->inner, outer = h->outer;
  uint8_t inner_digest[OC_SHA512_LEN];
  oc_sha512_update(&inner, a, a_len);
  oc_sha512_update(&inner, b, b_len);
  oc_sha512_final(&inner, inner_digest);
  oc_sha512_update(&outer, inner_digest, sizeof inner_digest);
  oc_sha512_final(&outer, mac);
}

void oc_hmac_sha512(const void *key, size_t key_len, const void *data, size_t len, uint8_t mac[OC_SHA512_LEN]) {
  hmac_keyed h;
  hmac_key(&h, key, key_len);
  hmac_run(&h, data, len, NULL, 0, mac);
}

void oc_pbkdf2_sha512(const void *password, size_t password_len, const void *salt, size_t salt_len,
                      unsigned iterations, uint8_t *out, size_t out_len) {
  assert(iterations >= 1);
  hmac_keyed h;
  hmac_key(&h, password, password_len);
  for (uint32_t block_index = 1; out_len > 0; block_index++) {
    uint8_t counter[4] = {(uint8_t)(block_index >> 24), (uint8_t)(block_index >> 16), (uint8_t)(block_index >> 8),
                          (uint8_t)block_index};
    uint8_t u[OC_SHA512_LEN], t[OC_SHA512_LEN];
    hmac_run(&h, salt, salt_len, counter, sizeof counter, u);
    memcpy(t, u, sizeof t);
    for (unsigned i = 1; i < iterations; i++) {
      hmac_run(&h, u, sizeof u, NULL, 0, u);
      for (size_t b = 0; b < sizeof t; b++) t[b] ^= u[b];
    }
    size_t take = out_len < sizeof t ? out_len : sizeof t;
    memcpy(out, t, take);
    out += take, out_len -= take;
  }
}

static const char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void oc_base64_encode(const uint8_t *bytes, size_t n, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)bytes[i] << 16;
    if (i + 1 < n) v |= (uint32_t)bytes[i + 1] << 8;
    if (i + 2 < n) v |= bytes[i + 2];
    out[o++] = base64_alphabet[(v >> 18) & 63];
    out[o++] = base64_alphabet[(v >> 12) & 63];
    out[o++] = i + 1 < n ? base64_alphabet[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? base64_alphabet[v & 63] : '=';
  }
  out[o] = 0;
}

int oc_base64_decode_exact(const char *text, size_t text_len, uint8_t *out, size_t out_len) {
  if (text_len != 4 * ((out_len + 2) / 3)) return -1;
  size_t o = 0;
  for (size_t i = 0; i < text_len; i += 4) {
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
      const char *at = text[i + k] == '=' ? NULL : strchr(base64_alphabet, text[i + k]);
      if (text[i + k] != '=' && (!at || !text[i + k])) return -1;
      v = (v << 6) | (at ? (uint32_t)(at - base64_alphabet) : 0);
    }
    for (int k = 0; k < 3 && o < out_len; k++) out[o++] = (uint8_t)(v >> (16 - 8 * k));
  }
  return 0;
}
