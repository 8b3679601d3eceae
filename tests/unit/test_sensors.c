/* Unit tests for the SIMULATED sensor readings (ingest/sensors.h): the same options give byte-identical
 * output and another seed another; a device's readings do not depend on how many devices there are;
 * every reading parses as the documented JSON (docs/sensors.md) and is valid for its registered device
 * unless marked out_of_range; per device the sequence numbers are the start in microseconds plus
 * 1..n and event times increase with them, and a restarted run numbers on above the last one's; the injections occur (spikes, stuck runs, out-of-range, late and very late) and late readings
 * really arrive after later event times; tank levels lead the simulated WTI of the same seed (negative
 * correlation of the day's mean level with the coming L-day log change of the price); registering
 * the simulator's devices writes a 0600 credentials file, all or nothing. */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/fsutil.h"
#include "devices/devices.h"
#include "ingest/mqtt.h"
#include "ingest/sensors.h"
#include "ingest/sensors_mqtt.h"
#include "ingest/simulate.h"

static oc_sensor_sim_options options(uint64_t seed, size_t devices, double rate, int64_t count) {
  return (oc_sensor_sim_options){.seed = seed, .devices = devices, .rate = rate,
                                 .start_ms = (int64_t)oc_date_from_ymd(2025, 1, 6) * 86400000, .count = count};
}

/* The reading's number among its device's readings (1, 2, ...): its seq above the run's start in us. */
static int64_t reading_number(const oc_sensor_sim_options *opt, const oc_sensor_sim_reading *r) {
  return r->seq - opt->start_ms * 1000;
}

/* Every payload of the run, one per line. */
static char *run_text(const oc_sensor_sim_options *opt) {
  oc_error err;
  oc_sensor_sim *sim = oc_sensor_sim_new(opt, &err);
  if (!sim) fail_msg("%s", err.message);
  oc_buf text = {0};
  oc_sensor_sim_reading r;
  while (oc_sensor_sim_next(sim, &r)) {
    oc_sensor_reading_json(&r, &text);
    oc_buf_putc(&text, '\n');
  }
  oc_sensor_sim_free(sim);
  return oc_buf_steal(&text);
}

static void test_deterministic_per_seed(void **state) {
  (void)state;
  oc_sensor_sim_options a = options(7, 5, 50, 5000);
  char *first = run_text(&a), *second = run_text(&a);
  assert_string_equal(first, second);
  oc_sensor_sim_options b = options(8, 5, 50, 5000);
  char *other = run_text(&b);
  assert_string_not_equal(first, other);
  free(first), free(second), free(other);

  /* device sim-0003's readings are the same among 5 devices as among 10 (same period: rate doubles): its
   * own draws; only its event times shift by (2/5 - 2/10) s, which moves the daily cycle by < 0.001 */
  oc_sensor_sim_options five = options(7, 5, 5, 500), ten = options(7, 10, 10, 1000);
  oc_error err;
  oc_sensor_sim *s5 = oc_sensor_sim_new(&five, &err), *s10 = oc_sensor_sim_new(&ten, &err);
  oc_sensor_sim_reading r;
  double v5[100], v10[100];
  size_t n5 = 0, n10 = 0;
  while (oc_sensor_sim_next(s5, &r))
    if (r.device_index == 2 && reading_number(&five, &r) <= 100) v5[reading_number(&five, &r) - 1] = r.value, n5++;
  while (oc_sensor_sim_next(s10, &r))
    if (r.device_index == 2 && reading_number(&ten, &r) <= 100) v10[reading_number(&ten, &r) - 1] = r.value, n10++;
  assert_int_equal(n5, 100);
  assert_int_equal(n10, 100);
  for (size_t k = 0; k < 100; k++) assert_true(fabs(v5[k] - v10[k]) <= 0.0015 * fmax(1, fabs(v5[k])));
  oc_sensor_sim_free(s5);
  oc_sensor_sim_free(s10);
}

