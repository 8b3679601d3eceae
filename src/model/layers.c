/* layers.c: see layers.h. Matrix products are oilcast's own (oc_sgemm below), with OpenBLAS
 * cblas_sgemm only beyond the sizes it covers; the caller is responsible for OpenBLAS running
 * single-threaded (oc_blas_use_one_thread, which every network workspace calls) so that fallback's sums
 * are always taken in one order; the dense layers assert it.
 *
 * Speed: the element-wise loops run thousands of times per epoch on a few thousand floats each, so
 * they must vectorise. RelWithDebInfo's -O2 uses GCC's "very cheap" vector cost model, which leaves
 * loops of unknown length scalar; this file asks for the full vectoriser (and for sqrtf without errno,
 * which is what keeps Adam's square roots in vector registers), and the hot functions are
 * cloned for AVX-512 / AVX2 and picked at load time. None of this changes results: without
 * -ffast-math GCC vectorises only across independent elements (each sum keeps its order) and ISO C
 * mode keeps multiply and add unfused, so every clone computes bit-identical floats. */
#pragma GCC optimize("O3", "no-math-errno")
#include "model/layers.h"

#include <assert.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "model/blas.h"

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
 *   - the last row of an odd M in the last 1..3 columns, left to cblas_sgemm (a 1 x 3 corner at most).
 * Then C = (beta ? C : 0) + acc. Checked against cblas_sgemm bit for bit where OpenBLAS runs that
 * kernel (test_layers_gemm). Beyond K = 128 OpenBLAS splits the sum: such products go to cblas_sgemm.
 * C is computed in slices of OC_SGEMM_SLICE columns: B's slice is copied (transposed where asked) into
 * a zero-padded stack buffer (no allocation), so every sum runs in whole vectors of 16. */
enum { OC_SGEMM_MAX_K = 128, OC_SGEMM_SLICE = 64, OC_SGEMM_STRIDE = OC_SGEMM_SLICE + 32 };

/* Sixteen floats in one vector (one AVX-512 register, two AVX2 ones): the sums of a slice stay in
 * registers over the whole k loop. Element-wise operations: each lane keeps its own order. */
typedef float oc_v16 __attribute__((vector_size(64)));
typedef float oc_v16_unaligned __attribute__((vector_size(64), aligned(4), may_alias));
#define LOAD16(p) (*(const oc_v16_unaligned *)(p))

/* acc[j] = sum over k of a[k * astride] * b[k * OC_SGEMM_STRIDE + j], j < n rounded up to 16 (b's rows
 * are zero-padded that far), in the sequential order. */
OC_VECTOR_CLONES
static void sum_sequential(float *restrict acc, const float *restrict a, size_t astride, const float *restrict b, int K,
                           int n) {
  int j = 0;
  for (; j + 16 < n; j += 32) {
    oc_v16 s0 = {0}, s1 = {0};
    for (int k = 0; k < K; k++) {
      const float ak = a[(size_t)k * astride], *bk = b + (size_t)k * OC_SGEMM_STRIDE + j;
      s0 = s0 + ak * LOAD16(bk);
      s1 = s1 + ak * LOAD16(bk + 16);
    }
    memcpy(acc + j, &s0, sizeof s0);
    memcpy(acc + j + 16, &s1, sizeof s1);
  }
  if (j < n) {
    oc_v16 s0 = {0};
    for (int k = 0; k < K; k++) s0 = s0 + a[(size_t)k * astride] * LOAD16(b + (size_t)k * OC_SGEMM_STRIDE + j);
    memcpy(acc + j, &s0, sizeof s0);
  }
}

/* sum_sequential for the four rows a + r * arow (r < 4) at once, row r into acc + r * OC_SGEMM_STRIDE:
 * each loaded slice of b serves four rows, and eight independent sums hide the adder's latency. */
