/* Training the reference network on synthetic data: it learns a smooth function far below the target
 * variance; the same seed gives a bit-identical model alone or among parallel fits on any number of
 * threads; another seed gives another model; early stopping restores the best epoch; bad inputs are
 * refused with clear errors. Also the seeded generator the fits rely on. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/train.h"

enum { N_IN = 8, H = 2, N_TRAIN = 600, N_VAL = 200 };

typedef struct synth {
  float x[(N_TRAIN + N_VAL) * N_IN];
  float y[(N_TRAIN + N_VAL) * H];
  oc_dataset train, val;
} synth;

static synth *make_synth(uint64_t seed) {
  synth *s = malloc(sizeof *s);
  oc_rng rng;
  oc_rng_seed(&rng, seed);
  for (int r = 0; r < N_TRAIN + N_VAL; r++) {
    float *x = s->x + r * N_IN;
    for (int j = 0; j < N_IN; j++) x[j] = (float)oc_rng_normal(&rng);
    s->y[r * H] = sinf(x[0]) + 0.5f * x[1] * x[2] + 0.05f * (float)oc_rng_normal(&rng);
    s->y[r * H + 1] = 0.8f * x[3] - 0.3f * x[4] * x[4] + 0.05f * (float)oc_rng_normal(&rng);
  }
  s->train = (oc_dataset){s->x, s->y, N_TRAIN};
  s->val = (oc_dataset){s->x + N_TRAIN * N_IN, s->y + N_TRAIN * H, N_VAL};
  return s;
}

static oc_train_params quick_params(uint64_t seed) {
  oc_train_params p = oc_train_params_default();
  p.epochs = 30;
  p.seed = seed;
  return p;
}

static float target_variance(const synth *s) {
  double sum = 0, sq = 0;
  for (int i = 0; i < N_VAL * H; i++) sum += s->val.y[i];
  for (int i = 0; i < N_VAL * H; i++) sq += (s->val.y[i] - sum / (N_VAL * H)) * (s->val.y[i] - sum / (N_VAL * H));
  return (float)(sq / (N_VAL * H));
}

static void test_learns_and_is_deterministic(void **state) {
  (void)state;
  synth *s = make_synth(7);
  oc_mlp_arch arch = oc_mlp_arch_default(N_IN, H);
  oc_train_params p = quick_params(11);
  oc_mlp a, b;
  oc_fit_result ra, rb;
  oc_error err;
  assert_int_equal(oc_mlp_fit(&arch, &p, &s->train, &s->val, NULL, NULL, &a, &ra, &err), 0);
  assert_true(ra.best_val_loss < 0.25f * target_variance(s));
  assert_true(ra.val_loss[ra.epochs_run - 1] < ra.val_loss[0]);
  assert_true(ra.best_epoch >= 1 && ra.best_epoch <= ra.epochs_run);
  assert_true(ra.val_loss[ra.best_epoch - 1] == ra.best_val_loss);
  assert_int_equal(oc_mlp_fit(&arch, &p, &s->train, &s->val, NULL, NULL, &b, &rb, &err), 0);
  assert_int_equal(a.n_floats, b.n_floats);
  assert_memory_equal(a.memory, b.memory, a.n_floats * sizeof(float));

  /* The same fit among others on 1 and 3 threads: bit-identical; a different seed differs. */
  oc_fit_job jobs1[4], jobs3[4];
  for (int i = 0; i < 4; i++) {
    jobs1[i] = (oc_fit_job){.arch = arch, .params = quick_params(i == 0 ? 11 : 100 + (uint64_t)i), .train = s->train, .val = s->val};
    jobs1[i].arch.h1 = i == 0 ? 64 : 16 * (i + 1);
    jobs3[i] = jobs1[i];
  }
  assert_int_equal(oc_mlp_fit_parallel(jobs1, 4, 1), 0);
  assert_int_equal(oc_mlp_fit_parallel(jobs3, 4, 3), 0);
  assert_memory_equal(jobs1[0].model.memory, a.memory, a.n_floats * sizeof(float));
  for (int i = 0; i < 4; i++) {
    assert_int_equal(jobs1[i].model.n_floats, jobs3[i].model.n_floats);
    assert_memory_equal(jobs1[i].model.memory, jobs3[i].model.memory, jobs1[i].model.n_floats * sizeof(float));
    assert_true(jobs1[i].result.best_val_loss == jobs3[i].result.best_val_loss);
    oc_mlp_free(&jobs1[i].model);
    oc_mlp_free(&jobs3[i].model);
    oc_fit_result_free(&jobs1[i].result);
    oc_fit_result_free(&jobs3[i].result);
  }
  oc_train_params other = quick_params(12);
  oc_mlp c;
  oc_fit_result rc;
  assert_int_equal(oc_mlp_fit(&arch, &other, &s->train, &s->val, NULL, NULL, &c, &rc, &err), 0);
  assert_true(memcmp(a.memory, c.memory, a.n_floats * sizeof(float)) != 0);
  oc_mlp_free(&a);
  oc_mlp_free(&b);
  oc_mlp_free(&c);
  oc_fit_result_free(&ra);
  oc_fit_result_free(&rb);
  oc_fit_result_free(&rc);
  free(s);
}

