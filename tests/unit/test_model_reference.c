/* The reference network against PyTorch: tests/fixtures/mlp_reference.json (written by
 * tests/fixtures/make_mlp_reference.py, see its header for how Keras conventions map onto PyTorch)
 * holds a small network, a batch and dropout masks, and the forward output, loss, every gradient, the
 * updated BatchNorm running statistics and the weights after one Adam step. Everything must match to
 * 1e-5 relative. PyTorch computes in float64 from float32-exact inputs, oilcast in float32, whose
 * rounding leaves errors near 1e-7 of a tensor's scale: an element produced by cancellation (0.007
 * among values near 2) cannot be relatively exact, so each element's scale is floored at a tenth of
 * the largest magnitude in its tensor. No Python needed here. */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/mlp.h"
#include "model/train.h"
#include "model/layers.h"

#define REL_TOL 1e-5

static json_t *fixture;

static int load_fixture(void **state) {
  (void)state;
  json_error_t jerr;
  fixture = json_load_file(OILCAST_SOURCE_DIR "/tests/fixtures/mlp_reference.json", 0, &jerr);
  if (!fixture) fprintf(stderr, "fixture: %s line %d: %s\n", jerr.source, jerr.line, jerr.text);
  return fixture ? 0 : -1;
}

static int free_fixture(void **state) {
  (void)state;
  json_decref(fixture);
  return 0;
}

static void read_floats(json_t *arr, float *out, size_t n, const char *what) {
  if (!json_is_array(arr) || json_array_size(arr) != n) fail_msg("%s: expected %zu numbers", what, n);
  for (size_t i = 0; i < n; i++) out[i] = (float)json_number_value(json_array_get(arr, i));
}

static void expect_close(const char *what, const float *got, json_t *want, size_t n) {
  assert_true(json_is_array(want));
  assert_int_equal(json_array_size(want), n);
  double maxabs = 0;
  for (size_t i = 0; i < n; i++) maxabs = fmax(maxabs, fabs(json_number_value(json_array_get(want, i))));
  for (size_t i = 0; i < n; i++) {
    double w = json_number_value(json_array_get(want, i));
    double scale = fmax(fabs(w), 1e-1 * maxabs);
    if (fabs((double)got[i] - w) > REL_TOL * scale)
      fail_msg("%s[%zu]: got %.9g, PyTorch %.9g (relative error %.3g)", what, i, got[i], w, fabs(got[i] - w) / scale);
  }
}

static int geti(json_t *c, const char *k) { return (int)json_integer_value(json_object_get(c, k)); }
static float getf(json_t *c, const char *k) { return (float)json_number_value(json_object_get(c, k)); }

static void run_case(json_t *c) {
  const char *name = json_string_value(json_object_get(c, "name"));
  int B = geti(c, "B");
  oc_mlp_arch arch = {.n_in = geti(c, "n_in"), .h1 = geti(c, "h1"), .h2 = geti(c, "h2"), .n_out = geti(c, "H"),
                      .dropout = getf(c, "dropout"), .bn_momentum = getf(c, "bn_momentum"),
                      .bn_epsilon = getf(c, "bn_epsilon")};
  oc_mlp m;
  oc_mlp_init(&m, &arch);
  json_t *params = json_object_get(c, "params");
  for (int t = 0; t < OC_MLP_NTENSORS; t++)
    read_floats(json_object_get(params, m.tensors[t].name), oc_mlp_tensor_data(&m, t), m.tensors[t].size, m.tensors[t].name);
  oc_mlp_workspace ws;
  oc_mlp_workspace_init(&ws, &m, B);
  float *x = malloc((size_t)B * arch.n_in * sizeof(float));
  float *y = malloc((size_t)B * arch.n_out * sizeof(float));
  read_floats(json_object_get(c, "x"), x, (size_t)B * arch.n_in, "x");
  read_floats(json_object_get(c, "y"), y, (size_t)B * arch.n_out, "y");
  read_floats(json_object_get(c, "mask1"), ws.mask[0], (size_t)B * arch.h1, "mask1");
  read_floats(json_object_get(c, "mask2"), ws.mask[1], (size_t)B * arch.h2, "mask2");
  oc_loss_kind loss_kind;
  assert_int_equal(oc_loss_parse(json_string_value(json_object_get(c, "loss")), &loss_kind), 0);

  json_t *expected = json_object_get(c, "expected");
  oc_mlp_forward_train(&m, &ws, x, B);
  char what[128];
  snprintf(what, sizeof what, "%s: forward output", name);
  expect_close(what, ws.out, json_object_get(expected, "out"), (size_t)B * arch.n_out);
  float loss = oc_loss_eval(loss_kind, getf(c, "huber_delta"), ws.dout, ws.out, y, (size_t)B * arch.n_out);
  double want_loss = json_number_value(json_object_get(expected, "loss"));
  if (fabs(loss - want_loss) > REL_TOL * fabs(want_loss)) fail_msg("%s: loss %.9g, PyTorch %.9g", name, loss, want_loss);
  oc_mlp_backward(&m, &ws, x, B);
  json_t *grads = json_object_get(expected, "grads"), *running = json_object_get(expected, "running");
  for (int t = 0; t < OC_MLP_NPARAMS; t++) {
    snprintf(what, sizeof what, "%s: gradient of %s", name, m.tensors[t].name);
    expect_close(what, ws.grads + m.tensors[t].offset, json_object_get(grads, m.tensors[t].name), m.tensors[t].size);
  }
  for (int t = OC_MLP_NPARAMS; t < OC_MLP_NTENSORS; t++) {
    snprintf(what, sizeof what, "%s: %s after the batch", name, m.tensors[t].name);
    expect_close(what, oc_mlp_tensor_data(&m, t), json_object_get(running, m.tensors[t].name), m.tensors[t].size);
  }

  /* One Adam step, weight decay on the dense weights only (as oc_mlp_fit applies it). */
  float *adam_m = calloc(m.n_params, sizeof(float)), *adam_v = calloc(m.n_params, sizeof(float));
  json_t *after = json_object_get(expected, "after_adam");
  for (int t = 0; t < OC_MLP_NPARAMS; t++) {
    const oc_mlp_tensor *ten = &m.tensors[t];
    int decays = t == OC_MLP_DENSE1_W || t == OC_MLP_DENSE2_W || t == OC_MLP_DENSE3_W;
    oc_adam_update(oc_mlp_tensor_data(&m, t), ws.grads + ten->offset, adam_m + ten->offset, adam_v + ten->offset,
                   ten->size, getf(c, "learning_rate"), getf(c, "adam_beta1"), getf(c, "adam_beta2"),
                   getf(c, "adam_epsilon"), decays ? getf(c, "weight_decay") : 0.0f, 1);
    snprintf(what, sizeof what, "%s: %s after one Adam step", name, ten->name);
    expect_close(what, oc_mlp_tensor_data(&m, t), json_object_get(after, ten->name), ten->size);
  }
  free(adam_m);
  free(adam_v);
  free(x);
  free(y);
  oc_mlp_workspace_free(&ws);
  oc_mlp_free(&m);
}

static void test_matches_pytorch(void **state) {
  (void)state;
  json_t *cases = json_object_get(fixture, "cases");
  assert_true(json_array_size(cases) >= 2);
  for (size_t i = 0; i < json_array_size(cases); i++) run_case(json_array_get(cases, i));
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_matches_pytorch)};
  return cmocka_run_group_tests(tests, load_fixture, free_fixture);
}
