/* fuzz.h: what every fuzz target of tests/fuzz/ shares: libFuzzer's entry point, which both the fuzzer
 * (clang, -fsanitize=fuzzer) and the corpus replay driver (replay.c, any compiler) call, and the check
 * a target states its properties with. Test code only; nothing in src/ includes it. */
#ifndef OC_FUZZ_H
#define OC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* One input; returns 0 (libFuzzer reserves other values). A broken property aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test. Unlike assert() it holds in every build: `make test` replays the
 * corpora in Release (NDEBUG) too. abort() is what libFuzzer and ASan report as a crash. */
#define FUZZ_CHECK(cond, ...)                                                        \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__, __LINE__, #cond);   \
      fprintf(stderr, __VA_ARGS__);                                                  \
      fputc('\n', stderr);                                                           \
      abort();                                                                       \
    }                                                                                \
  } while (0)

#endif
