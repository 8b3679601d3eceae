/* Finite-difference gradient checks for every layer in src/model/layers.h and for the whole network:
 * each backward function must agree with central differences of a scalar objective
 * L = sum(r * forward(...)) for a fixed random r. Float32 forward passes limit the agreement to about
 * 1e-3 relative with steps of 1e-2, elements near zero being compared at 1e-2 of their tensor's
 * largest. Through the whole network the step is 3e-3 (larger curvature) and the finite differences
 * carry rounding noise near 1e-4 of the largest gradient, so elements are compared against at least
 * 5e-2 of it. Inputs are kept away from the kinks of ReLU and Huber. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/layers.h"
#include "model/mlp.h"

#define TOL 2e-3

typedef double (*objective_fn)(void *ctx);

static double max_abs(const float *a, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
  return m;
}

/* Compares analytic[n] with central differences of f over buf[n] with the given step. Elements
 * smaller than floor (the noise level of the finite differences) are compared against floor. */
static void check_grad(const char *what, float *buf, const float *analytic, size_t n, objective_fn f, void *ctx,
                       float step, double floor) {
  for (size_t i = 0; i < n; i++) {
    float saved = buf[i];
    buf[i] = saved + step;
    double up = f(ctx), hi = buf[i];
    buf[i] = saved - step;
    double down = f(ctx), lo = buf[i];
    buf[i] = saved;
    double numeric = (up - down) / (hi - lo);
    double scale = fmax(fmax(fabs(numeric), fabs(analytic[i])), floor);
    if (fabs(numeric - analytic[i]) > TOL * scale + 1e-6)
      fail_msg("%s[%zu]: analytic %.7g, finite difference %.7g", what, i, analytic[i], numeric);
  }
}

static void fill(float *a, size_t n, float lo, float hi, oc_rng *rng) {
  for (size_t i = 0; i < n; i++) a[i] = lo + (hi - lo) * oc_rng_uniform_float(rng);
}

static double dot(const float *a, const float *r, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)a[i] * r[i];
  return s;
}

enum { B = 6, C = 5, OC = 4 };

typedef struct layer_ctx {
  float x[B * C], w[OC * C], bias[OC], gamma[C], beta[C], mask[B * C];
  float out[B * OC > B * C ? B * OC : B * C], r[B * OC > B * C ? B * OC : B * C];
  float mean[C], rstd[C], rmean[C], rvar[C];
} layer_ctx;

static double dense_obj(void *p) {
  layer_ctx *c = p;
  oc_dense_forward(c->out, c->x, c->w, c->bias, B, C, OC);
  return dot(c->out, c->r, B * OC);
}

static void test_dense(void **state) {
  (void)state;
  oc_rng rng;
  oc_rng_seed(&rng, 1);
  layer_ctx c;
  fill(c.x, B * C, -1, 1, &rng);
  fill(c.w, OC * C, -1, 1, &rng);
  fill(c.bias, OC, -1, 1, &rng);
  fill(c.r, B * OC, -1, 1, &rng);
  float dx[B * C], dw[OC * C], db[OC];
  oc_dense_backward(dx, dw, db, c.r, c.x, c.w, B, C, OC);
  check_grad("dense dinp", c.x, dx, B * C, dense_obj, &c, 1e-2f, 1e-2 * max_abs(dx, B * C));
  check_grad("dense dweight", c.w, dw, OC * C, dense_obj, &c, 1e-2f, 1e-2 * max_abs(dw, OC * C));
  check_grad("dense dbias", c.bias, db, OC, dense_obj, &c, 1e-2f, 1e-2 * max_abs(db, OC));
}

static double relu_obj(void *p) {
  layer_ctx *c = p;
  memcpy(c->out, c->x, sizeof c->x);
  oc_relu_forward(c->out, B * C);
  return dot(c->out, c->r, B * C);
}

