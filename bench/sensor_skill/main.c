/* bench_sensor_skill: stores SIMULATED sensor readings (a JSON-lines file of `oilcast simulate sensors
 * --out`) into a data directory's store through the stream processor's own window code
 * (stream/window.h, daily windows only), without a broker, so that their closed days become the
 * series DEVICE.MEASUREMENT.{count,mean,min,max,last} a backtest can read with --exog. Benchmark code
 * for bench/sensor_skill/run (issue 15: do sensor features help the network?); it checks no device
 * registry (the stream step does) and prints the window counts. Must not be used on real readings:
 * the stream step (`oilcast stream`) is the path for those.
 * Usage: bench_sensor_skill DATA_DIR READINGS.jsonl */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "ingest/mqtt_payload.h"
#include "store/datadir.h"
#include "stream/window.h"

#define BATCH_LINES 5000

/* Applies readings[0..n) in one transaction. */
static int commit_batch(oc_store *store, const oc_window_options *opt, const oc_sensor_reading *readings, size_t n,
                        oc_window_counts *counts, oc_error *err) {
  if (oc_store_begin(store, err) != 0) return -1;
  if (oc_window_apply(store, opt, readings, n, counts, NULL, err) != 0) {
    oc_error ignored;
    oc_store_rollback(store, &ignored);
    return -1;
  }
  return oc_store_commit(store, err);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: bench_sensor_skill DATA_DIR READINGS.jsonl\n");
    return 2;
  }
  oc_error err = {0};
  oc_store *store;
  char *text;
  size_t len;
  if (oc_datadir_open(argv[1], &store, &err) != 0 || oc_read_file(argv[2], &text, &len, &err) != 0) {
    fprintf(stderr, "bench_sensor_skill: %s\n", err.message);
    return 1;
  }
  oc_window_options opt = oc_window_options_default();
  if (oc_window_parse_widths("1d", &opt, &err) != 0) abort(); /* a constant that parses */
  oc_sensor_reading *batch = oc_xmalloc(BATCH_LINES * OC_SENSOR_MAX_MEASUREMENTS * sizeof *batch);
  oc_window_counts counts = {0};
  size_t n = 0, line_no = 0, refused = 0;
  int rc = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
    line_no++;
    oc_sensor_message msg;
    char reason[256];
    /* simulated event times may lie anywhere: no "too far in the future" check */
    if (oc_sensor_payload_parse((const uint8_t *)line, strlen(line), INT64_MAX / 2, INT64_MAX / 4, &msg, reason,
                                sizeof reason) != 0) {
      refused++;
      continue;
    }
    memcpy(batch + n, msg.readings, msg.n * sizeof *batch);
    n += msg.n;
    if (line_no % BATCH_LINES == 0) {
      rc = commit_batch(store, &opt, batch, n, &counts, &err);
      n = 0;
    }
  }
  if (rc == 0 && n > 0) rc = commit_batch(store, &opt, batch, n, &counts, &err);
  free(batch);
  free(text);
  oc_store_close(store);
  if (rc != 0) {
    fprintf(stderr, "bench_sensor_skill: %s\n", err.message);
    return 1;
  }
  printf("lines %zu refused %zu stored %lld late %lld duplicates %lld days_closed %lld\n", line_no, refused,
         (long long)counts.stored, (long long)counts.late, (long long)counts.duplicates, (long long)counts.days_closed);
  return 0;
}
