/* Unit tests for seed bagging in `oilcast train`'s network path (issue 18, item 2): the library call
 * (model/trainer.h, oc_train_bag_on_table) merges K networks whose forecasts are the mean of the K
 * single networks trained with seeds seed..seed+K-1, and the train step (pipeline/train.h, bag) on an
 * ETL table in a data directory registers a bit-identical network for the same seed, and refuses a bag
 * of 0. The model card records K and the member seeds (model.json, oc_model_card, `models show`), a
 * card without them (an older oilcast's) still reads, a bag that cannot be the card's network is
 * refused; the progress of a bag is one sequence over its K networks' epochs that never goes back and
 * ends at 100% (oc_train_progress). */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "ingest/simulate.h"
#include "model/registry.h"
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

/* The train step's options for a bag of 2 (seeds 7, 8) of small networks on an ETL table of a
 * simulated series "SIM" stored in the fixture's data directory. */
static oc_train_options small_bag_in_datadir(oc_test_datadir_fixture *fx) {
  oc_series sim;
  oc_series_init(&sim, "SIM", 700);
  oc_simulate_series(5, 0, oc_date_from_ymd(2020, 1, 6), 700, sim.dates, sim.values);
  oc_test_store_series(fx->store, &sim);
  oc_series_free(&sim);
  oc_test_etl_table(fx->dir, fx->store, "SIM", 3);
  oc_train_options topt = oc_train_options_default();
  topt.model = "mlp";
  topt.series = "SIM";
  topt.arch.h1 = 16;
  topt.arch.h2 = 8;
  topt.params.epochs = EPOCHS;
  topt.params.seed = 7;
  topt.bag = 2;
  return topt;
}

