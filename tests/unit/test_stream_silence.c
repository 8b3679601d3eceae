/* Unit tests for the stream's silence detector (stream/silence.h) and the live sensor feed, on a SQLite
 * store (test_store.c runs the ops on every backend): the clock is the caller's, so each check is one
 * instant.
 * A sensor quiet for exactly 3 intervals is not silent, a millisecond more is; an episode is stored
 * once however many checks see it, ended (once) by the first check after a newer reading, and a new
 * gap starts a new episode; a stream just (re)connected calls no sensor silent before it has listened
 * for a whole silence, or off what a short outage may have held when it listened before, so a
 * flapping connection still reports a sensor gone quiet; revoked and unregistered devices are not watched; the latest reading is
 * kept by (event time, seq) whatever the arrival order; every stored or ended anomaly and every
 * smallest window records a change naming its row, and a rolled-back batch records none. Also: the
 * [stream] section of oilcast.conf. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "pipeline/stream.h"
#include "store/datadir.h"
#include "stream/silence.h"
#include "stream/window.h"

#define T0 1767225600000LL
#define INTERVAL_MS 60000LL /* pipeline_pressure's default interval */

static void add_device(oc_store *store, const char *id) {
  const oc_device_type *t = oc_device_type_find("pipeline_pressure");
  oc_device d = {.valid_min = t->valid_min, .valid_max = t->valid_max, .interval_seconds = t->interval_seconds,
                 .created_at = 1700000000};
  snprintf(d.id, sizeof d.id, "%s", id);
  snprintf(d.type, sizeof d.type, "%s", t->name);
  snprintf(d.unit, sizeof d.unit, "%s", t->unit);
  snprintf(d.password_hash, sizeof d.password_hash, "$7$101$c2FsdHNhbHRzYWx0$aGFzaA==");
  oc_error err;
  if (oc_store_device_put(store, &d, &err) != 0) fail_msg("%s", err.message);
}

static oc_sensor_reading reading(const char *device, int64_t seq, int64_t event_ms, double value) {
  oc_sensor_reading r = {.seq = seq, .event_ms = event_ms, .value = value};
  snprintf(r.device_id, sizeof r.device_id, "%s", device);
  snprintf(r.measurement, sizeof r.measurement, "pressure");
  snprintf(r.unit, sizeof r.unit, "bar");
  return r;
}

/* One batch as the stream commits it: readings, windows, latest readings. */
static void batch(oc_store *store, const oc_sensor_reading *r, size_t n) {
  oc_window_options wo = oc_window_options_default();
  oc_window_counts wc = {0};
  oc_error err;
  assert_int_equal(oc_store_begin(store, &err), 0);
  if (oc_window_apply(store, &wo, r, n, &wc, NULL, &err) != 0 || oc_silence_note(store, r, n, &err) != 0)
    fail_msg("%s", err.message);
  assert_int_equal(oc_store_commit(store, &err), 0);
}

/* One check at now_ms by a stream that listened as *l says, in its own transaction as the stream runs
 * it. */
