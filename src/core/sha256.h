/* sha256.h: SHA-256 (FIPS 180-4) for lineage and integrity: raw-file names, source-data checksums in
 * artifacts, API-key hashes. Incremental so large files stream through it. Not a MAC: compare secrets
 * with oc_consttime_equal. */
#ifndef OC_SHA256_H
#define OC_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct oc_sha256 {
  uint32_t state[8];
  uint64_t total_len;
  uint8_t block[64];
  size_t block_len;
} oc_sha256;

#define OC_SHA256_HEX_LEN 65 /* 64 hex digits + NUL */

void oc_sha256_init(oc_sha256 *ctx);
void oc_sha256_update(oc_sha256 *ctx, const void *data, size_t len);
void oc_sha256_final(oc_sha256 *ctx, uint8_t digest[32]);
/* One-shot digest as lowercase hex into hex (OC_SHA256_HEX_LEN bytes). */
void oc_sha256_hex(const void *data, size_t len, char *hex);
/* The x86 SHA extensions are used when the CPU has them (same digests, a quarter of the CPU time).
 * false forces the portable code, true goes back to probing: tests run the vectors through both.
 * Returns whether the extensions are in use now (true asked on a CPU without them: false). */
bool oc_sha256_use_cpu_extensions(bool enabled);
void oc_hex_encode(const uint8_t *bytes, size_t n, char *hex);
/* Compares n bytes in time independent of where they differ. */
bool oc_consttime_equal(const void *a, const void *b, size_t n);

#endif
