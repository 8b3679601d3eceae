/* Unit tests for the stream processor's tumbling windows (stream/window.h) over the store's sensor ops:
 * replaying the same readings in any order within the grace gives exactly the aggregates of sorted
 * input (count, mean, min, max, last, bit for bit); a reading beyond the grace is stored, counted as
 * late and left out of its windows; a redelivered (device, seq) is stored once, and another reading
 * under a (device, seq) stored already is a conflict, not stored; a rolled-back batch
 * leaves nothing; the width list parses and window starts floor before 1970 too; a redelivered dead
 * letter is counted in its row, not stored twice. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "stream/window.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */
enum { N = 600 };

/* N readings of two devices and two measurements, 2 s apart in event time (20 minutes), sorted; the
 * values have many significant digits, so a sum in another order would round differently. */
static void make_readings(oc_sensor_reading *r) {
  oc_rng rng;
  oc_rng_seed(&rng, 42);
  for (int i = 0; i < N; i++) {
    memset(&r[i], 0, sizeof r[i]);
    snprintf(r[i].device_id, sizeof r[i].device_id, "dev-%d", i % 2);
    snprintf(r[i].measurement, sizeof r[i].measurement, "%s", i % 3 ? "level" : "temp");
    strcpy(r[i].unit, "m");
    r[i].seq = i / 2;
    r[i].event_ms = T0 + (int64_t)i * 2000;
    r[i].value = (double)(oc_rng_next(&rng) % 100000) / 7.0;
  }
}

/* Shuffles r in blocks of `block` readings (a block spans block * 2 s of event time, under the grace). */
static void shuffle_within(oc_sensor_reading *r, size_t n, size_t block, uint64_t seed) {
  oc_rng rng;
  oc_rng_seed(&rng, seed);
  for (size_t start = 0; start < n; start += block) {
    size_t m = n - start < block ? n - start : block;
    for (size_t i = m - 1; i > 0; i--) {
      size_t j = oc_rng_next(&rng) % (i + 1);
      oc_sensor_reading t = r[start + i];
      r[start + i] = r[start + j];
      r[start + j] = t;
    }
  }
}

/* Applies r in batches of 37 on a fresh store and returns its windows of every width (concatenated). */
static oc_sensor_window *windows_of(const oc_sensor_reading *r, size_t n, size_t *count, oc_window_counts *c) {
  oc_store *store;
  char *dir = oc_test_datadir("stream-window", &store);
  oc_window_options opt = oc_window_options_default();
  oc_error err;
  *c = (oc_window_counts){0};
  for (size_t i = 0; i < n; i += 37) {
    assert_int_equal(oc_store_begin(store, &err), 0);
    if (oc_window_apply(store, &opt, r + i, n - i < 37 ? n - i : 37, c, NULL, &err) != 0) fail_msg("%s", err.message);
    assert_int_equal(oc_store_commit(store, &err), 0);
  }
  oc_sensor_window *all = NULL;
  *count = 0;
  for (size_t w = 0; w < opt.n_widths; w++) {
    oc_sensor_window *rows;
    size_t k;
    assert_int_equal(oc_store_sensor_windows_list(store, NULL, NULL, opt.widths_ms[w], &rows, &k, &err), 0);
    all = realloc(all, (*count + k) * sizeof *all);
    memcpy(all + *count, rows, k * sizeof *rows);
    *count += k;
    free(rows);
  }
  oc_store_close(store);
  oc_test_rmtree(dir);
  free(dir);
  return all;
}

static void test_any_order_within_grace_equals_sorted(void **state) {
  (void)state;
  oc_sensor_reading sorted[N], shuffled[N];
  make_readings(sorted);
  oc_window_counts c;
  size_t n_sorted;
  oc_sensor_window *want = windows_of(sorted, N, &n_sorted, &c);
  assert_int_equal(c.stored, N);
  assert_int_equal(c.late, 0);
  /* 20 one-minute windows per device and measurement, and the hour and the day. */
  assert_true(n_sorted > 40);
  for (uint64_t seed = 1; seed <= 3; seed++) {
    memcpy(shuffled, sorted, sizeof sorted);
    shuffle_within(shuffled, N, 50, seed); /* 50 readings = 100 s of event time < the 120 s grace */
    size_t n_got;
    oc_sensor_window *got = windows_of(shuffled, N, &n_got, &c);
    assert_int_equal(c.late, 0);
    assert_int_equal(n_got, n_sorted);
    for (size_t i = 0; i < n_got; i++) {
      assert_string_equal(got[i].device_id, want[i].device_id);
      assert_string_equal(got[i].measurement, want[i].measurement);
      assert_int_equal(got[i].start_ms, want[i].start_ms);
      assert_int_equal(got[i].count, want[i].count);
      assert_memory_equal(&got[i].mean, &want[i].mean, sizeof(double) * 4); /* mean, min, max, last: bits */
    }
    free(got);
  }
  free(want);
}

