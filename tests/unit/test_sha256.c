/* Unit tests for src/core/sha256.c's two block functions held to each other: on a CPU with the x86 SHA
 * extensions they are really used (the machine's /proc/cpuinfo says sha_ni), and every length from 0
 * to 4096 bytes of pseudo-random data, hashed in one piece and streamed in random splits, gives the
 * portable code's digest. The NIST vectors through both are test_core's. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"

#define MAX_LEN 4096

/* xorshift64: the same bytes and splits on every run */
static uint64_t next_random(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

static bool cpuinfo_says_sha_ni(void) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return false;
  char line[8192];
  bool found = false;
  while (!found && fgets(line, sizeof line, f))
    found = strncmp(line, "flags", 5) == 0 && strstr(line, " sha_ni") != NULL;
  fclose(f);
  return found;
}

/* data[0..len) in one update, then streamed in random pieces (0 to 150 bytes: within a block, across
 * one, several at once) */
static void digests(const uint8_t *data, size_t len, uint64_t *rng, uint8_t whole[32], uint8_t streamed[32]) {
  oc_sha256 ctx;
  oc_sha256_init(&ctx);
  oc_sha256_update(&ctx, data, len);
  oc_sha256_final(&ctx, whole);
  oc_sha256_init(&ctx);
  for (size_t at = 0; at < len;) {
    size_t piece = (size_t)(next_random(rng) % 151);
    if (piece > len - at) piece = len - at;
    oc_sha256_update(&ctx, data + at, piece);
    at += piece;
  }
  oc_sha256_final(&ctx, streamed);
}

static void test_accelerated_equals_portable(void **state) {
  (void)state;
  bool accelerated = oc_sha256_use_cpu_extensions(true);
#if defined(__x86_64__)
  assert_int_equal(accelerated, cpuinfo_says_sha_ni());
#endif
  if (!accelerated) print_message("(no SHA extensions on this CPU: the portable code against itself)\n");
  static uint8_t data[MAX_LEN];
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (size_t i = 0; i < MAX_LEN; i++) data[i] = (uint8_t)next_random(&x);
  uint64_t splits_fast = 42, splits_portable = 42;
  for (size_t len = 0; len <= MAX_LEN; len++) {
    uint8_t fast[32], fast_streamed[32], portable[32], portable_streamed[32];
    assert_int_equal(oc_sha256_use_cpu_extensions(true), accelerated);
    digests(data, len, &splits_fast, fast, fast_streamed);
    assert_false(oc_sha256_use_cpu_extensions(false));
    digests(data, len, &splits_portable, portable, portable_streamed);
    if (memcmp(fast, portable, 32) != 0 || memcmp(fast_streamed, portable, 32) != 0 ||
        memcmp(portable_streamed, portable, 32) != 0)
      fail_msg("SHA-256 of %zu bytes: the accelerated, streamed or portable digests differ", len);
  }
  oc_sha256_use_cpu_extensions(true);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accelerated_equals_portable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
