/* mosquitto_lazy.h: libmosquitto, the simulated devices' MQTT client (ingest/sensors_mqtt.c), loaded on
 * first use (core/dynlib.h) instead of linked: a command that never calls it does not load it. Include it
 * instead of the library's own header: it names each function the code calls as its entry in the loaded
 * table, so calls read as plain calls. A function not listed here does not link; add it to the list. */
#ifndef OC_INGEST_MOSQUITTO_LAZY_H
#define OC_INGEST_MOSQUITTO_LAZY_H

#include <mosquitto.h>

#include "core/dynlib.h"

#define OC_MOSQUITTO_FUNCTIONS(X) \
  X(mosquitto_connack_string) \
  X(mosquitto_connect) \
  X(mosquitto_connect_callback_set) \
  X(mosquitto_destroy) \
  X(mosquitto_disconnect) \
  X(mosquitto_disconnect_callback_set) \
  X(mosquitto_int_option) \
  X(mosquitto_lib_cleanup) \
  X(mosquitto_lib_init) \
  X(mosquitto_loop) \
  X(mosquitto_new) \
  X(mosquitto_publish) \
  X(mosquitto_publish_callback_set) \
  X(mosquitto_reconnect) \
  X(mosquitto_reconnect_delay_set) \
  X(mosquitto_strerror) \
  X(mosquitto_username_pw_set)

enum {
#define OC_MOSQUITTO_INDEX(name) OC_MOSQUITTO_##name,
  OC_MOSQUITTO_FUNCTIONS(OC_MOSQUITTO_INDEX)
#undef OC_MOSQUITTO_INDEX
  OC_MOSQUITTO_COUNT
};

extern oc_dynlib_table oc_mosquitto_table;
/* The loaded function (the name stays the library's own here: a macro does not expand inside itself). */
#define OC_MOSQUITTO(name) ((__typeof__(name) *)oc_dynlib_table_fn(&oc_mosquitto_table, OC_MOSQUITTO_##name))
#define mosquitto_connack_string OC_MOSQUITTO(mosquitto_connack_string)
#define mosquitto_connect OC_MOSQUITTO(mosquitto_connect)
#define mosquitto_connect_callback_set OC_MOSQUITTO(mosquitto_connect_callback_set)
#define mosquitto_destroy OC_MOSQUITTO(mosquitto_destroy)
#define mosquitto_disconnect OC_MOSQUITTO(mosquitto_disconnect)
#define mosquitto_disconnect_callback_set OC_MOSQUITTO(mosquitto_disconnect_callback_set)
#define mosquitto_int_option OC_MOSQUITTO(mosquitto_int_option)
#define mosquitto_lib_cleanup OC_MOSQUITTO(mosquitto_lib_cleanup)
#define mosquitto_lib_init OC_MOSQUITTO(mosquitto_lib_init)
#define mosquitto_loop OC_MOSQUITTO(mosquitto_loop)
#define mosquitto_new OC_MOSQUITTO(mosquitto_new)
#define mosquitto_publish OC_MOSQUITTO(mosquitto_publish)
#define mosquitto_publish_callback_set OC_MOSQUITTO(mosquitto_publish_callback_set)
#define mosquitto_reconnect OC_MOSQUITTO(mosquitto_reconnect)
#define mosquitto_reconnect_delay_set OC_MOSQUITTO(mosquitto_reconnect_delay_set)
#define mosquitto_strerror OC_MOSQUITTO(mosquitto_strerror)
#define mosquitto_username_pw_set OC_MOSQUITTO(mosquitto_username_pw_set)

#endif