/* "2025-01-06T00:00:01.250Z" as Unix ms. */
static int64_t parse_event_time(const char *text) {
  int y, mo, d, h, mi, s, ms;
  assert_int_equal(sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &y, &mo, &d, &h, &mi, &s, &ms), 7);
  assert_int_equal(strlen(text), 24);
  return ((int64_t)oc_date_from_ymd(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000 + ms;
}

static void test_payloads_follow_the_schema(void **state) {
  (void)state;
  enum { DEVICES = 5, COUNT = 10000 };
  oc_sensor_sim_options opt = options(11, DEVICES, 100, COUNT);
  oc_error err;
  oc_sensor_sim *sim = oc_sensor_sim_new(&opt, &err);
  oc_sensor_sim_reading r;
  oc_buf payload = {0};
  int64_t last_seq[DEVICES] = {0}, max_event_seen = 0;
  size_t injected[5] = {0}, late_arrivals = 0, total = 0;
  int64_t *event_of_seq[DEVICES];
  for (size_t j = 0; j < DEVICES; j++) event_of_seq[j] = oc_xcalloc(COUNT / DEVICES + 1, sizeof(int64_t));
  while (oc_sensor_sim_next(sim, &r)) {
    total++;
    oc_buf_clear(&payload);
    oc_sensor_reading_json(&r, &payload);
    json_error_t jerr;
    json_t *doc = json_loads(payload.data, 0, &jerr);
    if (!doc) fail_msg("not JSON: %s (%s)", payload.data, jerr.text);
    oc_device d;
    oc_sensor_sim_device(r.device_index, &d);
    assert_true(json_is_true(json_object_get(doc, "simulated")));
    assert_string_equal(json_string_value(json_object_get(doc, "device")), d.id);
    assert_string_equal(json_string_value(json_object_get(doc, "type")), d.type);
    int64_t seq = json_integer_value(json_object_get(doc, "seq"));
    assert_int_equal(seq, r.seq);
    int64_t event_ms = parse_event_time(json_string_value(json_object_get(doc, "event_time")));
    assert_int_equal(event_ms, r.event_ms);
    json_t *measurements = json_object_get(doc, "measurements");
    assert_int_equal(json_object_size(measurements), 1);
    json_t *m = json_object_get(measurements, r.measurement);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "unit")), d.unit);
    double value = json_number_value(json_object_get(m, "value"));
    assert_true(fabs(value - r.value) < 1e-9);
    bool in_range = value >= d.valid_min && value <= d.valid_max;
    assert_true(in_range == !(r.injected & OC_SENSOR_OUT_OF_RANGE));
    json_decref(doc);

    /* per device: each seq once, event time grows with seq */
    size_t j = r.device_index;
    int64_t number = reading_number(&opt, &r);
    assert_true(number >= 1 && number <= COUNT / DEVICES);
    event_of_seq[j][number - 1] = r.event_ms;
    if (number > last_seq[j]) last_seq[j] = number;
    if (r.event_ms < max_event_seen) late_arrivals++;
    else max_event_seen = r.event_ms;
    for (int k = 0; k < 5; k++) injected[k] += (r.injected >> k) & 1;
    assert_true(!(r.event_ms < max_event_seen) || (r.injected & (OC_SENSOR_LATE | OC_SENSOR_VERY_LATE)));
  }
  assert_int_equal(total, COUNT);
  for (size_t j = 0; j < DEVICES; j++) {
    assert_int_equal(last_seq[j], COUNT / DEVICES);
    for (int64_t k = 1; k < COUNT / DEVICES; k++) assert_true(event_of_seq[j][k] > event_of_seq[j][k - 1]);
    free(event_of_seq[j]);
  }
  /* spikes, stuck runs, out-of-range values, late and very late messages all occur */
  for (int k = 0; k < 5; k++)
    if (injected[k] == 0) fail_msg("injection %d never happened in %d readings", k, COUNT);
  assert_true(late_arrivals > 0 && late_arrivals >= injected[3] / 2);
  oc_buf_free(&payload);
  oc_sensor_sim_free(sim);
}

