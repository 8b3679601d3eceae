/* test_model_registry_auto: `oilcast train --model auto`'s registration path on a synthetic AR(1) in
 * log returns: ar wins the validation comparison, the winner is registered as a forecaster version
 * whose card keeps the comparison, the loaded version (through the registry and through the server's
 * model loader) forecasts exactly as the in-memory model, and a tampered forecaster.json is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "model/auto_select.h"
#include "model/forecaster.h"
#include "model/registry.h"
#include "pipeline/served_model.h"
#include "store/datadir.h"
#include "testutil.h"

static int load_same(void *ctx, const char *series, oc_series *out, oc_error *err) {
  const oc_series *s = ctx;
  if (strcmp(series, s->name) != 0) return oc_error_set(err, "no series %s", series);
  oc_series_init(out, s->name, s->n);
  memcpy(out->dates, s->dates, s->n * sizeof *s->dates);
  memcpy(out->values, s->values, s->n * sizeof *s->values);
  return 0;
}

static void assert_same_forecast(const oc_price_forecast *a, const oc_price_forecast *b) {
  assert_int_equal(a->horizon, b->horizon);
  for (size_t h = 0; h < a->horizon; h++) {
    assert_true(a->mean[h] == b->mean[h]);
    assert_true(a->lo80[h] == b->lo80[h] && a->hi80[h] == b->hi80[h]);
  }
}

static void test_auto_registers_statistical_winner(void **state) {
  (void)state;
  char *dir = oc_test_tmpdir("registry_auto");
  oc_error err = {0};
  bool created;
  oc_store *store;
  assert_int_equal(oc_datadir_init(dir, &created, &err), 0);
  assert_int_equal(oc_datadir_open(dir, &store, &err), 0);
  oc_series s = oc_test_ar1_series(500, 0.5, 0.02, 13);
  const char *candidates[] = {"naive", "mean", "ets", "ar"};
  oc_auto_config c;
  oc_auto_config_default(&c);
  c.origins = 100;
  c.horizon = 3;
  c.refit_every = 50;
  c.threads = 2;
  oc_auto_choice choice;
  if (oc_auto_select(&s, candidates, 4, &c, &choice, &err) != 0) fail_msg("%s", err.message);
  assert_string_equal(candidates[choice.best], "ar");
  json_t *selection = oc_auto_choice_to_json(&choice);
  oc_forecaster *f = oc_forecaster_create(candidates[choice.best], &err);
  assert_non_null(f);
  if (oc_forecaster_fit(f, &s, NULL, &err) != 0) fail_msg("%s", err.message);
  int64_t version;
  if (oc_registry_publish_forecaster(dir, store, f, &s, selection, &version, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(version, 1);

  oc_model_version row;
  bool found;
  assert_int_equal(oc_store_model_version_get(store, 1, &row, &found, &err), 0);
  assert_true(found);
  assert_string_equal(row.kind, "ar");
  assert_true(row.val_loss < 1); /* the validation relMAE */
  oc_model_version_free(&row);
  char *saved_state = oc_path_join(dir, "models/artifacts/v1/" OC_FORECASTER_FILE);
  assert_true(oc_path_exists(saved_state)); /* a forecaster version: its saved state, no network files */
  free(saved_state);

  /* loaded: same card comparison, same forecast */
  oc_forecaster *loaded;
  json_t *card;
  if (oc_registry_load_forecaster(dir, store, 1, &loaded, &card, &err) != 0) fail_msg("%s", err.message);
  assert_string_equal(json_string_value(json_object_get(card, "kind")), "ar");
  json_t *sel = json_object_get(card, "selection");
  assert_string_equal(json_string_value(json_object_get(sel, "chosen")), "ar");
  assert_int_equal(json_array_size(json_object_get(sel, "candidates")), 4);
  assert_true(json_is_number(json_object_get(json_array_get(json_object_get(sel, "candidates"), 2), "mae")));
  assert_int_equal(json_integer_value(json_object_get(json_object_get(card, "training"), "observations")), 500);
  oc_price_forecast a, b, served;
  assert_int_equal(oc_forecaster_predict(f, 7, &a, &err), 0);
  assert_int_equal(oc_forecaster_predict(loaded, 7, &b, &err), 0);
  assert_same_forecast(&a, &b);
  json_decref(card);
  oc_forecaster_free(loaded);

  /* the server's loader resolves "v1" to the same model, following the stored history it was fitted on */
  oc_served_model *m = oc_served_model_load(dir, "v1", "SIM", load_same, &s, &err);
  if (!m) fail_msg("%s", err.message);
  assert_string_equal(oc_served_model_kind(m), "ar");
  if (oc_served_model_forecast(m, &s, NULL, true, 7, &served, &err) != 0) fail_msg("%s", err.message);
  assert_same_forecast(&a, &served);
  assert_int_equal(served.origin, s.dates[s.n - 1]);
  oc_served_model_release(m);

  /* tampered state: refused with the file named */
  char *vdir = oc_path_join(dir, "models/artifacts/v1");
  char *state_path = oc_path_join(vdir, OC_FORECASTER_FILE);
  char *text;
  size_t len;
  assert_int_equal(oc_read_file(state_path, &text, &len, &err), 0);
  char *digit = strpbrk(text + len / 2, "0123456789");
  assert_non_null(digit);
  *digit = *digit == '9' ? '8' : (char)(*digit + 1);
  assert_int_equal(oc_write_file_atomic(state_path, text, len, &err), 0);
  assert_int_equal(oc_registry_load_forecaster(dir, store, 1, &loaded, &card, &err), -1);
  assert_non_null(strstr(err.message, "forecaster.json"));
  assert_non_null(strstr(err.message, "modified"));
  assert_null(oc_served_model_load(dir, "v1", "SIM", load_same, &s, &err));

  free(text);
  free(state_path);
  free(vdir);
  oc_forecaster_free(f);
  json_decref(selection);
  oc_auto_choice_free(&choice);
  oc_series_free(&s);
  oc_store_close(store);
  oc_test_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_auto_registers_statistical_winner)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
