/* layers.c: see layers.h. Matrix products are oilcast's own (oc_sgemm below), in one fixed order for
 * every shape, so a network's floats are the same on every CPU whatever OpenBLAS would pick there.
 *
 * Speed: the element-wise loops run thousands of times per epoch on a few thousand floats each, so
 * they must vectorise. RelWithDebInfo's -O2 uses GCC's "very cheap" vector cost model, which leaves
 * loops of unknown length scalar; this file asks for the full vectoriser (and for sqrtf without errno,
 * which is what keeps Adam's square roots in vector registers; and for copy loops left as loops: the
 * rows copied here are too short to pay for a memcpy call), and the hot functions are
 * cloned for AVX-512 / AVX2 and picked at load time. None of this changes results: without
 * -ffast-math GCC vectorises only across independent elements (each sum keeps its order) and ISO C
 * mode keeps multiply and add unfused, so every clone computes bit-identical floats. */
#pragma GCC optimize("O3", "no-math-errno", "no-tree-loop-distribute-patterns")
#include "model/layers.h"

#include <assert.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Not under ThreadSanitizer: see features/vectorize.h (an instrumented ifunc resolver crashes at load).
 * Not with clang: clang 14 makes no ifunc for callers in other files (undefined references at link). */
#if defined(__SANITIZE_THREAD__) || defined(__clang__)
#define OC_VECTOR_CLONES
#else
#define OC_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

/* ---- matrix products ----------------------------------------------------------------------------
 * The network's products are small (a batch of 32 rows by 27..64 columns): OpenBLAS spends most of
 * their time packing, and its kernel depends on the CPU it detects, so the same fit gave different
 * bits on different machines. oc_sgemm computes every element of C as one product sum in a fixed
 * order, the order of OpenBLAS 0.3's generic SSE3 ("Prescott") kernel, which the project's reference
 * figures were measured with (docs/evaluation.md), so they stay bit for bit and are now the same on
 * every CPU. With C row-major [M, N], that kernel (column-major, register blocks of 8 columns of C and
 * 4 rows, then 4, 2, 1 columns and 2, 1 rows) sums:
 *   - "sequential": acc = 0; acc += a[k] * b[k] for k = 0..K-1, for the rows in blocks of 4 and 2 with
 *     columns in blocks of 8, and the rows in blocks of 4 with the block of 4 columns;
 *   - "paired": two sums, even and odd k, over the first K rounded down to 8, the remaining k added to
 *     the even sum, acc = even + odd, for every other element except
 *   - the last row of an odd M in the last 1..3 columns (that kernel's blocks of 2 and 1 elements of
 *     one column of C^T): a block of 2 sums each element in eight partial sums s[k mod 8] over the
 *     first K rounded down to 16, the rest added to s[0], acc = ((s0 + s2) + (s4 + s6)) + ((s1 + s3) +
 *     (s5 + s7)); a block of 1 (the last column when 1 or 3 are left) in four, s[k mod 4] over the
 *     first K rounded down to 8, the rest added to s[0], acc = (s0 + s1) + (s2 + s3) (corner_sum).
 * Then C = (beta ? C : 0) + acc. Checked against cblas_sgemm bit for bit with OpenBLAS held to that
 * kernel (OPENBLAS_CORETYPE=Prescott: test_layers_gemm). A sum longer than K = 128 is cut into blocks
 * as OpenBLAS' driver cuts it (long_sum_block) and each block's product is added to C in turn.
 * C is computed in slices of OC_SGEMM_SLICE columns (beyond the last whole vector of 16 columns, in
 * strips of 16 rows: strip_columns below): B's slice is copied (transposed where asked) into
 * a zero-padded stack buffer (no allocation), so every sum runs in whole vectors of 16; where B is not
 * transposed and its width is a multiple of 16, its rows are read where they are. A dense layer's bias
 * enters as the first term of every element's C = bias + sum, without a copy into C first. */
enum { OC_SGEMM_MAX_K = 128, OC_SGEMM_SLICE = 64, OC_SGEMM_STRIDE = OC_SGEMM_SLICE + 32 };

/* Sixteen floats in one vector (one AVX-512 register, two AVX2 ones): the sums of a slice stay in
 * registers over the whole k loop. Element-wise operations: each lane keeps its own order. */
typedef float oc_v16 __attribute__((vector_size(64)));
typedef float oc_v16_unaligned __attribute__((vector_size(64), aligned(4), may_alias));
#define LOAD16(p) (*(const oc_v16_unaligned *)(p))

/* acc[j] = sum over k of a[k * astride] * b[k * bstride + j], j < n rounded up to 16 (b's rows are
 * readable that far: zero-padded when packed), in the sequential order. */
