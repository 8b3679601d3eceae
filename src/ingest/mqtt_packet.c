/* mqtt_packet.c: MQTT 3.1.1 packet encoding and decoding (OASIS MQTT 3.1.1, sections 2 and 3): a fixed
 * header (type and flags, then the remaining length as 1..4 base-128 bytes), a variable header and a
 * payload whose strings are a 2-byte big-endian length and UTF-8 bytes. Buffers only: it must not do
 * I/O or allocate beyond the output buffer, and it must not read past the bytes it was given. */
#include "ingest/mqtt_packet.h"

#include <assert.h>
#include <string.h>

static void put_u16(oc_buf *out, uint16_t v) {
  const uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  oc_buf_append(out, b, 2);
}

static void put_string(oc_buf *out, const char *s, size_t n) {
  assert(n <= UINT16_MAX);
  put_u16(out, (uint16_t)n);
  oc_buf_append(out, s, n);
}

/* The fixed header: first byte, then the remaining length in base 128, low digits first. */
static void put_header(oc_buf *out, uint8_t first, size_t remaining) {
  assert(remaining <= OC_MQTT_MAX_REMAINING);
  oc_buf_append(out, &first, 1);
  do {
    uint8_t digit = remaining % 128;
    remaining /= 128;
    if (remaining) digit |= 0x80;
    oc_buf_append(out, &digit, 1);
  } while (remaining);
}

void oc_mqtt_encode_connect(oc_buf *out, const oc_mqtt_connect *c) {
  size_t id_len = strlen(c->client_id);
  size_t user_len = c->username ? strlen(c->username) : 0;
  size_t pass_len = c->username && c->password ? strlen(c->password) : 0;
  uint8_t flags = c->clean_session ? 0x02 : 0;
  size_t remaining = 10 + 2 + id_len;
  if (c->username) {
    flags |= 0x80;
    remaining += 2 + user_len;
    if (c->password) {
      flags |= 0x40;
      remaining += 2 + pass_len;
    }
  }
  put_header(out, OC_MQTT_CONNECT << 4, remaining);
  put_string(out, "MQTT", 4);
  const uint8_t level = 4; /* 3.1.1 */
  oc_buf_append(out, &level, 1);
  oc_buf_append(out, &flags, 1);
  put_u16(out, c->keepalive_seconds);
  put_string(out, c->client_id, id_len);
  if (flags & 0x80) put_string(out, c->username, user_len);
  if (flags & 0x40) put_string(out, c->password, pass_len);
}

void oc_mqtt_encode_subscribe(oc_buf *out, uint16_t packet_id, const char *filter, int qos) {
  assert(qos >= 0 && qos <= 2);
  size_t n = strlen(filter);
  put_header(out, OC_MQTT_SUBSCRIBE << 4 | 0x02, 2 + 2 + n + 1); /* flags 0010: required by 3.8.1 */
  put_u16(out, packet_id);
  put_string(out, filter, n);
  const uint8_t q = (uint8_t)qos;
  oc_buf_append(out, &q, 1);
}

void oc_mqtt_encode_puback(oc_buf *out, uint16_t packet_id) {
  put_header(out, OC_MQTT_PUBACK << 4, 2);
  put_u16(out, packet_id);
}

void oc_mqtt_encode_pingreq(oc_buf *out) { put_header(out, OC_MQTT_PINGREQ << 4, 0); }

void oc_mqtt_encode_disconnect(oc_buf *out) { put_header(out, OC_MQTT_DISCONNECT << 4, 0); }

void oc_mqtt_encode_publish(oc_buf *out, const char *topic, const void *payload, size_t len, int qos,
                            uint16_t packet_id) {
  assert(qos >= 0 && qos <= 2);
  size_t topic_len = strlen(topic);
  put_header(out, (uint8_t)(OC_MQTT_PUBLISH << 4 | qos << 1), 2 + topic_len + (qos ? 2 : 0) + len);
  put_string(out, topic, topic_len);
  if (qos) put_u16(out, packet_id);
  oc_buf_append(out, payload, len);
}