static oc_silence_counts check_listening(oc_store *store, int64_t now_ms, const oc_silence_listening *l) {
  oc_silence_options so = oc_silence_options_default();
  oc_silence_counts sc = {0};
  oc_error err;
  assert_int_equal(oc_store_begin(store, &err), 0);
  if (oc_silence_check(store, &so, now_ms, l, &sc, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(oc_store_commit(store, &err), 0);
  return sc;
}

/* One check at now_ms by a stream whose first connection came up at connected_ms. */
static oc_silence_counts check_since(oc_store *store, int64_t now_ms, int64_t connected_ms) {
  oc_silence_listening l = {0};
  oc_silence_listening_up(&l, connected_ms);
  return check_listening(store, now_ms, &l);
}

/* One check at now_ms by a stream connected long before. */
static oc_silence_counts check(oc_store *store, int64_t now_ms) { return check_since(store, now_ms, 0); }

static oc_sensor_anomaly silence_of(oc_store *store, const char *device, int64_t event_ms) {
  oc_sensor_anomaly a;
  bool found;
  oc_error err;
  assert_int_equal(oc_store_sensor_anomaly_get(store, device, "pressure", "silence", event_ms, &a, &found, &err), 0);
  assert_true(found);
  return a;
}

/* The subjects of the changes of kind after id, in order, joined by spaces. */
static char *changes_of(oc_store *store, int64_t after, oc_change_kind kind) {
  oc_change *c;
  size_t n;
  oc_error err;
  assert_int_equal(oc_store_changes_after(store, after, 1000, &c, &n, &err), 0);
  oc_buf out = {0};
  oc_buf_puts(&out, "");
  for (size_t i = 0; i < n; i++)
    if (c[i].kind == kind) oc_buf_printf(&out, "%s%s", out.len ? " " : "", c[i].subject);
  free(c);
  return oc_buf_steal(&out);
}

static int64_t latest_change(oc_store *store) {
  int64_t id;
  oc_error err;
  assert_int_equal(oc_store_changes_latest(store, &id, &err), 0);
  return id;
}

static void test_episode_starts_once_and_ends(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_store *store = f->store;
  add_device(store, "p-1");
  oc_sensor_reading r[5];
  for (int i = 0; i < 5; i++) r[i] = reading("p-1", i, T0 + i * 1000LL, 100 + i);
  batch(store, r, 5);
  const int64_t last = T0 + 4000;
  int64_t before = latest_change(store);
  oc_silence_counts sc = check(store, last + 3 * INTERVAL_MS); /* exactly 3 intervals: not yet */
  assert_int_equal(sc.started + sc.ended, 0);
  sc = check(store, last + 3 * INTERVAL_MS + 1);
  assert_int_equal(sc.started, 1);
  oc_sensor_anomaly a = silence_of(store, "p-1", last);
  assert_int_equal(a.seq, 4);
  assert_true(a.value == 104);
  assert_int_equal(a.detected_ms, last + 3 * INTERVAL_MS + 1);
  assert_int_equal(a.ended_ms, 0);
  assert_true(oc_test_close(a.score, 3.0 + 1.0 / INTERVAL_MS, 1e-12));
  for (int k = 1; k <= 3; k++) { /* the same gap, checked again and again: no second episode */
    sc = check(store, last + (3 + k) * INTERVAL_MS);
    assert_int_equal(sc.started + sc.ended, 0);
  }
  oc_sensor_stats st;
  oc_error err;
  assert_int_equal(oc_store_sensor_stats(store, &st, &err), 0);
  assert_int_equal(st.anomalies, 1);

  oc_sensor_reading back = reading("p-1", 5, last + 10 * INTERVAL_MS, 101);
  batch(store, &back, 1);
  sc = check(store, back.event_ms + 1000);
  assert_int_equal(sc.ended, 1);
  assert_int_equal(sc.started, 0);
  assert_int_equal(silence_of(store, "p-1", last).ended_ms, back.event_ms);
  sc = check(store, back.event_ms + 2000);
  assert_int_equal(sc.started + sc.ended, 0);

  sc = check(store, back.event_ms + 4 * INTERVAL_MS); /* quiet again: a second episode */
  assert_int_equal(sc.started, 1);
  assert_int_equal(silence_of(store, "p-1", back.event_ms).ended_ms, 0);
  assert_int_equal(silence_of(store, "p-1", last).ended_ms, back.event_ms);
  char *subjects = changes_of(store, before, OC_CHANGE_SENSOR_ANOMALY);
  char expected[256];
  snprintf(expected, sizeof expected, "p-1/pressure/silence/%lld p-1/pressure/silence/%lld p-1/pressure/silence/%lld",
           (long long)last, (long long)last, (long long)back.event_ms); /* stored, ended, the next one stored */
  assert_string_equal(subjects, expected);
  free(subjects);
}

/* A stream that (re)connects finds sensors quiet since it went away, whose readings of that time the
 * broker may still hold for its session, arriving after its first checks (a backlog of hours takes
 * seconds): none is silent before the stream has listened for a whole silence (3 intervals). */
static void test_no_silence_before_listening_long_enough(void **state) {
  oc_test_datadir_fixture *f = *state;
  add_device(f->store, "p-1");
  oc_sensor_reading r = reading("p-1", 1, T0, 100);
  batch(f->store, &r, 1);
  const int64_t connected = T0 + 600 * INTERVAL_MS; /* down for 10 hours */
  oc_silence_counts sc = check_since(f->store, connected + 1000, connected);
  assert_int_equal(sc.started, 0);
  sc = check_since(f->store, connected + 3 * INTERVAL_MS, connected);
  assert_int_equal(sc.started, 0);
  sc = check_since(f->store, connected + 3 * INTERVAL_MS + 1, connected); /* listened for a whole silence */
  assert_int_equal(sc.started, 1);
}

/* A connection that keeps dropping (every 2 intervals here, back 1 s later: a flaky link, a batch the
 * store keeps refusing) still reports a sensor that went quiet for good: counting from each
 * reconnection, no connection ever lasted the 3 intervals of a silence and the sensor was never
 * reported. What each reconnection may have missed (1 s away) is listened off within its first
 * second; after a long outage, the next connection still listens for a whole silence first. */
static void test_silence_reported_across_flapping_connections(void **state) {
  oc_test_datadir_fixture *f = *state;
  add_device(f->store, "p-1");
  oc_sensor_reading r = reading("p-1", 1, T0, 100);
  batch(f->store, &r, 1);
  oc_silence_listening l = {0};
  oc_silence_listening_up(&l, T0 - 10 * INTERVAL_MS);
  int64_t now = T0, reported_at = 0;
  while (now < T0 + 20 * INTERVAL_MS && !reported_at) {
    oc_silence_listening_down(&l, now);
    now += 1000;
    oc_silence_listening_up(&l, now);
    if (check_listening(f->store, now + 500, &l).started) fail_msg("silent before what the outage held was heard");
    for (int64_t at = now + 1001; at < now + 2 * INTERVAL_MS && !reported_at; at += 10000)
      if (check_listening(f->store, at, &l).started) reported_at = at;
    now += 2 * INTERVAL_MS;
  }
  if (!reported_at) fail_msg("a sensor quiet for 20 intervals across a flapping connection was never reported");
  assert_true(reported_at > T0 + 3 * INTERVAL_MS && reported_at < T0 + 3 * INTERVAL_MS + 2 * INTERVAL_MS);

  /* another sensor quiet since a 10-hour outage: nothing before the connection after it has listened
   * for a whole silence, whatever the stream listened before */
  add_device(f->store, "p-2");
  oc_sensor_reading r2 = reading("p-2", 1, now, 100);
  batch(f->store, &r2, 1);
  oc_silence_listening_down(&l, now);
  now += 600 * INTERVAL_MS;
  oc_silence_listening_up(&l, now);
  assert_int_equal(check_listening(f->store, now + 3 * INTERVAL_MS, &l).started, 0);
  assert_int_equal(check_listening(f->store, now + 3 * INTERVAL_MS + 1, &l).started, 1);
}

static void test_only_active_registered_devices(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_store *store = f->store;
  add_device(store, "p-1");
  add_device(store, "p-2");
  oc_sensor_reading r[3] = {reading("p-1", 0, T0, 100), reading("p-2", 0, T0, 100), reading("ghost", 0, T0, 100)};
  batch(store, r, 3); /* "ghost" is no device: the stream dead-letters its messages, here it slips in */
  bool found;
  oc_error err;
  assert_int_equal(oc_store_device_revoke(store, "p-2", 1700000001, &found, &err), 0);
  oc_silence_counts sc = check(store, T0 + 10 * INTERVAL_MS);
  assert_int_equal(sc.started, 1);
  oc_sensor_anomaly a;
  assert_int_equal(oc_store_sensor_anomaly_get(store, "p-2", "pressure", "silence", T0, &a, &found, &err), 0);
  assert_false(found);
  assert_int_equal(oc_store_sensor_anomaly_get(store, "ghost", "pressure", "silence", T0, &a, &found, &err), 0);
  assert_false(found);
}

static void test_latest_reading_whatever_the_order(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_store *store = f->store;
  add_device(store, "p-1");
  oc_sensor_reading newest = reading("p-1", 7, T0 + 5000, 1), tie = reading("p-1", 6, T0 + 5000, 2),
                    older = reading("p-1", 9, T0, 3);
  oc_sensor_reading order[3] = {newest, tie, older};
  oc_error err;
  assert_int_equal(oc_silence_note(store, order, 3, &err), 0);
  assert_int_equal(oc_silence_note(store, &older, 1, &err), 0); /* a later batch with an older reading */
  oc_sensor_watch *w;
  size_t n;
  assert_int_equal(oc_store_sensor_watch_list(store, &w, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(w[0].last.seq, 7);
  assert_int_equal(w[0].last.event_ms, T0 + 5000);
  assert_int_equal(w[0].interval_seconds, 60);
  assert_false(w[0].open);
  free(w);
}

static void test_window_changes_and_rollback(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_store *store = f->store;
  add_device(store, "p-1");
  int64_t before = latest_change(store);
  oc_sensor_reading r[3] = {reading("p-1", 0, T0, 100), reading("p-1", 1, T0 + 1000, 102),
                            reading("p-1", 2, T0 + 61000, 104)};
  batch(store, r, 3);
  char *subjects = changes_of(store, before, OC_CHANGE_SENSOR_WINDOW);
  char expected[256];
  snprintf(expected, sizeof expected, "p-1/pressure/60000/%lld p-1/pressure/60000/%lld", T0, T0 + 60000LL);
  assert_string_equal(subjects, expected); /* the 1-minute windows only: the hour and the day are made of them */
  free(subjects);
  oc_sensor_window w;
  bool found;
  oc_error err;
  assert_int_equal(oc_store_sensor_window_get(store, "p-1", "pressure", 60000, T0, &w, &found, &err), 0);
  assert_true(found);
  assert_int_equal(w.count, 2);
  assert_true(w.mean == 101 && w.min == 100 && w.max == 102 && w.last == 102);
  before = latest_change(store);
  oc_window_options wo = oc_window_options_default();
  oc_window_counts wc = {0};
  oc_sensor_reading more = reading("p-1", 3, T0 + 62000, 90);
  assert_int_equal(oc_store_begin(store, &err), 0);
  assert_int_equal(oc_window_apply(store, &wo, &more, 1, &wc, NULL, &err), 0);
  assert_int_equal(oc_store_rollback(store, &err), 0);
  assert_int_equal(latest_change(store), before);
}

static void test_subjects(void **state) {
  (void)state;
  char subject[OC_CHANGE_SUBJECT_MAX], device[OC_SENSOR_DEVICE_MAX + 1], measurement[OC_SENSOR_MEASUREMENT_MAX + 1],
      part[24];
  int64_t number;
  char long_device[OC_SENSOR_DEVICE_MAX + 1], long_measurement[OC_SENSOR_MEASUREMENT_MAX + 1];
  memset(long_device, 'd', OC_SENSOR_DEVICE_MAX);
  long_device[OC_SENSOR_DEVICE_MAX] = '\0';
  memset(long_measurement, 'm', OC_SENSOR_MEASUREMENT_MAX);
  long_measurement[OC_SENSOR_MEASUREMENT_MAX] = '\0';
  oc_sensor_change_subject(subject, long_device, long_measurement, "silence", -62135596800000LL); /* 0001-01-01 */
  assert_int_equal(oc_sensor_change_subject_parse(subject, device, measurement, part, &number), 0);
  assert_string_equal(device, long_device);
  assert_string_equal(measurement, long_measurement);
  assert_string_equal(part, "silence");
  assert_int_equal(number, -62135596800000LL);
  const char *bad[] = {"", "a/b/c", "a/b/c/", "a//c/1", "a/b/c/1x", "a/b/c/1/2", "a/b/c/99999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(oc_sensor_change_subject_parse(bad[i], device, measurement, part, &number), -1);
}

static void test_stream_section(void **state) {
  oc_test_datadir_fixture *f = *state;
  char *conf_path = oc_path_join(f->dir, OC_DATADIR_CONF);
  char *text;
  size_t len;
  oc_error err;
  assert_int_equal(oc_read_file(conf_path, &text, &len, &err), 0);
  oc_buf conf_text = {0};
  oc_buf_printf(&conf_text, "%s\n[stream]\nbroker = mqtt://127.0.0.1:1884\nclient_id = here\nsilence_factor = 2.5\n"
                            "windows = 30s,1m\n[]\n", text);
  free(text);
  free(oc_test_write_file(f->dir, OC_DATADIR_CONF, conf_text.data));
  oc_store *again; /* the data directory still opens: the section's keys are known ones */
  assert_int_equal(oc_datadir_open(f->dir, &again, &err), 0);
  oc_store_close(again);
  oc_stream_options o = oc_stream_options_default();
  oc_conf conf;
  assert_int_equal(oc_stream_options_configure(f->dir, &conf, &o, &err), 0);
  assert_string_equal(o.session.broker, "mqtt://127.0.0.1:1884");
  assert_string_equal(o.session.client_id, "here");
  assert_string_equal(o.session.filter, "$share/oilcast/oil/sensors/#"); /* not given: the default */
  assert_true(o.silence.factor == 2.5);
  assert_int_equal(o.windows.n_widths, 2);
  assert_int_equal(o.windows.widths_ms[0], 30000);
  oc_conf_free(&conf);
  oc_buf_printf(&conf_text, "[stream]\nsilence_factor = 0.5\n");
  free(oc_test_write_file(f->dir, OC_DATADIR_CONF, conf_text.data));
  assert_int_equal(oc_stream_options_configure(f->dir, &conf, &o, &err), -1);
  assert_non_null(strstr(err.message, "stream.silence_factor = '0.5'"));
  oc_conf_free(&conf);
  oc_buf_free(&conf_text);
  free(conf_path);
}

int main(void) {
  const struct CMUnitTest sqlite_tests[] = {
      cmocka_unit_test_setup_teardown(test_episode_starts_once_and_ends, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_no_silence_before_listening_long_enough, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_silence_reported_across_flapping_connections, oc_test_datadir_setup,
                                      oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_only_active_registered_devices, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_latest_reading_whatever_the_order, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test_setup_teardown(test_window_changes_and_rollback, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test(test_subjects),
      cmocka_unit_test_setup_teardown(test_stream_section, oc_test_datadir_setup, oc_test_datadir_teardown),
  };
  return cmocka_run_group_tests_name("silence", sqlite_tests, NULL, NULL);
}