OC_VECTOR_CLONES
static void sum_sequential(float *restrict acc, const float *restrict a, size_t astride, const float *restrict b,
                           size_t bstride, int K, int n) {
  int j = 0;
  for (; j + 16 < n; j += 32) {
    oc_v16 s0 = {0}, s1 = {0};
    for (int k = 0; k < K; k++) {
      const float ak = a[(size_t)k * astride], *bk = b + (size_t)k * bstride + j;
      s0 = s0 + ak * LOAD16(bk);
      s1 = s1 + ak * LOAD16(bk + 16);
    }
    memcpy(acc + j, &s0, sizeof s0);
    memcpy(acc + j + 16, &s1, sizeof s1);
  }
  if (j < n) {
    oc_v16 s0 = {0};
    for (int k = 0; k < K; k++) s0 = s0 + a[(size_t)k * astride] * LOAD16(b + (size_t)k * bstride + j);
    memcpy(acc + j, &s0, sizeof s0);
  }
}

/* *s_r += a[k * astride + r * arow] * b[k * bstride + (0..15)] for k = k0..K-1 in order, r < 4: four rows'
 * sums over one vector of columns (inlined: the sums stay in registers). */
static inline __attribute__((always_inline)) void rows4_sequential(oc_v16 *s0, oc_v16 *s1, oc_v16 *s2, oc_v16 *s3,
                                                                   const float *a, size_t arow, size_t astride,
                                                                   const float *b, size_t bstride, int k0, int K) {
  for (int k = k0; k < K; k++) {
    const float *ak = a + (size_t)k * astride;
    const oc_v16 b0 = LOAD16(b + (size_t)k * bstride);
    *s0 = *s0 + ak[0] * b0;
    *s1 = *s1 + ak[arow] * b0;
    *s2 = *s2 + ak[2 * arow] * b0;
    *s3 = *s3 + ak[3 * arow] * b0;
  }
}

/* sum_sequential for the four rows a + r * arow (r < 4) at once, row r into acc + r * OC_SGEMM_STRIDE:
 * each loaded slice of b serves four rows, and eight independent sums hide the adder's latency. The
 * sums are named variables, not an array: GCC zeroes an initialised array of vectors in memory
 * (rep stosq, dozens of cycles a call) before moving it to registers. */
OC_VECTOR_CLONES
static void sum_sequential4(float *restrict acc, const float *restrict a, size_t arow, size_t astride,
                            const float *restrict b, size_t bstride, int K, int n) {
  float *acc1 = acc + OC_SGEMM_STRIDE, *acc2 = acc + 2 * OC_SGEMM_STRIDE, *acc3 = acc + 3 * OC_SGEMM_STRIDE;
  int j = 0;
  for (; j + 16 < n; j += 32) {
    oc_v16 s00 = {0}, s01 = {0}, s10 = {0}, s11 = {0}, s20 = {0}, s21 = {0}, s30 = {0}, s31 = {0};
    for (int k = 0; k < K; k++) {
      const float *bk = b + (size_t)k * bstride + j, *ak = a + (size_t)k * astride;
      const oc_v16 b0 = LOAD16(bk), b1 = LOAD16(bk + 16);
      const float a0 = ak[0], a1 = ak[arow], a2 = ak[2 * arow], a3 = ak[3 * arow];
      s00 = s00 + a0 * b0;
      s01 = s01 + a0 * b1;
      s10 = s10 + a1 * b0;
      s11 = s11 + a1 * b1;
      s20 = s20 + a2 * b0;
      s21 = s21 + a2 * b1;
      s30 = s30 + a3 * b0;
      s31 = s31 + a3 * b1;
    }
    memcpy(acc + j, &s00, sizeof s00);
    memcpy(acc + j + 16, &s01, sizeof s01);
    memcpy(acc1 + j, &s10, sizeof s10);
    memcpy(acc1 + j + 16, &s11, sizeof s11);
    memcpy(acc2 + j, &s20, sizeof s20);
    memcpy(acc2 + j + 16, &s21, sizeof s21);
    memcpy(acc3 + j, &s30, sizeof s30);
    memcpy(acc3 + j + 16, &s31, sizeof s31);
  }
  if (j < n) {
    oc_v16 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    rows4_sequential(&s0, &s1, &s2, &s3, a, arow, astride, b + j, bstride, 0, K);
    memcpy(acc + j, &s0, sizeof s0);
    memcpy(acc1 + j, &s1, sizeof s1);
    memcpy(acc2 + j, &s2, sizeof s2);
    memcpy(acc3 + j, &s3, sizeof s3);
  }
}

/* The same sums in the paired order. */
OC_VECTOR_CLONES
static void sum_paired(float *restrict acc, const float *restrict a, size_t astride, const float *restrict b,
                       size_t bstride, int K, int n) {
  const int paired_k = K / 8 * 8;
  for (int j = 0; j < n; j += 16) {
    oc_v16 even = {0}, odd = {0};
    int k = 0;
    for (; k < paired_k; k += 2) {
      const float *bk = b + (size_t)k * bstride + j;
      even = even + a[(size_t)k * astride] * LOAD16(bk);
      odd = odd + a[(size_t)(k + 1) * astride] * LOAD16(bk + bstride);
    }
    for (; k < K; k++) even = even + a[(size_t)k * astride] * LOAD16(b + (size_t)k * bstride + j);
    even = even + odd;
    memcpy(acc + j, &even, sizeof even);
  }
}

