/* Unit tests for the stream's anomaly detectors (stream/anomaly.h) on a store: a reading far outside its
 * trailing median/MAD is a spike (its robust z as score), the 10th identical value in a row is a stuck
 * value (once, also when a reading of the run comes late), an ordinary reading is neither, and a
 * redelivered batch stores no second anomaly. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "stream/anomaly.h"
#include "stream/window.h"

#define T0 1767225600000LL

static void apply(oc_store *store, const oc_sensor_reading *r, size_t n, oc_anomaly_counts *ac) {
  oc_window_options wo = oc_window_options_default();
  oc_anomaly_options ao = oc_anomaly_options_default();
  oc_window_counts wc = {0};
  oc_error err;
  assert_int_equal(oc_store_begin(store, &err), 0);
  if (oc_window_apply(store, &wo, r, n, &wc, NULL, &err) != 0 || oc_anomaly_detect(store, &ao, r, n, 1, ac, &err) != 0)
    fail_msg("%s", err.message);
  assert_int_equal(oc_store_commit(store, &err), 0);
}

static void test_spike_and_stuck(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_sensor_reading r[51];
  for (int i = 0; i < 51; i++) {
    r[i] = (oc_sensor_reading){.seq = i, .event_ms = T0 + i * 1000LL};
    strcpy(r[i].device_id, "p-1");
    strcpy(r[i].measurement, "pressure");
    strcpy(r[i].unit, "bar");
    r[i].value = i < 40 ? 100 + i % 5 : i == 40 ? 200 : 102;
  }
  oc_anomaly_counts ac = {0};
  apply(f->store, r, 40, &ac); /* ordinary noise */
  assert_int_equal(ac.spikes, 0);
  assert_int_equal(ac.stuck, 0);
  apply(f->store, r + 40, 11, &ac);
  assert_int_equal(ac.spikes, 1); /* 200 against a median of 102 and a MAD of 1 */
  assert_int_equal(ac.stuck, 1);  /* seq 41..50: ten times 102 */
  oc_sensor_stats st;
  oc_error err;
  assert_int_equal(oc_store_sensor_stats(f->store, &st, &err), 0);
  assert_int_equal(st.anomalies, 2);
  oc_anomaly_counts again = {0};
  apply(f->store, r + 40, 11, &again); /* a redelivery */
  assert_int_equal(again.spikes + again.stuck, 0);
  assert_int_equal(oc_store_sensor_stats(f->store, &st, &err), 0);
  assert_int_equal(st.anomalies, 2);
}

/* A stuck run whose 10th value comes late (inside the grace, after the 11th..15th) is reported once,
 * not once when the 11th completes ten values in a row and again when the late 10th does. */
static void test_stuck_once_when_a_reading_comes_late(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_sensor_reading r[15];
  for (int i = 0; i < 15; i++) {
    r[i] = (oc_sensor_reading){.seq = i, .event_ms = T0 + i * 1000LL, .value = 7};
    strcpy(r[i].device_id, "p-1");
    strcpy(r[i].measurement, "pressure");
    strcpy(r[i].unit, "bar");
  }
  oc_sensor_reading early[14];
  memcpy(early, r, 9 * sizeof *r);
  memcpy(early + 9, r + 10, 5 * sizeof *r); /* seq 9 held back */
  oc_anomaly_counts ac = {0};
  apply(f->store, early, 14, &ac);
  assert_int_equal(ac.stuck, 1);
  apply(f->store, r + 9, 1, &ac); /* seq 9 arrives */
  assert_int_equal(ac.stuck, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_spike_and_stuck, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_stuck_once_when_a_reading_comes_late, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
