/* Unit tests for the sensor subscriber's pure parts: the MQTT 3.1.1 packet codec (ingest/mqtt_packet.h:
 * the bytes of each packet a subscriber sends, every packet it receives decoded, split at every byte,
 * malformed packets refused) and the sensor payload (ingest/mqtt_payload.h: the schema, each dead-letter
 * reason, the check against a registered device). */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/utf8.h"
#include "ingest/mqtt.h"
#include "ingest/mqtt_packet.h"
#include "ingest/mqtt_payload.h"

static void assert_bytes(const oc_buf *b, const uint8_t *want, size_t n) {
  assert_int_equal(b->len, n);
  assert_memory_equal(b->data, want, n);
}

/* Left unset, the client id is the host's: stable across restarts (the persistent session is found again)
 * and different on every machine, so instances on several hosts share $share/... without taking each
 * other's session; the server's stream has its own (a serve and a stream on one host both run). A short
 * buffer truncates it, terminated. */
static void test_default_client_id(void **state) {
  (void)state;
  assert_null(oc_mqtt_options_default().client_id);
  char host[256] = {0}, want[300], id[300];
  assert_int_equal(gethostname(host, sizeof host - 1), 0);
  snprintf(want, sizeof want, "oilcast-stream-%s", host);
  oc_mqtt_default_client_id("stream", id, sizeof id);
  assert_string_equal(id, want);
  char twice[300];
  oc_mqtt_default_client_id("stream", twice, sizeof twice);
  assert_string_equal(twice, id);
  char shortened[10];
  oc_mqtt_default_client_id("stream", shortened, sizeof shortened);
  assert_string_equal(shortened, "oilcast-s");
  char served[300]; /* the stream inside `oilcast serve` on the same host: another session */
  snprintf(want, sizeof want, "oilcast-serve-%s", host);
  oc_mqtt_default_client_id("serve", served, sizeof served);
  assert_string_equal(served, want);
}

static void test_encoders(void **state) {
  (void)state;
  oc_buf b = {0};
  oc_mqtt_connect c = {.client_id = "id", .username = "u", .password = "pw", .keepalive_seconds = 30};
  oc_mqtt_encode_connect(&b, &c);
  static const uint8_t connect[] = {0x10, 21, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xC0, 0, 30, 0, 2, 'i', 'd',
                                    0, 1, 'u', 0, 2, 'p', 'w'};
  assert_bytes(&b, connect, sizeof connect);
  oc_buf_clear(&b);
  oc_mqtt_encode_subscribe(&b, 1, "a/#", 1);
  static const uint8_t subscribe[] = {0x82, 8, 0, 1, 0, 3, 'a', '/', '#', 1};
  assert_bytes(&b, subscribe, sizeof subscribe);
  oc_buf_clear(&b);
  oc_mqtt_encode_puback(&b, 0x1234);
  oc_mqtt_encode_pingreq(&b);
  oc_mqtt_encode_disconnect(&b);
  static const uint8_t tail[] = {0x40, 2, 0x12, 0x34, 0xC0, 0, 0xE0, 0};
  assert_bytes(&b, tail, sizeof tail);
  oc_buf_free(&b);
}

/* A PUBLISH with a 200-byte payload (a 2-byte remaining length) decodes to what was encoded, and every
 * proper prefix of it asks for more bytes. */
static void test_publish_round_trip_and_prefixes(void **state) {
  (void)state;
  uint8_t payload[200];
  for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)i;
  oc_buf b = {0};
  oc_mqtt_encode_publish(&b, "oil/sensors/t1/level", payload, sizeof payload, 1, 77);
  oc_mqtt_packet p;
  size_t used;
  oc_error err;
  for (size_t n = 0; n < b.len; n++) assert_int_equal(oc_mqtt_decode((uint8_t *)b.data, n, &p, &used, &err), 0);
  assert_int_equal(oc_mqtt_decode((uint8_t *)b.data, b.len, &p, &used, &err), 1);
  assert_int_equal(used, b.len);
  assert_int_equal(p.type, OC_MQTT_PUBLISH);
  assert_int_equal(p.qos, 1);
  assert_int_equal(p.packet_id, 77);
  assert_int_equal(p.topic_len, strlen("oil/sensors/t1/level"));
  assert_memory_equal(p.topic, "oil/sensors/t1/level", p.topic_len);
  assert_int_equal(p.payload_len, sizeof payload);
  assert_memory_equal(p.payload, payload, sizeof payload);
  oc_buf_free(&b);
}

