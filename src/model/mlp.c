/* mlp.c: see mlp.h. The forward and backward passes are straight compositions of layers.h. */
#include "model/mlp.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "model/layers.h"

oc_mlp_arch oc_mlp_arch_default(int n_in, int n_out) {
  return (oc_mlp_arch){.n_in = n_in, .h1 = 64, .h2 = 32, .n_out = n_out, .dropout = 0.2f,
                       .bn_momentum = 0.99f, .bn_epsilon = 1e-3f};
}

int oc_mlp_arch_check(const oc_mlp_arch *a, char *msg, size_t msglen) {
  const int max_width = 1 << 16;
  if (a->n_in < 1 || a->n_in > max_width) return snprintf(msg, msglen, "input width %d is not in 1..%d", a->n_in, max_width), -1;
  if (a->h1 < 1 || a->h1 > max_width || a->h2 < 1 || a->h2 > max_width)
    return snprintf(msg, msglen, "hidden sizes %d,%d are not in 1..%d", a->h1, a->h2, max_width), -1;
  if (a->n_out < 1 || a->n_out > 366) return snprintf(msg, msglen, "output width %d is not in 1..366", a->n_out), -1;
  if (!(a->dropout >= 0.0f && a->dropout < 1.0f)) return snprintf(msg, msglen, "dropout %g is not in [0, 1)", a->dropout), -1;
  if (!(a->bn_momentum >= 0.0f && a->bn_momentum < 1.0f))
    return snprintf(msg, msglen, "batchnorm momentum %g is not in [0, 1)", a->bn_momentum), -1;
  if (!(a->bn_epsilon > 0.0f && a->bn_epsilon < 1.0f))
    return snprintf(msg, msglen, "batchnorm epsilon %g is not in (0, 1)", a->bn_epsilon), -1;
  return 0;
}

static const float *data_const(const oc_mlp *m, int t) { return m->memory + m->tensors[t].offset; }

void oc_mlp_init(oc_mlp *m, const oc_mlp_arch *arch) {
  char why[160];
  assert(oc_mlp_arch_check(arch, why, sizeof why) == 0); /* "for a valid arch" (mlp.h) */
  (void)why;
  memset(m, 0, sizeof *m);
  m->arch = *arch;
  const int n_in = arch->n_in, h1 = arch->h1, h2 = arch->h2, H = arch->n_out;
  const struct {
    const char *name;
    int rank, d0, d1;
  } spec[OC_MLP_NTENSORS] = {
      [OC_MLP_DENSE1_W] = {"dense1.weight", 2, h1, n_in}, [OC_MLP_DENSE1_B] = {"dense1.bias", 1, h1, 0},
      [OC_MLP_BN1_GAMMA] = {"bn1.weight", 1, h1, 0},      [OC_MLP_BN1_BETA] = {"bn1.bias", 1, h1, 0},
      [OC_MLP_DENSE2_W] = {"dense2.weight", 2, h2, h1},   [OC_MLP_DENSE2_B] = {"dense2.bias", 1, h2, 0},
      [OC_MLP_BN2_GAMMA] = {"bn2.weight", 1, h2, 0},      [OC_MLP_BN2_BETA] = {"bn2.bias", 1, h2, 0},
      [OC_MLP_DENSE3_W] = {"dense3.weight", 2, H, h2},    [OC_MLP_DENSE3_B] = {"dense3.bias", 1, H, 0},
      [OC_MLP_BN1_MEAN] = {"bn1.running_mean", 1, h1, 0}, [OC_MLP_BN1_VAR] = {"bn1.running_var", 1, h1, 0},
      [OC_MLP_BN2_MEAN] = {"bn2.running_mean", 1, h2, 0}, [OC_MLP_BN2_VAR] = {"bn2.running_var", 1, h2, 0},
  };
  size_t offset = 0;
  for (int t = 0; t < OC_MLP_NTENSORS; t++) {
    oc_mlp_tensor *ten = &m->tensors[t];
    ten->name = spec[t].name;
    ten->rank = spec[t].rank;
    ten->dims[0] = spec[t].d0;
    ten->dims[1] = spec[t].rank == 2 ? spec[t].d1 : 0;
    ten->size = (size_t)spec[t].d0 * (spec[t].rank == 2 ? (size_t)spec[t].d1 : 1);
    ten->offset = offset;
    offset += ten->size;
    if (t == OC_MLP_NPARAMS - 1) m->n_params = offset;
  }
  m->n_floats = offset;
  m->memory = oc_xcalloc(offset, sizeof *m->memory);
  const int ones[] = {OC_MLP_BN1_GAMMA, OC_MLP_BN2_GAMMA, OC_MLP_BN1_VAR, OC_MLP_BN2_VAR};
  for (size_t i = 0; i < sizeof ones / sizeof ones[0]; i++) {
    float *p = oc_mlp_tensor_data(m, ones[i]);
    for (size_t j = 0; j < m->tensors[ones[i]].size; j++) p[j] = 1.0f;
  }
}

