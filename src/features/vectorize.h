/* vectorize.h: OC_VECTOR_CLONES marks the feature stage's hot loops for function multiversioning:
 * each is compiled for the x86-64 baseline (SSE2, two doubles per instruction) and for AVX2 (four),
 * and the dynamic loader picks the version the CPU runs (an ifunc). Square roots and divisions, the
 * costliest steps of the features, take half the time. AVX2 alone brings no fused multiply-add and
 * the build does not contract, so both versions do the same IEEE operations in the same order:
 * results are bit-identical on every machine. Elsewhere (other architectures, no ifunc) it expands
 * to nothing, and so under ThreadSanitizer: GCC instruments the ifunc resolver, which the loader runs
 * before the TSan runtime exists, and the program dies at start-up. Must not hold code. */
#ifndef OC_VECTORIZE_H
#define OC_VECTORIZE_H

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_THREAD__)
#define OC_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define OC_VECTOR_CLONES
#endif

#endif
