/* layers.c: see layers.h. Matrix products go through OpenBLAS cblas_sgemm; the caller is responsible
 * for OpenBLAS running single-threaded (oc_mlp_fit does it) so sums are always taken in one order. */
#include "model/layers.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void oc_dense_forward(float *out, const float *inp, const float *weight, const float *bias, int B, int C, int OC) {
  for (int b = 0; b < B; b++) memcpy(out + (size_t)b * OC, bias, (size_t)OC * sizeof *out);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, OC, C, 1.0f, inp, C, weight, C, 1.0f, out, OC);
}

void oc_dense_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                       const float *weight, int B, int C, int OC) {
  if (dinp) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, C, OC, 1.0f, dout, OC, weight, C, 0.0f, dinp, C);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, B, 1.0f, dout, OC, inp, C, 0.0f, dweight, C);
  memset(dbias, 0, (size_t)OC * sizeof *dbias);
  for (int b = 0; b < B; b++) {
    const float *row = dout + (size_t)b * OC;
    for (int o = 0; o < OC; o++) dbias[o] += row[o];
  }
}

void oc_relu_forward(float *out, const float *inp, size_t N) {
  for (size_t i = 0; i < N; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void oc_relu_backward(float *dinp, const float *dout, const float *out, size_t N) {
  for (size_t i = 0; i < N; i++) dinp[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

void oc_batchnorm_forward_train(float *out, float *mean, float *rstd, const float *inp, const float *gamma,
                                const float *beta, float *running_mean, float *running_var, int B, int C,
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

void oc_batchnorm_forward_infer(float *out, const float *inp, const float *gamma, const float *beta,
                                const float *running_mean, const float *running_var, int B, int C, float eps) {
  for (int b = 0; b < B; b++) {
    const float *x = inp + (size_t)b * C;
    float *y = out + (size_t)b * C;
    for (int c = 0; c < C; c++) y[c] = (x[c] - running_mean[c]) / sqrtf(running_var[c] + eps) * gamma[c] + beta[c];
  }
}

void oc_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout, const float *inp,
                           const float *mean, const float *rstd, const float *gamma, int B, int C) {
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

void oc_dropout_mask(float *mask, size_t N, float p, oc_rng *rng) {
  float keep = 1.0f / (1.0f - p);
  for (size_t i = 0; i < N; i++) mask[i] = oc_rng_uniform_float(rng) < p ? 0.0f : keep;
}

void oc_dropout_forward(float *out, const float *inp, const float *mask, size_t N) {
  for (size_t i = 0; i < N; i++) out[i] = inp[i] * mask[i];
}

void oc_dropout_backward(float *dinp, const float *dout, const float *mask, size_t N) {
  for (size_t i = 0; i < N; i++) dinp[i] = dout[i] * mask[i];
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
  float limit = sqrtf(6.0f / (float)fan_in);
  for (size_t i = 0; i < N; i++) weight[i] = (2.0f * oc_rng_uniform_float(rng) - 1.0f) * limit;
}

void oc_adam_update(float *param, const float *grad, float *m, float *v, size_t N, float lr, float beta1,
                    float beta2, float eps, float weight_decay, long t) {
  float alpha = (float)((double)lr * sqrt(1.0 - pow(beta2, (double)t)) / (1.0 - pow(beta1, (double)t)));
  float decay = lr * weight_decay;
  for (size_t i = 0; i < N; i++) {
    float g = grad[i];
    if (decay != 0.0f) param[i] -= decay * param[i];
    m[i] += (g - m[i]) * (1.0f - beta1);
    v[i] += (g * g - v[i]) * (1.0f - beta2);
    param[i] -= alpha * m[i] / (sqrtf(v[i]) + eps);
  }
}