/* Each device's seqs and event times over a run of opt: the smallest and the largest. */
static void seq_span(const oc_sensor_sim_options *opt, int64_t *min_seq, int64_t *max_seq, int64_t *max_event) {
  oc_error err;
  oc_sensor_sim *sim = oc_sensor_sim_new(opt, &err);
  if (!sim) fail_msg("%s", err.message);
  for (size_t j = 0; j < opt->devices; j++) min_seq[j] = INT64_MAX, max_seq[j] = INT64_MIN;
  *max_event = INT64_MIN;
  oc_sensor_sim_reading r;
  while (oc_sensor_sim_next(sim, &r)) {
    size_t j = r.device_index;
    if (r.seq < min_seq[j]) min_seq[j] = r.seq;
    if (r.seq > max_seq[j]) max_seq[j] = r.seq;
    if (r.event_ms > *max_event) *max_event = r.event_ms;
  }
  oc_sensor_sim_free(sim);
}

/* A simulator restarted after its last reading numbers each device's readings on above the last run's
 * (the stream dead-letters a seq stored already with another reading: a restart from seq 1 made every
 * reading of the new run a dead letter), even at a device's fastest (1e6 readings a second) and when
 * the new run starts the millisecond after the last one's last reading. */
static void test_restarted_run_numbers_on(void **state) {
  (void)state;
  enum { DEVICES = 3 };
  const double rates[] = {10, 1e6};
  for (size_t i = 0; i < 2; i++) {
    oc_sensor_sim_options first = options(5, DEVICES, rates[i], 3000), again = first;
    int64_t min1[DEVICES], max1[DEVICES], min2[DEVICES], max2[DEVICES], last_event, ignored;
    seq_span(&first, min1, max1, &last_event);
    again.start_ms = last_event + 1;
    seq_span(&again, min2, max2, &ignored);
    for (size_t j = 0; j < DEVICES; j++) {
      assert_true(min1[j] == first.start_ms * 1000 + 1 && max1[j] == first.start_ms * 1000 + 1000);
      if (min2[j] <= max1[j])
        fail_msg("rate %g, device %zu: the restarted run's seq %lld is not above the last run's %lld", rates[i], j,
                 (long long)min2[j], (long long)max1[j]);
    }
  }
}

/* Pearson correlation of x and y. */
static double correlation(const double *x, const double *y, size_t n) {
  double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; i++) mx += x[i] / (double)n, my += y[i] / (double)n;
  for (size_t i = 0; i < n; i++)
    sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx), syy += (y[i] - my) * (y[i] - my);
  return sxy / sqrt(sxx * syy);
}

static void test_tank_levels_lead_the_simulated_price(void **state) {
  (void)state;
  /* 5 devices, one reading each per 2 hours, 400 days: device 3 (tank_level) has 12 readings a day */
  enum { DAYS = 400 };
  oc_sensor_sim_options opt = options(3, 5, 5.0 / 7200, 5 * 12 * DAYS);
  oc_error err;
  oc_sensor_sim *sim = oc_sensor_sim_new(&opt, &err);
  double level_sum[DAYS + 1] = {0};
  int level_n[DAYS + 1] = {0};
  oc_sensor_sim_reading r;
  while (oc_sensor_sim_next(sim, &r)) {
    if (strcmp(r.type, "tank_level") != 0 || r.injected) continue;
    int64_t day = (r.event_ms - opt.start_ms) / 86400000;
    level_sum[day] += r.value, level_n[day]++;
  }
  oc_sensor_sim_free(sim);
  size_t ndays = DAYS + OC_SENSOR_LEAD_DAYS + 10;
  oc_date *dates = oc_xcalloc(ndays, sizeof *dates);
  double *prices = oc_xcalloc(ndays, sizeof *prices);
  oc_simulate_series(3, 0, (oc_date)(opt.start_ms / 86400000), ndays, dates, prices);
  double x[DAYS], y[DAYS];
  size_t n = 0;
  for (size_t i = 0; i + OC_SENSOR_LEAD_DAYS < ndays && n < DAYS; i++) {
    int64_t day = dates[i] - (oc_date)(opt.start_ms / 86400000);
    if (day >= DAYS || level_n[day] == 0) continue;
    x[n] = level_sum[day] / level_n[day];
    y[n] = log(prices[i + OC_SENSOR_LEAD_DAYS]) - log(prices[i]);
    n++;
  }
  assert_true(n > 200);
  double rho = correlation(x, y, n);
  if (!(rho < -0.5)) fail_msg("tank level vs coming price change: correlation %.3f, expected < -0.5", rho);
  free(dates);
  free(prices);
}