void oc_mlp_randomize(oc_mlp *m, oc_rng *rng) {
  const int weights[] = {OC_MLP_DENSE1_W, OC_MLP_DENSE2_W, OC_MLP_DENSE3_W};
  const int biases[] = {OC_MLP_DENSE1_B, OC_MLP_DENSE2_B, OC_MLP_DENSE3_B};
  for (int i = 0; i < 3; i++) {
    const oc_mlp_tensor *w = &m->tensors[weights[i]];
    oc_he_uniform_init(oc_mlp_tensor_data(m, weights[i]), w->size, w->dims[1], rng);
    memset(oc_mlp_tensor_data(m, biases[i]), 0, m->tensors[biases[i]].size * sizeof(float));
  }
}

void oc_mlp_free(oc_mlp *m) {
  free(m->memory);
  memset(m, 0, sizeof *m);
}

void oc_mlp_workspace_init(oc_mlp_workspace *ws, const oc_mlp *m, int capacity) {
  const size_t B = (size_t)capacity, H = (size_t)m->arch.n_out;
  const size_t width[2] = {(size_t)m->arch.h1, (size_t)m->arch.h2};
  memset(ws, 0, sizeof *ws);
  ws->capacity = capacity;
  for (int k = 0; k < 2; k++) {
    ws->a[k] = oc_xcalloc(B * width[k], sizeof(float));
    ws->d[k] = oc_xcalloc(B * width[k], sizeof(float));
    ws->mask[k] = oc_xcalloc(B * width[k], sizeof(float));
    ws->mean[k] = oc_xcalloc(width[k], sizeof(float));
    ws->rstd[k] = oc_xcalloc(width[k], sizeof(float));
    ws->dh[k] = oc_xcalloc(B * width[k], sizeof(float));
  }
  ws->out = oc_xcalloc(B * H, sizeof(float));
  ws->dout = oc_xcalloc(B * H, sizeof(float));
  ws->grads = oc_xcalloc(m->n_params, sizeof(float));
}

void oc_mlp_workspace_free(oc_mlp_workspace *ws) {
  for (int k = 0; k < 2; k++) {
    float *bufs[] = {ws->a[k], ws->d[k], ws->mask[k], ws->mean[k], ws->rstd[k], ws->dh[k]};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
  }
  free(ws->out);
  free(ws->dout);
  free(ws->grads);
  memset(ws, 0, sizeof *ws);
}

/* Tensor indices of hidden block k: its dense layer, its BatchNorm parameters and running statistics. */
typedef struct block_tensors {
  int w, b, gamma, beta, mean, var;
} block_tensors;

static block_tensors block(int k) {
  const int step = OC_MLP_DENSE2_W - OC_MLP_DENSE1_W;
  return (block_tensors){OC_MLP_DENSE1_W + k * step, OC_MLP_DENSE1_B + k * step, OC_MLP_BN1_GAMMA + k * step,
                         OC_MLP_BN1_BETA + k * step, OC_MLP_BN1_MEAN + 2 * k, OC_MLP_BN1_VAR + 2 * k};
}

static int block_width(const oc_mlp_arch *a, int k) { return k == 0 ? a->h1 : a->h2; }
static int block_input_width(const oc_mlp_arch *a, int k) { return k == 0 ? a->n_in : a->h1; }