OC_VECTOR_CLONES
static void sum_sequential4(float *restrict acc, const float *restrict a, size_t arow, size_t astride,
                            const float *restrict b, int K, int n) {
  int j = 0;
  for (; j + 16 < n; j += 32) {
    oc_v16 s[4][2] = {{{0}}};
    for (int k = 0; k < K; k++) {
      const float *bk = b + (size_t)k * OC_SGEMM_STRIDE + j, *ak = a + (size_t)k * astride;
      const oc_v16 b0 = LOAD16(bk), b1 = LOAD16(bk + 16);
      for (int r = 0; r < 4; r++) {
        s[r][0] = s[r][0] + ak[r * arow] * b0;
        s[r][1] = s[r][1] + ak[r * arow] * b1;
      }
    }
    for (int r = 0; r < 4; r++) memcpy(acc + (size_t)r * OC_SGEMM_STRIDE + j, s[r], sizeof s[r]);
  }
  if (j < n) {
    oc_v16 s[4] = {{0}};
    for (int k = 0; k < K; k++) {
      const float *ak = a + (size_t)k * astride;
      const oc_v16 b0 = LOAD16(b + (size_t)k * OC_SGEMM_STRIDE + j);
      for (int r = 0; r < 4; r++) s[r] = s[r] + ak[r * arow] * b0;
    }
    for (int r = 0; r < 4; r++) memcpy(acc + (size_t)r * OC_SGEMM_STRIDE + j, &s[r], sizeof s[r]);
  }
}

/* The same sums in the paired order. */
OC_VECTOR_CLONES
static void sum_paired(float *restrict acc, const float *restrict a, size_t astride, const float *restrict b, int K,
                       int n) {
  const int paired_k = K / 8 * 8;
  for (int j = 0; j < n; j += 16) {
    oc_v16 even = {0}, odd = {0};
    int k = 0;
    for (; k < paired_k; k += 2) {
      const float *bk = b + (size_t)k * OC_SGEMM_STRIDE + j;
      even = even + a[(size_t)k * astride] * LOAD16(bk);
      odd = odd + a[(size_t)(k + 1) * astride] * LOAD16(bk + OC_SGEMM_STRIDE);
    }
    for (; k < K; k++) even = even + a[(size_t)k * astride] * LOAD16(b + (size_t)k * OC_SGEMM_STRIDE + j);
    even = even + odd;
    memcpy(acc + j, &even, sizeof even);
  }
}

OC_VECTOR_CLONES
static void add_row(float *restrict c, const float *restrict acc, int n, bool beta) {
  for (int j = 0; j < n; j++) c[j] = (beta ? c[j] : 0.0f) + acc[j];
}

/* Columns [0, *seq_end) of row i use the sequential order, [*seq_end, *paired_end) the paired one,
 * the rest (the odd-M corner) cblas_sgemm. */
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

static void blas_sgemm(bool trans_a, bool trans_b, int M, int N, int K, const float *A, int lda, const float *B,
                       int ldb, bool beta, float *C, int ldc) {
  const oc_blas_lib *blas = oc_blas();
  assert(blas->get_num_threads() == 1);
  blas->sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A,
              lda, B, ldb, beta ? 1.0f : 0.0f, C, ldc);
}