static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* A packet's body checked against its type: the fixed-header flags the spec requires and the exact
 * lengths. body/n are the remaining-length bytes. */
static int decode_body(uint8_t first, const uint8_t *body, size_t n, oc_mqtt_packet *pkt, oc_error *err) {
  int type = first >> 4, flags = first & 0x0f;
  *pkt = (oc_mqtt_packet){.type = type};
  switch (type) {
  case OC_MQTT_CONNACK:
    if (flags || n != 2 || body[0] > 1)
      return oc_error_set(err, "malformed CONNACK (flags %d, length %zu)", flags, n);
    pkt->session_present = body[0] & 1;
    pkt->return_code = body[1];
    return 0;
  case OC_MQTT_SUBACK:
    if (flags || n != 3) return oc_error_set(err, "malformed SUBACK (flags %d, length %zu)", flags, n);
    pkt->packet_id = get_u16(body);
    pkt->granted_qos = body[2];
    return 0;
  case OC_MQTT_PINGRESP:
    if (flags || n) return oc_error_set(err, "malformed PINGRESP (flags %d, length %zu)", flags, n);
    return 0;
  case OC_MQTT_PUBLISH: {
    pkt->dup = flags & 0x08;
    pkt->qos = (flags >> 1) & 3;
    pkt->retain = flags & 1;
    if (pkt->qos == 3) return oc_error_set(err, "malformed PUBLISH: QoS 3");
    if (n < 2) return oc_error_set(err, "malformed PUBLISH: %zu bytes, no topic length", n);
    size_t topic_len = get_u16(body);
    size_t header = 2 + topic_len + (pkt->qos ? 2 : 0);
    if (header > n) return oc_error_set(err, "malformed PUBLISH: topic of %zu bytes in a packet of %zu", topic_len, n);
    if (topic_len == 0) return oc_error_set(err, "malformed PUBLISH: empty topic");
    if (memchr(body + 2, 0, topic_len)) return oc_error_set(err, "malformed PUBLISH: NUL in the topic");
    pkt->topic = (const char *)body + 2;
    pkt->topic_len = topic_len;
    if (pkt->qos) {
      pkt->packet_id = get_u16(body + 2 + topic_len);
      if (pkt->packet_id == 0) return oc_error_set(err, "malformed PUBLISH: packet id 0 at QoS %d", pkt->qos);
    }
    pkt->payload = body + header;
    pkt->payload_len = n - header;
    return 0;
  }
  default:
    return oc_error_set(err, "unexpected MQTT packet type %d from the broker", type);
  }
}

int oc_mqtt_decode(const uint8_t *data, size_t len, oc_mqtt_packet *pkt, size_t *used, oc_error *err) {
  if (len < 2) return 0;
  size_t remaining = 0, i = 1;
  for (unsigned shift = 0;; shift += 7, i++) {
    if (i > 4) return oc_error_set(err, "malformed MQTT remaining length (more than 4 bytes)");
    if (i >= len) return 0;
    remaining |= (size_t)(data[i] & 0x7f) << shift;
    if (!(data[i] & 0x80)) break;
  }
  i++; /* past the last length byte */
  size_t kept = remaining;
  if (remaining > OC_MQTT_INCOMING_MAX) {
    if (data[0] >> 4 != OC_MQTT_PUBLISH)
      return oc_error_set(err, "malformed MQTT packet: type %d of %zu bytes from the broker", data[0] >> 4, remaining);
    kept = OC_MQTT_INCOMING_MAX;
  }
  if (len - i < kept) return 0;
  if (decode_body(data[0], data + i, kept, pkt, err) != 0) return -1;
  pkt->payload_dropped = remaining - kept;
  *used = i + kept;
  return 1;
}

const char *oc_mqtt_connack_reason(uint8_t code) {
  static const char *const reasons[] = {"accepted", "unacceptable protocol version", "client id rejected",
                                        "server unavailable", "bad user name or password", "not authorized"};
  return code < sizeof reasons / sizeof reasons[0] ? reasons[code] : "unknown return code";
}
