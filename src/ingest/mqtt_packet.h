/* mqtt_packet.h: the MQTT 3.1.1 packets the sensor subscriber (mqtt.c) exchanges with the broker, as
 * bytes: encoders for what a subscriber sends (CONNECT, SUBSCRIBE, PUBACK, PINGREQ, DISCONNECT) and a
 * decoder for what it receives (CONNACK, SUBACK, PUBLISH, PINGRESP). Pure functions over buffers: no
 * socket, no clock, no store, so the decoder can be fuzzed (tests/fuzz/mqtt_packet.c). It must never
 * read outside the bytes it is given: every length inside a packet is checked against the packet. */
#ifndef OC_MQTT_PACKET_H
#define OC_MQTT_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

/* Control packet types (the high nibble of the first byte). */
enum {
  OC_MQTT_CONNECT = 1,
  OC_MQTT_CONNACK = 2,
  OC_MQTT_PUBLISH = 3,
  OC_MQTT_PUBACK = 4,
  OC_MQTT_SUBSCRIBE = 8,
  OC_MQTT_SUBACK = 9,
  OC_MQTT_PINGREQ = 12,
  OC_MQTT_PINGRESP = 13,
  OC_MQTT_DISCONNECT = 14,
};

/* The largest remaining length MQTT can express (4 length bytes). */
#define OC_MQTT_MAX_REMAINING 268435455u
/* The most of one packet a subscriber keeps: a PUBLISH past it is decoded from its first bytes (its
 * payload cut, payload_dropped saying by how much) and the rest is read and thrown away, so a broker
 * that allows large messages (mosquitto's own limit is 256 MB; the one oilcast configures refuses past
 * 1 MiB) cannot make the stream hold them in memory. Any other packet past it is malformed. */
#define OC_MQTT_INCOMING_MAX (1u << 20)

typedef struct oc_mqtt_connect {
  const char *client_id;
  const char *username; /* NULL: none (then password is ignored) */
  const char *password; /* NULL: none */
  bool clean_session;
  uint16_t keepalive_seconds;
} oc_mqtt_connect;

/* A received packet; topic and payload point into the bytes given to oc_mqtt_decode. */
typedef struct oc_mqtt_packet {
  int type;
  /* CONNACK */
  bool session_present;
  uint8_t return_code;
  /* PUBLISH (packet_id also SUBACK's) */
  int qos;
  bool dup, retain;
  uint16_t packet_id;
  const char *topic; /* not NUL-terminated */
  size_t topic_len;
  const uint8_t *payload;
  size_t payload_len;
  size_t payload_dropped; /* the payload's bytes past payload_len that the packet holds and pkt has not:
                           * the caller reads and discards them after the used bytes (0 but for a
                           * PUBLISH past OC_MQTT_INCOMING_MAX) */
  /* SUBACK: the granted QoS of the first (only) filter, 0x80 = refused */
  uint8_t granted_qos;
} oc_mqtt_packet;

void oc_mqtt_encode_connect(oc_buf *out, const oc_mqtt_connect *c);
/* One filter at qos. */
void oc_mqtt_encode_subscribe(oc_buf *out, uint16_t packet_id, const char *filter, int qos);
void oc_mqtt_encode_puback(oc_buf *out, uint16_t packet_id);
void oc_mqtt_encode_pingreq(oc_buf *out);
void oc_mqtt_encode_disconnect(oc_buf *out);
/* A PUBLISH (for tests and the benchmark's publisher; the subscriber never publishes). packet_id is
 * ignored at QoS 0. */
void oc_mqtt_encode_publish(oc_buf *out, const char *topic, const void *payload, size_t len, int qos,
                            uint16_t packet_id);

/* Decodes the packet at the start of data[0..len). Returns 1 and sets *pkt and *used (its bytes) when
 * a whole packet is there (a PUBLISH past OC_MQTT_INCOMING_MAX: its first OC_MQTT_INCOMING_MAX bytes,
 * and pkt->payload_dropped), 0 when more bytes are needed, -1 with err when the bytes cannot be a valid
 * packet a subscriber may receive (the connection must then be dropped). */
int oc_mqtt_decode(const uint8_t *data, size_t len, oc_mqtt_packet *pkt, size_t *used, oc_error *err);

/* The CONNACK return code's meaning ("not authorized", ...). */
const char *oc_mqtt_connack_reason(uint8_t code);

#endif
