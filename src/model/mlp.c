/* mlp.c: see mlp.h. The forward and backward passes are straight compositions of layers.h. */
#include "model/mlp.h"

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

static const oc_mlp_tensor *tensor_const(const oc_mlp *m, int t) { return &m->tensors[t]; }
static const float *data_const(const oc_mlp *m, int t) { return m->memory + m->tensors[t].offset; }

void oc_mlp_init(oc_mlp *m, const oc_mlp_arch *arch) {
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
    const oc_mlp_tensor *w = tensor_const(m, weights[i]);
    oc_he_uniform_init(oc_mlp_tensor_data(m, weights[i]), w->size, w->dims[1], rng);
    memset(oc_mlp_tensor_data(m, biases[i]), 0, m->tensors[biases[i]].size * sizeof(float));
  }
}

void oc_mlp_free(oc_mlp *m) {
  free(m->memory);
  memset(m, 0, sizeof *m);
}

void oc_mlp_workspace_init(oc_mlp_workspace *ws, const oc_mlp *m, int capacity) {
  const size_t B = (size_t)capacity, h1 = (size_t)m->arch.h1, h2 = (size_t)m->arch.h2, H = (size_t)m->arch.n_out;
  memset(ws, 0, sizeof *ws);
  ws->capacity = capacity;
  ws->a1 = oc_xcalloc(B * h1, sizeof(float));
  ws->d1 = oc_xcalloc(B * h1, sizeof(float));
  ws->a2 = oc_xcalloc(B * h2, sizeof(float));
  ws->d2 = oc_xcalloc(B * h2, sizeof(float));
  ws->out = oc_xcalloc(B * H, sizeof(float));
  ws->mask1 = oc_xcalloc(B * h1, sizeof(float));
  ws->mask2 = oc_xcalloc(B * h2, sizeof(float));
  ws->mean1 = oc_xcalloc(h1, sizeof(float));
  ws->rstd1 = oc_xcalloc(h1, sizeof(float));
  ws->mean2 = oc_xcalloc(h2, sizeof(float));
  ws->rstd2 = oc_xcalloc(h2, sizeof(float));
  ws->dout = oc_xcalloc(B * H, sizeof(float));
  ws->dh1 = oc_xcalloc(B * h1, sizeof(float));
  ws->dh2 = oc_xcalloc(B * h2, sizeof(float));
  ws->grads = oc_xcalloc(m->n_params, sizeof(float));
}

void oc_mlp_workspace_free(oc_mlp_workspace *ws) {
  float *bufs[] = {ws->a1,    ws->d1,    ws->a2,    ws->d2,   ws->out, ws->mask1, ws->mask2, ws->mean1,
                   ws->rstd1, ws->mean2, ws->rstd2, ws->dout, ws->dh1, ws->dh2,   ws->grads};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
  memset(ws, 0, sizeof *ws);
}

void oc_mlp_draw_masks(const oc_mlp *m, oc_mlp_workspace *ws, int B, oc_rng *rng) {
  if (m->arch.dropout <= 0.0f) return;
  oc_dropout_mask(ws->mask1, (size_t)B * m->arch.h1, m->arch.dropout, rng);
  oc_dropout_mask(ws->mask2, (size_t)B * m->arch.h2, m->arch.dropout, rng);
}

void oc_mlp_forward_train(oc_mlp *m, oc_mlp_workspace *ws, const float *x, int B) {
  const oc_mlp_arch *a = &m->arch;
  const size_t n1 = (size_t)B * a->h1, n2 = (size_t)B * a->h2;
  float *P = m->memory;
  const oc_mlp_tensor *T = m->tensors;
  oc_dense_forward(ws->a1, x, P + T[OC_MLP_DENSE1_W].offset, P + T[OC_MLP_DENSE1_B].offset, B, a->n_in, a->h1);
  oc_relu_forward(ws->a1, ws->a1, n1);
  oc_batchnorm_forward_train(ws->d1, ws->mean1, ws->rstd1, ws->a1, P + T[OC_MLP_BN1_GAMMA].offset,
                             P + T[OC_MLP_BN1_BETA].offset, P + T[OC_MLP_BN1_MEAN].offset,
                             P + T[OC_MLP_BN1_VAR].offset, B, a->h1, a->bn_momentum, a->bn_epsilon);
  if (a->dropout > 0.0f) oc_dropout_forward(ws->d1, ws->d1, ws->mask1, n1);
  oc_dense_forward(ws->a2, ws->d1, P + T[OC_MLP_DENSE2_W].offset, P + T[OC_MLP_DENSE2_B].offset, B, a->h1, a->h2);
  oc_relu_forward(ws->a2, ws->a2, n2);
  oc_batchnorm_forward_train(ws->d2, ws->mean2, ws->rstd2, ws->a2, P + T[OC_MLP_BN2_GAMMA].offset,
                             P + T[OC_MLP_BN2_BETA].offset, P + T[OC_MLP_BN2_MEAN].offset,
                             P + T[OC_MLP_BN2_VAR].offset, B, a->h2, a->bn_momentum, a->bn_epsilon);
  if (a->dropout > 0.0f) oc_dropout_forward(ws->d2, ws->d2, ws->mask2, n2);
  oc_dense_forward(ws->out, ws->d2, P + T[OC_MLP_DENSE3_W].offset, P + T[OC_MLP_DENSE3_B].offset, B, a->h2, a->n_out);
}