void oc_mlp_draw_masks(const oc_mlp *m, oc_mlp_workspace *ws, int B, oc_rng *rng) {
  assert(B >= 1 && B <= ws->capacity);
  if (m->arch.dropout <= 0.0f) return;
  for (int k = 0; k < 2; k++) oc_dropout_mask(ws->mask[k], (size_t)B * block_width(&m->arch, k), m->arch.dropout, rng);
}

void oc_mlp_forward_train(oc_mlp *m, oc_mlp_workspace *ws, const float *x, int B) {
  assert(B >= 1 && B <= ws->capacity);
  const oc_mlp_arch *a = &m->arch;
  const float *in = x;
  for (int k = 0; k < 2; k++) {
    block_tensors t = block(k);
    int C = block_input_width(a, k), OC = block_width(a, k);
    oc_dense_forward(ws->a[k], in, oc_mlp_tensor_data(m, t.w), oc_mlp_tensor_data(m, t.b), B, C, OC);
    oc_relu_forward(ws->a[k], (size_t)B * OC);
    oc_batchnorm_forward_train(ws->d[k], ws->mean[k], ws->rstd[k], ws->a[k], oc_mlp_tensor_data(m, t.gamma),
                               oc_mlp_tensor_data(m, t.beta), oc_mlp_tensor_data(m, t.mean),
                               oc_mlp_tensor_data(m, t.var), B, OC, a->bn_momentum, a->bn_epsilon);
    if (a->dropout > 0.0f) oc_dropout_forward(ws->d[k], ws->mask[k], (size_t)B * OC);
    in = ws->d[k];
  }
  oc_dense_forward(ws->out, in, oc_mlp_tensor_data(m, OC_MLP_DENSE3_W), oc_mlp_tensor_data(m, OC_MLP_DENSE3_B), B,
                   a->h2, a->n_out);
}

void oc_mlp_backward(oc_mlp *m, oc_mlp_workspace *ws, const float *x, int B) {
  assert(B >= 1 && B <= ws->capacity);
  const oc_mlp_arch *a = &m->arch;
  float *G = ws->grads;
  /* dh[k] receives the gradient at block k's output and carries it back through dropout (in place);
   * BatchNorm backward writes into d[k] (free once the next dense layer's backward has used it),
   * ReLU backward works in place there, and the dense layer hands dh[k-1] to the block below. */
  oc_dense_backward(ws->dh[1], G + m->tensors[OC_MLP_DENSE3_W].offset, G + m->tensors[OC_MLP_DENSE3_B].offset,
                    ws->dout, ws->d[1], oc_mlp_tensor_data(m, OC_MLP_DENSE3_W), B, a->h2, a->n_out);
  for (int k = 1; k >= 0; k--) {
    block_tensors t = block(k);
    int C = block_input_width(a, k), OC = block_width(a, k);
    size_t n = (size_t)B * OC;
    if (a->dropout > 0.0f) oc_dropout_backward(ws->dh[k], ws->mask[k], n);
    oc_batchnorm_backward(ws->d[k], G + m->tensors[t.gamma].offset, G + m->tensors[t.beta].offset, ws->dh[k], ws->a[k],
                          ws->mean[k], ws->rstd[k], oc_mlp_tensor_data(m, t.gamma), B, OC);
    oc_relu_backward(ws->d[k], ws->a[k], n);
    oc_dense_backward(k > 0 ? ws->dh[k - 1] : NULL, G + m->tensors[t.w].offset, G + m->tensors[t.b].offset, ws->d[k],
                      k > 0 ? ws->d[k - 1] : x, oc_mlp_tensor_data(m, t.w), B, C, OC);
  }
}

