/* bench_stream.c: the publishing and measuring half of bench/stream/run. Publishes --count numbered
 * sensor messages of one device at QoS 1 (libmosquitto, as fast as the broker takes them, event_time =
 * the wall-clock send time in ms) and then waits until they have all arrived:
 *   --db PATH   in the oilcast store at PATH (polled every 2 ms): prints messages/s from the first
 *               send to the last commit, and the publish-to-commit latency p50/p99 (the i-th message
 *               is committed when the store first holds i more readings than before: one device's
 *               messages commit in order);
 *   --sub       at `mosquitto_sub -q 1 -C N` (started here, its output to /dev/null; it exits after N
 *               messages): messages/s of the plain subscriber, the baseline.
 * --rate R paces the sends at R messages/s (default: as fast as the broker takes them), for the latency
 * of a stream that keeps up rather than of a backlog. A benchmark tool, not a test; it reads the store only through store.h. */
#include <mosquitto.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static atomic_long acked;
static void on_publish(struct mosquitto *m, void *ctx, int mid) {
  (void)m, (void)ctx, (void)mid;
  atomic_fetch_add(&acked, 1);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* What the store holds now: done[i] = now for every newly committed message. -1 on a store error. */
static int poll_store(oc_store *store, int64_t before, double *done, long *committed, long count) {
  oc_sensor_stats st;
  oc_error err;
  if (oc_store_sensor_stats(store, &st, &err) != 0) return fprintf(stderr, "%s\n", err.message), -1;
  double t = now_s();
  for (; *committed < st.readings - before && *committed < count; (*committed)++) done[*committed] = t;
  return 0;
}

int main(int argc, char **argv) {
  int port = 0;
  long count = 0;
  double rate = 0;
  pid_t sub = 0;
  bool want_sub = false;
  const char *db = NULL, *device = "bench-1";
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--sub")) want_sub = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--sub")) i--;
    else if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--count")) count = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--db")) db = argv[i + 1];
    else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--device")) device = argv[i + 1];
  }
  if (!port || count < 1 || (!db == !want_sub)) {
    fprintf(stderr, "usage: bench_stream --port P --count N (--db PATH | --sub) [--device ID]\n");
    return 2;
  }
  oc_store *store = NULL;
  oc_error err;
  oc_sensor_stats before = {0}; /* readings stored before this run */
  if (db) {
    char uri[4096];
    snprintf(uri, sizeof uri, "sqlite:%s", db);
    if (!(store = oc_store_open(uri, &err)) || oc_store_sensor_stats(store, &before, &err) != 0)
      return fprintf(stderr, "%s\n", err.message), 1;
  }
  if (want_sub) {
    char port_text[16], count_text[32];
    snprintf(port_text, sizeof port_text, "%d", port);
    snprintf(count_text, sizeof count_text, "%ld", count);
    if ((sub = fork()) == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      execlp("mosquitto_sub", "mosquitto_sub", "-p", port_text, "-q", "1", "-t", "oil/sensors/#", "-C", count_text,
             (char *)NULL);
      _exit(127);
    }
    usleep(500000); /* let it subscribe */
  }
  mosquitto_lib_init();
  struct mosquitto *m = mosquitto_new("bench-publisher", true, NULL);
  mosquitto_max_inflight_messages_set(m, 0);
  mosquitto_publish_callback_set(m, on_publish);
  if (mosquitto_connect(m, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS || mosquitto_loop_start(m) != MOSQ_ERR_SUCCESS)
    return fprintf(stderr, "bench_stream: cannot connect to 127.0.0.1:%d\n", port), 1;
  double *sent = malloc((size_t)count * sizeof *sent), *done = malloc((size_t)count * sizeof *done), t0 = now_s();
  double polled = t0, t_end = 0;
  long committed = 0;
  char topic[128], payload[512];
  snprintf(topic, sizeof topic, "oil/sensors/%s/level", device);
  for (long i = 0; i < count; i++) {
    double t = now_s();
    if (rate > 0 && t < t0 + (double)i / rate) {
      usleep((useconds_t)((t0 + (double)i / rate - t) * 1e6));
      t = now_s();
    }
    time_t sec = (time_t)t;
    struct tm tm;
    gmtime_r(&sec, &tm);
    int n = snprintf(payload, sizeof payload,
                     "{\"device\":\"%s\",\"event_time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",\"seq\":%ld,"
                     "\"measurements\":{\"level\":{\"value\":%ld.5,\"unit\":\"m\"}}}",
                     device, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)((t - (double)sec) * 1000), i + 1, i % 500);
    sent[i] = t;
    while (mosquitto_publish(m, NULL, topic, n, payload, 1, false) != MOSQ_ERR_SUCCESS) usleep(1000);
    if (store && t - polled >= 0.002) { /* commits happen while sending: see them when they do */
      if (poll_store(store, before.readings, done, &committed, count) != 0) return 1;
      polled = t;
    }
  }
  while (committed < count) {
    if (store) {
      if (poll_store(store, before.readings, done, &committed, count) != 0) return 1;
    } else if (waitpid(sub, NULL, WNOHANG) == sub) {
      committed = count;
    }
    t_end = now_s();
    if (t_end - t0 > 120) return fprintf(stderr, "bench_stream: only %ld of %ld after 120 s\n", committed, count), 1;
    usleep(2000);
  }
  printf("%.0f msgs/s", (double)count / (t_end - t0));
  if (store) {
    for (long i = 0; i < count; i++) done[i] -= sent[i];
    qsort(done, (size_t)count, sizeof *done, cmp_double);
    printf(", publish-to-commit p50 %.1f ms, p99 %.1f ms", done[count / 2] * 1e3, done[count * 99 / 100] * 1e3);
    oc_store_close(store);
  }
  printf(" (%ld QoS 1 messages, %ld acknowledged by the broker)\n", count, (long)atomic_load(&acked));
  mosquitto_disconnect(m);
  mosquitto_loop_stop(m, true);
  mosquitto_destroy(m);
  mosquitto_lib_cleanup();
  free(sent);
  free(done);
  return 0;
}