/* sum_paired for the four rows a + r * arow (r < 4) at once, row r into acc + r * OC_SGEMM_STRIDE:
 * four rows' even and odd sums together keep the adder busy where one row's two would wait on its
 * latency. */
OC_VECTOR_CLONES
static void sum_paired4(float *restrict acc, const float *restrict a, size_t arow, size_t astride,
                        const float *restrict b, size_t bstride, int K, int n) {
  const int paired_k = K / 8 * 8;
  float *acc1 = acc + OC_SGEMM_STRIDE, *acc2 = acc + 2 * OC_SGEMM_STRIDE, *acc3 = acc + 3 * OC_SGEMM_STRIDE;
  for (int j = 0; j < n; j += 16) {
    oc_v16 e0 = {0}, e1 = {0}, e2 = {0}, e3 = {0}, o0 = {0}, o1 = {0}, o2 = {0}, o3 = {0};
    int k = 0;
    for (; k < paired_k; k += 2) {
      const float *bk = b + (size_t)k * bstride + j, *ak = a + (size_t)k * astride, *ak1 = ak + astride;
      const oc_v16 b0 = LOAD16(bk), b1 = LOAD16(bk + bstride);
      e0 = e0 + ak[0] * b0;
      o0 = o0 + ak1[0] * b1;
      e1 = e1 + ak[arow] * b0;
      o1 = o1 + ak1[arow] * b1;
      e2 = e2 + ak[2 * arow] * b0;
      o2 = o2 + ak1[2 * arow] * b1;
      e3 = e3 + ak[3 * arow] * b0;
      o3 = o3 + ak1[3 * arow] * b1;
    }
    rows4_sequential(&e0, &e1, &e2, &e3, a, arow, astride, b + j, bstride, k, K);
    e0 = e0 + o0;
    e1 = e1 + o1;
    e2 = e2 + o2;
    e3 = e3 + o3;
    memcpy(acc + j, &e0, sizeof e0);
    memcpy(acc1 + j, &e1, sizeof e1);
    memcpy(acc2 + j, &e2, sizeof e2);
    memcpy(acc3 + j, &e3, sizeof e3);
  }
}

/* c[j] = (init ? init[j] : beta ? c[j] : 0) + acc[j] */
OC_VECTOR_CLONES
static void add_row(float *restrict c, const float *restrict acc, int n, const float *restrict init, bool beta) {
  if (init)
    for (int j = 0; j < n; j++) c[j] = init[j] + acc[j];
  else
    for (int j = 0; j < n; j++) c[j] = (beta ? c[j] : 0.0f) + acc[j];
}

/* A packed slice of n columns is read to at most n + 15: a segment of it (sequential, then paired
 * columns) is summed in whole vectors of 16, its reads ending before its start + its width + 16. */
enum { OC_SGEMM_PAD = 16 };

/* Four floats; v4_transpose turns four rows of them into four columns (a copy: no arithmetic). */
typedef float oc_v4 __attribute__((vector_size(16)));
typedef int oc_v4i __attribute__((vector_size(16)));
#if defined(__clang__)
#define SHUFFLE4(x, y, i0, i1, i2, i3) __builtin_shufflevector(x, y, i0, i1, i2, i3)
#else
#define SHUFFLE4(x, y, i0, i1, i2, i3) __builtin_shuffle(x, y, (oc_v4i){i0, i1, i2, i3})
#endif
static inline void v4_transpose(oc_v4 r[4]) {
  oc_v4 t0 = SHUFFLE4(r[0], r[1], 0, 4, 1, 5), t1 = SHUFFLE4(r[0], r[1], 2, 6, 3, 7);
  oc_v4 t2 = SHUFFLE4(r[2], r[3], 0, 4, 1, 5), t3 = SHUFFLE4(r[2], r[3], 2, 6, 3, 7);
  r[0] = SHUFFLE4(t0, t2, 0, 1, 4, 5);
  r[1] = SHUFFLE4(t0, t2, 2, 3, 6, 7);
  r[2] = SHUFFLE4(t1, t3, 0, 1, 4, 5);
  r[3] = SHUFFLE4(t1, t3, 2, 3, 6, 7);
}

/* packed[k * stride + j] = op(B)[k, j0 + j] for k < K, j < n, zero for n <= j < n + OC_SGEMM_PAD: a slice
 * of B, given as it is ([K, ldb]) or transposed ([N, ldb]; moved in blocks of 4 x 4). */
