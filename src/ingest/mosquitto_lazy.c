/* mosquitto_lazy.c: see mosquitto_lazy.h. */
#include "ingest/mosquitto_lazy.h"

#define OC_MOSQUITTO_NAME(name) #name,
static const char *const names[] = {OC_MOSQUITTO_FUNCTIONS(OC_MOSQUITTO_NAME)};
static void *fns[OC_MOSQUITTO_COUNT];
oc_dynlib_table oc_mosquitto_table =
    OC_DYNLIB_TABLE("libmosquitto.so.1", "the MQTT client library; Debian package libmosquitto1", names, fns);
