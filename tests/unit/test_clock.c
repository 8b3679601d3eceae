/* The scheduler service's clock (schedule/clock.h): the real one by default; OILCAST_CLOCK=file:PATH
 * reads simulated time from a file, keeps its last good reading while the file is rewritten or
 * unreadable, and refuses a malformed setting or instant with what it accepts. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "schedule/clock.h"

static void test_instants(void **state) {
  (void)state;
  int64_t t;
  oc_error err;
  assert_int_equal(oc_clock_parse_instant("2026-01-09T22:00:05Z", &t, &err), 0);
  assert_int_equal(t, 1767996005);
  assert_int_equal(oc_clock_parse_instant("1970-01-01T00:00:00Z\n", &t, &err), 0);
  assert_int_equal(t, 0);
  /* fields each in their own range but no such instant (February 30th, second 60): not carried over
   * into March 2nd or the next minute */
  static const char *const bad[] = {"2026-01-09 22:00:05", "2026-01-09T22:00:05", "2026-01-09T22:00:05Z x", "", "tomorrow",
                                    "2026-02-30T22:00:00Z", "2025-02-29T00:00:00Z", "2026-01-09T22:00:60Z"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(oc_clock_parse_instant(bad[i], &t, &err), -1);
    assert_non_null(strstr(err.message, "2026-01-09T22:00:05Z"));
  }
}

static void test_real_and_file(void **state) {
  (void)state;
  oc_clock clock;
  oc_error err;
  assert_int_equal(oc_clock_init(&clock, NULL, &err), 0);
  assert_false(oc_clock_simulated(&clock));
  int64_t now = (int64_t)time(NULL);
  assert_true(oc_clock_now(&clock) >= now && oc_clock_now(&clock) <= now + 5);
  oc_clock_free(&clock);

  char *dir = oc_test_tmpdir("clock");
  char *file = oc_test_write_file(dir, "clock", "2001-06-08T22:00:05Z\n");
  char spec[4200];
  snprintf(spec, sizeof spec, "file:%s", file);
  assert_int_equal(oc_clock_init(&clock, spec, &err), 0);
  assert_true(oc_clock_simulated(&clock));
  assert_int_equal(oc_clock_now(&clock), 992037605);
  free(oc_test_write_file(dir, "clock", "2001-06-11T22:00:05Z"));
  assert_int_equal(oc_clock_now(&clock), 992296805);
  free(oc_test_write_file(dir, "clock", "2001-06-1")); /* caught mid-write: the last reading holds */
  assert_int_equal(oc_clock_now(&clock), 992296805);
  unlink(file);
  assert_int_equal(oc_clock_now(&clock), 992296805);
  oc_clock_free(&clock);

  assert_int_equal(oc_clock_init(&clock, spec, &err), -1); /* the file must be readable at start */
  assert_non_null(strstr(err.message, "OILCAST_CLOCK"));
  assert_int_equal(oc_clock_init(&clock, "2001-06-08T22:00:05Z", &err), -1);
  assert_non_null(strstr(err.message, "expected file:PATH"));
  oc_test_rmtree(dir);
  free(file);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_instants), cmocka_unit_test(test_real_and_file)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