OC_VECTOR_CLONES
static void pack_slice(float *restrict packed, size_t stride, bool trans_b, const float *restrict B, int ldb, int j0,
                       int K, int n) {
  assert((size_t)n + OC_SGEMM_PAD <= stride);
  const oc_v16 zero = {0};
  for (int k = 0; k < K; k++) memcpy(packed + (size_t)k * stride + n, &zero, sizeof zero);
  if (!trans_b) {
    for (int k = 0; k < K; k++)
      for (int j = 0; j < n; j++) packed[(size_t)k * stride + j] = B[(size_t)k * (size_t)ldb + (size_t)(j0 + j)];
    return;
  }
  const float *b = B + (size_t)j0 * (size_t)ldb;
  int k4 = K / 4 * 4, j = 0;
  for (; j + 4 <= n; j += 4) {
    for (int k = 0; k < k4; k += 4) {
      oc_v4 r[4];
      for (int c = 0; c < 4; c++) memcpy(&r[c], b + (size_t)(j + c) * (size_t)ldb + (size_t)k, sizeof r[c]);
      v4_transpose(r);
      for (int c = 0; c < 4; c++) memcpy(packed + (size_t)(k + c) * stride + j, &r[c], sizeof r[c]);
    }
    for (int k = k4; k < K; k++)
      for (int c = 0; c < 4; c++) packed[(size_t)k * stride + j + c] = b[(size_t)(j + c) * (size_t)ldb + (size_t)k];
  }
  for (; j < n; j++)
    for (int k = 0; k < K; k++) packed[(size_t)k * stride + j] = b[(size_t)j * (size_t)ldb + (size_t)k];
}

/* Columns [0, *seq_end) of row i use the sequential order, [*seq_end, *paired_end) the paired one,
 * the rest (the odd-M corner) corner_sum's orders. */
static void column_orders(int i, int M, int N, int *seq_end, int *paired_end) {
  int rows4 = M / 4 * 4, cols8 = N / 8 * 8, cols4 = N - cols8 >= 4 ? cols8 + 4 : cols8;
  if (i < rows4) {
    *seq_end = cols4;
    *paired_end = N;
  } else if (M - rows4 >= 2 && i < rows4 + 2) {
    *seq_end = cols8;
    *paired_end = N;
  } else {
    *seq_end = 0;
    *paired_end = cols4;
  }
}

static int min_int(int a, int b) { return a < b ? a : b; }
static int max_int(int a, int b) { return a > b ? a : b; }

/* The odd-M corner's element: sum over k < K of a[k * astride] * b[k * bstride] in the order of the
 * kernel's block of 2 elements (of_two) or of 1 (see the orders above). Scalar: at most 3 a product. */
static float corner_sum(const float *a, size_t astride, const float *b, size_t bstride, int K, bool of_two) {
  const int lanes = of_two ? 8 : 4, whole = of_two ? K / 16 * 16 : K / 8 * 8;
  float s[8] = {0};
  int k = 0;
  for (; k < whole; k++) s[k % lanes] = s[k % lanes] + a[(size_t)k * astride] * b[(size_t)k * bstride];
  for (; k < K; k++) s[0] = s[0] + a[(size_t)k * astride] * b[(size_t)k * bstride];
  if (of_two) return ((s[0] + s[2]) + (s[4] + s[6])) + ((s[1] + s[3]) + (s[5] + s[7]));
  return (s[0] + s[1]) + (s[2] + s[3]);
}

/* ---- narrow columns, summed down the rows ----
 * A last partial vector of columns (a width that is not a multiple of 16: 7 outputs, 41 features)
 * wastes most of its lanes in the row-wise kernels above. For the rows of whole strips of 16, such
 * columns are summed with the rows in the lanes instead: each lane is one element, summed in its own
 * order (the orders of column_orders: these rows are all in blocks of 4), so the floats are the same. */
enum { OC_STRIP = 16 };

/* out[c * OC_STRIP + l] for c < 4, l < 16: the sums over k < K of at[k * atstride + l] * bt[k * btstride + c],
 * sequential, or in the paired order when paired. Each loaded strip of A serves four columns. */
OC_VECTOR_CLONES
static void strip_sums4(float *restrict out, const float *restrict at, size_t atstride, const float *restrict bt,
                        size_t btstride, int K, bool paired) {
  oc_v16 e0 = {0}, e1 = {0}, e2 = {0}, e3 = {0}, o0 = {0}, o1 = {0}, o2 = {0}, o3 = {0};
  int k = 0;
  if (paired)
    for (; k < K / 8 * 8; k += 2) {
      const oc_v16 a0 = LOAD16(at + (size_t)k * atstride), a1 = LOAD16(at + (size_t)(k + 1) * atstride);
      const float *b0 = bt + (size_t)k * btstride, *b1 = b0 + btstride;
      e0 = e0 + a0 * b0[0];
      o0 = o0 + a1 * b1[0];
      e1 = e1 + a0 * b0[1];
      o1 = o1 + a1 * b1[1];
      e2 = e2 + a0 * b0[2];
      o2 = o2 + a1 * b1[2];
      e3 = e3 + a0 * b0[3];
      o3 = o3 + a1 * b1[3];
    }
  for (; k < K; k++) {
    const oc_v16 a0 = LOAD16(at + (size_t)k * atstride);
    const float *b0 = bt + (size_t)k * btstride;
    e0 = e0 + a0 * b0[0];
    e1 = e1 + a0 * b0[1];
    e2 = e2 + a0 * b0[2];
    e3 = e3 + a0 * b0[3];
  }
  if (paired) {
    e0 = e0 + o0;
    e1 = e1 + o1;
    e2 = e2 + o2;
    e3 = e3 + o3;
  }
  memcpy(out, &e0, sizeof e0);
  memcpy(out + OC_STRIP, &e1, sizeof e1);
  memcpy(out + 2 * OC_STRIP, &e2, sizeof e2);
  memcpy(out + 3 * OC_STRIP, &e3, sizeof e3);
}

