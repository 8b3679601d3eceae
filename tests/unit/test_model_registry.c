/* Model registry and training table: the ETL frame contract becomes train/validation matrices (rows
 * with gaps skipped, split at oilcast.train_end with no training target past it, contract violations named); versions are published as
 * v1, v2, ... with store rows, an endpoint deploy flips statuses and records the endpoint's configuration
 * in the store (the one record: no file), endpoint configurations and their rows are written as one op
 * or not at all, loading checks the
 * registered card checksum; errors name the version or endpoint. Price-unit MAE on a hand example. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/rng.h"
#include "model/registry.h"
#include "model/training_table.h"
#include "store/datadir.h"

/* A frame per the ETL contract: 12 rows, features f1,f2, targets h1,h2; row 3 has a gap. */
static void make_frame(oc_frame *f) {
  oc_frame_init(f, 12);
  for (size_t r = 0; r < 12; r++) f->dates[r] = oc_date_from_ymd(2024, 1, 1) + (oc_date)r;
  double *close = oc_frame_add_column(f, "close");
  double *f1 = oc_frame_add_column(f, "f1"), *f2 = oc_frame_add_column(f, "f2");
  double *t1 = oc_frame_add_column(f, "target_h1"), *t2 = oc_frame_add_column(f, "target_h2");
  for (size_t r = 0; r < 12; r++) {
    close[r] = 70 + (double)r;
    f1[r] = (double)r / 10;
    f2[r] = r == 3 ? NAN : -(double)r;
    t1[r] = r >= 11 ? NAN : 0.01 * (double)r;
    t2[r] = r >= 10 ? NAN : 0.02;
  }
  oc_frame_set_meta(f, "oilcast.features", "[\"f1\",\"f2\"]");
  oc_frame_set_meta(f, "oilcast.targets", "[\"target_h1\",\"target_h2\"]");
  oc_frame_set_meta(f, "oilcast.train_end", "2024-01-07");
  oc_frame_set_meta(f, "oilcast.series", "WTI");
  oc_frame_set_meta(f, "oilcast.normalization", "{\"method\":\"zscore\",\"params\":[]}");
  oc_frame_set_meta(f, "oilcast.policies", "{}");
  oc_frame_set_meta(f, "oilcast.source_checksum", "00");
}

static void test_training_table(void **state) {
  (void)state;
  oc_frame f;
  make_frame(&f);
  oc_training_table t;
  oc_error err;
  if (oc_training_table_from_frame(&f, &t, &err) != 0) fail_msg("%s", err.message);
  /* Rows 0..6 are dated <= 2024-01-07; row 3 has a gap; rows 10 and 11 lack targets; rows 5 and 6
   * have targets (2 rows ahead) dated after it: neither training nor validation. */
  assert_int_equal(t.n_train, 4);
  assert_int_equal(t.purged, 2);
  assert_int_equal(t.n_val, 3);
  assert_int_equal(t.skipped, 3);
  assert_int_equal(t.n_in, 2);
  assert_int_equal(t.n_out, 2);
  assert_true(t.x_train[3 * 2] == 0.4f); /* row 4 is the 4th training row */
  assert_true(t.y_val[0] == 0.07f && t.close_val[2] == 79.0);
  assert_string_equal(t.series, "WTI");
  oc_training_table_free(&t);

  oc_frame_set_meta(&f, "oilcast.features", "[\"f1\",\"f9\"]");
  assert_int_equal(oc_training_table_from_frame(&f, &t, &err), -1);
  assert_non_null(strstr(err.message, "'f9'"));
  oc_frame_set_meta(&f, "oilcast.features", "[\"f1\"]");
  oc_frame_set_meta(&f, "oilcast.train_end", "2023-12-31");
  assert_int_equal(oc_training_table_from_frame(&f, &t, &err), -1);
  assert_non_null(strstr(err.message, "no complete row"));
  oc_frame_set_meta(&f, "oilcast.train_end", "soon");
  assert_int_equal(oc_training_table_from_frame(&f, &t, &err), -1);
  assert_non_null(strstr(err.message, "train_end"));
  oc_frame_free(&f);

  /* close 100: prediction log(1.1) vs target log(1.2): |110 - 120| = 10; naive |100 - 120| = 20. */
  float pred = logf(1.1f), target = logf(1.2f);
  double close = 100, mae, naive;
  oc_price_mae(&pred, &target, &close, 1, 1, &mae, &naive);
  assert_true(fabs(mae - 10) < 1e-4 && fabs(naive - 20) < 1e-4);
}

