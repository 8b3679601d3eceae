/* Unit tests for src/core/json: numbers are the shortest decimal that reads back to the same double
 * (checked against strtod and against the fewest digits %g needs, over many random doubles; whole
 * numbers keep ".0"),
 * non-finite numbers are null, strings escape what JSON requires, objects keep insertion order unless
 * sorted, and jansson parses everything written back to an equal value. */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/rng.h"

static char *number_text(double x) {
  oc_buf b = {0};
  oc_json_put_number(&b, x);
  return oc_buf_steal(&b);
}

/* Digits of text's mantissa without leading and trailing zeros: how many significant digits it has. */
static int significant_digits(const char *text) {
  char digits[64];
  int n = 0;
  for (const char *p = text; *p && *p != 'e'; p++)
    if (*p >= '0' && *p <= '9' && (n || *p != '0')) digits[n++] = *p;
  while (n > 1 && digits[n - 1] == '0') n--;
  return n;
}

/* The fewest significant digits with which %g reads back as x. */
static int fewest_digits(double x) {
  char text[32];
  for (int precision = 1;; precision++) {
    snprintf(text, sizeof text, "%.*g", precision, x);
    if (strtod(text, NULL) == x) return precision;
  }
}

static void test_numbers_are_shortest_round_trip(void **state) {
  (void)state;
  const struct {
    double value;
    const char *text;
  } cases[] = {{70.87, "70.87"}, {0.1, "0.1"}, {-36.98, "-36.98"}, {1e-5, "1e-05"}, {70, "70.0"},
               {1.0 / 3, "0.3333333333333333"}, {DBL_MAX, "1.7976931348623157e+308"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *text = number_text(cases[i].value);
    assert_string_equal(text, cases[i].text);
    free(text);
  }
  oc_rng rng;
  oc_rng_seed(&rng, 42);
  for (int i = 0; i < 100000; i++) {
    double x = oc_rng_normal(&rng) * pow(10, (double)oc_rng_below(&rng, 40) - 20);
    char *text = number_text(x);
    assert_true(strtod(text, NULL) == x);
    assert_int_equal(significant_digits(text), fewest_digits(x));
    free(text);
  }
}

static void test_non_finite_is_null(void **state) {
  (void)state;
  char *text = number_text(INFINITY);
  assert_string_equal(text, "null");
  free(text);
  json_t *value = oc_json_number(NAN);
  assert_true(json_is_null(value));
  json_decref(value);
}

static void test_documents(void **state) {
  (void)state;
  json_t *doc = json_pack("{s:s, s:o, s:[i, o, b, n], s:{}}", "name", "a \"quoted\"\n/\x01 é", "price",
                          oc_json_number(70.87), "list", 3, oc_json_number(-0.5), 1, "empty");
  char *compact = oc_json_dumps(doc, OC_JSON_COMPACT);
  assert_string_equal(compact,
                      "{\"name\":\"a \\\"quoted\\\"\\n/\\u0001 é\",\"price\":70.87,\"list\":[3,-0.5,true,null],"
                      "\"empty\":{}}");
  json_error_t error;
  json_t *back = json_loads(compact, 0, &error);
  assert_non_null(back);
  assert_true(json_equal(back, doc));
  json_decref(back);
  char *sorted = oc_json_dumps(doc, OC_JSON_SORT_KEYS | OC_JSON_ESCAPE_SLASH);
  assert_non_null(strstr(sorted, "\\/"));
  assert_true(strstr(sorted, "\"empty\"") < strstr(sorted, "\"list\""));
  assert_true(strstr(sorted, "\"name\"") < strstr(sorted, "\"price\""));
  char *indented = oc_json_dumps(doc, OC_JSON_INDENT);
  assert_non_null(strstr(indented, "{\n  \"name\": "));
  assert_non_null(strstr(indented, "\n}"));
  back = json_loads(indented, 0, &error);
  assert_true(json_equal(back, doc));
  json_decref(back);
  free(compact);
  free(sorted);
  free(indented);
  json_decref(doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_numbers_are_shortest_round_trip),
      cmocka_unit_test(test_non_finite_is_null),
      cmocka_unit_test(test_documents),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