/* C's columns [c0, N) (fewer than 16) of its rows [0, rows16), rows16 a multiple of 16 whose rows are
 * all in blocks of 4: columns below cols4 sequential, the rest paired (column_orders). packed: the
 * caller's packing buffer, for op(B)'s columns. */
OC_VECTOR_CLONES
static void strip_columns(bool trans_a, bool trans_b, int rows16, int N, int K, const float *A, int lda, const float *B,
                          int ldb, const float *init, bool beta, float *C, int ldc, int c0, int cols4, float *packed) {
  assert(N - c0 < OC_STRIP && rows16 % OC_STRIP == 0 && K <= OC_SGEMM_MAX_K);
  enum { AT_STRIDE = OC_STRIP + OC_SGEMM_PAD };
  float at[OC_SGEMM_MAX_K * AT_STRIDE], out[4 * OC_STRIP];
  /* op(B)[k, c0 + c] at packed[k * OC_SGEMM_STRIDE + c], zero beyond N (a group of four runs on there) */
  pack_slice(packed, OC_SGEMM_STRIDE, trans_b, B, ldb, c0, K, N - c0);
  for (int i0 = 0; i0 < rows16; i0 += OC_STRIP) {
    /* the strip of A: its element (row i0 + l, k) at strip[k * stride + l] */
    const float *strip = A + i0;
    size_t stride = (size_t)lda;
    if (!trans_a) { /* A's rows transposed into columns */
      pack_slice(at, AT_STRIDE, true, A, lda, i0, K, OC_STRIP);
      strip = at;
      stride = AT_STRIDE;
    }
    for (int g = c0; g < N; g += 4) {
      /* a group of four never mixes the orders: cols4 - c0 is a multiple of 4 (cols4 is, and c0 of 16) */
      strip_sums4(out, strip, stride, packed + (g - c0), OC_SGEMM_STRIDE, K, g >= cols4);
      for (int c = 0; c < 4 && g + c < N; c++) {
        float *cj = C + (size_t)(g + c);
        const float *col = out + c * OC_STRIP;
        for (int l = 0; l < OC_STRIP; l++) {
          float *cij = cj + (size_t)(i0 + l) * (size_t)ldc;
          *cij = (init ? init[g + c] : beta ? *cij : 0.0f) + col[l];
        }
      }
    }
  }
}

