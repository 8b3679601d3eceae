/* Unit tests for the connection admission rules (src/serve/admission.h): admitting under the limit,
 * evicting the connection that has waited longest (headers before bodies, never one being handled, never
 * one younger than evict_after), the reserve and refusals beyond it, and deadlines that are totals per
 * phase. Time is passed in and closing is recorded, so no sockets and no sleeping. */
#include "testutil.h"

#include <string.h>
#include <time.h>

#include "core/progress.h" /* oc_monotonic_seconds */
#include "serve/admission.h"

/* The descriptors the admission shut down, in order. */
typedef struct closed_fds {
  int fds[64];
  size_t n;
} closed_fds;

static void record_close(void *ctx, int fd) {
  closed_fds *closed = ctx;
  assert_true(closed->n < 64);
  closed->fds[closed->n++] = fd;
}

static const oc_admission_limits limits = {.max_connections = 3, .reserve = 1, .header_seconds = 10,
                                           .body_seconds = 20, .evict_after = 0.5};

/* An admission under `limits` and room for five connections, numbered from descriptor 10. */
typedef struct fixture {
  closed_fds closed;
  oc_admission a;
  oc_conn c[5];
} fixture;

static int setup(void **state) {
  fixture *f = test_calloc(1, sizeof *f);
  oc_admission_init(&f->a, &limits, record_close, &f->closed);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  for (size_t i = 0; i < 5; i++) {
    if (f->c[i].fd) oc_admission_close(&f->a, &f->c[i]); /* opened ones only */
  }
  oc_admission_free(&f->a);
  test_free(f);
  return 0;
}

/* Opens connections c[0..n-1] (descriptors 10..) at time now; all must be admitted. */
static void open_first(fixture *f, int n, double now) {
  for (int i = 0; i < n; i++) assert_int_equal(oc_admission_open(&f->a, &f->c[i], 10 + i, now), OC_ADMIT);
}

static void test_admits_under_the_limit_and_evicts_the_longest_waiting(void **state) {
  fixture *f = *state;
  oc_admission *a = &f->a;
  oc_conn *c = f->c;
  closed_fds *closed = &f->closed;
  for (int i = 0; i < 3; i++) assert_int_equal(oc_admission_open(a, &c[i], 10 + i, 1.0 + i), OC_ADMIT);
  assert_int_equal(oc_admission_stats_now(a).open, 3);
  /* c[0] has a request being handled: never evicted; c[1] has waited longest for its header. */
  oc_admission_headers_done(a, &c[0], false, 4.0);
  assert_int_equal(oc_admission_open(a, &c[3], 13, 5.0), OC_ADMIT);
  assert_int_equal(closed->n, 1);
  assert_int_equal(closed->fds[0], 11);
  oc_admission_stats stats = oc_admission_stats_now(a);
  assert_int_equal(stats.open, 3);
  assert_int_equal(stats.evicted, 1);
  assert_int_equal(c[1].phase, OC_CONN_CLOSING);
  /* Closing an evicted connection does not count it twice. */
  oc_admission_close(a, &c[1]);
  assert_int_equal(oc_admission_stats_now(a).open, 3);
  assert_int_equal(oc_admission_open(a, &c[4], 14, 6.0), OC_ADMIT);
  assert_int_equal(closed->fds[1], 12);
}

static void test_headers_are_evicted_before_bodies(void **state) {
  fixture *f = *state;
  oc_admission *a = &f->a;
  oc_conn *c = f->c;
  closed_fds *closed = &f->closed;
  open_first(f, 3, 1.0);
  oc_admission_headers_done(a, &c[0], true, 1.1); /* the oldest in its phase, but receiving a body */
  oc_admission_open(a, &c[3], 13, 5.0);
  assert_int_equal(closed->fds[0], 11);
  oc_admission_headers_done(a, &c[2], true, 5.1);
  oc_admission_headers_done(a, &c[3], false, 5.1);
  oc_admission_open(a, &c[4], 14, 6.0); /* no header awaited long enough: the oldest body goes */
  assert_int_equal(closed->n, 2);
  assert_int_equal(closed->fds[1], 10);
}