/* A PUBLISH past OC_MQTT_INCOMING_MAX (a broker that allows what oilcast's would refuse) decodes from
 * its first OC_MQTT_INCOMING_MAX bytes, its payload cut, saying how much more the packet holds: the
 * subscriber never waits for, nor holds, the whole of it. Any other packet that long is malformed. */
static void test_publish_past_the_incoming_limit(void **state) {
  (void)state;
  size_t size = 3 * OC_MQTT_INCOMING_MAX + 7;
  uint8_t *payload = oc_xmalloc(size);
  memset(payload, 'x', size);
  oc_buf b = {0};
  static const char topic[] = "oil/sensors/t1/level";
  oc_mqtt_encode_publish(&b, topic, payload, size, 1, 9);
  size_t header = b.len - size - (2 + strlen(topic) + 2); /* the fixed header: type and 4 length bytes */
  assert_int_equal(header, 5);
  oc_mqtt_packet p;
  size_t used;
  oc_error err;
  assert_int_equal(oc_mqtt_decode((uint8_t *)b.data, header + OC_MQTT_INCOMING_MAX - 1, &p, &used, &err), 0);
  assert_int_equal(oc_mqtt_decode((uint8_t *)b.data, header + OC_MQTT_INCOMING_MAX, &p, &used, &err), 1);
  assert_int_equal(used, header + OC_MQTT_INCOMING_MAX);
  assert_int_equal(p.packet_id, 9);
  assert_memory_equal(p.topic, topic, p.topic_len);
  assert_int_equal(p.payload_len, OC_MQTT_INCOMING_MAX - (2 + strlen(topic) + 2));
  assert_int_equal(p.payload_len + p.payload_dropped, size);
  free(payload);
  oc_buf_free(&b);
  static const uint8_t suback[] = {0x90, 0x81, 0x80, 0x80, 0x01}; /* a SUBACK of 2 MiB */
  assert_int_equal(oc_mqtt_decode(suback, sizeof suback, &p, &used, &err), -1);
  assert_non_null(strstr(err.message, "type 9 of 2097153 bytes"));
}

static void test_decodes_broker_packets(void **state) {
  (void)state;
  static const uint8_t connack[] = {0x20, 2, 1, 5}, suback[] = {0x90, 3, 0, 1, 0x80}, pingresp[] = {0xD0, 0};
  oc_mqtt_packet p;
  size_t used;
  oc_error err;
  assert_int_equal(oc_mqtt_decode(connack, sizeof connack, &p, &used, &err), 1);
  assert_true(p.session_present);
  assert_int_equal(p.return_code, 5);
  assert_string_equal(oc_mqtt_connack_reason(p.return_code), "not authorized");
  assert_int_equal(oc_mqtt_decode(suback, sizeof suback, &p, &used, &err), 1);
  assert_int_equal(p.granted_qos, 0x80);
  assert_int_equal(oc_mqtt_decode(pingresp, sizeof pingresp, &p, &used, &err), 1);
  assert_int_equal(p.type, OC_MQTT_PINGRESP);
}

