/* stream.h: the pipeline step "stream": subscribe to the sensors' MQTT topics (ingest/mqtt.h), read
 * each message's payload (ingest/mqtt_payload.h), store its readings and update their windows
 * (stream/window.h) in ONE store transaction per batch, and let the session acknowledge the batch
 * only after that commit. A message must come from a registered, active device (the store's device
 * registry), under its own topic, in its unit and range; its readings also go through the anomaly
 * detectors (stream/anomaly.h) in the same transaction. Messages that cannot be read are dead letters
 * (stored with the reason and the raw bytes, in the same transaction); so is a message the store
 * refuses for its data (OC_ERROR_INVALID), found by storing its refused batch again message by
 * message. While the broker is connected, every tick_ms a silence check (stream/silence.h) runs in a
 * transaction of its own. Runs until *opt->stop. Never prints. */
#ifndef OC_PIPELINE_STREAM_H
#define OC_PIPELINE_STREAM_H

#include <stdatomic.h>
#include <stdbool.h>

#include "core/error.h"
#include "ingest/mqtt.h"
#include "ingest/mqtt_payload.h"
#include "store/datadir.h"
#include "store/store.h"
#include "stream/anomaly.h"
#include "stream/silence.h"
#include "stream/window.h"

typedef struct oc_stream_result {
  int64_t messages, readings, duplicates, late, dead_letters, windows_updated, days_closed, spikes, stuck, batches,
      connects;
  int64_t silences, silences_ended, ticks; /* silence episodes stored and ended, silence checks run */
} oc_stream_result;

typedef struct oc_stream_options {
  /* The session (ingest/mqtt.h): broker (required), client id, credentials, filter, batch size. Its
   * stop, on_batch, on_status and ctx are the step's own (set from the fields below). */
  oc_mqtt_options session;
  oc_window_options windows;
  oc_anomaly_options anomalies;
  oc_silence_options silence;
  int tick_ms;           /* silence is checked this often while the broker is connected, > 0 */
  int64_t max_future_ms; /* an event time later than now + this is a dead letter */
  /* The stream's "now" in Unix ms (the future check, detected_ms, silence), read at each batch and
   * check; NULL: the system's real-time clock. The CLI and the server pass schedule/clock.h's, which a
   * test moves through OILCAST_CLOCK. */
  int64_t (*clock)(void *clock_ctx);
  void *clock_ctx;
  atomic_bool *stop; /* required */
  /* Optional progress: each connection up or down, each committed batch with the totals so far. */
  void (*on_status)(void *ctx, bool up, const char *what);
  void (*on_batch)(void *ctx, const oc_stream_result *so_far);
  void *ctx;
} oc_stream_options;

/* The session defaults of ingest/mqtt.h, the windows of stream/window.h, the detectors' defaults, a
 * silence check every second, 5 minutes of future. */
oc_stream_options oc_stream_options_default(void);

/* Applies the [stream] section of DATA_DIR/oilcast.conf to *opt (docs/stream.md): broker, client_id,
 * username, topic, windows (as --windows), grace (seconds), silence_factor; keys it lacks leave *opt as
 * it was (as does a directory without oilcast.conf). The strings point into *conf, read here: oc_conf_free it once the stream has ended. -1 with
 * err naming the file and the key for a value that does not parse. */
int oc_stream_options_configure(const char *data_dir, oc_conf *conf, oc_stream_options *opt, oc_error *err);

int oc_pipeline_stream(const char *data_dir, oc_store *store, const oc_stream_options *opt, oc_stream_result *out,
                       oc_error *err);

#endif
