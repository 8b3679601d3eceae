/* layers.c: see layers.h. Matrix products go through OpenBLAS cblas_sgemm; the caller is responsible
 * for OpenBLAS running single-threaded (oc_blas_use_one_thread, which every network workspace calls)
 * so sums are always taken in one order; the dense layers assert it.
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
#include <cblas.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Not under ThreadSanitizer: see features/vectorize.h (an instrumented ifunc resolver crashes at load).
 * Not with clang: clang 14 makes no ifunc for callers in other files (undefined references at link). */
#if defined(__SANITIZE_THREAD__) || defined(__clang__)
#define OC_VECTOR_CLONES
#else
#define OC_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

void oc_dense_forward(float *restrict out, const float *restrict inp, const float *restrict weight,
                      const float *restrict bias, int B, int C, int OC) {
  assert(openblas_get_num_threads() == 1);
  for (int b = 0; b < B; b++) memcpy(out + (size_t)b * OC, bias, (size_t)OC * sizeof *out);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, OC, C, 1.0f, inp, C, weight, C, 1.0f, out, OC);
}

OC_VECTOR_CLONES
void oc_dense_backward(float *restrict dinp, float *restrict dweight, float *restrict dbias,
                       const float *restrict dout, const float *restrict inp, const float *restrict weight, int B,
                       int C, int OC) {
  assert(openblas_get_num_threads() == 1);
  if (dinp) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, C, OC, 1.0f, dout, OC, weight, C, 0.0f, dinp, C);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, B, 1.0f, dout, OC, inp, C, 0.0f, dweight, C);
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