static void test_refuses_malformed(void **state) {
  (void)state;
  static const struct {
    uint8_t bytes[8];
    size_t n;
    const char *why;
  } bad[] = {
      {{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 1}, 6, "more than 4 bytes"},
      {{0x36, 3, 0, 1, 'a'}, 5, "QoS 3"},
      {{0x30, 3, 0, 9, 'a'}, 5, "topic of 9 bytes"},
      {{0x32, 5, 0, 1, 'a', 0, 0}, 7, "packet id 0"},
      {{0x30, 2, 0, 0}, 4, "empty topic"},
      {{0x20, 2, 2, 0}, 4, "malformed CONNACK"},
      {{0x40, 2, 0, 1}, 4, "unexpected MQTT packet type 4"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    oc_mqtt_packet p;
    size_t used;
    oc_error err;
    assert_int_equal(oc_mqtt_decode(bad[i].bytes, bad[i].n, &p, &used, &err), -1);
    if (!strstr(err.message, bad[i].why)) fail_msg("case %zu: '%s' lacks '%s'", i, err.message, bad[i].why);
  }
}

static void test_broker_url(void **state) {
  (void)state;
  char host[64];
  int port;
  oc_error err;
  assert_int_equal(oc_mqtt_parse_url("mqtt://127.0.0.1:1999", host, sizeof host, &port, &err), 0);
  assert_string_equal(host, "127.0.0.1");
  assert_int_equal(port, 1999);
  assert_int_equal(oc_mqtt_parse_url("mqtt://broker", host, sizeof host, &port, &err), 0);
  assert_int_equal(port, 1883);
  assert_int_equal(oc_mqtt_parse_url("http://broker", host, sizeof host, &port, &err), -1);
  assert_int_equal(oc_mqtt_parse_url("mqtt://broker:0", host, sizeof host, &port, &err), -1);
  /* a lone trailing slash is the URL's root; a user or a path is refused, not ignored */
  assert_int_equal(oc_mqtt_parse_url("mqtt://broker:1999/", host, sizeof host, &port, &err), 0);
  assert_string_equal(host, "broker");
  assert_int_equal(port, 1999);
  assert_int_equal(oc_mqtt_parse_url("mqtt://broker/", host, sizeof host, &port, &err), 0);
  assert_int_equal(port, 1883);
  assert_int_equal(oc_mqtt_parse_url("mqtt://broker/oil", host, sizeof host, &port, &err), -1);
  assert_non_null(strstr(err.message, "no path"));
  assert_int_equal(oc_mqtt_parse_url("mqtt://broker:1883/oil", host, sizeof host, &port, &err), -1);
  assert_int_equal(oc_mqtt_parse_url("mqtt://user@broker", host, sizeof host, &port, &err), -1);
  assert_non_null(strstr(err.message, "no user"));
  assert_int_equal(oc_mqtt_parse_url("mqtt://broker:18x3", host, sizeof host, &port, &err), -1);
}

/* Topic filters as MQTT 3.1.1 (4.7.1) and mosquitto's shared subscriptions take them: a bad one made
 * the broker close the connection at each SUBSCRIBE, which the stream retried forever. */
static void test_topic_filters(void **state) {
  (void)state;
  oc_error err;
  static const char *const good[] = {"$share/oilcast/oil/sensors/#", "oil/sensors/#", "#", "+", "oil/+/readings",
                                     "+/+/#", "oil/sensors/tank-7/readings", "$share/g/#"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    if (oc_mqtt_filter_check(good[i], &err) != 0) fail_msg("'%s' refused: %s", good[i], err.message);
  static const struct {
    const char *filter, *why;
  } bad[] = {{"", "empty"},          {"oil/#/x", "'#'"},           {"oil#", "'#'"},        {"oil/se+/x", "'+'"},
             {"oil/+x", "'+'"},      {"$share/oilcast", "$share"}, {"$share//oil/#", "$share"},
             {"$share/a+b/oil/#", "$share"}, {"$share/g/", "empty"}, {"oil/\xff", "UTF-8"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(oc_mqtt_filter_check(bad[i].filter, &err), -1);
    if (!strstr(err.message, bad[i].why)) fail_msg("'%s': '%s' lacks '%s'", bad[i].filter, err.message, bad[i].why);
  }
}

#define NOW_MS 1767225600000LL /* 2026-01-01T00:00:00Z */

static int parse(const char *json, oc_sensor_message *msg, char *reason) {
  return oc_sensor_payload_parse((const uint8_t *)json, strlen(json), NOW_MS, 300000, msg, reason, 256);
}

static void test_payload(void **state) {
  (void)state;
  oc_sensor_message msg;
  char reason[256];
  assert_int_equal(parse("{\"device\":\"t-1\",\"event_time\":\"2025-12-31T23:59:59.25Z\",\"seq\":7,"
                         "\"measurements\":{\"level\":{\"value\":12.5,\"unit\":\"m\"},\"temp\":{\"value\":-3,\"unit\":\"degC\"}}}",
                         &msg, reason),
                   0);
  assert_int_equal(msg.n, 2);
  assert_string_equal(msg.readings[0].device_id, "t-1");
  assert_int_equal(msg.readings[1].seq, 7);
  assert_int_equal(msg.readings[0].event_ms, NOW_MS - 750);
  assert_string_equal(msg.readings[1].measurement, "temp");
  assert_string_equal(msg.readings[1].unit, "degC");
  assert_true(msg.readings[1].value == -3.0);
  static const struct {
    const char *json, *why;
  } bad[] = {
      {"{\"device\":", "not JSON"},
      {"[1]", "not a JSON object"},
      {"{\"event_time\":\"2026-01-01T00:00:00Z\",\"seq\":1,\"measurements\":{}}", "device: missing"},
      {"{\"device\":\"a b\",\"event_time\":\"2026-01-01T00:00:00Z\",\"seq\":1}", "device: not"},
      {"{\"device\":\"t\",\"event_time\":\"2026-01-01 00:00:00\",\"seq\":1}", "event_time: not a UTC time"},
      {"{\"device\":\"t\",\"event_time\":\"2026-02-30T00:00:00Z\",\"seq\":1}", "event_time: not a UTC time"},
      {"{\"device\":\"t\",\"event_time\":\"2026-01-01T00:05:00.001Z\",\"seq\":1}", "in the future"},
      /* a clock never set counts from 1970: its readings would open 1970's windows and close its days */
      {"{\"device\":\"t\",\"event_time\":\"1970-01-01T00:00:42Z\",\"seq\":1}", "before 2000-01-01 (the device's clock is not set)"},
      {"{\"device\":\"t\",\"event_time\":\"1999-12-31T23:59:59.999Z\",\"seq\":1}", "before 2000-01-01"},
      {"{\"device\":\"t\",\"event_time\":\"2026-01-01T00:00:00Z\",\"seq\":-1}", "seq: not an integer >= 0"},
      {"{\"device\":\"t\",\"event_time\":\"2026-01-01T00:00:00Z\",\"seq\":1.5}", "seq: not an integer"},
      {"{\"device\":\"t\",\"event_time\":\"2026-01-01T00:00:00Z\",\"seq\":1}", "measurements: missing"},
      {"{\"device\":\"t\",\"event_time\":\"2026-01-01T00:00:00Z\",\"seq\":1,\"measurements\":{}}", "at least one"},
      {"{\"device\":\"t\",\"event_time\":\"2026-01-01T00:00:00Z\",\"seq\":1,\"measurements\":{\"l\":{\"unit\":\"m\"}}}",
       "measurements.l.value: missing"},
      {"{\"device\":\"t\",\"event_time\":\"2026-01-01T00:00:00Z\",\"seq\":1,\"measurements\":{\"l\":{\"value\":\"1\",\"unit\":\"m\"}}}",
       "measurements.l.value: not a number"},
      {"{\"device\":\"t\",\"event_time\":\"2026-01-01T00:00:00Z\",\"seq\":1,\"measurements\":{\"l\":{\"value\":1}}}",
       "measurements.l.unit: missing"},
      {"{\"device\":\"t\",\"device\":\"u\",\"event_time\":\"2026-01-01T00:00:00Z\",\"seq\":1}", "duplicate"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(parse(bad[i].json, &msg, reason), -1);
    if (!strstr(reason, bad[i].why)) fail_msg("case %zu: '%s' lacks '%s'", i, reason, bad[i].why);
  }
  /* A reason quoting the payload's text cut short (a name of 14 three-byte characters, quoted to 40
   * bytes) is still UTF-8: the store's text column (PostgreSQL's) refuses anything else. */
  assert_int_equal(parse("{\"device\":\"t\",\"event_time\":\"2026-01-01T00:00:00Z\",\"seq\":1,\"measurements\":{"
                         "\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
                         "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\":{\"value\":1,\"unit\":\"m\"}}}",
                         &msg, reason),
                   -1);
  if (!oc_utf8_valid(reason)) fail_msg("the reason is not UTF-8: '%s'", reason);
  assert_non_null(strstr(reason, "\xe2\x82\xac\\xe2' is not 1..32 bytes")); /* 13 characters, the cut one escaped */
}

static void test_payload_against_device(void **state) {
  (void)state;
  oc_sensor_message msg;
  char reason[256];
  assert_int_equal(parse("{\"device\":\"t\",\"event_time\":\"2026-01-01T00:00:00Z\",\"seq\":1,"
                         "\"measurements\":{\"level\":{\"value\":12.5,\"unit\":\"m\"}}}",
                         &msg, reason),
                   0);
  oc_device d = {.id = "t", .unit = "m", .valid_min = 0, .valid_max = 20};
  assert_int_equal(oc_sensor_message_check(&msg, &d, reason, sizeof reason), 0);
  d.valid_max = 12;
  assert_int_equal(oc_sensor_message_check(&msg, &d, reason, sizeof reason), -1);
  assert_non_null(strstr(reason, "outside device t's range"));
  d.valid_max = 20;
  strcpy(d.unit, "ft");
  assert_int_equal(oc_sensor_message_check(&msg, &d, reason, sizeof reason), -1);
  assert_non_null(strstr(reason, "reports in 'ft'"));
  strcpy(d.unit, "m");
  d.revoked_at = 1;
  assert_int_equal(oc_sensor_message_check(&msg, &d, reason, sizeof reason), -1);
  assert_non_null(strstr(reason, "revoked"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_encoders),
      cmocka_unit_test(test_publish_round_trip_and_prefixes),
      cmocka_unit_test(test_publish_past_the_incoming_limit),
      cmocka_unit_test(test_decodes_broker_packets),
      cmocka_unit_test(test_refuses_malformed),
      cmocka_unit_test(test_broker_url),
      cmocka_unit_test(test_topic_filters),
      cmocka_unit_test(test_default_client_id),
      cmocka_unit_test(test_payload),
      cmocka_unit_test(test_payload_against_device),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
