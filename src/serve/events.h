/* events.h: the live event feed behind GET /v1/stream (Server-Sent Events). Publishers (new
 * observations, new forecasts, new backtests) append to a bounded ring of recent events with
 * monotonically increasing ids; each stream reads from its position (Last-Event-ID + 1) and, when it has
 * caught up, suspends its connection so no server thread waits on it; a publish or the keep-alive timer
 * resumes it. Knows nothing about routes or the store. */
#ifndef OC_SERVE_EVENTS_H
#define OC_SERVE_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

struct MHD_Connection;
struct MHD_Response;
typedef struct oc_event_hub oc_event_hub;

/* keepalive_seconds: a ": keepalive" comment is sent after this much silence. */
oc_event_hub *oc_event_hub_new(double keepalive_seconds);
/* Ends every stream (they see end-of-stream) and refuses new ones. Idempotent. */
void oc_event_hub_close(oc_event_hub *hub);
void oc_event_hub_free(oc_event_hub *hub);

/* type: "observation", "forecast", "backtest", "ingest"; data: one line of JSON. Returns the event id. */
uint64_t oc_event_publish(oc_event_hub *hub, const char *type, const char *data);

/* Whether a stream's caller may still read it (its API key not revoked since the stream opened): asked,
 * without the hub's lock, each time the stream has sent all it had and would take more events; false
 * ends the stream. ctx is the stream's, freed with free() when the stream ends. */
typedef struct oc_event_access {
  bool (*allowed)(void *ctx);
  void *ctx;
} oc_event_access;

/* A streaming response for conn, starting after last_event_id (0: only events published from now).
 * access NULL: the stream is open to anyone for as long as it lasts. */
struct MHD_Response *oc_event_stream_response(oc_event_hub *hub, struct MHD_Connection *conn, uint64_t last_event_id,
                                              int has_last_event_id, const oc_event_access *access);

/* Makes every stream waiting for events ask its access again now (the API keys changed): a revoked
 * key's stream ends at once, not at its next event or keep-alive. */
void oc_event_hub_recheck(oc_event_hub *hub);

#endif
