/* silence.h: the stream's silence detector. A sensor (a device's measurement) is SILENT at time now when
 * its latest reading's event time t is older than `factor` expected intervals of its device:
 *   now - t > factor * interval_seconds * 1000   (ms; factor 3 by default)
 * so one late or lost message is not a silence, three in a row are. A silence EPISODE is one stored
 * anomaly of kind "silence" keyed by the last reading before the gap (device, measurement, its event
 * time; its seq and value kept), with detected_ms = now and score = (now - t) / interval at the check
 * that found it: a later check of the same gap finds the key stored and adds nothing, so an episode is
 * stored once however many checks see it. The first check that finds a reading newer than the key ends
 * the episode (ended_ms = that reading's event time, kept once). Only sensors of active devices that
 * have reported at least once are watched; the latest reading of each is kept by oc_silence_note,
 * called with every batch's readings. Time comes from the caller (the stream's clock), never from the
 * system, so tests drive it. Must not know MQTT or JSON; writes only through the store's ops, inside
 * the caller's transaction. */
#ifndef OC_STREAM_SILENCE_H
#define OC_STREAM_SILENCE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct oc_silence_options {
  double factor; /* >= 1: how many expected intervals without a reading make a silence */
} oc_silence_options;

/* A factor of 3. */
oc_silence_options oc_silence_options_default(void);

typedef struct oc_silence_counts {
  int64_t started, ended; /* episodes stored and ended by the call */
} oc_silence_counts;

/* Keeps each sensor's latest reading (by event time, then seq) among readings[0..n) and the ones kept
 * before. 0, or -1 with err. */
int oc_silence_note(oc_store *store, const oc_sensor_reading *readings, size_t n, oc_error *err);

/* How long the stream has listened to the broker, kept from its connections coming up and going down
 * (oc_silence_listening_up / _down at the stream's clock; zero-initialised: never connected). What a
 * sensor sent while the stream was away waits in the broker's queue for the stream's session and
 * arrives after the next connection, a long backlog over many seconds, and a check meanwhile would call
 * every sensor silent. So a sensor of silence window W (factor * interval) is silent only when the
 * stream has heard everything it could have missed:
 *   - it has been connected for more than W in all since it first connected (what it missed before
 *     that is unknown: at most W of it matters, and it arrives within W of listening), and
 *   - the current connection has lasted longer than min(W, backlog), backlog being the time the stream
 *     was away since it first connected that the connections since have not listened off (a
 *     connection listens off as much as it lasts: a backlog arrives faster than it was sent).
 * A connection that drops every minute thus still reports a sensor that went quiet for good (counting
 * from each reconnection, as this did, hid it for as long as the flapping lasted), while a long outage
 * still makes the next connection listen for W before it calls any sensor silent. */
typedef struct oc_silence_listening {
  bool up, ever_up;
  int64_t since_ms;    /* up: when the current connection came up; down: when the last one went down */
  int64_t listened_ms; /* the connections before the current one, their lengths summed */
  int64_t backlog_ms;  /* up: the time away not listened off when the current connection came up */
} oc_silence_listening;

void oc_silence_listening_up(oc_silence_listening *l, int64_t now_ms);
/* Nothing when no connection is up (a connection attempt that failed). */
void oc_silence_listening_down(oc_silence_listening *l, int64_t now_ms);

/* One check at now_ms by a stream that has listened as *listening says (up): starts the episodes of
 * sensors silent now (above) and ends those whose sensor reported again; adds them to *counts. 0, or
 * -1 with err (the caller rolls back). */
int oc_silence_check(oc_store *store, const oc_silence_options *opt, int64_t now_ms,
                     const oc_silence_listening *listening, oc_silence_counts *counts, oc_error *err);

#endif
