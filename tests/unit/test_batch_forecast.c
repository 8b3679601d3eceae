/* test_batch_forecast: batch predictions (pipeline/batch_forecast.h) by registered forecaster versions
 * (ar, ets): each row is exactly the version's spec fitted afresh on the stored history cut at its
 * origin (points and 80%/95% bounds, bit for bit), also for a series the version was not trained on;
 * the default horizon is the served default; the output does not depend on the thread count; and an
 * origin before the series' first observation fails the batch naming its line, writing nothing. The
 * network's batch is tested in test_serve_mlp.c. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/fsutil.h"
#include "core/csv.h"
#include "model/forecaster.h"
#include "model/registry.h"
#include "pipeline/batch_forecast.h"
#include "pipeline/served_model.h"
#include "store/datadir.h"

typedef struct fixture {
  char *dir;
  oc_store *store;
  oc_series sim, other;
  int64_t ar, ets;
} fixture;

static int64_t register_version(fixture *fx, const char *spec) {
  oc_error err;
  oc_forecaster *f = oc_forecaster_create(spec, &err);
  if (!f || oc_forecaster_fit(f, &fx->sim, NULL, &err) != 0) fail_msg("%s", err.message);
  int64_t version;
  if (oc_registry_publish_forecaster(fx->dir, fx->store, f, &fx->sim, NULL, &version, &err) != 0) fail_msg("%s", err.message);
  oc_forecaster_free(f);
  return version;
}

static int setup(void **state) {
  fixture *fx = oc_xcalloc(1, sizeof *fx);
  fx->dir = oc_test_tmpdir("batch-forecast");
  oc_error err;
  bool created;
  if (oc_datadir_init(fx->dir, &created, &err) != 0 || oc_datadir_open(fx->dir, &fx->store, &err) != 0)
    fail_msg("%s", err.message);
  fx->sim = oc_test_ar1_series(400, 0.5, 0.02, 21);
  fx->other = oc_test_random_walk_series("OTHER", 300, 0.0002, 5);
  oc_test_store_series(fx->store, &fx->sim);
  oc_test_store_series(fx->store, &fx->other);
  fx->ar = register_version(fx, "ar");
  fx->ets = register_version(fx, "ets");
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture *fx = *state;
  oc_series_free(&fx->sim);
  oc_series_free(&fx->other);
  oc_store_close(fx->store);
  oc_test_rmtree(fx->dir);
  free(fx->dir);
  free(fx);
  return 0;
}

/* Runs the batch of version over in (text) with threads; returns the output text or NULL (err set). */
static char *run_batch(fixture *fx, int64_t version, const char *in, int days, int threads, oc_error *err) {
  char *in_path = oc_test_write_file(fx->dir, "in.csv", in), *out = oc_path_join(fx->dir, "out.csv");
  unlink(out);
  oc_batch_options opt = {.data_dir = fx->dir, .version = version, .in_path = in_path, .out_path = out,
                          .days = days, .threads = threads};
  oc_batch_report report;
  char *text = NULL;
  size_t len;
  if (oc_batch_forecast(fx->store, &opt, &report, err) == 0) {
    if (oc_read_file(out, &text, &len, err) != 0) fail_msg("%s", err->message);
    assert_int_equal(report.forecasts, report.rows * (size_t)(days ? days : OC_SERVED_DEFAULT_HORIZON));
  } else {
    assert_int_equal(access(out, F_OK), -1); /* all or nothing */
  }
  free(in_path);
  free(out);
  return text;
}

typedef struct origin_row {
  const oc_series *series;
  size_t last; /* index of the origin in series */
} origin_row;

