/* layers.h: the numerical building blocks of the reference network, as forward/backward pairs over
 * flat row-major float buffers (the llm.c way). Shapes are given in brackets: B = rows in the batch,
 * C = input channels, OC = output channels. Weights use PyTorch's Linear layout [OC, C].
 * Backward functions overwrite (never accumulate into) their outputs; `restrict` marks buffers that
 * must not overlap, and ReLU and dropout work in place. No allocation, no I/O, no
 * global state, and no threading of their own: a caller runs one network on one thread, so results
 * depend only on the inputs. */
#ifndef OC_MODEL_LAYERS_H
#define OC_MODEL_LAYERS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/rng.h"

/* Row-major C[M,N] = (beta ? C : 0) + op(A)[M,K] . op(B)[K,N], op = transpose where asked (A then is
 * stored [K,M], B [N,K]), every element summed in one fixed order (see layers.c), the same on every
 * CPU. M, N, K > 0. */
void oc_sgemm(bool trans_a, bool trans_b, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
              bool beta, float *C, int ldc);

/* out[B,OC] = inp[B,C] . weight[OC,C]^T + bias[OC] */
void oc_dense_forward(float *restrict out, const float *restrict inp, const float *restrict weight,
                      const float *restrict bias, int B, int C, int OC);
/* dinp[B,C] = dout[B,OC] . weight[OC,C]   (skipped when dinp is NULL: the first layer needs none)
 * dweight[OC,C] = dout^T . inp[B,C];  dbias[OC] = column sums of dout */
void oc_dense_backward(float *restrict dinp, float *restrict dweight, float *restrict dbias,
                       const float *restrict dout, const float *restrict inp, const float *restrict weight, int B,
                       int C, int OC);

/* In place: x[N] = max(x, 0). Backward gates the incoming gradient in place by the forward output:
 * dx = out > 0 ? dx : 0. */
void oc_relu_forward(float *x, size_t N);
void oc_relu_backward(float *restrict dx, const float *restrict out, size_t N);

/* Batch normalisation over the batch axis, Keras semantics.
 * Training: mean[C] and biased variance of inp[B,C]; rstd[C] = 1/sqrt(var + eps) (both saved for
 * backward); out = (inp - mean) * rstd * gamma + beta; running statistics move towards the batch
 * statistics as running -= (running - batch) * (1 - momentum) (Keras momentum 0.99 = PyTorch 0.01;
 * Keras feeds the biased batch variance to the running variance where PyTorch uses the unbiased one). */
void oc_batchnorm_forward_train(float *restrict out, float *restrict mean, float *restrict rstd,
                                const float *restrict inp, const float *restrict gamma, const float *restrict beta,
                                float *restrict running_mean, float *restrict running_var, int B, int C,
                                float momentum, float eps);
/* Inference: out = (inp - running_mean) / sqrt(running_var + eps) * gamma + beta, evaluated as Keras
 * does: inp * inv + (beta - running_mean * inv) with inv = gamma / sqrt(running_var + eps). */
void oc_batchnorm_forward_infer(float *restrict out, const float *restrict inp, const float *restrict gamma,
                                const float *restrict beta, const float *restrict running_mean,
                                const float *restrict running_var, int B, int C, float eps);
/* dinp[B,C], dgamma[C], dbeta[C] from dout[B,C] and the saved inp, mean, rstd. */
void oc_batchnorm_backward(float *restrict dinp, float *restrict dgamma, float *restrict dbeta,
                           const float *restrict dout, const float *restrict inp, const float *restrict mean,
                           const float *restrict rstd, const float *restrict gamma, int B, int C);

/* Inverted dropout: mask[N] holds 0 (dropped, probability p) or 1/(1-p) (kept), so inference needs
 * no rescaling. In place: forward x *= mask; backward dx *= mask. */
void oc_dropout_mask(float *mask, size_t N, float p, oc_rng *rng);
void oc_dropout_forward(float *restrict x, const float *restrict mask, size_t N);
void oc_dropout_backward(float *restrict dx, const float *restrict mask, size_t N);

/* Losses over pred[N] and target[N], averaged over all N entries (Keras: mean over outputs, then over
 * the batch). Each returns the loss and, when dpred is not NULL, writes dloss/dpred[N]. */
float oc_mse_loss(float *dpred, const float *pred, const float *target, size_t N);
/* Huber with threshold delta (Keras default 1.0): 0.5 e^2 when |e| <= delta, else delta (|e| - delta/2). */
float oc_huber_loss(float *dpred, const float *pred, const float *target, size_t N, float delta);

/* He (Kaiming) uniform initialisation: U(-sqrt(6/fan_in), sqrt(6/fan_in)), variance 2/fan_in. */
void oc_he_uniform_init(float *weight, size_t N, int fan_in, oc_rng *rng);

/* One Adam step on param[N], Keras form: m += (g - m)(1 - beta1); v += (g^2 - v)(1 - beta2);
 * param -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps), preceded by decoupled weight
 * decay param -= lr * weight_decay * param (AdamW; 0 disables it). t counts steps from 1. */
void oc_adam_update(float *restrict param, const float *restrict grad, float *restrict m, float *restrict v, size_t N,
                    float lr, float beta1, float beta2, float eps, float weight_decay, long t);
/* The same step in two parts, for a caller updating several tensors at step t: the step size
 * alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t), computed once, then the update of each tensor with it
 * (oc_adam_update is exactly the two). */
float oc_adam_step_size(float lr, float beta1, float beta2, long t);
void oc_adam_apply(float *restrict param, const float *restrict grad, float *restrict m, float *restrict v, size_t N,
                   float alpha, float lr, float beta1, float beta2, float eps, float weight_decay);

/* Denormal floats cost ~100 cycles per operation on x86, and Adam's moments of a parameter whose
 * gradient stays zero (a dead ReLU unit) decay into them within a few hundred steps. Training and
 * inference therefore run with flush-to-zero and denormals-are-zero set (as TensorFlow does); begin
 * returns the previous floating-point control state for end to restore. Same setting every run, so
 * results stay deterministic. No effect on machines without SSE control registers. */
unsigned oc_fp_flush_denormals_begin(void);
void oc_fp_flush_denormals_end(unsigned saved);

#endif
