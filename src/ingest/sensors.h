/* sensors.h: SIMULATED field-sensor readings (issue 15), for the demo, the stream processor's tests and
 * its benchmarks; never mistake them for data (every reading says "simulated": true). N devices
 * (sim-0001.., types in turn: pipeline_pressure, pipeline_flow, tank_level, wellhead_temperature,
 * refinery_throughput) each send one reading per period N/R seconds (R readings/s in all) with:
 * a daily cycle, noise, a slow per-device drift, injected spikes, stuck values, rare out-of-range values,
 * and occasional late (out-of-order) and very late messages; tank levels and refinery throughput lead
 * the simulated market: they move with the change of the simulated WTI price (ingest/simulate.h,
 * series 0 of the same seed, from the first reading's date) over the next OC_SENSOR_LEAD_DAYS trading
 * days. Deterministic: the same options give the same readings in the same order. The JSON payload
 * and the topics are documented in docs/sensors.md. Knows nothing of MQTT (sensors_mqtt.h sends them). */
#ifndef OC_INGEST_SENSORS_H
#define OC_INGEST_SENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "store/store.h"

/* Sensors move with the price change this many trading days ahead. */
#define OC_SENSOR_LEAD_DAYS 5

/* What the simulator did to a reading on purpose: ground truth for testing detectors (in the JSON as
 * "injected"; a consumer must not use it). */
enum {
  OC_SENSOR_SPIKE = 1u << 0,        /* value pushed far from its neighbours */
  OC_SENSOR_STUCK = 1u << 1,        /* exactly the device's previous value (a stuck run) */
  OC_SENSOR_OUT_OF_RANGE = 1u << 2, /* outside the device's valid range */
  OC_SENSOR_LATE = 1u << 3,         /* sent after readings with later event times (out of order) */
  OC_SENSOR_VERY_LATE = 1u << 4,    /* sent OC_SENSOR_VERY_LATE_SECONDS of event time late */
};
#define OC_SENSOR_VERY_LATE_SECONDS 600
/* 10000-01-01T00:00:00Z in Unix ms: a run starts before it (its seqs stay far inside int64). */
#define OC_SENSOR_SIM_START_END_MS INT64_C(253402300800000)

typedef struct oc_sensor_sim_reading {
  size_t device_index;                   /* 0..devices-1 */
  char device[OC_DEVICE_ID_MAX + 1];     /* "sim-0001" */
  const char *type, *measurement, *unit; /* "tank_level", "level", "m" (static strings) */
  int64_t seq;                           /* start_ms * 1000 + the device's reading number (1, 2, ...) */
  int64_t event_ms;                      /* event time, Unix milliseconds */
  double value;                          /* rounded to 3 decimals */
  unsigned injected;                     /* OC_SENSOR_* flags */
} oc_sensor_sim_reading;

/* A reading's seq is the run's start in microseconds plus the device's reading number from 1, so it
 * grows in event-time order and a run numbers on above every run whose readings all came before its
 * start (a device sends at most 1e6 readings a second): a restarted simulator's readings are new ones
 * to the stream, where numbering from 1 again made every one a dead letter (its seq stored already with
 * another reading). */
typedef struct oc_sensor_sim_options {
  uint64_t seed;
  size_t devices;        /* >= 1 */
  double rate;           /* readings per second, all devices together, > 0 */
  int64_t start_ms;      /* event time of the first reading (Unix ms), in [0, OC_SENSOR_SIM_START_END_MS) */
  int64_t count;         /* readings to produce, >= 1 */
} oc_sensor_sim_options;

/* The simulator's device number index (0-based) as the registry holds it: id sim-NNNN, its type in
 * turn, a site, the type's unit, range and reporting interval. */
void oc_sensor_sim_device(size_t index, oc_device *d);

typedef struct oc_sensor_sim oc_sensor_sim;
/* NULL with *err set for options out of range. */
oc_sensor_sim *oc_sensor_sim_new(const oc_sensor_sim_options *opt, oc_error *err);
/* The next reading in sending order; false when all count were produced. */
bool oc_sensor_sim_next(oc_sensor_sim *sim, oc_sensor_sim_reading *out);
void oc_sensor_sim_free(oc_sensor_sim *sim);

/* The reading's MQTT topic, "oil/sensors/<device>/readings", into topic (cap bytes). */
void oc_sensor_topic(const oc_sensor_sim_reading *r, char *topic, size_t cap);
/* Appends the reading's JSON payload (one line, no newline) to out. */
void oc_sensor_reading_json(const oc_sensor_sim_reading *r, oc_buf *out);

/* Registers the simulator's devices 0..devices-1 (oc_sensor_sim_device; interval_seconds > 0 replaces
 * the types' intervals) in one transaction and writes their passwords to credentials_path ("id:password"
 * lines, mode 0600) before it commits: all or nothing. Ids taken already are an error naming the first. */
int oc_sensor_sim_register(oc_store *store, size_t devices, int64_t interval_seconds, int64_t now,
                           const char *credentials_path, oc_error *err);

/* Writes opt's readings to path as JSON lines (one payload a line, in sending order), atomically.
 * *written = readings written. */
int oc_sensor_sim_write_file(const oc_sensor_sim_options *opt, const char *path, int64_t *written, oc_error *err);

#endif