/* The expected CSV: spec fitted afresh on each cut history. */
static char *expected_csv(const char *spec, int64_t version, const origin_row *rows, size_t n, size_t days) {
  oc_buf b = {0};
  oc_buf_puts(&b, "series,origin,as_of,date,horizon,price,lower80,upper80,lower95,upper95,model\n");
  for (size_t i = 0; i < n; i++) {
    const oc_series *s = rows[i].series;
    oc_series cut = {.name = s->name, .n = rows[i].last + 1, .dates = s->dates, .values = s->values};
    oc_error err;
    oc_forecaster *f = oc_forecaster_create(spec, &err);
    oc_price_forecast fc;
    if (!f || oc_forecaster_fit(f, &cut, NULL, &err) != 0 || oc_forecaster_predict(f, days, &fc, &err) != 0)
      fail_msg("%s", err.message);
    oc_forecaster_free(f);
    char origin[OC_DATE_STRLEN], date[OC_DATE_STRLEN], v[5][OC_NUMBER_STRLEN];
    oc_date_format(s->dates[rows[i].last], origin);
    for (size_t h = 0; h < days; h++) {
      oc_buf_printf(&b, "%s,%s,%s,%s,%zu,%s,%s,%s,%s,%s,v%lld\n", s->name, origin, origin,
                    oc_date_format(oc_calendar_add_trading_days(s->dates[rows[i].last], (int)h + 1), date), h + 1,
                    oc_format_number(fc.mean[h], v[0]), oc_format_number(fc.lo80[h], v[1]),
                    oc_format_number(fc.hi80[h], v[2]), oc_format_number(fc.lo95[h], v[3]),
                    oc_format_number(fc.hi95[h], v[4]), (long long)version);
    }
  }
  return b.data;
}

static char *input_csv(const origin_row *rows, size_t n) {
  oc_buf b = {0};
  oc_buf_puts(&b, "origin,series\n");
  char date[OC_DATE_STRLEN];
  for (size_t i = 0; i < n; i++) {
    oc_buf_printf(&b, "%s,%s\n", oc_date_format(rows[i].series->dates[rows[i].last], date), rows[i].series->name);
  }
  return b.data;
}

static void test_ar_version_rows_are_fresh_fits_at_each_origin(void **state) {
  fixture *fx = *state;
  const origin_row rows[] = {{&fx->sim, fx->sim.n - 1}, {&fx->sim, fx->sim.n - 60}, {&fx->other, fx->other.n - 1},
                             {&fx->sim, 150},           {&fx->sim, fx->sim.n - 61}};
  size_t n = sizeof rows / sizeof rows[0];
  char *in = input_csv(rows, n);
  oc_error err;
  char *one = run_batch(fx, fx->ar, in, 0, 1, &err);
  if (!one) fail_msg("%s", err.message);
  char *three = run_batch(fx, fx->ar, in, 0, 3, &err);
  if (!three) fail_msg("%s", err.message);
  assert_string_equal(one, three);
  char *want = expected_csv("ar", fx->ar, rows, n, OC_SERVED_DEFAULT_HORIZON);
  assert_string_equal(one, want);
  free(one);
  free(three);
  free(want);
  free(in);
}

static void test_ets_version_and_a_given_horizon(void **state) {
  fixture *fx = *state;
  const origin_row rows[] = {{&fx->sim, fx->sim.n - 1}, {&fx->sim, 200}};
  char *in = input_csv(rows, 2);
  oc_error err;
  char *got = run_batch(fx, fx->ets, in, 3, 2, &err);
  if (!got) fail_msg("%s", err.message);
  char *want = expected_csv("ets", fx->ets, rows, 2, 3);
  assert_string_equal(got, want);
  free(got);
  free(want);
  free(in);
}

static void test_origin_before_the_history_fails_naming_the_line(void **state) {
  fixture *fx = *state;
  char last[OC_DATE_STRLEN], before[OC_DATE_STRLEN];
  oc_date_format(fx->sim.dates[fx->sim.n - 1], last);
  oc_date_format(fx->sim.dates[0] - 10, before);
  char in[128];
  snprintf(in, sizeof in, "series,origin\nSIM,%s\nSIM,%s\n", last, before);
  oc_error err;
  char *none = run_batch(fx, fx->ar, in, 2, 2, &err);
  if (none) fail_msg("an origin before the series was accepted:\n%s", none);
  char want[64];
  snprintf(want, sizeof want, "in.csv:3: SIM has no observation on or before %s", before);
  if (!strstr(err.message, want)) fail_msg("%s", err.message);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_ar_version_rows_are_fresh_fits_at_each_origin),
                                     cmocka_unit_test(test_ets_version_and_a_given_horizon),
                                     cmocka_unit_test(test_origin_before_the_history_fails_naming_the_line)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