/* The network trained on a history must not see the prices of its validation window: changing them
 * leaves its weights bit for bit (one epoch: the validation loss, which may legitimately see those
 * prices, then has no epoch to choose). Without the purge the last 7 training rows' targets read them. */
static void test_training_ignores_validation_prices(void **state) {
  (void)state;
  oc_series history = oc_test_random_walk_series("WTI", 400, 0.0, 11);
  oc_frame frame[2];
  oc_training_table table[2];
  oc_mlp net[2];
  oc_model_card card[2];
  oc_test_train_small_mlp(&history, 7, 1, &frame[0], &table[0], &net[0], &card[0]);
  size_t changed = 0;
  for (size_t i = 0; i < history.n; i++)
    if (history.dates[i] > card[0].train_end) {
      history.values[i] *= 1.5;
      changed++;
    }
  assert_true(changed > 7);
  oc_test_train_small_mlp(&history, 7, 1, &frame[1], &table[1], &net[1], &card[1]);
  assert_int_equal(card[1].train_end, card[0].train_end);
  assert_int_equal(table[1].n_train, table[0].n_train);
  assert_int_equal(net[1].n_floats, net[0].n_floats);
  assert_memory_equal(net[1].memory, net[0].memory, net[0].n_floats * sizeof(float));
  for (int k = 0; k < 2; k++) {
    oc_model_card_free(&card[k]);
    oc_mlp_free(&net[k]);
    oc_training_table_free(&table[k]);
    oc_frame_free(&frame[k]);
  }
  oc_series_free(&history);
}

static void make_card(oc_model_card *c, const oc_mlp *m) {
  memset(c, 0, sizeof *c);
  c->series = oc_xstrdup("WTI");
  c->n_features = (size_t)m->arch.n_in;
  c->features = oc_xcalloc(c->n_features, sizeof(char *));
  for (size_t i = 0; i < c->n_features; i++) c->features[i] = oc_xstrdup("f");
  c->n_targets = (size_t)m->arch.n_out;
  c->targets = oc_xcalloc(c->n_targets, sizeof(char *));
  for (size_t i = 0; i < c->n_targets; i++) c->targets[i] = oc_xstrdup("t");
  c->normalization_json = oc_xstrdup("{}");
  c->policies_json = oc_xstrdup("{}");
  c->data_path = oc_xstrdup("x.parquet");
  c->source_checksum = oc_xstrdup("00");
  c->data_sha256 = oc_xstrdup("11");
  c->train_end = 0;
  c->params = oc_train_params_default();
  c->created = oc_xstrdup("2026-01-01T00:00:00Z");
  c->oilcast_version = oc_xstrdup("test");
  c->metrics.val_mae_price = 1.25;
  c->metrics.naive_mae_price = 1.6;
  c->metrics.val_loss = 0.02; /* the training loss (MSE of scaled log returns): not comparable across kinds */
}