static void test_relu(void **state) {
  (void)state;
  oc_rng rng;
  oc_rng_seed(&rng, 2);
  layer_ctx c;
  fill(c.x, B * C, 0.1f, 1, &rng);
  for (int i = 0; i < B * C; i += 2) c.x[i] = -c.x[i]; /* half inactive, all at least 0.1 from the kink */
  fill(c.r, B * C, -1, 1, &rng);
  float dx[B * C];
  relu_obj(&c);
  memcpy(dx, c.r, sizeof dx);
  oc_relu_backward(dx, c.out, B * C);
  check_grad("relu dinp", c.x, dx, B * C, relu_obj, &c, 1e-2f, 1e-2 * max_abs(dx, B * C));
}

static double bn_obj(void *p) {
  layer_ctx *c = p;
  oc_batchnorm_forward_train(c->out, c->mean, c->rstd, c->x, c->gamma, c->beta, c->rmean, c->rvar, B, C, 0.99f, 1e-3f);
  return dot(c->out, c->r, B * C);
}

static void test_batchnorm(void **state) {
  (void)state;
  oc_rng rng;
  oc_rng_seed(&rng, 3);
  layer_ctx c;
  fill(c.x, B * C, -2, 2, &rng);
  fill(c.gamma, C, 0.5f, 1.5f, &rng);
  fill(c.beta, C, -1, 1, &rng);
  fill(c.r, B * C, -1, 1, &rng);
  fill(c.rmean, C, -1, 1, &rng);
  fill(c.rvar, C, 0.5f, 2, &rng);
  float dx[B * C], dgamma[C], dbeta[C];
  bn_obj(&c);
  oc_batchnorm_backward(dx, dgamma, dbeta, c.r, c.x, c.mean, c.rstd, c.gamma, B, C);
  check_grad("batchnorm dinp", c.x, dx, B * C, bn_obj, &c, 1e-2f, 1e-2 * max_abs(dx, B * C));
  check_grad("batchnorm dgamma", c.gamma, dgamma, C, bn_obj, &c, 1e-2f, 1e-2 * max_abs(dgamma, C));
  check_grad("batchnorm dbeta", c.beta, dbeta, C, bn_obj, &c, 1e-2f, 1e-2 * max_abs(dbeta, C));
  /* Inference with running statistics equal to the batch's mean and biased variance is the training
   * normalisation. */
  float mean[C], var[C], want[B * C], got[B * C];
  for (int ch = 0; ch < C; ch++) {
    double s = 0, ss = 0;
    for (int b = 0; b < B; b++) s += c.x[b * C + ch];
    for (int b = 0; b < B; b++) ss += (c.x[b * C + ch] - s / B) * (c.x[b * C + ch] - s / B);
    mean[ch] = (float)(s / B);
    var[ch] = (float)(ss / B);
  }
  bn_obj(&c);
  memcpy(want, c.out, sizeof want);
  oc_batchnorm_forward_infer(got, c.x, c.gamma, c.beta, mean, var, B, C, 1e-3f);
  for (int i = 0; i < B * C; i++) assert_true(oc_test_close(got[i], want[i], 1e-5));
}

static double dropout_obj(void *p) {
  layer_ctx *c = p;
  memcpy(c->out, c->x, sizeof c->x);
  oc_dropout_forward(c->out, c->mask, B * C);
  return dot(c->out, c->r, B * C);
}

static void test_dropout(void **state) {
  (void)state;
  oc_rng rng;
  oc_rng_seed(&rng, 4);
  layer_ctx c;
  fill(c.x, B * C, -1, 1, &rng);
  fill(c.r, B * C, -1, 1, &rng);
  oc_dropout_mask(c.mask, B * C, 0.5f, &rng);
  int dropped = 0;
  for (int i = 0; i < B * C; i++) {
    assert_true(c.mask[i] == 0.0f || c.mask[i] == 2.0f);
    dropped += c.mask[i] == 0.0f;
  }
  assert_true(dropped > 0 && dropped < B * C);
  float dx[B * C];
  memcpy(dx, c.r, sizeof dx);
  oc_dropout_backward(dx, c.mask, B * C);
  check_grad("dropout dinp", c.x, dx, B * C, dropout_obj, &c, 1e-2f, 1e-2 * max_abs(dx, B * C));
}

