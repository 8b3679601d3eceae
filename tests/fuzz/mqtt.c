/* mqtt.c (fuzz target "mqtt"): what the sensor subscriber reads from the network. The first input byte
 * picks (even/odd) the rest as:
 *   0  a byte stream from the broker, decoded packet by packet (ingest/mqtt_packet.h) as the session
 *      does: a decoded packet lies inside the input, its topic and payload inside the packet; a PUBLISH
 *      encoded again from its fields decodes to the same fields;
 *   1  a sensor message payload (ingest/mqtt_payload.h): an accepted one has 1..16 readings of one
 *      device, seq and event time (not past now + the allowed future), finite values, names and units
 *      that are non-empty tokens; a refused one says why; the registry check never crashes.
 * Beyond "no crash, no out-of-bounds read, no leak". No store, no socket. */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "ingest/mqtt_packet.h"
#include "ingest/mqtt_payload.h"

static void packets(const uint8_t *data, size_t size) {
  size_t off = 0;
  for (;;) {
    oc_mqtt_packet p;
    size_t used = 0;
    oc_error err;
    int r = oc_mqtt_decode(data + off, size - off, &p, &used, &err);
    if (r == 0) return;
    if (r < 0) {
      FUZZ_CHECK(err.message[0], "a refused packet without a reason");
      return;
    }
    FUZZ_CHECK(used >= 2 && used <= size - off, "packet of %zu bytes at %zu of %zu", used, off, size);
    if (p.type == OC_MQTT_PUBLISH) {
      const uint8_t *start = data + off, *end = data + off + used;
      FUZZ_CHECK((const uint8_t *)p.topic > start && (const uint8_t *)p.topic + p.topic_len <= end, "topic outside");
      FUZZ_CHECK(p.payload >= start && p.payload + p.payload_len == end, "payload outside");
      char topic[65536];
      memcpy(topic, p.topic, p.topic_len);
      topic[p.topic_len] = '\0';
      oc_buf again = {0};
      oc_mqtt_encode_publish(&again, topic, p.payload, p.payload_len, p.qos, p.packet_id);
      oc_mqtt_packet q;
      size_t used2;
      FUZZ_CHECK(oc_mqtt_decode((const uint8_t *)again.data, again.len, &q, &used2, &err) == 1, "re-encoded: %s",
                 err.message);
      FUZZ_CHECK(used2 == again.len && q.qos == p.qos && q.packet_id == (p.qos ? p.packet_id : 0) &&
                     q.topic_len == p.topic_len && !memcmp(q.topic, p.topic, p.topic_len) &&
                     q.payload_len == p.payload_len && !memcmp(q.payload, p.payload, p.payload_len),
                 "a PUBLISH encoded again decodes differently");
      oc_buf_free(&again);
    }
    off += used;
  }
}

static bool token(const char *s) { return s[0] && !strpbrk(s, " \"\\{}[]:,"); }

static void payload(const uint8_t *data, size_t size) {
  const int64_t now_ms = 1767225600000LL, future_ms = 300000;
  oc_sensor_message msg;
  char reason[256] = "";
  if (oc_sensor_payload_parse(data, size, now_ms, future_ms, &msg, reason, sizeof reason) != 0) {
    FUZZ_CHECK(reason[0], "a refused payload without a reason");
    return;
  }
  FUZZ_CHECK(msg.n >= 1 && msg.n <= OC_SENSOR_MAX_MEASUREMENTS, "%zu readings", msg.n);
  for (size_t i = 0; i < msg.n; i++) {
    const oc_sensor_reading *r = &msg.readings[i];
    FUZZ_CHECK(!strcmp(r->device_id, msg.readings[0].device_id) && r->seq == msg.readings[0].seq &&
                   r->event_ms == msg.readings[0].event_ms,
               "readings of one message disagree");
    FUZZ_CHECK(token(r->device_id) && token(r->measurement) && token(r->unit), "a bad name or unit");
    FUZZ_CHECK(isfinite(r->value) && r->seq >= 0 && r->event_ms <= now_ms + future_ms, "a bad value, seq or time");
  }
  oc_device d = {.unit = "m", .valid_min = 0, .valid_max = 100};
  snprintf(d.id, sizeof d.id, "%s", msg.readings[0].device_id);
  if (oc_sensor_message_check(&msg, &d, reason, sizeof reason) != 0) FUZZ_CHECK(reason[0], "no reason");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0) packets(data + 1, size - 1);
  else payload(data + 1, size - 1);
  return 0;
}
