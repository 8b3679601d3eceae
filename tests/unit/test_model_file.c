/* Model files: a saved version loads back bit-identically with its card; the safetensors layout is
 * the published one (8-byte little-endian header length, JSON header, contiguous little-endian F32
 * data); truncated, tampered, mismatched and malformed files are refused with messages that say what
 * is wrong, and random corruption never crashes the reader. */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/rng.h"
#include "model/model_file.h"

static void make_model(oc_mlp *m, oc_model_card *c) {
  oc_mlp_arch arch = oc_mlp_arch_default(3, 2);
  arch.h1 = 5;
  arch.h2 = 4;
  oc_mlp_init(m, &arch);
  oc_rng rng;
  oc_rng_seed(&rng, 9);
  oc_mlp_randomize(m, &rng);
  for (size_t i = m->n_params; i < m->n_floats; i++) m->memory[i] = 0.5f + 0.01f * (float)i; /* running stats */
  memset(c, 0, sizeof *c);
  c->version = oc_xstrdup("v1");
  c->series = oc_xstrdup("WTI");
  c->n_features = 3;
  c->features = calloc(3, sizeof(char *));
  const char *names[] = {"ret_lag1", "rsi14", "dow_sin"};
  for (int i = 0; i < 3; i++) c->features[i] = oc_xstrdup(names[i]);
  c->n_targets = 2;
  c->targets = calloc(2, sizeof(char *));
  c->targets[0] = oc_xstrdup("target_h1");
  c->targets[1] = oc_xstrdup("target_h2");
  c->normalization_json = oc_xstrdup("{\"method\":\"zscore\",\"params\":[]}");
  c->policies_json = oc_xstrdup("{\"nonpositive\":\"drop\"}");
  c->data_path = oc_xstrdup("processed/training_data.parquet");
  c->source_checksum = oc_xstrdup("ab");
  c->data_sha256 = oc_xstrdup("cd");
  c->train_end = oc_date_from_ymd(2022, 12, 30);
  c->train_rows = 100;
  c->val_rows = 10;
  c->params = oc_train_params_default();
  c->params.seed = 123456789012345ULL;
  c->params.learning_rate = 3e-4f;
  c->metrics = (oc_model_metrics){.epochs_run = 12, .best_epoch = 7, .train_loss = 0.5, .val_loss = 0.25,
                                  .val_mae_price = 1.5, .naive_mae_price = 1.6, .train_seconds = 0.1};
  c->created = oc_xstrdup("2026-11-26T16:40:00Z");
  c->oilcast_version = oc_xstrdup("0.1.0");
}

/* Saves into ROOT/v1 under a fresh scratch directory ROOT (returned in *root). */
static char *save_tmp(const oc_mlp *m, oc_model_card *c, char **root) {
  *root = oc_test_tmpdir("model_file");
  char *vdir = oc_path_join(*root, "v1");
  oc_error err;
  if (oc_model_save(vdir, m, c, &err) != 0) fail_msg("%s", err.message);
  return vdir;
}