static void test_publish_deploy_load(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("registry");
  oc_error err;
  bool created;
  oc_store *store;
  assert_int_equal(oc_datadir_init(dir, &created, &err), 0);
  assert_int_equal(oc_datadir_open(dir, &store, &err), 0);
  oc_mlp_arch arch = oc_mlp_arch_default(4, 2);
  arch.h1 = 6;
  arch.h2 = 3;
  oc_mlp m;
  oc_mlp_init(&m, &arch);
  oc_rng rng;
  oc_rng_seed(&rng, 1);
  oc_mlp_randomize(&m, &rng);
  int64_t v1, v2, served;
  oc_model_card c;
  make_card(&c, &m);
  if (oc_registry_publish(dir, store, &m, &c, &v1, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(v1, 1);
  assert_string_equal(c.version, "v1");
  /* A stray folder named v2 (not registered) is skipped, not overwritten. */
  char *stray = oc_path_join(dir, "models/artifacts/v2");
  assert_int_equal(oc_mkdir_p(stray, &err), 0);
  char *stray_file = oc_test_write_file(stray, "keep", "x");
  assert_int_equal(oc_registry_publish(dir, store, &m, &c, &v2, &err), 0);
  assert_int_equal(v2, 3);
  assert_true(oc_path_exists(stray_file));

  assert_int_equal(oc_registry_endpoint_version(store, "ep", &served, &err), -1);
  assert_non_null(strstr(err.message, "no endpoint named 'ep'"));
  assert_int_equal(oc_registry_deploy(dir, store, "ep", v1, &err), 0);
  assert_int_equal(oc_registry_endpoint_version(store, "ep", &served, &err), 0);
  assert_int_equal(served, 1);
  assert_int_equal(oc_registry_deploy(dir, store, "ep", v2, &err), 0);
  assert_int_equal(oc_registry_endpoint_version(store, "ep", &served, &err), 0);
  assert_int_equal(served, 3);
  oc_model_version *rows;
  size_t n;
  assert_int_equal(oc_store_model_version_list(store, &rows, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(rows[0].status, "registered");
  assert_string_equal(rows[1].status, "deployed");
  assert_string_equal(rows[1].path, "models/artifacts/v3");
  assert_true(rows[1].val_mae == 1.25);
  /* the registry's validation figure is relMAE against no-change on the same rows, as for every kind */
  assert_true(rows[1].val_loss == 1.25 / 1.6);
  assert_true(rows[1].naive_mae == 1.6);
  oc_model_version_list_free(rows, n);
  /* The store holds the endpoint's configuration (no file beside it: nothing that could disagree). */
  json_t *config;
  bool found;
  assert_int_equal(oc_registry_endpoint_config(store, "ep", &config, &found, &err), 0);
  assert_true(found);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(config, "variants"), 0), "version")), 3);
  json_decref(config);
  char *ep_file = oc_path_join(dir, "models/endpoints/ep.json"), *text;
  size_t len;
  assert_false(oc_path_exists(ep_file));
  /* Deploying an unknown version or a bad name changes nothing. */
  assert_int_equal(oc_registry_deploy(dir, store, "ep", 42, &err), -1);
  assert_non_null(strstr(err.message, "v42 is not registered"));
  assert_int_equal(oc_registry_deploy(dir, store, "bad name", 1, &err), -1);
  assert_int_equal(oc_registry_endpoint_version(store, "ep", &served, &err), 0);
  assert_int_equal(served, 3);

  oc_mlp back;
  oc_model_card cb;
  if (oc_registry_load(dir, store, 3, &back, &cb, &err) != 0) fail_msg("%s", err.message);
  assert_memory_equal(back.memory, m.memory, m.n_floats * sizeof(float));
  assert_string_equal(cb.version, "v3");
  oc_mlp_free(&back);
  oc_model_card_free(&cb);
  assert_int_equal(oc_registry_load(dir, store, 2, &back, &cb, &err), -1);
  assert_non_null(strstr(err.message, "v2 is not registered"));
  /* An edited card is caught by the registered checksum. */
  char *card_path = oc_path_join(dir, "models/artifacts/v1/model.json");
  assert_int_equal(oc_read_file(card_path, &text, &len, &err), 0);
  text[len - 2] = ' ';
  assert_int_equal(oc_write_file_atomic(card_path, text, len, &err), 0);
  free(text);
  assert_int_equal(oc_registry_load(dir, store, 1, &back, &cb, &err), -1);
  assert_non_null(strstr(err.message, "model card was modified"));

  int64_t parsed;
  assert_int_equal(oc_model_version_parse("v12", &parsed), 0);
  assert_int_equal(parsed, 12);
  assert_int_equal(oc_model_version_parse("7", &parsed), 0);
  assert_int_equal(oc_model_version_parse("v0", &parsed), -1);
  assert_int_equal(oc_model_version_parse("v-1", &parsed), -1);
  assert_int_equal(oc_model_version_parse("vx", &parsed), -1);

  free(card_path);
  free(ep_file);
  free(stray_file);
  free(stray);
  oc_model_card_free(&c);
  oc_mlp_free(&m);
  oc_store_close(store);
  oc_test_rmtree(dir);
  free(dir);
}