void oc_sgemm(bool trans_a, bool trans_b, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
              bool beta, float *C, int ldc) {
  assert(M > 0 && N > 0 && K > 0);
  if (K > OC_SGEMM_MAX_K) {
    blas_sgemm(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  float packed[OC_SGEMM_MAX_K * OC_SGEMM_STRIDE], acc[4 * OC_SGEMM_STRIDE];
  size_t astride = trans_a ? (size_t)lda : 1, arow = trans_a ? 1 : (size_t)lda;
  for (int j0 = 0; j0 < N; j0 += OC_SGEMM_SLICE) {
    int j1 = min_int(N, j0 + OC_SGEMM_SLICE);
    /* packed[k * OC_SGEMM_STRIDE + (j - j0)] = op(B)[k, j], zero beyond j1 */
    for (int k = 0; k < K; k++) {
      float *row = packed + (size_t)k * OC_SGEMM_STRIDE;
      if (trans_b)
        for (int j = j0; j < j1; j++) row[j - j0] = B[(size_t)j * (size_t)ldb + (size_t)k];
      else
        memcpy(row, B + (size_t)k * (size_t)ldb + j0, (size_t)(j1 - j0) * sizeof *row);
      memset(row + (j1 - j0), 0, (size_t)(OC_SGEMM_STRIDE - (j1 - j0)) * sizeof *row);
    }
    /* rows in blocks of 4 share their column orders: their sequential sums run together */
    int i = 0;
    for (; i + 4 <= M; i += 4) {
      int seq_end, paired_end;
      column_orders(i, M, N, &seq_end, &paired_end);
      int s1 = max_int(j0, min_int(j1, seq_end)), p1 = max_int(s1, min_int(j1, paired_end));
      sum_sequential4(acc, A + (size_t)i * arow, arow, astride, packed, K, s1 - j0);
      for (int r = 0; r < 4; r++) {
        float *row_acc = acc + (size_t)r * OC_SGEMM_STRIDE;
        sum_paired(row_acc + (s1 - j0), A + (size_t)(i + r) * arow, astride, packed + (s1 - j0), K, p1 - s1);
        add_row(C + (size_t)(i + r) * (size_t)ldc + j0, row_acc, p1 - j0, beta);
      }
    }
    for (; i < M; i++) {
      const float *a = A + (size_t)i * arow;
      int seq_end, paired_end;
      column_orders(i, M, N, &seq_end, &paired_end);
      int s1 = max_int(j0, min_int(j1, seq_end)), p1 = max_int(s1, min_int(j1, paired_end));
      sum_sequential(acc, a, astride, packed, K, s1 - j0);
      sum_paired(acc + (s1 - j0), a, astride, packed + (s1 - j0), K, p1 - s1);
      add_row(C + (size_t)i * (size_t)ldc + j0, acc, p1 - j0, beta);
    }
  }
  int seq_end, paired_end;
  column_orders(M - 1, M, N, &seq_end, &paired_end);
  if (paired_end < N) {
    assert(M % 2 == 1 && N - paired_end <= 3);
    const float *a = trans_a ? A + (M - 1) : A + (size_t)(M - 1) * (size_t)lda;
    blas_sgemm(trans_a, trans_b, 1, N - paired_end, K, a, lda,
               trans_b ? B + (size_t)paired_end * (size_t)ldb : B + paired_end, ldb, beta,
               C + (size_t)(M - 1) * (size_t)ldc + paired_end, ldc);
  }
}

void oc_dense_forward(float *restrict out, const float *restrict inp, const float *restrict weight,
                      const float *restrict bias, int B, int C, int OC) {
  for (int b = 0; b < B; b++) memcpy(out + (size_t)b * OC, bias, (size_t)OC * sizeof *out);
  oc_sgemm(false, true, B, OC, C, inp, C, weight, C, true, out, OC);
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

void oc_adam_update(float *restrict param, const float *restrict grad, float *restrict m, float *restrict v, size_t N,
                    float lr, float beta1, float beta2, float eps, float weight_decay, long t) {
  assert(t >= 1); /* the bias corrections divide by 1 - beta1^t */
  const float alpha = (float)((double)lr * sqrt(1.0 - pow(beta2, (double)t)) / (1.0 - pow(beta1, (double)t)));
  const float decay = lr * weight_decay, c1 = 1.0f - beta1, c2 = 1.0f - beta2;
  if (decay != 0.0f)
    for (size_t i = 0; i < N; i++) param[i] -= decay * param[i];
  size_t i = 0;
#if defined(__SSE2__)
  /* GCC will not vectorise sqrtf while it may have to set errno, so the four-wide SSE form is written
   * out; it performs exactly the scalar loop's operations in the same order (sqrt and division are
   * correctly rounded either way), so the results are bit-identical. */
  const __m128 va = _mm_set1_ps(alpha), ve = _mm_set1_ps(eps), vc1 = _mm_set1_ps(c1), vc2 = _mm_set1_ps(c2);
  for (; i + 4 <= N; i += 4) {
    __m128 g = _mm_loadu_ps(grad + i), mi = _mm_loadu_ps(m + i), vi = _mm_loadu_ps(v + i);
    mi = _mm_add_ps(mi, _mm_mul_ps(_mm_sub_ps(g, mi), vc1));
    vi = _mm_add_ps(vi, _mm_mul_ps(_mm_sub_ps(_mm_mul_ps(g, g), vi), vc2));
    _mm_storeu_ps(m + i, mi);
    _mm_storeu_ps(v + i, vi);
    __m128 step = _mm_div_ps(_mm_mul_ps(va, mi), _mm_add_ps(_mm_sqrt_ps(vi), ve));
    _mm_storeu_ps(param + i, _mm_sub_ps(_mm_loadu_ps(param + i), step));
  }
#endif
  for (; i < N; i++) {
    float g = grad[i];
    m[i] += (g - m[i]) * c1;
    v[i] += (g * g - v[i]) * c2;
    param[i] -= alpha * m[i] / (sqrtf(v[i]) + eps);
  }
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