/* sgemm below for K <= OC_SGEMM_MAX_K. */
static void sgemm_short(bool trans_a, bool trans_b, int M, int N, int K, const float *A, int lda, const float *B,
                        int ldb, const float *init, bool beta, float *C, int ldc) {
  assert(M > 0 && N > 0 && K > 0 && K <= OC_SGEMM_MAX_K);
  float packed[OC_SGEMM_MAX_K * OC_SGEMM_STRIDE], acc[4 * OC_SGEMM_STRIDE];
  size_t astride = trans_a ? (size_t)lda : 1, arow = trans_a ? 1 : (size_t)lda;
  /* B's rows serve as they are where every sum runs over whole vectors of 16 of them: a width of a
   * multiple of 16 gives every row one order over all its columns (see column_orders) */
  const bool direct = !trans_b && N % 16 == 0;
  /* columns [c0, N) of the rows [0, rows16) are left to strip_columns */
  const int rows16 = N % OC_STRIP != 0 ? M / OC_STRIP * OC_STRIP : 0, c0 = N / OC_STRIP * OC_STRIP;
  for (int j0 = 0; j0 < N; j0 += OC_SGEMM_SLICE) {
    int j1 = min_int(N, j0 + OC_SGEMM_SLICE);
    /* op(B)[k, j] at b[k * bstride + (j - j0)], readable (zero-padded) to j rounded up to 16 */
    const float *b = packed;
    size_t bstride = OC_SGEMM_STRIDE;
    if (direct) {
      b = B + j0;
      bstride = (size_t)ldb;
    } else {
      pack_slice(packed, OC_SGEMM_STRIDE, trans_b, B, ldb, j0, K, j1 - j0);
    }
    const float *init_j = init ? init + j0 : NULL;
    /* rows in blocks of 4 share their column orders: their sums run together */
    int i = 0;
    for (; i + 4 <= M; i += 4) {
      int seq_end, paired_end;
      column_orders(i, M, N, &seq_end, &paired_end);
      int row_end = i < rows16 ? min_int(j1, c0) : j1;
      int s1 = max_int(j0, min_int(row_end, seq_end)), p1 = max_int(s1, min_int(row_end, paired_end));
      const float *a = A + (size_t)i * arow;
      if (s1 > j0) sum_sequential4(acc, a, arow, astride, b, bstride, K, s1 - j0);
      if (p1 > s1) sum_paired4(acc + (s1 - j0), a, arow, astride, b + (s1 - j0), bstride, K, p1 - s1);
      for (int r = 0; r < 4; r++)
        add_row(C + (size_t)(i + r) * (size_t)ldc + j0, acc + (size_t)r * OC_SGEMM_STRIDE, p1 - j0, init_j, beta);
    }
    for (; i < M; i++) {
      const float *a = A + (size_t)i * arow;
      int seq_end, paired_end;
      column_orders(i, M, N, &seq_end, &paired_end);
      int s1 = max_int(j0, min_int(j1, seq_end)), p1 = max_int(s1, min_int(j1, paired_end));
      sum_sequential(acc, a, astride, b, bstride, K, s1 - j0);
      sum_paired(acc + (s1 - j0), a, astride, b + (s1 - j0), bstride, K, p1 - s1);
      add_row(C + (size_t)i * (size_t)ldc + j0, acc, p1 - j0, init_j, beta);
    }
  }
  int seq_end, paired_end;
  if (rows16 > 0) {
    column_orders(0, M, N, &seq_end, &paired_end);
    strip_columns(trans_a, trans_b, rows16, N, K, A, lda, B, ldb, init, beta, C, ldc, c0, seq_end, packed);
  }
  column_orders(M - 1, M, N, &seq_end, &paired_end);
  if (paired_end < N) {
    assert(M % 2 == 1 && N - paired_end <= 3);
    const float *a = trans_a ? A + (M - 1) : A + (size_t)(M - 1) * (size_t)lda;
    const size_t bstride = trans_b ? 1 : (size_t)ldb;
    float *c = C + (size_t)(M - 1) * (size_t)ldc;
    for (int j = paired_end; j < N; j++) {
      const float *b = trans_b ? B + (size_t)j * (size_t)ldb : B + j;
      float sum = corner_sum(a, astride, b, bstride, K, N - paired_end >= 2 && j < paired_end + 2);
      c[j] = (init ? init[j] : beta ? c[j] : 0.0f) + sum;
    }
  }
}

/* How many of the `left` terms still to sum the next block takes: OpenBLAS' driver takes 128 while
 * twice that is left, then splits what is left in two, the first half rounded up to a multiple of 8
 * (its kernel's 8 columns). */
static int long_sum_block(int left) {
  if (left >= 2 * OC_SGEMM_MAX_K) return OC_SGEMM_MAX_K;
  if (left > OC_SGEMM_MAX_K) return (left / 2 + 7) / 8 * 8;
  return left;
}

/* oc_sgemm, with C = init[j] + op(A) . op(B) in row i, for every i, when init is not NULL (a bias
 * row: as if C had been filled with it and beta set, without the copies). A long sum is taken block
 * by block, each block's product added to C. */
static void sgemm(bool trans_a, bool trans_b, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                  const float *init, bool beta, float *C, int ldc) {
  for (int k0 = 0; k0 < K;) {
    int block = long_sum_block(K - k0);
    sgemm_short(trans_a, trans_b, M, N, block, trans_a ? A + (size_t)k0 * (size_t)lda : A + k0, lda,
                trans_b ? B + k0 : B + (size_t)k0 * (size_t)ldb, ldb, k0 == 0 ? init : NULL, k0 == 0 ? beta : true, C,
                ldc);
    k0 += block;
  }
}

void oc_sgemm(bool trans_a, bool trans_b, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
              bool beta, float *C, int ldc) {
  sgemm(trans_a, trans_b, M, N, K, A, lda, B, ldb, NULL, beta, C, ldc);
}

void oc_dense_forward(float *restrict out, const float *restrict inp, const float *restrict weight,
                      const float *restrict bias, int B, int C, int OC) {
  sgemm(false, true, B, OC, C, inp, C, weight, C, bias, false, out, OC);
}

OC_VECTOR_CLONES
void oc_dense_backward(float *restrict dinp, float *restrict dweight, float *restrict dbias,
                       const float *restrict dout, const float *restrict inp, const float *restrict weight, int B,
                       int C, int OC) {
  if (dinp) oc_sgemm(false, false, B, C, OC, dout, OC, weight, C, false, dinp, C);
  oc_sgemm(true, false, OC, C, B, dout, OC, inp, C, false, dweight, C);
  memset(dbias, 0, (size_t)OC * sizeof *dbias);
  for (int b = 0; b < B; b++) {
    const float *row = dout + (size_t)b * OC;
    for (int o = 0; o < OC; o++) dbias[o] += row[o];
  }
}

