/* JSON underflow (issue 13): a number too small for a double (1e-400), which jansson reads as 0 without
 * a word, is found in the text with its field's path and line (oc_json_find_underflow); a JSON import
 * holding one fails naming FILE:LINE and the field, storing nothing; a subnormal that reads as a
 * non-zero double (1e-310) and zeros written any way stay numbers like others. (API bodies: the same
 * scanner in oc_request_json_object, tests/e2e/serve_request_checks.sh.) */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/json_scan.h"
#include "ingest/import.h"

static bool find(const char *text, char *path, char *number, size_t *line) {
  return oc_json_find_underflow(text, strlen(text), path, number, 96, line);
}

static void test_scanner(void **state) {
  (void)state;
  char path[96], number[96];
  size_t line;
  assert_true(find("{\"a\":1,\"historical_prices\":[60,\n70,\n1e-400]}", path, number, &line));
  assert_string_equal(path, "historical_prices[2]");
  assert_string_equal(number, "1e-400");
  assert_int_equal(line, 3);
  assert_true(find("[{\"date\":\"2024-01-02\",\"price\":70},\n {\"date\":\"x,[]{\\\"\",\"price\":-2.5E-999}]", path, number, &line));
  assert_string_equal(path, "[1].price");
  assert_int_equal(line, 2);
  assert_true(find("{\"o\":{\"p\":[[0,[1,0.000001e-330]]]}}", path, number, &line));
  assert_string_equal(path, "o.p[0][1][1]");
  assert_true(find("1e-400", path, number, &line));
  assert_string_equal(path, "");
  /* Around 1e-320, where the scanner stops trusting the digits' count and reads the number. */
  char tiny[400] = "[1, 0.";
  memset(tiny + strlen(tiny), '0', 323); /* 0.000...01 = 1e-324: 0 as a double */
  strcat(tiny, "1]");
  assert_true(find(tiny, path, number, &line));
  assert_string_equal(path, "[1]");
  tiny[6 + 5] = '2'; /* 2e-6 and more digits */
  assert_false(find(tiny, path, number, &line));
  assert_true(find("[10e-325]", path, number, &line));
  assert_false(find("[1e-319, 1e-320, 0.001e-310, -9.9e-318, 123456789e-330]", path, number, &line));
  /* Zero however written, subnormals that read back as non-zero, ordinary numbers: nothing. */
  assert_false(find("[0, -0.0, 0e-999, 0.000e5, 1e-310, 4.9e-324, 1.7e308, 70.87, {\"k1e-400\":\"1e-400\"}]", path, number,
                    &line));
}

typedef oc_test_datadir_fixture fixture;

static int import_json(fixture *f, const char *text, oc_error *err) {
  char *path = oc_test_write_file(f->dir, "prices.json", text);
  oc_import_options opt;
  oc_import_options_init(&opt);
  opt.path = path;
  oc_import_report rep;
  int rc = oc_import_file(f->store, &opt, &rep, err);
  oc_import_report_free(&rep);
  free(path);
  return rc;
}

static void test_import_refuses_underflow(void **state) {
  fixture *f = *state;
  oc_error err;
  int64_t before, after;
  assert_int_equal(oc_store_observations_count(f->store, &before, &err), 0);
  assert_int_equal(import_json(f, "[{\"date\":\"2024-01-02\",\"price\":70},\n{\"date\":\"2024-01-03\",\"price\":1e-400}]", &err), -1);
  assert_non_null(strstr(err.message, "prices.json:2: [1].price: 1e-400 is too small for a double"));
  assert_int_equal(oc_store_observations_count(f->store, &after, &err), 0);
  assert_int_equal(after, before);
  if (import_json(f, "[{\"date\":\"2024-01-02\",\"price\":1e-310}]", &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(oc_store_observations_count(f->store, &after, &err), 0);
  assert_int_equal(after, before + 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scanner),
      cmocka_unit_test_setup_teardown(test_import_refuses_underflow, oc_test_datadir_setup, oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