typedef struct loss_ctx {
  float pred[12], target[12];
  int huber;
} loss_ctx;

static double loss_obj(void *p) {
  loss_ctx *c = p;
  return c->huber ? oc_huber_loss(NULL, c->pred, c->target, 12, 1.0f) : oc_mse_loss(NULL, c->pred, c->target, 12);
}

static void test_losses(void **state) {
  (void)state;
  loss_ctx c = {.huber = 0};
  for (int i = 0; i < 12; i++) {
    c.target[i] = 0.25f * (float)i - 1.0f;
    c.pred[i] = c.target[i] + (i % 2 ? 1.0f : -1.0f) * (0.2f + 0.3f * (float)i); /* |error| 0.2 .. 3.5, never 1 */
  }
  float d[12];
  oc_mse_loss(d, c.pred, c.target, 12);
  check_grad("mse dpred", c.pred, d, 12, loss_obj, &c, 1e-2f, 1e-2 * max_abs(d, 12));
  c.huber = 1;
  oc_huber_loss(d, c.pred, c.target, 12, 1.0f);
  check_grad("huber dpred", c.pred, d, 12, loss_obj, &c, 1e-2f, 1e-2 * max_abs(d, 12));
  /* Known values: errors 0.5 and 3 with delta 1 give (0.125 + 2.5) / 2. */
  float p2[2] = {0.5f, 3.0f}, t2[2] = {0, 0};
  assert_true(oc_test_close(oc_huber_loss(NULL, p2, t2, 2, 1.0f), 1.3125, 1e-7));
  assert_true(oc_test_close(oc_mse_loss(NULL, p2, t2, 2), 4.625, 1e-7));
}

typedef struct net_ctx {
  oc_mlp m;
  oc_mlp_workspace ws;
  float x[8 * 5], y[8 * 3];
} net_ctx;

static double net_obj(void *p) {
  net_ctx *c = p;
  oc_mlp_forward_train(&c->m, &c->ws, c->x, 8);
  double s = 0;
  for (int i = 0; i < 8 * 3; i++) s += (double)(c->ws.out[i] - c->y[i]) * (c->ws.out[i] - c->y[i]);
  return s / 24.0;
}

/* The whole network's backward (every parameter) against finite differences of the MSE. */
static void test_network(void **state) {
  (void)state;
  net_ctx c;
  oc_mlp_arch arch = oc_mlp_arch_default(5, 3);
  arch.h1 = 7;
  arch.h2 = 6;
  arch.dropout = 0.2f;
  oc_mlp_init(&c.m, &arch);
  oc_rng rng;
  oc_rng_seed(&rng, 5);
  oc_mlp_randomize(&c.m, &rng);
  oc_mlp_workspace_init(&c.ws, &c.m, 8);
  fill(c.x, 8 * 5, -1, 1, &rng);
  fill(c.y, 8 * 3, -1, 1, &rng);
  oc_mlp_draw_masks(&c.m, &c.ws, 8, &rng);
  net_obj(&c);
  oc_mse_loss(c.ws.dout, c.ws.out, c.y, 24);
  oc_mlp_backward(&c.m, &c.ws, c.x, 8);
  float *analytic = malloc(c.m.n_params * sizeof(float));
  memcpy(analytic, c.ws.grads, c.m.n_params * sizeof(float));
  double noise_floor = 0.05 * max_abs(analytic, c.m.n_params);
  for (int t = 0; t < OC_MLP_NPARAMS; t++) {
    check_grad(c.m.tensors[t].name, oc_mlp_tensor_data(&c.m, t), analytic + c.m.tensors[t].offset, c.m.tensors[t].size,
               net_obj, &c, 3e-3f, noise_floor);
  }
  free(analytic);
  oc_mlp_workspace_free(&c.ws);
  oc_mlp_free(&c.m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dense),    cmocka_unit_test(test_relu),   cmocka_unit_test(test_batchnorm),
      cmocka_unit_test(test_dropout),  cmocka_unit_test(test_losses), cmocka_unit_test(test_network),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