OC_VECTOR_CLONES
void oc_relu_forward(float *x, size_t N) {
  for (size_t i = 0; i < N; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

OC_VECTOR_CLONES
void oc_relu_backward(float *restrict dx, const float *restrict out, size_t N) {
  for (size_t i = 0; i < N; i++) dx[i] = out[i] > 0.0f ? dx[i] : 0.0f;
}

OC_VECTOR_CLONES
void oc_batchnorm_forward_train(float *restrict out, float *restrict mean, float *restrict rstd,
                                const float *restrict inp, const float *restrict gamma, const float *restrict beta,
                                float *restrict running_mean, float *restrict running_var, int B, int C,
                                float momentum, float eps) {
  /* Two passes (mean, then squared deviations): the one-pass E[x^2] - E[x]^2 loses digits when the
   * mean is large against the spread, which post-ReLU activations often are. rstd doubles as the
   * variance accumulator until the end. */
  memset(mean, 0, (size_t)C * sizeof *mean);
  memset(rstd, 0, (size_t)C * sizeof *rstd);
  for (int b = 0; b < B; b++) {
    const float *x = inp + (size_t)b * C;
    for (int c = 0; c < C; c++) mean[c] += x[c];
  }
  float inv_b = 1.0f / (float)B;
  for (int c = 0; c < C; c++) mean[c] *= inv_b;
  for (int b = 0; b < B; b++) {
    const float *x = inp + (size_t)b * C;
    for (int c = 0; c < C; c++) {
      float d = x[c] - mean[c];
      rstd[c] += d * d;
    }
  }
  for (int c = 0; c < C; c++) {
    float var = rstd[c] * inv_b;
    running_mean[c] -= (running_mean[c] - mean[c]) * (1.0f - momentum);
    running_var[c] -= (running_var[c] - var) * (1.0f - momentum);
    rstd[c] = 1.0f / sqrtf(var + eps);
  }
  for (int b = 0; b < B; b++) {
    const float *x = inp + (size_t)b * C;
    float *y = out + (size_t)b * C;
    for (int c = 0; c < C; c++) y[c] = (x[c] - mean[c]) * rstd[c] * gamma[c] + beta[c];
  }
}

OC_VECTOR_CLONES
void oc_batchnorm_forward_infer(float *restrict out, const float *restrict inp, const float *restrict gamma,
                                const float *restrict beta, const float *restrict running_mean,
                                const float *restrict running_var, int B, int C, float eps) {
  /* Keras's inference form: inv = gamma / sqrt(var + eps), out = inp * inv + (beta - mean * inv), with
   * inv and the shift computed once per channel (a block of channels at a time, on the stack). */
  enum { BLOCK = 64 };
  float inv[BLOCK], shift[BLOCK];
  for (int c0 = 0; c0 < C; c0 += BLOCK) {
    int n = C - c0 < BLOCK ? C - c0 : BLOCK;
    for (int c = 0; c < n; c++) {
      inv[c] = gamma[c0 + c] / sqrtf(running_var[c0 + c] + eps);
      shift[c] = beta[c0 + c] - running_mean[c0 + c] * inv[c];
    }
    for (int b = 0; b < B; b++) {
      const float *x = inp + (size_t)b * C + c0;
      float *y = out + (size_t)b * C + c0;
      for (int c = 0; c < n; c++) y[c] = x[c] * inv[c] + shift[c];
    }
  }
}

OC_VECTOR_CLONES
void oc_batchnorm_backward(float *restrict dinp, float *restrict dgamma, float *restrict dbeta,
                           const float *restrict dout, const float *restrict inp, const float *restrict mean,
                           const float *restrict rstd, const float *restrict gamma, int B, int C) {
  memset(dgamma, 0, (size_t)C * sizeof *dgamma);
  memset(dbeta, 0, (size_t)C * sizeof *dbeta);
  for (int b = 0; b < B; b++) {
    const float *x = inp + (size_t)b * C;
    const float *dy = dout + (size_t)b * C;
    for (int c = 0; c < C; c++) {
      dbeta[c] += dy[c];
      dgamma[c] += dy[c] * (x[c] - mean[c]) * rstd[c];
    }
  }
  /* dx = gamma * rstd / B * (B * dy - sum(dy) - xhat * sum(dy * xhat)) */
  float inv_b = 1.0f / (float)B;
  for (int b = 0; b < B; b++) {
    const float *x = inp + (size_t)b * C;
    const float *dy = dout + (size_t)b * C;
    float *dx = dinp + (size_t)b * C;
    for (int c = 0; c < C; c++) {
      float xhat = (x[c] - mean[c]) * rstd[c];
      dx[c] = gamma[c] * rstd[c] * (dy[c] - (dbeta[c] + xhat * dgamma[c]) * inv_b);
    }
  }
}

OC_VECTOR_CLONES
void oc_dropout_mask(float *mask, size_t N, float p, oc_rng *rng) {
  assert(p >= 0.0f && p < 1.0f); /* kept units scale by 1/(1-p) */
  /* Each 64-bit draw decides four units: unit i drops when its 16-bit quarter is below p * 2^16 (p is
   * thus rounded to a multiple of 2^-16, far finer than any meaningful dropout rate). The words are
   * drawn a block at a time, then compared in a branch-free loop that vectorises: drops are random,
   * so a branch would be mispredicted half the time. */
  enum { BLOCK = 256 };
  const float keep = 1.0f / (1.0f - p);
  const uint32_t threshold = (uint32_t)lrint((double)p * 65536.0);
  uint16_t bits[BLOCK];
  for (size_t start = 0; start < N; start += BLOCK) {
    size_t n = N - start < BLOCK ? N - start : BLOCK;
    for (size_t i = 0; i < n; i += 4) {
      uint64_t r = oc_rng_next(rng);
      memcpy(bits + i, &r, sizeof r); /* little- or big-endian alike: four fresh 16-bit words */
    }
    for (size_t i = 0; i < n; i++) mask[start + i] = keep * (float)(bits[i] >= threshold);
  }
}

OC_VECTOR_CLONES
void oc_dropout_forward(float *restrict x, const float *restrict mask, size_t N) {
  for (size_t i = 0; i < N; i++) x[i] *= mask[i];
}

OC_VECTOR_CLONES
void oc_dropout_backward(float *restrict dx, const float *restrict mask, size_t N) {
  for (size_t i = 0; i < N; i++) dx[i] *= mask[i];
}

float oc_mse_loss(float *dpred, const float *pred, const float *target, size_t N) {
  double sum = 0.0;
  float scale = 2.0f / (float)N;
  for (size_t i = 0; i < N; i++) {
    float e = pred[i] - target[i];
    sum += (double)e * e;
    if (dpred) dpred[i] = scale * e;
  }
  return (float)(sum / (double)N);
}

float oc_huber_loss(float *dpred, const float *pred, const float *target, size_t N, float delta) {
  assert(delta > 0.0f);
  double sum = 0.0;
  float inv_n = 1.0f / (float)N;
  for (size_t i = 0; i < N; i++) {
    float e = pred[i] - target[i];
    float a = fabsf(e);
    sum += a <= delta ? 0.5 * (double)e * e : (double)delta * ((double)a - 0.5 * delta);
    if (dpred) dpred[i] = (a <= delta ? e : copysignf(delta, e)) * inv_n;
  }
  return (float)(sum / (double)N);
}

void oc_he_uniform_init(float *weight, size_t N, int fan_in, oc_rng *rng) {
  assert(fan_in >= 1);
  float limit = sqrtf(6.0f / (float)fan_in);
  for (size_t i = 0; i < N; i++) weight[i] = (2.0f * oc_rng_uniform_float(rng) - 1.0f) * limit;
}

float oc_adam_step_size(float lr, float beta1, float beta2, long t) {
  assert(t >= 1); /* the bias corrections divide by 1 - beta1^t */
  return (float)((double)lr * sqrt(1.0 - pow(beta2, (double)t)) / (1.0 - pow(beta1, (double)t)));
}

/* A plain loop the vectoriser runs sixteen (AVX-512) or eight (AVX2) elements wide: each element's
 * operations stay those of the scalar form, in its order (sqrt and division are correctly rounded in
 * any width; nothing is contracted or reassociated), so every clone gives the same bits. */
OC_VECTOR_CLONES
void oc_adam_apply(float *restrict param, const float *restrict grad, float *restrict m, float *restrict v, size_t N,
                   float alpha, float lr, float beta1, float beta2, float eps, float weight_decay) {
  const float decay = lr * weight_decay, c1 = 1.0f - beta1, c2 = 1.0f - beta2;
  if (decay != 0.0f)
    for (size_t i = 0; i < N; i++) param[i] -= decay * param[i];
  for (size_t i = 0; i < N; i++) {
    float g = grad[i];
    m[i] += (g - m[i]) * c1;
    v[i] += (g * g - v[i]) * c2;
    param[i] -= alpha * m[i] / (sqrtf(v[i]) + eps);
  }
}

void oc_adam_update(float *restrict param, const float *restrict grad, float *restrict m, float *restrict v, size_t N,
                    float lr, float beta1, float beta2, float eps, float weight_decay, long t) {
  oc_adam_apply(param, grad, m, v, N, oc_adam_step_size(lr, beta1, beta2, t), lr, beta1, beta2, eps, weight_decay);
}

unsigned oc_fp_flush_denormals_begin(void) {
#if defined(__SSE2__)
  unsigned saved = _mm_getcsr();
  _mm_setcsr(saved | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
  return saved;
#else
  return 0;
#endif
}

void oc_fp_flush_denormals_end(unsigned saved) {
#if defined(__SSE2__)
  _mm_setcsr(saved);
#else
  (void)saved;
#endif
}