static void test_train_step_bags_deterministically(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_error err;
  oc_train_options topt = small_bag_in_datadir(fx);
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

static void test_card_records_the_bag(void **state) {
  oc_test_datadir_fixture *fx = *state;
  oc_error err;
  oc_train_options topt = small_bag_in_datadir(fx);
  oc_train_result r;
  if (oc_pipeline_train(fx->dir, fx->store, &topt, &r, &err) != 0) fail_msg("%s", err.message);
  int64_t version = r.version;
  oc_train_result_free(&r);

  oc_mlp net;
  oc_model_card card;
  if (oc_registry_load(fx->dir, fx->store, version, &net, &card, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(card.bag_networks, 2);
  assert_int_equal(card.bag_seeds[0], 7);
  assert_int_equal(card.bag_seeds[1], 8);
  assert_int_equal(card.params.seed, 7);
  assert_int_equal(net.arch.h1, 32);

  oc_buf shown = {0};
  if (oc_registry_describe(fx->dir, fx->store, version, false, &shown, &err) != 0) fail_msg("%s", err.message);
  if (!strstr(shown.data, "bag            2 networks, seeds 7, 8; averaged as one of 32x16 hidden units (16x8 each)"))
    fail_msg("models show printed:\n%s", shown.data);
  oc_buf_clear(&shown);
  if (oc_registry_describe(fx->dir, fx->store, version, true, &shown, &err) != 0) fail_msg("%s", err.message);
  json_t *stored = json_loads(shown.data, 0, NULL);
  assert_non_null(stored);
  json_t *bag = json_object_get(stored, "bag");
  assert_int_equal(json_integer_value(json_object_get(bag, "networks")), 2);
  assert_int_equal(json_integer_value(json_array_get(json_object_get(bag, "seeds"), 1)), 8);

  /* An older oilcast's card has no bag: it reads, the bag not recorded. */
  oc_mlp_arch arch;
  oc_model_card back;
  json_object_del(stored, "bag");
  char *text = json_dumps(stored, 0);
  if (oc_model_card_from_json(text, "old.json", &back, &arch, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(back.bag_networks, 0);
  assert_null(back.bag_seeds);
  oc_model_card_free(&back);
  free(text);

  /* A bag the merged widths cannot hold (3 does not divide 32), or seeds that do not match it: refused. */
  const char *bad[] = {"{\"networks\": 3, \"seeds\": [7, 8, 9]}", "{\"networks\": 2, \"seeds\": [7]}",
                       "{\"networks\": 2, \"seeds\": [7, -1]}", "{\"networks\": 0, \"seeds\": []}"};
  const char *why[] = {"bag.networks 3", "bag.seeds must hold one seed per network (2)", "bag.seeds[1]",
                       "bag.networks 0"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    json_object_set_new(stored, "bag", json_loads(bad[i], 0, NULL));
    text = json_dumps(stored, 0);
    assert_int_equal(oc_model_card_from_json(text, "bad.json", &back, &arch, &err), -1);
    if (!strstr(err.message, why[i])) fail_msg("%s: %s", bad[i], err.message);
    free(text);
  }
  json_decref(stored);
  oc_buf_free(&shown);
  oc_model_card_free(&card);
  oc_mlp_free(&net);
}

/* Every progress call of a bag, kept. */
typedef struct progress_log {
  oc_train_progress calls[256];
  size_t n;
} progress_log;

static void keep(void *ctx, const oc_train_progress *at) {
  progress_log *log = ctx;
  assert_true(log->n < sizeof log->calls / sizeof *log->calls);
  log->calls[log->n++] = *at;
}

static void test_bag_progress_is_one_sequence_to_the_end(void **state) {
  (void)state;
  oc_series s = oc_test_ar1_series(600, 0.3, 0.02, 3);
  oc_frame frame;
  oc_training_table t;
  oc_mlp single;
  oc_model_card single_card;
  oc_test_train_small_mlp(&s, 3, EPOCHS, &frame, &t, &single, &single_card);
  oc_train_params params = single_card.params;
  params.epochs = 30;
  params.early_stopping_patience = 1; /* networks that stop early, short of their share */
  progress_log *log = oc_xcalloc(1, sizeof *log);
  oc_mlp bag;
  oc_model_card card;
  oc_fit_result fit;
  oc_error err;
  if (oc_train_bag_on_table(&t, &single.arch, &params, 2, "table.parquet", keep, log, &bag, &card, &fit, &err) != 0)
    fail_msg("%s", err.message);
  assert_true(log->n >= 4); /* at least an epoch and an end per network */
  size_t ends = 0;
  bool stopped_early = false;
  for (size_t i = 0; i < log->n; i++) {
    const oc_train_progress *at = &log->calls[i];
    assert_int_equal(at->networks, 2);
    assert_int_equal(at->epochs, 30);
    assert_int_equal(at->total, 60);
    assert_true(at->done <= at->total);
    if (i > 0) {
      assert_true(at->done >= log->calls[i - 1].done);
      assert_true(at->network >= log->calls[i - 1].network);
    }
    if (at->network_done) {
      ends++;
      assert_int_equal(at->done, at->network * 30); /* the network's whole share */
      stopped_early = stopped_early || at->epoch < at->epochs;
    } else {
      assert_int_equal(at->done, (at->network - 1) * 30 + (uint64_t)at->epoch);
    }
  }
  assert_int_equal(ends, 2);
  assert_true(stopped_early);
  assert_true(log->calls[log->n - 1].network_done);
  assert_int_equal(log->calls[log->n - 1].network, 2);
  assert_int_equal(log->calls[log->n - 1].done, log->calls[log->n - 1].total); /* 100% */
  free(log);
  oc_fit_result_free(&fit);
  oc_model_card_free(&card);
  oc_model_card_free(&single_card);
  oc_mlp_free(&bag);
  oc_mlp_free(&single);
  oc_training_table_free(&t);
  oc_frame_free(&frame);
  oc_series_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bag_of_two_is_the_mean_of_its_networks),
      cmocka_unit_test_setup_teardown(test_train_step_bags_deterministically, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_card_records_the_bag, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test(test_bag_progress_is_one_sequence_to_the_end),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