typedef struct epoch_log {
  int calls;
  float lr[200];
} epoch_log;

static void record_epoch(void *ctx, int epoch, int epochs, float train_loss, float val_loss, float lr) {
  epoch_log *log = ctx;
  assert_int_equal(epoch, log->calls + 1);
  assert_true(epoch <= epochs && isfinite(train_loss) && isfinite(val_loss));
  log->lr[log->calls++] = lr;
}

/* Validation targets unrelated to the inputs: the best epoch comes early, the run stops `patience`
 * epochs later, the learning rate has been cut, and the kept weights are the best epoch's. */
static void test_early_stopping_restores_best(void **state) {
  (void)state;
  synth *s = make_synth(8);
  synth *noise = make_synth(9);
  oc_rng rng;
  oc_rng_seed(&rng, 3);
  for (int i = 0; i < N_VAL * H; i++) noise->y[N_TRAIN * H + i] = (float)oc_rng_normal(&rng);
  oc_dataset val = {s->val.x, noise->val.y, N_VAL};
  oc_mlp_arch arch = oc_mlp_arch_default(N_IN, H);
  oc_train_params p = quick_params(5);
  p.epochs = 200;
  p.early_stopping_patience = 6;
  p.lr_patience = 3;
  epoch_log log = {0};
  oc_mlp m;
  oc_fit_result r;
  oc_error err;
  assert_int_equal(oc_mlp_fit(&arch, &p, &s->train, &val, record_epoch, &log, &m, &r, &err), 0);
  assert_true(r.epochs_run < 200);
  assert_int_equal(log.calls, r.epochs_run);
  assert_int_equal(r.epochs_run, r.best_epoch + p.early_stopping_patience);
  assert_true(log.lr[r.epochs_run - 1] < p.learning_rate);
  assert_true(r.final_lr <= log.lr[r.epochs_run - 1]);
  /* The restored weights reproduce the best epoch's validation loss. */
  oc_mlp_workspace ws;
  oc_mlp_workspace_init(&ws, &m, 64);
  float *pred = malloc(N_VAL * H * sizeof(float));
  oc_mlp_predict(&m, &ws, val.x, N_VAL, pred);
  assert_true(oc_loss_eval(OC_LOSS_MSE, 1.0f, NULL, pred, val.y, N_VAL * H) == r.best_val_loss);
  free(pred);
  oc_mlp_workspace_free(&ws);
  oc_mlp_free(&m);
  oc_fit_result_free(&r);
  free(s);
  free(noise);
}

static void test_rejects_bad_input(void **state) {
  (void)state;
  synth *s = make_synth(10);
  oc_mlp_arch arch = oc_mlp_arch_default(N_IN, H);
  oc_train_params p = quick_params(1);
  oc_mlp m;
  oc_fit_result r;
  oc_error err;
  s->x[3 * N_IN + 2] = NAN;
  assert_int_equal(oc_mlp_fit(&arch, &p, &s->train, &s->val, NULL, NULL, &m, &r, &err), -1);
  assert_non_null(strstr(err.message, "feature 2 of row 3"));
  s->x[3 * N_IN + 2] = 0;
  p.batch_size = 0;
  assert_int_equal(oc_mlp_fit(&arch, &p, &s->train, &s->val, NULL, NULL, &m, &r, &err), -1);
  assert_non_null(strstr(err.message, "batch size"));
  p = quick_params(1);
  arch.dropout = 1.0f;
  assert_int_equal(oc_mlp_fit(&arch, &p, &s->train, &s->val, NULL, NULL, &m, &r, &err), -1);
  assert_non_null(strstr(err.message, "dropout"));
  arch.dropout = 0.2f;
  p.learning_rate = 10.0f; /* diverges */
  p.epochs = 50;
  for (int i = 0; i < (N_TRAIN + N_VAL) * H; i++) s->y[i] *= 1e30f;
  assert_int_equal(oc_mlp_fit(&arch, &p, &s->train, &s->val, NULL, NULL, &m, &r, &err), -1);
  assert_non_null(strstr(err.message, "diverged"));
  assert_null(m.memory);
  free(s);
}

static void test_rng(void **state) {
  (void)state;
  oc_rng a, b;
  oc_rng_seed(&a, 1);
  oc_rng_seed(&b, 1);
  for (int i = 0; i < 100; i++) assert_true(oc_rng_next(&a) == oc_rng_next(&b));
  uint32_t idx[50], seen[50] = {0};
  for (uint32_t i = 0; i < 50; i++) idx[i] = i;
  oc_rng_shuffle(&a, idx, 50);
  for (int i = 0; i < 50; i++) seen[idx[i]]++;
  for (int i = 0; i < 50; i++) assert_int_equal(seen[i], 1);
  double mean = 0;
  for (int i = 0; i < 10000; i++) {
    float u = oc_rng_uniform_float(&a);
    assert_true(u >= 0.0f && u < 1.0f);
    assert_true(oc_rng_below(&a, 7) < 7);
    mean += oc_rng_normal(&a) / 10000;
  }
  assert_true(fabs(mean) < 0.05);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_learns_and_is_deterministic),
      cmocka_unit_test(test_early_stopping_restores_best),
      cmocka_unit_test(test_rejects_bad_input),
      cmocka_unit_test(test_rng),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
