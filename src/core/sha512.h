/* sha512.h: SHA-512 (FIPS 180-4), HMAC-SHA-512 (RFC 2104) and PBKDF2-HMAC-SHA-512 (RFC 8018): what
 * mosquitto's password file needs (its "$7$" hashes, src/devices/broker.h). Must not be used for
 * lineage digests (those are SHA-256, core/sha256.h). */
#ifndef OC_SHA512_H
#define OC_SHA512_H

#include <stddef.h>
#include <stdint.h>

#define OC_SHA512_LEN 64

typedef struct oc_sha512 {
  uint64_t state[8];
  uint64_t total_len; /* bytes; inputs stay far below 2^61 */
  uint8_t block[128];
  size_t block_len;
} oc_sha512;

void oc_sha512_init(oc_sha512 *ctx);
void oc_sha512_update(oc_sha512 *ctx, const void *data, size_t len);
void oc_sha512_final(oc_sha512 *ctx, uint8_t digest[OC_SHA512_LEN]);
void oc_hmac_sha512(const void *key, size_t key_len, const void *data, size_t len, uint8_t mac[OC_SHA512_LEN]);
/* PBKDF2 with HMAC-SHA-512 as its PRF: out_len bytes derived from password and salt; iterations >= 1. */
void oc_pbkdf2_sha512(const void *password, size_t password_len, const void *salt, size_t salt_len,
                      unsigned iterations, uint8_t *out, size_t out_len);

/* Standard base64 (RFC 4648, '+' '/' and '=' padding) of n bytes into out, which holds
 * OC_BASE64_LEN(n) bytes; NUL-terminated. */
#define OC_BASE64_LEN(n) (4 * (((n) + 2) / 3) + 1)
void oc_base64_encode(const uint8_t *bytes, size_t n, char *out);
/* Decodes exactly out_len bytes from text_len bytes of standard base64 (4 * ceil(out_len / 3) of
 * them, '=' padded); -1 for another length or a byte outside the alphabet. */
int oc_base64_decode_exact(const char *text, size_t text_len, uint8_t *out, size_t out_len);

#endif
