/* Unit tests for seed bagging in `oilcast train`'s network path (issue 18, item 2): the library call
 * (model/trainer.h, oc_train_bag_on_table) merges K networks whose forecasts are the mean of the K
 * single networks trained with seeds seed..seed+K-1, and the train step (pipeline/train.h, bag) on an
 * ETL table in a data directory registers a bit-identical network for the same seed, and refuses a bag
 * of 0. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "ingest/simulate.h"
#include "model/trainer.h"
#include "pipeline/train.h"

enum { EPOCHS = 3 };

/* net's forecasts for the table's validation rows (malloc'd, n_val x n_out). */
static float *predict_val(const oc_training_table *t, const oc_mlp *net) {
  float *pred = oc_xmalloc(t->n_val * t->n_out * sizeof *pred);
  oc_mlp_workspace ws;
  oc_mlp_workspace_init(&ws, net, 256);
  oc_mlp_predict(net, &ws, t->x_val, t->n_val, pred);
  oc_mlp_workspace_free(&ws);
  return pred;
}

static void test_bag_of_two_is_the_mean_of_its_networks(void **state) {
  (void)state;
  oc_series s = oc_test_ar1_series(700, 0.3, 0.02, 3);
  oc_frame frame;
  oc_training_table t;
  oc_mlp first; /* seed 42 (the default), 16/8 hidden units */
  oc_model_card first_card;
  oc_test_train_small_mlp(&s, 3, EPOCHS, &frame, &t, &first, &first_card);
  oc_mlp_arch arch = first.arch;
  oc_train_params params = first_card.params;
  oc_error err;
  oc_mlp second, bag;
  oc_model_card second_card, bag_card;
  oc_fit_result fit;
  params.seed = 43;
  if (oc_train_on_table(&t, &arch, &params, "table.parquet", NULL, NULL, &second, &second_card, &fit, &err) != 0)
    fail_msg("%s", err.message);
  oc_fit_result_free(&fit);
  params.seed = 42;
  if (oc_train_bag_on_table(&t, &arch, &params, 2, "table.parquet", NULL, NULL, &bag, &bag_card, &fit, &err) != 0)
    fail_msg("%s", err.message);
  assert_int_equal(bag.arch.h1, 2 * arch.h1);
  assert_int_equal(bag.arch.h2, 2 * arch.h2);
  assert_int_equal(bag_card.params.seed, 42);
  float *a = predict_val(&t, &first), *b = predict_val(&t, &second), *m = predict_val(&t, &bag);
  for (size_t i = 0; i < t.n_val * t.n_out; i++) {
    float mean = 0.5f * (a[i] + b[i]);
    if (fabsf(m[i] - mean) > 1e-6f + 1e-4f * fabsf(mean)) fail_msg("row %zu: bag %g, mean of the two %g", i, m[i], mean);
  }
  /* the card's validation figures are the merged network's */
  assert_true(bag_card.metrics.naive_mae_price == first_card.metrics.naive_mae_price);
  assert_true(bag_card.metrics.val_mae_price != first_card.metrics.val_mae_price);
  assert_true(oc_test_close(bag_card.metrics.val_loss, 0.5 * (first_card.metrics.val_loss + second_card.metrics.val_loss), 1e-12));
  free(a);
  free(b);
  free(m);
  oc_fit_result_free(&fit);
  oc_model_card_free(&first_card);
  oc_model_card_free(&second_card);
  oc_model_card_free(&bag_card);
  oc_mlp_free(&first);
  oc_mlp_free(&second);
  oc_mlp_free(&bag);
  oc_training_table_free(&t);
  oc_frame_free(&frame);
  oc_series_free(&s);
}

/* The registered network's tensors as bytes (malloc'd). */
static char *tensors_of(const char *dir, int64_t version, size_t *len) {
  char rel[64];
  snprintf(rel, sizeof rel, "models/artifacts/v%lld/model.safetensors", (long long)version);
  char *path = oc_path_join(dir, rel), *data;
  oc_error err;
  if (oc_read_file(path, &data, len, &err) != 0) fail_msg("%s", err.message);
  free(path);
  return data;
}

static void test_train_step_bags_deterministically(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_series sim;
  oc_series_init(&sim, "SIM", 700);
  oc_simulate_series(5, 0, oc_date_from_ymd(2020, 1, 6), 700, sim.dates, sim.values);
  oc_test_store_series(fx->store, &sim);
  oc_series_free(&sim);
  oc_test_etl_table(fx->dir, fx->store, "SIM", 3);
  oc_error err;
  oc_train_options topt = oc_train_options_default();
  topt.model = "mlp";
  topt.series = "SIM";
  topt.arch.h1 = 16;
  topt.arch.h2 = 8;
  topt.params.epochs = EPOCHS;
  topt.params.seed = 7;
  topt.bag = 2;
  int64_t versions[2];
  for (size_t i = 0; i < 2; i++) {
    oc_train_result r;
    if (oc_pipeline_train(fx->dir, fx->store, &topt, &r, &err) != 0) fail_msg("%s", err.message);
    assert_non_null(strstr(r.summary.data, "bagged            2 networks (seeds 7..8)"));
    versions[i] = r.version;
    oc_train_result_free(&r);
  }
  size_t len1, len2;
  char *t1 = tensors_of(fx->dir, versions[0], &len1), *t2 = tensors_of(fx->dir, versions[1], &len2);
  assert_int_equal(len1, len2);
  assert_memory_equal(t1, t2, len1);
  free(t1);
  free(t2);
  topt.bag = 0;
  oc_train_result r;
  assert_int_equal(oc_pipeline_train(fx->dir, fx->store, &topt, &r, &err), OC_PIPELINE_BAD_OPTION);
  assert_non_null(strstr(err.message, "bag 0"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bag_of_two_is_the_mean_of_its_networks),
      cmocka_unit_test_setup_teardown(test_train_step_bags_deterministically, oc_test_datadir_setup, oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
