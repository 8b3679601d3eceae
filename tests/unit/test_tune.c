/* Unit tests for hyperparameter search (model/tune.h) on a small synthetic training table: both
 * methods run, trials come back best first, the same seed gives the same trials and scores whatever
 * the thread count, the search space stays within its bounds, and bad settings are refused. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/rng.h"
#include "model/tune.h"

/* 300 rows, 4 features, 2 targets: y = a linear map of x plus noise. */
static oc_training_table make_table(void) {
  oc_training_table t;
  memset(&t, 0, sizeof t);
  t.n_in = 4;
  t.n_out = 2;
  t.n_train = 300;
  t.x_train = oc_xmalloc(t.n_train * t.n_in * sizeof *t.x_train);
  t.y_train = oc_xmalloc(t.n_train * t.n_out * sizeof *t.y_train);
  oc_rng rng;
  oc_rng_seed(&rng, 5);
  for (size_t i = 0; i < t.n_train; i++) {
    float *x = t.x_train + i * t.n_in, *y = t.y_train + i * t.n_out;
    for (size_t k = 0; k < t.n_in; k++) x[k] = (float)oc_rng_normal(&rng);
    y[0] = 0.5f * x[0] - 0.2f * x[1] + 0.1f * (float)oc_rng_normal(&rng);
    y[1] = 0.3f * x[2] + 0.1f * (float)oc_rng_normal(&rng);
  }
  return t;
}

static void free_table(oc_training_table *t) {
  free(t->x_train);
  free(t->y_train);
}

static oc_tune_config small_config(oc_tune_method method, int threads) {
  oc_tune_config c;
  oc_tune_config_default(&c);
  c.trials = 5;
  c.method = method;
  c.threads = threads;
  c.base.epochs = 6;
  c.base.early_stopping_patience = 0;
  return c;
}

static void test_random_search(void **state) {
  oc_training_table t = make_table();
  oc_tune_config c1 = small_config(OC_TUNE_RANDOM, 1), c2 = small_config(OC_TUNE_RANDOM, 2);
  oc_tune_result a, b;
  oc_error err = {0};
  if (oc_tune_run(&t, &c1, &a, &err) != 0) fail_msg("%s", err.message);
  if (oc_tune_run(&t, &c2, &b, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(a.n, 5);
  for (size_t i = 0; i < a.n; i++) {
    /* same trials, same scores, same order whatever the thread count */
    assert_int_equal(a.trials[i].id, b.trials[i].id);
    assert_true(a.trials[i].score == b.trials[i].score);
    assert_true(isfinite(a.trials[i].score) && a.trials[i].score > 0);
    if (i > 0) assert_true(a.trials[i - 1].score <= a.trials[i].score);
    const oc_tune_trial *x = &a.trials[i];
    assert_true(x->params.learning_rate >= 1e-4f && x->params.learning_rate <= 1e-2f);
    assert_true(x->arch.dropout >= 0 && x->arch.dropout < 0.5f);
    assert_true(x->arch.h2 <= x->arch.h1);
    assert_int_equal(x->epochs, 6);
  }
  oc_mlp_arch arch = oc_mlp_arch_default(4, 2);
  oc_train_params params = oc_train_params_default();
  params.epochs = 77;
  oc_tune_apply(&a.trials[0], &arch, &params);
  assert_int_equal(arch.h1, a.trials[0].arch.h1);
  assert_true(params.learning_rate == a.trials[0].params.learning_rate);
  assert_int_equal(params.batch_size, a.trials[0].params.batch_size);
  assert_int_equal(params.epochs, 77); /* not searched: left alone */
  oc_buf out = {0};
  oc_tune_format(&a, &out);
  assert_non_null(strstr(out.data, "score"));
  oc_buf_free(&out);
  oc_tune_result_free(&a);
  oc_tune_result_free(&b);
  free_table(&t);
}

static void test_halving(void **state) {
  oc_training_table t = make_table();
  oc_tune_config c = small_config(OC_TUNE_HALVING, 2);
  c.trials = 9;
  c.base.epochs = 9;
  oc_tune_result r;
  oc_error err = {0};
  if (oc_tune_run(&t, &c, &r, &err) != 0) fail_msg("%s", err.message);
  /* 9 trials on 1 epoch, the best 3 on 3, the best 1 on 9: the winner has the full budget */
  assert_int_equal(r.trials[0].epochs, 9);
  assert_int_equal(r.trials[1].epochs, 3);
  assert_int_equal(r.trials[3].epochs, 1);
  oc_tune_result_free(&r);
  free_table(&t);
}

static void test_choose(void **state) {
  oc_training_table t = make_table();
  oc_tune_config c = small_config(OC_TUNE_RANDOM, 2);
  oc_mlp_arch arch = oc_mlp_arch_default(4, 2);
  oc_train_params params = c.base;
  oc_buf report = {0};
  oc_error err = {0};
  if (oc_tune_choose(&t, &c, &arch, &params, &report, &err) != 0) fail_msg("%s", err.message);
  assert_non_null(strstr(report.data, "5 trials (random search"));
  assert_non_null(strstr(report.data, "training trial"));
  oc_tune_result r;
  assert_int_equal(oc_tune_run(&t, &c, &r, &err), 0);
  assert_int_equal(arch.h1, r.trials[0].arch.h1); /* the winner's settings were applied */
  assert_true(params.learning_rate == r.trials[0].params.learning_rate);
  oc_tune_result_free(&r);
  oc_buf_free(&report);
  free_table(&t);
}

static void test_bad_settings(void **state) {
  oc_training_table t = make_table();
  oc_tune_config c = small_config(OC_TUNE_RANDOM, 1);
  oc_tune_result r;
  oc_error err = {0};
  c.trials = 0;
  assert_int_equal(oc_tune_run(&t, &c, &r, &err), -1);
  assert_non_null(strstr(err.message, "trials"));
  c.trials = 2;
  t.n_train = 20;
  assert_int_equal(oc_tune_run(&t, &c, &r, &err), -1);
  assert_non_null(strstr(err.message, "training rows"));
  oc_tune_method m;
  assert_int_equal(oc_tune_method_parse("halving", &m), 0);
  assert_int_equal(m, OC_TUNE_HALVING);
  assert_int_equal(oc_tune_method_parse("grid", &m), -1);
  free_table(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_search),
      cmocka_unit_test(test_halving),
      cmocka_unit_test(test_choose),
      cmocka_unit_test(test_bad_settings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
