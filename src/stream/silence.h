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

/* One check at now_ms by a stream whose connection to the broker is up since listening_ms: starts the
 * episodes of sensors silent now and ends those whose sensor reported again; adds them to *counts.
 * A sensor is silent only once the stream too has listened for its whole silence window
 * (now - listening_ms > factor * interval): what the sensor sent while the stream was away waits in the
 * broker's queue for the stream's session and arrives after the connection, a long backlog over many
 * seconds, and a check meanwhile would call every sensor silent. 0, or -1 with err (the caller rolls
 * back). */
int oc_silence_check(oc_store *store, const oc_silence_options *opt, int64_t now_ms, int64_t listening_ms,
                     oc_silence_counts *counts, oc_error *err);

#endif
