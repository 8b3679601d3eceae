/* The network's interval calibration, stored with the version: `oilcast train` computes it on the
 * stored history (model/mlp_calibration.h) and model.json keeps it; the server then only reads it, and
 * its bounds are bit-identical to those of the calibration it used to compute at load. A version
 * registered before calibrations were stored (no 'calibration' in its card) still loads: the server
 * calibrates it at load as before and says so in one info line. Calibrating is deterministic: that
 * load-time calibration, a second one of the same network on the same data, gives the same bits. */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "model/mlp_calibration.h"
#include "model/registry.h"
#include "pipeline/served_model.h"
#include "store/datadir.h"

#define DAYS 5

typedef struct fixture {
  char *dir;
  oc_store *store;
  oc_mlp net;
  oc_model_card card;     /* as trained, then calibrated on the store */
  int64_t old_version;    /* published without a calibration, as older oilcasts did */
  int64_t stored_version; /* published with it */
  oc_served_model *old, *stored; /* both loaded as the server loads them */
  char *old_log, *stored_log;    /* what each load logged */
} fixture;

static int load_from_store(void *ctx, const char *series, oc_series *out, oc_error *err) {
  return oc_store_series_load(ctx, series, OC_DATE_INVALID, OC_DATE_INVALID, out, err);
}

/* Loads version vN for WTI-SIM with stderr (the log) captured into *log (malloc'd). */
static oc_served_model *load_logged(const fixture *fx, int64_t version, char **log) {
  char name[32], *path = oc_path_join(fx->dir, "load.log");
  snprintf(name, sizeof name, "v%lld", (long long)version);
  oc_log_level level = oc_log_get_level();
  oc_log_set_level(OC_LOG_INFO);
  fflush(stderr);
  int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(saved >= 0 && fd >= 0);
  dup2(fd, 2);
  close(fd);
  oc_error err;
  oc_served_model *m = oc_served_model_load(fx->dir, name, "WTI-SIM", load_from_store, fx->store, &err);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  oc_log_set_level(level);
  if (!m) fail_msg("%s", err.message);
  size_t len;
  if (oc_read_file(path, log, &len, &err) != 0) fail_msg("%s", err.message);
  free(path);
  return m;
}

static int setup(void **state) {
  fixture *fx = oc_xcalloc(1, sizeof *fx);
  fx->dir = oc_test_tmpdir("serve-calibration");
  oc_error err;
  bool created;
  if (oc_datadir_init(fx->dir, &created, &err) != 0 || oc_datadir_open(fx->dir, &fx->store, &err) != 0)
    fail_msg("%s", err.message);
  oc_series history = oc_test_random_walk_series("WTI-SIM", 900, 0.0002, 11);
  oc_test_store_series(fx->store, &history);
  oc_frame frame = {0};
  oc_training_table table = {0};
  oc_test_train_small_mlp(&history, DAYS, 6, &frame, &table, &fx->net, &fx->card);
  oc_training_table_free(&table);
  oc_frame_free(&frame);
  oc_series_free(&history);
  if (oc_registry_publish(fx->dir, fx->store, &fx->net, &fx->card, &fx->old_version, &err) != 0 ||
      oc_mlp_calibrate_on_store(fx->store, &fx->net, &fx->card, &err) != 0 ||
      oc_registry_publish(fx->dir, fx->store, &fx->net, &fx->card, &fx->stored_version, &err) != 0)
    fail_msg("%s", err.message);
  fx->old = load_logged(fx, fx->old_version, &fx->old_log);
  fx->stored = load_logged(fx, fx->stored_version, &fx->stored_log);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture *fx = *state;
  oc_served_model_release(fx->old);
  oc_served_model_release(fx->stored);
  free(fx->old_log);
  free(fx->stored_log);
  oc_mlp_free(&fx->net);
  oc_model_card_free(&fx->card);
  oc_store_close(fx->store);
  oc_test_rmtree(fx->dir);
  free(fx->dir);
  free(fx);
  return 0;
}