static oc_sensor_reading reading(const char *device, int64_t seq, int64_t event_ms, double value) {
  oc_sensor_reading r = {.seq = seq, .event_ms = event_ms, .value = value};
  snprintf(r.device_id, sizeof r.device_id, "%s", device);
  strcpy(r.measurement, "level");
  strcpy(r.unit, "m");
  return r;
}

static void test_late_duplicate_and_rollback(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_window_options opt = oc_window_options_default();
  opt.n_widths = 1; /* 1 minute */
  oc_error err;
  oc_window_counts c = {0};
  const oc_sensor_reading batch[] = {
      reading("d", 1, T0 + 1000, 1.0),
      reading("d", 2, T0 + 600000, 2.0),     /* watermark T0 + 10 min */
      reading("d", 3, T0 + 500000, 3.0),     /* 100 s behind: inside the grace, counts */
      reading("d", 4, T0 + 2000, 4.0),       /* ~10 min behind: late, kept, in no window */
      reading("d", 2, T0 + 600000, 2.0),     /* a redelivery */
      reading("d", 1, T0 + 700000, 7.0),     /* seq 1 again with another reading: a conflict, not stored */
  };
  oc_window_verdict v[6];
  assert_int_equal(oc_store_begin(f->store, &err), 0);
  assert_int_equal(oc_window_apply(f->store, &opt, batch, 6, &c, v, &err), 0);
  assert_int_equal(oc_store_commit(f->store, &err), 0);
  assert_int_equal(c.stored, 4);
  assert_int_equal(c.duplicates, 1);
  assert_int_equal(c.conflicts, 1);
  assert_int_equal(c.late, 1);
  for (size_t i = 0; i < 5; i++) assert_false(v[i].conflict);
  for (size_t i = 0; i < 4; i++) assert_true(v[i].inserted);
  assert_false(v[4].inserted); /* the redelivery */
  assert_false(v[5].inserted);
  assert_true(v[5].conflict);
  assert_int_equal(v[5].stored.event_ms, T0 + 1000); /* the reading kept */
  assert_true(v[5].stored.value == 1.0);
  oc_sensor_window *w;
  size_t n;
  assert_int_equal(oc_store_sensor_windows_list(f->store, "d", "level", 60000, &w, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_int_equal(w[0].start_ms, T0);
  assert_int_equal(w[0].count, 1); /* seq 4 (late) is not in it */
  assert_true(w[0].last == 1.0);
  free(w);
  oc_sensor_stats st;
  assert_int_equal(oc_store_sensor_stats(f->store, &st, &err), 0);
  assert_int_equal(st.readings, 4);
  assert_int_equal(st.late_readings, 1);
  /* A rolled-back batch leaves no reading, window or watermark behind. */
  const oc_sensor_reading more[] = {reading("e", 1, T0 + 5000, 9.0)};
  assert_int_equal(oc_store_begin(f->store, &err), 0);
  assert_int_equal(oc_window_apply(f->store, &opt, more, 1, &c, NULL, &err), 0);
  assert_int_equal(oc_store_rollback(f->store, &err), 0);
  assert_int_equal(oc_store_sensor_stats(f->store, &st, &err), 0);
  assert_int_equal(st.readings, 4);
  assert_int_equal(st.windows, 3);
  bool found;
  int64_t wm;
  assert_int_equal(oc_store_sensor_watermark_get(f->store, "e", &wm, &found, &err), 0);
  assert_false(found);
}

/* A day's window becomes observations of DEVICE.MEASUREMENT.* dated the next day, once it closes
 * (watermark past its end + grace), not before: while it is open the series do not exist. */
static void test_closed_days_become_series(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_window_options opt = oc_window_options_default();
  const int64_t day = 86400000;
  oc_error err;
  oc_window_counts c = {0};
  const oc_sensor_reading first[] = {reading("tank-1", 1, T0 + 3600000, 10.0), reading("tank-1", 2, T0 + 7200000, 20.0),
                                     reading("tank-1", 3, T0 + day + 60000, 99.0)}; /* day 2, within the grace */
  assert_int_equal(oc_store_begin(f->store, &err), 0);
  assert_int_equal(oc_window_apply(f->store, &opt, first, 3, &c, NULL, &err), 0);
  assert_int_equal(oc_store_commit(f->store, &err), 0);
  assert_int_equal(c.days_closed, 0);
  oc_series_info info;
  bool found = true;
  assert_int_equal(oc_store_series_get(f->store, "tank-1.level.mean", &info, &found, &err), 0);
  assert_false(found);
  const oc_sensor_reading later[] = {reading("tank-1", 4, T0 + day + 600000, 30.0)}; /* 10 min into day 2 */
  assert_int_equal(oc_store_begin(f->store, &err), 0);
  assert_int_equal(oc_window_apply(f->store, &opt, later, 1, &c, NULL, &err), 0);
  assert_int_equal(oc_store_commit(f->store, &err), 0);
  assert_int_equal(c.days_closed, 1);
  const char *aggs[] = {"count", "mean", "min", "max", "last"};
  const double want[] = {2, 15, 10, 20, 20};
  for (size_t a = 0; a < 5; a++) {
    char name[64];
    snprintf(name, sizeof name, "tank-1.level.%s", aggs[a]);
    oc_series s;
    assert_int_equal(oc_store_series_load(f->store, name, OC_DATE_INVALID, OC_DATE_INVALID, &s, &err), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.dates[0], oc_date_from_ymd(2026, 1, 2)); /* known on day 2, not day 1 */
    assert_true(s.values[0] == want[a]);
    oc_series_free(&s);
  }
}

static void test_widths_and_starts(void **state) {
  (void)state;
  oc_window_options opt = oc_window_options_default();
  oc_error err;
  assert_int_equal(oc_window_parse_widths("30s,5m,2h,1d", &opt, &err), 0);
  assert_int_equal(opt.n_widths, 4);
  assert_int_equal(opt.widths_ms[0], 30000);
  assert_int_equal(opt.widths_ms[3], 86400000);
  assert_int_equal(oc_window_parse_widths("7m", &opt, &err), -1); /* 1440 / 7 is not whole */
  assert_int_equal(oc_window_parse_widths("1x", &opt, &err), -1);
  assert_non_null(strstr(err.message, "'1x'"));
  assert_int_equal(oc_window_parse_widths("1h,1m", &opt, &err), -1);
  assert_int_equal(oc_window_parse_widths("2m,3m", &opt, &err), -1);
  assert_int_equal(oc_window_parse_widths("", &opt, &err), -1);
  assert_int_equal(oc_window_start(-1, 60000), -60000);
  assert_int_equal(oc_window_start(T0 + 59999, 60000), T0);
  assert_true(oc_window_is_late(T0, T0 + 120001, 120000));
  assert_false(oc_window_is_late(T0, T0 + 120000, 120000));
}

static void test_dead_letters_round_trip(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_error err;
  uint8_t raw[] = {'x', 0, 0xff, 'y'};
  oc_dead_letter dl = {.received_ms = 5, .raw = raw, .raw_len = sizeof raw};
  strcpy(dl.topic, "oil/sensors/x");
  strcpy(dl.reason, "not JSON");
  assert_int_equal(oc_store_dead_letter_insert(f->store, &dl, &err), 0);
  assert_true(dl.id > 0);
  dl.received_ms = 6; /* the broker redelivers it (QoS 1, after a crash): counted, not stored twice */
  assert_int_equal(oc_store_dead_letter_insert(f->store, &dl, &err), 0);
  oc_dead_letter *rows;
  size_t n;
  assert_int_equal(oc_store_dead_letters_list(f->store, 10, &rows, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_true(rows[0].seen == 2 && rows[0].received_ms == 5 && rows[0].last_received_ms == 6);
  assert_int_equal(rows[0].raw_len, sizeof raw);
  assert_memory_equal(rows[0].raw, raw, sizeof raw);
  assert_string_equal(rows[0].reason, "not JSON");
  oc_dead_letter_list_free(rows, n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_any_order_within_grace_equals_sorted),
      cmocka_unit_test_setup_teardown(test_late_duplicate_and_rollback, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_closed_days_become_series, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test(test_widths_and_starts),
      cmocka_unit_test_setup_teardown(test_dead_letters_round_trip, oc_test_datadir_setup, oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
