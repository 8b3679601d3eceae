/* mlp.h: the reference network of the oilcast guide,
 *   Dense(h1, relu) -> BatchNorm -> Dropout(p) -> Dense(h2, relu) -> BatchNorm -> Dropout(p) -> Dense(H),
 * as one flat block of float tensors (trainable parameters, then BatchNorm running statistics) plus a
 * workspace holding everything one training or inference pass needs, allocated once per fit.
 * Tensor names follow PyTorch (dense1.weight [h1, n_in], bn1.running_var [h1], ...), so the saved
 * file reads naturally next to a torch state_dict. This file holds the network only: no files, no
 * data loading, no optimiser loop (see train.h). */
#ifndef OC_MODEL_MLP_H
#define OC_MODEL_MLP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/rng.h"

typedef struct oc_mlp_arch {
  int n_in;          /* features */
  int h1, h2;        /* hidden widths (default 64, 32) */
  int n_out;         /* H: one output per horizon */
  float dropout;     /* p in [0, 1) (default 0.2) */
  float bn_momentum; /* Keras default 0.99 */
  float bn_epsilon;  /* Keras default 1e-3 */
} oc_mlp_arch;

/* Defaults for everything but n_in and n_out. */
oc_mlp_arch oc_mlp_arch_default(int n_in, int n_out);

enum {
  OC_MLP_DENSE1_W, OC_MLP_DENSE1_B, OC_MLP_BN1_GAMMA, OC_MLP_BN1_BETA,
  OC_MLP_DENSE2_W, OC_MLP_DENSE2_B, OC_MLP_BN2_GAMMA, OC_MLP_BN2_BETA,
  OC_MLP_DENSE3_W, OC_MLP_DENSE3_B,
  OC_MLP_NPARAMS, /* tensors before this are trained; after it, BatchNorm running statistics */
  OC_MLP_BN1_MEAN = OC_MLP_NPARAMS, OC_MLP_BN1_VAR, OC_MLP_BN2_MEAN, OC_MLP_BN2_VAR,
  OC_MLP_NTENSORS
};

typedef struct oc_mlp_tensor {
  const char *name; /* "dense1.weight" */
  int rank;         /* 1 or 2 */
  int dims[2];
  size_t offset;    /* in floats, into oc_mlp.memory */
  size_t size;      /* floats */
} oc_mlp_tensor;

typedef struct oc_mlp {
  oc_mlp_arch arch;
  oc_mlp_tensor tensors[OC_MLP_NTENSORS];
  size_t n_params; /* floats in the trained tensors (the prefix of memory) */
  size_t n_floats; /* all tensors */
  float *memory;
} oc_mlp;

/* Checks the architecture (positive sizes, dropout in [0,1), momentum in [0,1), eps > 0); returns
 * -1 with a message in msg (msglen bytes) when invalid. */
int oc_mlp_arch_check(const oc_mlp_arch *arch, char *msg, size_t msglen);
/* Allocates the tensors for a valid arch: weights zero, gamma 1, beta 0, running mean 0, var 1. */
void oc_mlp_init(oc_mlp *m, const oc_mlp_arch *arch);
/* He-uniform weights, zero biases (as a fresh Keras/PyTorch layer with He init). */
void oc_mlp_randomize(oc_mlp *m, oc_rng *rng);
static inline float *oc_mlp_tensor_data(oc_mlp *m, int t) { return m->memory + m->tensors[t].offset; }
void oc_mlp_free(oc_mlp *m);
/* Seed bagging: the average of k networks of one architecture as one network that is k times as wide
 * (hidden units of net j at [j*h1, (j+1)*h1) and [j*h2, (j+1)*h2), dense2 block-diagonal, dense3's
 * blocks scaled by 1/k, its bias the mean): at inference (dropout off, BatchNorm by its running
 * statistics) its output is the mean of the k outputs, up to float rounding. out is initialised here. */
void oc_mlp_bag_merge(const oc_mlp *nets, size_t k, oc_mlp *out);

/* Everything one pass over up to `capacity` rows needs: activations, dropout masks, gradients.
 * Index k = 0, 1 is the hidden block Dense -> ReLU -> BatchNorm -> Dropout of width h1, h2. */
typedef struct oc_mlp_workspace {
  int capacity;
  float *a[2];               /* dense + relu output [B,hk] (BatchNorm's input, kept for backward) */
  float *d[2];               /* block output after BatchNorm and dropout [B,hk] */
  float *mask[2];            /* dropout masks [B,hk] */
  float *mean[2], *rstd[2];  /* batch statistics saved for backward [hk] */
  float *dh[2];              /* gradient scratch [B,hk] */
  float *out, *dout;         /* network output and dloss/dout [B,H] */
  float *grads;              /* [n_params], laid out like the trained prefix of memory */
} oc_mlp_workspace;

void oc_mlp_workspace_init(oc_mlp_workspace *ws, const oc_mlp *m, int capacity);
void oc_mlp_workspace_free(oc_mlp_workspace *ws);

/* Training-mode forward of x[B, n_in] (B <= capacity) into ws->out: batch statistics (and running
 * statistics updated), dropout with the masks already in ws->mask (see oc_mlp_draw_masks). */
void oc_mlp_forward_train(oc_mlp *m, oc_mlp_workspace *ws, const float *x, int B);
void oc_mlp_draw_masks(const oc_mlp *m, oc_mlp_workspace *ws, int B, oc_rng *rng);
/* Backward of the last oc_mlp_forward_train given dloss/dout in ws->dout[B, H]: fills ws->grads. */
void oc_mlp_backward(oc_mlp *m, oc_mlp_workspace *ws, const float *x, int B);
/* Inference of x[n, n_in] into out[n, H]: running statistics, no dropout, in chunks of capacity. */
void oc_mlp_predict(const oc_mlp *m, oc_mlp_workspace *ws, const float *x, size_t n, float *out);

#endif