/* The endpoint configuration in the store is the record: saved whole with its registry rows in one op
 * (none for forecaster specs), a failing save changes nothing (no change in the feed either), and an
 * endpoint last written by endpoint_set alone reads back from its rows. */
static void test_endpoint_config_is_the_record(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("registry-config");
  oc_error err;
  bool created, found;
  oc_store *store;
  assert_int_equal(oc_datadir_init(dir, &created, &err), 0);
  assert_int_equal(oc_datadir_open(dir, &store, &err), 0);
  oc_model_version row = {.version = 1, .kind = "naive", .series = "WTI", .path = "models/artifacts/v1",
                          .card_sha256 = "0000000000000000000000000000000000000000000000000000000000000000"};
  assert_int_equal(oc_store_model_version_register(store, &row, &err), 0);
  json_t *ab = json_loads("{\"series\":\"WTI\",\"variants\":[{\"name\":\"a\",\"model_version\":\"v1\",\"weight\":1}],"
                          "\"previous\":[]}", 0, NULL);
  if (oc_registry_endpoint_save(store, "ep", ab, &err) != 0) fail_msg("%s", err.message);
  json_t *back;
  assert_int_equal(oc_registry_endpoint_config(store, "ep", &back, &found, &err), 0);
  assert_true(found);
  assert_true(json_equal(back, ab));
  json_decref(back);
  int64_t served;
  assert_int_equal(oc_registry_endpoint_version(store, "ep", &served, &err), 0);
  assert_int_equal(served, 1);

  /* A forecaster spec: recorded, without registry rows. */
  json_t *spec = json_loads("{\"variants\":[{\"name\":\"n\",\"model_version\":\"naive\",\"weight\":1}]}", 0, NULL);
  assert_int_equal(oc_registry_endpoint_save(store, "ep", spec, &err), 0);
  assert_int_equal(oc_registry_endpoint_version(store, "ep", &served, &err), -1);
  int64_t latest, after;
  assert_int_equal(oc_store_changes_latest(store, &latest, &err), 0);
  /* An unregistered version: nothing changes, not even the feed. */
  json_t *bad = json_loads("{\"variants\":[{\"name\":\"x\",\"model_version\":\"v7\",\"weight\":1}]}", 0, NULL);
  assert_int_equal(oc_registry_endpoint_save(store, "ep", bad, &err), -1);
  assert_non_null(strstr(err.message, "v7 is not registered"));
  assert_int_equal(oc_store_changes_latest(store, &after, &err), 0);
  assert_int_equal(after, latest);
  assert_int_equal(oc_registry_endpoint_config(store, "ep", &back, &found, &err), 0);
  assert_true(json_equal(back, spec));
  json_decref(back);

  /* Rows written alone replace the document: they are the record then. */
  oc_endpoint_variant v = {1, 2.0};
  assert_int_equal(oc_store_endpoint_set(store, "ep", &v, 1, 10, &err), 0);
  assert_int_equal(oc_registry_endpoint_config(store, "ep", &back, &found, &err), 0);
  json_t *only = json_array_get(json_object_get(back, "variants"), 0);
  assert_int_equal(json_integer_value(json_object_get(only, "version")), 1);
  assert_true(json_real_value(json_object_get(only, "weight")) == 2.0);
  json_decref(back);
  assert_int_equal(oc_registry_endpoint_config(store, "none", &back, &found, &err), 0);
  assert_false(found);
  assert_null(back);
  char **names;
  size_t n;
  assert_int_equal(oc_store_endpoint_names(store, &names, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(names[0], "ep");
  free(names[0]);
  free(names);

  json_decref(ab);
  json_decref(spec);
  json_decref(bad);
  oc_store_close(store);
  oc_test_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_training_table),
      cmocka_unit_test(test_training_ignores_validation_prices),
      cmocka_unit_test(test_publish_deploy_load),
      cmocka_unit_test(test_endpoint_config_is_the_record),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