static void test_young_connections_fill_the_reserve_then_are_refused(void **state) {
  fixture *f = *state;
  oc_admission *a = &f->a;
  oc_conn *c = f->c;
  closed_fds *closed = &f->closed;
  open_first(f, 3, 1.0);
  /* All waiting for less than evict_after: nothing is evicted. */
  assert_int_equal(oc_admission_open(a, &c[3], 13, 1.2), OC_ADMIT_RESERVED);
  assert_true(c[3].reserved);
  assert_int_equal(oc_admission_open(a, &c[4], 14, 1.3), OC_ADMIT_REFUSED);
  assert_int_equal(closed->n, 1);
  assert_int_equal(closed->fds[0], 14);
  oc_admission_stats stats = oc_admission_stats_now(a);
  assert_int_equal(stats.open, 4);
  assert_int_equal(stats.reserved_open, 1);
  assert_int_equal(stats.refused, 1);
  assert_int_equal(stats.evicted, 0);
  oc_admission_close(a, &c[3]);
  assert_int_equal(oc_admission_stats_now(a).reserved_open, 0);
}

static void test_deadlines_are_totals_per_phase(void **state) {
  fixture *f = *state;
  oc_admission *a = &f->a;
  oc_conn *c = f->c;
  closed_fds *closed = &f->closed;
  open_first(f, 3, 0.0);
  oc_admission_headers_done(a, &c[1], true, 2.0);
  oc_admission_headers_done(a, &c[2], false, 2.0);
  oc_admission_request_done(a, &c[2], 8.0); /* keep-alive: its next header is due at 18 */
  assert_int_equal(oc_admission_expire(a, 10.0), 0);
  assert_int_equal(oc_admission_expire(a, 10.01), 1); /* c[0]: no header within 10 s */
  assert_int_equal(closed->fds[0], 10);
  assert_int_equal(oc_admission_expire(a, 18.01), 1);
  assert_int_equal(closed->fds[1], 12);
  assert_int_equal(oc_admission_expire(a, 22.01), 1); /* c[1]: no body within 20 s of its header */
  assert_int_equal(closed->fds[2], 11);
  oc_admission_stats stats = oc_admission_stats_now(a);
  assert_int_equal(stats.header_timeouts, 2);
  assert_int_equal(stats.body_timeouts, 1);
  assert_int_equal(stats.open, 0);
}

static void test_a_late_clock_keeps_the_order(void **state) {
  fixture *f = *state;
  oc_admission *a = &f->a;
  oc_conn *c = f->c;
  oc_admission_open(a, &c[0], 10, 5.0);
  oc_admission_open(a, &c[1], 11, 4.999); /* read the clock first, took the lock second */
  assert_true(c[1].since >= c[0].since);
  assert_int_equal(oc_admission_expire(a, 14.99), 0);
  assert_int_equal(oc_admission_expire(a, 15.01), 2);
}

static void test_the_reaper_enforces_deadlines(void **state) {
  fixture *f = *state;
  const oc_admission_limits quick = {.max_connections = 3, .reserve = 1, .header_seconds = 0.05, .body_seconds = 1,
                                     .evict_after = 0.01};
  oc_admission_set_limits(&f->a, &quick);
  open_first(f, 1, oc_monotonic_seconds());
  assert_int_equal(oc_admission_reaper_start(&f->a), 0);
  for (int i = 0; i < 200 && oc_admission_stats_now(&f->a).header_timeouts == 0; i++) {
    struct timespec pause = {0, 10 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  oc_admission_reaper_stop(&f->a);
  assert_int_equal(oc_admission_stats_now(&f->a).header_timeouts, 1);
  assert_int_equal(f->closed.fds[0], 10);
}

static void test_default_reserve(void **state) {
  (void)state;
  assert_int_equal(oc_admission_default_reserve(1), 8);
  assert_int_equal(oc_admission_default_reserve(1024), 128);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_admits_under_the_limit_and_evicts_the_longest_waiting, setup, teardown),
      cmocka_unit_test_setup_teardown(test_headers_are_evicted_before_bodies, setup, teardown),
      cmocka_unit_test_setup_teardown(test_young_connections_fill_the_reserve_then_are_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_deadlines_are_totals_per_phase, setup, teardown),
      cmocka_unit_test_setup_teardown(test_a_late_clock_keeps_the_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_the_reaper_enforces_deadlines, setup, teardown),
      cmocka_unit_test(test_default_reserve),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
