/* Unit tests for seed bagging (issue 18, item 2): oc_mlp_bag_merge's one wide network forecasts the
 * mean of its k networks (to float rounding), and the `mlp` kind with bag=K is deterministic for a
 * seed, differs from one network, and survives save and load. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/forecaster.h"
#include "model/mlp.h"

static void predict_rows(oc_mlp *m, const float *x, size_t rows, float *out) {
  oc_mlp_workspace ws;
  oc_mlp_workspace_init(&ws, m, rows);
  oc_mlp_predict(m, &ws, x, rows, out);
  oc_mlp_workspace_free(&ws);
}

static void test_merge_is_the_mean(void **state) {
  enum { K = 3, ROWS = 5, IN = 6, OUT = 4 };
  oc_mlp_arch arch = oc_mlp_arch_default(IN, OUT);
  arch.h1 = 8;
  arch.h2 = 5;
  oc_mlp nets[K];
  oc_rng rng;
  oc_rng_seed(&rng, 7);
  for (int j = 0; j < K; j++) {
    oc_mlp_init(&nets[j], &arch);
    oc_mlp_randomize(&nets[j], &rng);
    /* trained-looking BatchNorm statistics and biases, so every tensor's block placement matters */
    for (size_t i = 0; i < nets[j].n_floats; i++)
      if (nets[j].memory[i] == 0.0f) nets[j].memory[i] = (float)(0.1 * oc_rng_uniform(&rng));
      else if (nets[j].memory[i] == 1.0f) nets[j].memory[i] = (float)(0.5 + oc_rng_uniform(&rng));
  }
  float x[ROWS * IN], each[K][ROWS * OUT], merged_out[ROWS * OUT];
  for (int i = 0; i < ROWS * IN; i++) x[i] = (float)(2 * oc_rng_uniform(&rng) - 1);
  for (int j = 0; j < K; j++) predict_rows(&nets[j], x, ROWS, each[j]);
  oc_mlp merged;
  oc_mlp_bag_merge(nets, K, &merged);
  assert_int_equal(merged.arch.h1, K * 8);
  assert_int_equal(merged.arch.h2, K * 5);
  predict_rows(&merged, x, ROWS, merged_out);
  for (int i = 0; i < ROWS * OUT; i++) {
    double mean = ((double)each[0][i] + each[1][i] + each[2][i]) / K;
    assert_true(fabs(merged_out[i] - mean) < 1e-5 * (1 + fabs(mean)));
  }
  for (int j = 0; j < K; j++) oc_mlp_free(&nets[j]);
  oc_mlp_free(&merged);
}

static oc_price_forecast fit_and_predict(const char *spec, const oc_series *s, char **saved) {
  oc_error err = {0};
  oc_forecaster *f = oc_forecaster_create(spec, &err);
  if (!f || oc_forecaster_fit(f, s, NULL, &err) != 0) fail_msg("%s", err.message);
  oc_price_forecast fc;
  if (oc_forecaster_predict(f, 3, &fc, &err) != 0) fail_msg("%s", err.message);
  if (saved) *saved = oc_forecaster_save(f);
  oc_forecaster_free(f);
  return fc;
}

#define SMALL "mlp:epochs=3:h1=8:h2=4:intervals=analytic"

static void test_bagged_kind_is_deterministic_and_saved(void **state) {
  oc_series s = oc_test_ar1_series(400, 0.2, 0.02, 3);
  char *text;
  oc_price_forecast a = fit_and_predict(SMALL ":bag=3", &s, &text), b = fit_and_predict(SMALL ":bag=3", &s, NULL);
  oc_price_forecast one = fit_and_predict(SMALL, &s, NULL);
  assert_memory_equal(a.mean, b.mean, 3 * sizeof a.mean[0]);
  assert_true(memcmp(a.mean, one.mean, 3 * sizeof a.mean[0]) != 0);
  oc_error err = {0};
  oc_forecaster *loaded = oc_forecaster_load(text, &err);
  free(text);
  if (!loaded) fail_msg("%s", err.message);
  oc_price_forecast l;
  if (oc_forecaster_predict(loaded, 3, &l, &err) != 0) fail_msg("%s", err.message);
  assert_memory_equal(a.mean, l.mean, 3 * sizeof a.mean[0]);
  oc_forecaster_free(loaded);
  assert_null(oc_forecaster_create("mlp:bag=0", &err));
  oc_series_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_merge_is_the_mean),
      cmocka_unit_test(test_bagged_kind_is_deterministic_and_saved),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