void oc_mlp_backward(oc_mlp *m, oc_mlp_workspace *ws, const float *x, int B) {
  const oc_mlp_arch *a = &m->arch;
  const size_t n1 = (size_t)B * a->h1, n2 = (size_t)B * a->h2;
  const float *P = m->memory;
  float *G = ws->grads;
  const oc_mlp_tensor *T = m->tensors;
  /* dh2 / dh1 carry the gradient down through dropout, batchnorm and relu, in place where the
   * layer allows it; BN backward needs a separate output, for which the other buffer is free. */
  oc_dense_backward(ws->dh2, G + T[OC_MLP_DENSE3_W].offset, G + T[OC_MLP_DENSE3_B].offset, ws->dout, ws->d2,
                    P + T[OC_MLP_DENSE3_W].offset, B, a->h2, a->n_out);
  if (a->dropout > 0.0f) oc_dropout_backward(ws->dh2, ws->dh2, ws->mask2, n2);
  oc_batchnorm_backward(ws->d2, G + T[OC_MLP_BN2_GAMMA].offset, G + T[OC_MLP_BN2_BETA].offset, ws->dh2, ws->a2,
                        ws->mean2, ws->rstd2, P + T[OC_MLP_BN2_GAMMA].offset, B, a->h2);
  oc_relu_backward(ws->d2, ws->d2, ws->a2, n2);
  oc_dense_backward(ws->dh1, G + T[OC_MLP_DENSE2_W].offset, G + T[OC_MLP_DENSE2_B].offset, ws->d2, ws->d1,
                    P + T[OC_MLP_DENSE2_W].offset, B, a->h1, a->h2);
  if (a->dropout > 0.0f) oc_dropout_backward(ws->dh1, ws->dh1, ws->mask1, n1);
  oc_batchnorm_backward(ws->d1, G + T[OC_MLP_BN1_GAMMA].offset, G + T[OC_MLP_BN1_BETA].offset, ws->dh1, ws->a1,
                        ws->mean1, ws->rstd1, P + T[OC_MLP_BN1_GAMMA].offset, B, a->h1);
  oc_relu_backward(ws->d1, ws->d1, ws->a1, n1);
  oc_dense_backward(NULL, G + T[OC_MLP_DENSE1_W].offset, G + T[OC_MLP_DENSE1_B].offset, ws->d1, x,
                    P + T[OC_MLP_DENSE1_W].offset, B, a->n_in, a->h1);
}

void oc_mlp_predict(const oc_mlp *m, oc_mlp_workspace *ws, const float *x, size_t n, float *out) {
  const oc_mlp_arch *a = &m->arch;
  for (size_t start = 0; start < n; start += (size_t)ws->capacity) {
    int B = (int)(n - start < (size_t)ws->capacity ? n - start : (size_t)ws->capacity);
    const float *xb = x + start * (size_t)a->n_in;
    oc_dense_forward(ws->a1, xb, data_const(m, OC_MLP_DENSE1_W), data_const(m, OC_MLP_DENSE1_B), B, a->n_in, a->h1);
    oc_relu_forward(ws->a1, ws->a1, (size_t)B * a->h1);
    oc_batchnorm_forward_infer(ws->d1, ws->a1, data_const(m, OC_MLP_BN1_GAMMA), data_const(m, OC_MLP_BN1_BETA),
                               data_const(m, OC_MLP_BN1_MEAN), data_const(m, OC_MLP_BN1_VAR), B, a->h1, a->bn_epsilon);
    oc_dense_forward(ws->a2, ws->d1, data_const(m, OC_MLP_DENSE2_W), data_const(m, OC_MLP_DENSE2_B), B, a->h1, a->h2);
    oc_relu_forward(ws->a2, ws->a2, (size_t)B * a->h2);
    oc_batchnorm_forward_infer(ws->d2, ws->a2, data_const(m, OC_MLP_BN2_GAMMA), data_const(m, OC_MLP_BN2_BETA),
                               data_const(m, OC_MLP_BN2_MEAN), data_const(m, OC_MLP_BN2_VAR), B, a->h2, a->bn_epsilon);
    oc_dense_forward(out + start * (size_t)a->n_out, ws->d2, data_const(m, OC_MLP_DENSE3_W),
                     data_const(m, OC_MLP_DENSE3_B), B, a->h2, a->n_out);
  }
}