static void test_round_trip_and_layout(void **state) {
  (void)state;
  oc_mlp m, back;
  oc_model_card c, cb;
  make_model(&m, &c);
  char *root;
  char *dir = save_tmp(&m, &c, &root);
  oc_error err;
  if (oc_model_load(dir, &back, &cb, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(back.n_floats, m.n_floats);
  assert_memory_equal(back.memory, m.memory, m.n_floats * sizeof(float));
  assert_memory_equal(&back.arch, &m.arch, sizeof m.arch);
  assert_string_equal(cb.version, "v1");
  assert_string_equal(cb.features[1], "rsi14");
  assert_string_equal(cb.targets[1], "target_h2");
  assert_true(cb.params.seed == 123456789012345ULL);
  assert_true(cb.params.learning_rate == 3e-4f);
  assert_int_equal(cb.train_end, c.train_end);
  assert_int_equal(cb.metrics.best_epoch, 7);
  assert_string_equal(cb.tensors_sha256, c.tensors_sha256);
  json_t *norm = json_loads(cb.normalization_json, 0, NULL);
  assert_string_equal(json_string_value(json_object_get(norm, "method")), "zscore");
  json_decref(norm);
  /* `train --model auto`'s comparison: absent unless given, kept as JSON when given */
  assert_null(cb.selection_json);
  c.selection_json = oc_xstrdup("{\"chosen\":\"mlp\",\"candidates\":[]}");
  char *card_text = oc_model_card_to_json(&c, &m.arch);
  oc_model_card cs;
  oc_mlp_arch as;
  if (oc_model_card_from_json(card_text, "card", &cs, &as, &err) != 0) fail_msg("%s", err.message);
  assert_non_null(strstr(cs.selection_json, "\"chosen\":\"mlp\""));
  assert_null(cs.calibration.q80); /* a card without 'calibration': a version trained before it was stored */
  oc_model_card_free(&cs);
  free(card_text);
  /* The interval calibration: absent above, read back bit-identically when given (widths are kept to
   * the card's digits by the calibration), and the same card gives the same text. */
  const double q80[] = {0.0236023027, 0.033853828}, q95[] = {0.0378667282, 0.0530161532};
  c.calibration = (oc_mlp_calibration){.origins = 251, .first_origin = oc_date_from_ymd(2023, 1, 2),
                                       .last_origin = oc_date_from_ymd(2023, 12, 29), .out_of_sample = true,
                                       .q80 = oc_xmalloc(sizeof q80), .q95 = oc_xmalloc(sizeof q95)};
  memcpy(c.calibration.q80, q80, sizeof q80);
  memcpy(c.calibration.q95, q95, sizeof q95);
  card_text = oc_model_card_to_json(&c, &m.arch);
  if (oc_model_card_from_json(card_text, "card", &cs, &as, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(cs.calibration.origins, 251);
  assert_int_equal(cs.calibration.first_origin, c.calibration.first_origin);
  assert_int_equal(cs.calibration.last_origin, c.calibration.last_origin);
  assert_true(cs.calibration.out_of_sample);
  assert_memory_equal(cs.calibration.q80, q80, sizeof q80);
  assert_memory_equal(cs.calibration.q95, q95, sizeof q95);
  char *again = oc_model_card_to_json(&cs, &as);
  assert_string_equal(again, card_text);
  free(again);
  oc_model_card_free(&cs);
  /* a width per horizon, finite and >= 0 */
  char *short_q = oc_xstrdup(card_text), *at = strstr(short_q, "0.033853828");
  assert_non_null(at);
  memcpy(at, "-0.03385382", 11);
  assert_int_equal(oc_model_card_from_json(short_q, "card", &cs, &as, &err), -1);
  assert_non_null(strstr(err.message, "calibration.q80[1] is not a finite number >= 0"));
  free(short_q);
  free(card_text);

  /* Layout: header length, JSON header, offsets, little-endian data. */
  char *path = oc_path_join(dir, OC_MODEL_TENSORS_FILE), *data;
  size_t len;
  assert_int_equal(oc_read_file(path, &data, &len, &err), 0);
  uint64_t hlen = 0;
  for (int i = 0; i < 8; i++) hlen |= (uint64_t)(uint8_t)data[i] << (8 * i);
  assert_int_equal((8 + hlen) % 8, 0);
  assert_int_equal(len, 8 + hlen + m.n_floats * 4);
  json_t *header = json_loadb(data + 8, hlen, 0, NULL);
  assert_non_null(header);
  json_t *w = json_object_get(header, "dense1.weight");
  assert_string_equal(json_string_value(json_object_get(w, "dtype")), "F32");
  assert_int_equal(json_integer_value(json_array_get(json_object_get(w, "shape"), 0)), 5);
  assert_int_equal(json_integer_value(json_array_get(json_object_get(w, "shape"), 1)), 3);
  json_t *rv = json_object_get(header, "bn2.running_var");
  size_t begin = (size_t)json_integer_value(json_array_get(json_object_get(rv, "data_offsets"), 0));
  const uint8_t *p = (const uint8_t *)data + 8 + hlen + begin;
  uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  float first;
  memcpy(&first, &bits, 4);
  assert_true(first == oc_mlp_tensor_data(&m, OC_MLP_BN2_VAR)[0]);
  json_decref(header);

  /* Random corruption of the tensors never crashes the reader; most is refused. */
  oc_rng rng;
  oc_rng_seed(&rng, 4);
  for (int trial = 0; trial < 300; trial++) {
    char *copy = malloc(len);
    memcpy(copy, data, len);
    size_t cut = trial % 3 == 0 ? (size_t)oc_rng_below(&rng, len) : len;
    for (int f = 0; f < 1 + trial % 4; f++) copy[oc_rng_below(&rng, cut ? cut : 1)] ^= (char)(1u << oc_rng_below(&rng, 8));
    oc_mlp out;
    if (oc_safetensors_decode(copy, cut, &m.arch, "fuzz", &out, &err) == 0) oc_mlp_free(&out);
    free(copy);
  }
  free(data);
  free(path);
  oc_mlp_free(&m);
  oc_mlp_free(&back);
  oc_model_card_free(&c);
  oc_model_card_free(&cb);
  oc_test_rmtree(root);
  free(root);
  free(dir);
}

static void expect_load_error(const char *dir, const char *needle) {
  oc_mlp m;
  oc_model_card c;
  oc_error err;
  assert_int_equal(oc_model_load(dir, &m, &c, &err), -1);
  if (!strstr(err.message, needle)) fail_msg("expected '%s' in: %s", needle, err.message);
  assert_null(m.memory);
}

static void rewrite(const char *dir, const char *file, const char *data, size_t len) {
  char *path = oc_path_join(dir, file);
  oc_error err;
  assert_int_equal(oc_write_file_atomic(path, data, len, &err), 0);
  free(path);
}

static void test_rejects_bad_files(void **state) {
  (void)state;
  oc_mlp m;
  oc_model_card c;
  make_model(&m, &c);
  char *root;
  char *dir = save_tmp(&m, &c, &root);
  char *tpath = oc_path_join(dir, OC_MODEL_TENSORS_FILE), *cpath = oc_path_join(dir, OC_MODEL_CARD_FILE);
  char *tensors, *card;
  size_t tlen, clen;
  oc_error err;
  assert_int_equal(oc_read_file(tpath, &tensors, &tlen, &err), 0);
  assert_int_equal(oc_read_file(cpath, &card, &clen, &err), 0);

  /* Truncated or tampered tensors: the sha256 in the card no longer matches. */
  rewrite(dir, OC_MODEL_TENSORS_FILE, tensors, tlen - 4);
  expect_load_error(dir, "sha256");
  tensors[tlen - 1] ^= 1;
  rewrite(dir, OC_MODEL_TENSORS_FILE, tensors, tlen);
  expect_load_error(dir, "were modified");
  tensors[tlen - 1] ^= 1;
  rewrite(dir, OC_MODEL_TENSORS_FILE, tensors, tlen);

  /* The decoder's own checks, below the checksum. */
  oc_mlp out;
  assert_int_equal(oc_safetensors_decode(tensors, 5, &m.arch, "t", &out, &err), -1);
  assert_non_null(strstr(err.message, "too short"));
  assert_int_equal(oc_safetensors_decode(tensors, 40, &m.arch, "t", &out, &err), -1);
  assert_non_null(strstr(err.message, "header length"));
  assert_int_equal(oc_safetensors_decode(tensors, tlen - 4, &m.arch, "t", &out, &err), -1);
  assert_non_null(strstr(err.message, "truncated"));
  oc_mlp_arch other = m.arch;
  other.h1 = 6;
  assert_int_equal(oc_safetensors_decode(tensors, tlen, &other, "t", &out, &err), -1);
  assert_non_null(strstr(err.message, "dense1.weight has shape [5,3]"));
  char *bad = malloc(tlen);
  memcpy(bad, tensors, tlen);
  char *dt = strstr(bad + 8, "\"F32\"");
  memcpy(dt, "\"F64\"", 5);
  assert_int_equal(oc_safetensors_decode(bad, tlen, &m.arch, "t", &out, &err), -1);
  assert_non_null(strstr(err.message, "dtype F64"));
  memcpy(bad, tensors, tlen);
  float nan = NAN;
  memcpy(bad + tlen - 4, &nan, 4);
  assert_int_equal(oc_safetensors_decode(bad, tlen, &m.arch, "t", &out, &err), -1);
  assert_non_null(strstr(err.message, "not finite"));
  free(bad);

  /* A card that does not describe these tensors, or is not a card. */
  char *edited = oc_xstrdup(card);
  char *hidden = strstr(edited, "\"hidden\": [");
  assert_non_null(hidden);
  hidden += strcspn(hidden, "0123456789");
  assert_int_equal(*hidden, '5');
  *hidden = '6';
  rewrite(dir, OC_MODEL_CARD_FILE, edited, strlen(edited));
  expect_load_error(dir, "has shape");
  free(edited);
  rewrite(dir, OC_MODEL_CARD_FILE, card, clen / 2);
  expect_load_error(dir, "invalid JSON");
  const char *no_metrics = "{\"format\": \"oilcast-model/1\"}";
  rewrite(dir, OC_MODEL_CARD_FILE, no_metrics, strlen(no_metrics));
  expect_load_error(dir, "model.json");
  char *missing = oc_path_join(dir, "nope");
  expect_load_error(missing, "nope/model.json");
  free(missing);

  free(tensors);
  free(card);
  free(tpath);
  free(cpath);
  oc_mlp_free(&m);
  oc_model_card_free(&c);
  oc_test_rmtree(root);
  free(root);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_and_layout),
      cmocka_unit_test(test_rejects_bad_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