void oc_mlp_predict(const oc_mlp *m, oc_mlp_workspace *ws, const float *x, size_t n, float *out) {
  const oc_mlp_arch *a = &m->arch;
  unsigned fp_saved = oc_fp_flush_denormals_begin();
  for (size_t start = 0; start < n; start += (size_t)ws->capacity) {
    int B = (int)(n - start < (size_t)ws->capacity ? n - start : (size_t)ws->capacity);
    const float *in = x + start * (size_t)a->n_in;
    for (int k = 0; k < 2; k++) {
      block_tensors t = block(k);
      int C = block_input_width(a, k), OC = block_width(a, k);
      oc_dense_forward(ws->a[k], in, data_const(m, t.w), data_const(m, t.b), B, C, OC);
      oc_relu_forward(ws->a[k], (size_t)B * OC);
      oc_batchnorm_forward_infer(ws->d[k], ws->a[k], data_const(m, t.gamma), data_const(m, t.beta),
                                 data_const(m, t.mean), data_const(m, t.var), B, OC, a->bn_epsilon);
      in = ws->d[k];
    }
    oc_dense_forward(out + start * (size_t)a->n_out, in, data_const(m, OC_MLP_DENSE3_W),
                     data_const(m, OC_MLP_DENSE3_B), B, a->h2, a->n_out);
  }
  oc_fp_flush_denormals_end(fp_saved);
}

void oc_mlp_bag_merge(const oc_mlp *nets, size_t k, oc_mlp *out) {
  assert(k >= 1);
  oc_mlp_arch arch = nets[0].arch;
  const size_t n_in = (size_t)arch.n_in, h1 = (size_t)arch.h1, h2 = (size_t)arch.h2, H = (size_t)arch.n_out;
  arch.h1 *= (int)k;
  arch.h2 *= (int)k;
  oc_mlp_init(out, &arch);
  /* per-unit tensors of the first and second hidden layers: net j's block at j * width */
  const int unit1[] = {OC_MLP_DENSE1_B, OC_MLP_BN1_GAMMA, OC_MLP_BN1_BETA, OC_MLP_BN1_MEAN, OC_MLP_BN1_VAR};
  const int unit2[] = {OC_MLP_DENSE2_B, OC_MLP_BN2_GAMMA, OC_MLP_BN2_BETA, OC_MLP_BN2_MEAN, OC_MLP_BN2_VAR};
  float *w1 = oc_mlp_tensor_data(out, OC_MLP_DENSE1_W), *w2 = oc_mlp_tensor_data(out, OC_MLP_DENSE2_W);
  float *w3 = oc_mlp_tensor_data(out, OC_MLP_DENSE3_W), *b3 = oc_mlp_tensor_data(out, OC_MLP_DENSE3_B);
  memset(w2, 0, out->tensors[OC_MLP_DENSE2_W].size * sizeof *w2);
  memset(b3, 0, H * sizeof *b3);
  for (size_t j = 0; j < k; j++) {
    const oc_mlp *n = &nets[j];
    assert(n->arch.n_in == nets[0].arch.n_in && n->arch.h1 == nets[0].arch.h1 && n->arch.h2 == nets[0].arch.h2 &&
           n->arch.n_out == nets[0].arch.n_out); /* one architecture */
    const float *src = n->memory;
    memcpy(w1 + j * h1 * n_in, src + n->tensors[OC_MLP_DENSE1_W].offset, h1 * n_in * sizeof *w1);
    for (size_t t = 0; t < sizeof unit1 / sizeof unit1[0]; t++)
      memcpy(oc_mlp_tensor_data(out, unit1[t]) + j * h1, src + n->tensors[unit1[t]].offset, h1 * sizeof(float));
    for (size_t t = 0; t < sizeof unit2 / sizeof unit2[0]; t++)
      memcpy(oc_mlp_tensor_data(out, unit2[t]) + j * h2, src + n->tensors[unit2[t]].offset, h2 * sizeof(float));
    const float *d2 = src + n->tensors[OC_MLP_DENSE2_W].offset, *d3 = src + n->tensors[OC_MLP_DENSE3_W].offset;
    for (size_t r = 0; r < h2; r++) memcpy(w2 + (j * h2 + r) * k * h1 + j * h1, d2 + r * h1, h1 * sizeof *w2);
    for (size_t o = 0; o < H; o++) {
      for (size_t c = 0; c < h2; c++) w3[o * k * h2 + j * h2 + c] = d3[o * h2 + c] / (float)k;
      b3[o] += src[n->tensors[OC_MLP_DENSE3_B].offset + o] / (float)k;
    }
  }
}