static void test_file_and_register(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_error err;
  oc_sensor_sim_options opt = options(5, 3, 10, 300);
  char *path = oc_path_join(f->dir, "readings.jsonl"), *text = NULL;
  int64_t written;
  assert_int_equal(oc_sensor_sim_write_file(&opt, path, &written, &err), 0);
  assert_int_equal(written, 300);
  size_t len;
  assert_int_equal(oc_read_file(path, &text, &len, &err), 0);
  char *expected = run_text(&opt);
  assert_string_equal(text, expected);
  free(text), free(expected), free(path);

  char *creds = oc_path_join(f->dir, "sim.credentials");
  assert_int_equal(oc_sensor_sim_register(f->store, 3, 0, 1700000000, creds, &err), 0);
  struct stat st;
  assert_int_equal(stat(creds, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  char **passwords = NULL;
  assert_int_equal(oc_sensor_credentials_read(creds, 3, &passwords, &err), 0);
  for (size_t i = 0; i < 3; i++) {
    oc_device expected_device, got;
    oc_sensor_sim_device(i, &expected_device);
    bool found;
    assert_int_equal(oc_store_device_get(f->store, expected_device.id, &got, &found, &err), 0);
    assert_true(found);
    assert_string_equal(got.type, expected_device.type);
    assert_true(oc_device_password_verify(passwords[i], got.password_hash));
    free(passwords[i]);
  }
  free(passwords);
  assert_int_equal(oc_sensor_credentials_read(creds, 4, &passwords, &err), -1);
  assert_non_null(strstr(err.message, "sim-0004"));

  /* sim-0001..0003 exist: registering 5 fails whole (no sim-0004, the old file untouched) */
  char *before = NULL;
  assert_int_equal(oc_read_file(creds, &before, &len, &err), 0);
  assert_int_equal(oc_sensor_sim_register(f->store, 5, 0, 1700000001, creds, &err), -1);
  assert_non_null(strstr(err.message, "sim-0001"));
  oc_device got;
  bool found = true;
  assert_int_equal(oc_store_device_get(f->store, "sim-0004", &got, &found, &err), 0);
  assert_false(found);
  char *after = NULL;
  assert_int_equal(oc_read_file(creds, &after, &len, &err), 0);
  assert_string_equal(before, after);
  free(before), free(after), free(creds);
}

static void test_mqtt_url(void **state) {
  (void)state;
  char host[64];
  int port;
  oc_error err;
  assert_int_equal(oc_mqtt_parse_url("mqtt://127.0.0.1:18830", host, sizeof host, &port, &err), 0);
  assert_string_equal(host, "127.0.0.1");
  assert_int_equal(port, 18830);
  assert_int_equal(oc_mqtt_parse_url("mqtt://broker", host, sizeof host, &port, &err), 0);
  assert_int_equal(port, 1883);
  assert_int_equal(oc_mqtt_parse_url("http://broker:1883", host, sizeof host, &port, &err), -1);
  assert_int_equal(oc_mqtt_parse_url("mqtt://broker:0", host, sizeof host, &port, &err), -1);
  assert_int_equal(oc_mqtt_parse_url("mqtt://:1883", host, sizeof host, &port, &err), -1);
  assert_int_equal(oc_mqtt_parse_url("mqtt://u@h:1883", host, sizeof host, &port, &err), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_deterministic_per_seed),
      cmocka_unit_test(test_payloads_follow_the_schema),
      cmocka_unit_test(test_restarted_run_numbers_on),
      cmocka_unit_test(test_tank_levels_lead_the_simulated_price),
      cmocka_unit_test_setup_teardown(test_file_and_register, oc_test_datadir_setup, oc_test_datadir_teardown),
      cmocka_unit_test(test_mqtt_url),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