static void stored_forecast(fixture *fx, oc_served_model *m, oc_price_forecast *f) {
  oc_series history;
  oc_error err;
  if (oc_store_series_load(fx->store, "WTI-SIM", OC_DATE_INVALID, OC_DATE_INVALID, &history, &err) != 0 ||
      oc_served_model_forecast(m, &history, NULL, true, DAYS, f, &err) != 0)
    fail_msg("%s", err.message);
  assert_int_equal(f->origin, history.dates[history.n - 1]);
  oc_series_free(&history);
}

static void test_stored_calibration_gives_the_load_time_intervals(void **state) {
  fixture *fx = *state;
  /* The registered card holds the calibration bit for bit, on the model's out-of-sample errors. */
  oc_mlp net;
  oc_model_card card;
  oc_error err;
  if (oc_registry_load(fx->dir, fx->store, fx->stored_version, &net, &card, &err) != 0) fail_msg("%s", err.message);
  const oc_mlp_calibration *cal = &card.calibration;
  assert_non_null(cal->q80);
  assert_memory_equal(cal->q80, fx->card.calibration.q80, DAYS * sizeof *cal->q80);
  assert_memory_equal(cal->q95, fx->card.calibration.q95, DAYS * sizeof *cal->q95);
  assert_true(cal->out_of_sample && cal->first_origin > card.train_end && cal->origins >= 20);
  for (size_t h = 0; h < DAYS; h++) assert_true(cal->q80[h] > 0 && cal->q80[h] <= cal->q95[h]);
  oc_model_card_free(&card);
  oc_mlp_free(&net);

  /* Served: the stored calibration's bounds are those of the load-time calibration of the same network
   * (the version without one), to the bit; loading the stored one computes nothing. */
  oc_price_forecast a, b;
  stored_forecast(fx, fx->old, &a);
  stored_forecast(fx, fx->stored, &b);
  assert_int_equal(a.horizon, DAYS);
  assert_int_equal(b.horizon, DAYS);
  assert_memory_equal(a.mean, b.mean, DAYS * sizeof *a.mean);
  assert_memory_equal(a.lo80, b.lo80, DAYS * sizeof *a.lo80);
  assert_memory_equal(a.hi80, b.hi80, DAYS * sizeof *a.hi80);
  assert_memory_equal(a.lo95, b.lo95, DAYS * sizeof *a.lo95);
  assert_memory_equal(a.hi95, b.hi95, DAYS * sizeof *a.hi95);
  assert_string_equal(fx->stored_log, "");
}

static void test_version_without_calibration_is_calibrated_at_load(void **state) {
  fixture *fx = *state;
  char rel[64], *card_text, *path;
  size_t len;
  oc_error err;
  snprintf(rel, sizeof rel, "models/artifacts/v%lld/model.json", (long long)fx->old_version);
  path = oc_path_join(fx->dir, rel);
  if (oc_read_file(path, &card_text, &len, &err) != 0) fail_msg("%s", err.message);
  assert_null(strstr(card_text, "\"calibration\"")); /* as versions trained before it was stored */
  free(card_text);
  free(path);

  /* one info line naming the version, and nothing else */
  char expected[96];
  snprintf(expected, sizeof expected, "model v%lld has no stored interval calibration", (long long)fx->old_version);
  if (!strstr(fx->old_log, expected)) fail_msg("no info line '%s' in the log: %s", expected, fx->old_log);
  assert_int_equal(strchr(fx->old_log, '\n') - fx->old_log + 1, (long)strlen(fx->old_log));
  oc_price_forecast f;
  stored_forecast(fx, fx->old, &f);
  for (size_t h = 0; h < DAYS; h++)
    assert_true(f.lo95[h] < f.lo80[h] && f.lo80[h] < f.mean[h] && f.mean[h] < f.hi80[h] && f.hi80[h] < f.hi95[h]);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_stored_calibration_gives_the_load_time_intervals),
                                     cmocka_unit_test(test_version_without_calibration_is_calibrated_at_load)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
