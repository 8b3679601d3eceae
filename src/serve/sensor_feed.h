/* sensor_feed.h: the live sensor events of GET /v1/stream: a change of the store's feed about a sensor
 * anomaly or a sensor window (store.h, OC_CHANGE_SENSOR_*) read back from the store and published as a
 * "sensor_anomaly" or "sensor_window" event (payloads in docs/openapi.yaml, docs/stream.md). Called by
 * the server's change-feed follower; whichever process wrote the row (`oilcast stream`, the stream
 * inside `oilcast serve`, another node on the same store), every server publishes it. Internal to
 * src/serve/. */
#ifndef OC_SERVE_SENSOR_FEED_H
#define OC_SERVE_SENSOR_FEED_H

#include "serve/context.h"
#include "store/store.h"

/* Publishes the event of change c (kind OC_CHANGE_SENSOR_ANOMALY or OC_CHANGE_SENSOR_WINDOW), read through
 * store; a row gone or a store failure is logged and skipped. */
void oc_serve_publish_sensor_change(oc_server *s, oc_store *store, const oc_change *c);

#endif
