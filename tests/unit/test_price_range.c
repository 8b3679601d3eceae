/* Per-series price ranges (issue 13): the default -1000..100000 until a series has its own range in the
 * store; a file import refuses a price outside with FILE:LINE and stores nothing (negative prices inside
 * the range stay legal and flagged); ranges are checked when set, name an existing series, and go back
 * to the default. (API posts and invocations: tests/e2e/serve_price_edges.sh.) */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/import.h"
#include "ingest/price_range.h"

typedef oc_test_datadir_fixture fixture;

static int import_csv(fixture *f, const char *text, oc_import_report *rep, oc_error *err) {
  char *path = oc_test_write_file(f->dir, "prices.csv", text);
  oc_import_options opt;
  oc_import_options_init(&opt);
  opt.path = path;
  opt.series = "WTI";
  int rc = oc_import_file(f->store, &opt, rep, err);
  free(path);
  return rc;
}

static void test_default_then_own_range(void **state) {
  fixture *f = *state;
  oc_error err;
  oc_import_report rep;
  oc_price_range range;
  assert_int_equal(oc_price_range_get(f->store, "WTI", &range, &err), 0);
  assert_false(range.own);
  assert_true(range.min == OC_PRICE_MIN_DEFAULT && range.max == OC_PRICE_MAX_DEFAULT);
  /* 1.7e308 is a finite double: only the range refuses it. */
  assert_int_equal(import_csv(f, "Date,Price\n2020-04-17,18.27\n2020-04-20,1.7e308\n", &rep, &err), -1);
  assert_int_equal(rep.nproblems, 1);
  assert_int_equal(rep.problems[0].where, 3);
  assert_string_equal(rep.problems[0].field, "value");
  assert_non_null(strstr(rep.problems[0].reason, "outside WTI's default range -1000..100000"));
  oc_import_report_free(&rep);
  int64_t count;
  assert_int_equal(oc_store_observations_count(f->store, &count, &err), 0);
  assert_int_equal(count, 0);
  if (import_csv(f, "Date,Price\n2020-04-17,18.27\n2020-04-20,-37.63\n", &rep, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(rep.negative_values, 1);
  oc_import_report_free(&rep);

  assert_int_equal(oc_store_series_range_set(f->store, "WTI", true, 0, 200, &err), 0);
  assert_int_equal(oc_price_range_get(f->store, "WTI", &range, &err), 0);
  assert_true(range.own && range.min == 0 && range.max == 200);
  assert_int_equal(import_csv(f, "Date,Price\n2020-04-21,10\n2020-04-22,-1\n2020-04-23,201\n", &rep, &err), -1);
  assert_int_equal(rep.nproblems, 2);
  assert_int_equal(rep.problems[0].where, 3);
  assert_non_null(strstr(rep.problems[1].reason, "price 201 outside WTI's range 0..200"));
  oc_import_report_free(&rep);
  assert_int_equal(oc_store_observations_count(f->store, &count, &err), 0);
  assert_int_equal(count, 2);

  /* Checked when set; an unknown series is named; back to the default. */
  assert_int_equal(oc_store_series_range_set(f->store, "WTI", true, 5, 5, &err), -1);
  assert_non_null(strstr(err.message, "min < max"));
  assert_int_equal(oc_store_series_range_set(f->store, "WTI", true, NAN, 5, &err), -1);
  assert_int_equal(oc_store_series_range_set(f->store, "NOPE", true, 0, 1, &err), -1);
  assert_non_null(strstr(err.message, "no series named 'NOPE'"));
  assert_int_equal(oc_store_series_range_set(f->store, "WTI", false, 0, 0, &err), 0);
  assert_int_equal(oc_price_range_get(f->store, "WTI", &range, &err), 0);
  assert_false(range.own);
}

static void test_check_reason(void **state) {
  (void)state;
  oc_price_range range = {OC_PRICE_MIN_DEFAULT, OC_PRICE_MAX_DEFAULT, false, NULL, NULL};
  char reason[384];
  assert_true(oc_price_range_check(&range, "WTI", -1000, reason, sizeof reason));
  assert_true(oc_price_range_check(&range, "WTI", 100000, reason, sizeof reason));
  assert_false(oc_price_range_check(&range, "WTI", 1e308, reason, sizeof reason));
  assert_string_equal(reason, "price 1e+308 outside WTI's default range -1000..100000 "
                              "(change it: oilcast series set-range WTI --min A --max B)");
  assert_false(oc_price_range_check(&range, "WTI", -1000.5, reason, sizeof reason));
  /* a series an import would create: the advice creates it as the import would, with its range */
  range.new_unit = "RUB/t";
  range.new_source = "simulated";
  assert_false(oc_price_range_check(&range, "URALS", 2e5, reason, sizeof reason));
  assert_string_equal(reason, "price 200000 outside URALS's default range -1000..100000 (a new series: create it "
                              "with its range first, oilcast series set-range URALS --min A --max B --unit RUB/t "
                              "--source simulated)");
  range.new_unit = "RUB per t";
  assert_false(oc_price_range_check(&range, "URALS", 2e5, reason, sizeof reason));
  assert_non_null(strstr(reason, " --unit 'RUB per t' --source simulated)"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_default_then_own_range, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test(test_check_reason),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
