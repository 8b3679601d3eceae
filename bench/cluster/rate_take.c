/* rate_take.c (bench_cluster): the cost of one rate-limit decision where the buckets live: this
 * process's table (serve --rate-limits node, the single-node path) and the store's shared row
 * (--rate-limits store: one upsert per request), timed over many takes of one key from one connection
 * and from several threads at once (one hot key: its row lock is the point of contention).
 * Usage: bench_cluster STORE_URI [TAKES]   prints microseconds per take and takes per second. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/progress.h"
#include "serve/ratelimit.h"
#include "store/store.h"

#define THREADS 4

typedef struct worker {
  oc_rate_limiter *limiter;
  long takes;
} worker;

static const oc_rate unlimited_in_effect = {.per_second = 1e9, .burst = 1e9};

static void *take_many(void *arg) {
  worker *w = arg;
  for (long i = 0; i < w->takes; i++) oc_rate_limiter_take(w->limiter, "bench", &unlimited_in_effect, oc_monotonic_seconds());
  return NULL;
}

/* Seconds for takes spread over threads on a limiter placed at where. */
static double time_takes(const char *where, const char *uri, long takes, int threads) {
  oc_rate_limiter l;
  oc_rate_limiter_init(&l);
  oc_error err;
  if (oc_rate_limiter_place(&l, where, uri, &err) != 0) {
    fprintf(stderr, "bench_cluster: %s\n", err.message);
    exit(1);
  }
  worker w[THREADS];
  pthread_t t[THREADS];
  for (int i = 0; i < threads; i++) w[i] = (worker){&l, 20}; /* warm up: connections opened */
  for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, take_many, &w[i]);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  double start = oc_monotonic_seconds();
  for (int i = 0; i < threads; i++) w[i] = (worker){&l, takes / threads};
  for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, take_many, &w[i]);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  double seconds = oc_monotonic_seconds() - start;
  oc_rate_limiter_free(&l);
  return seconds;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_cluster STORE_URI [TAKES]\n");
    return 2;
  }
  long takes = argc > 2 ? atol(argv[2]) : 20000;
  oc_error err;
  oc_store *store = oc_store_open(argv[1], &err); /* migrated before timing */
  if (!store) {
    fprintf(stderr, "bench_cluster: %s\n", err.message);
    return 1;
  }
  oc_store_close(store);
  printf("%-28s %8s %12s %12s\n", "buckets", "threads", "us/take", "takes/s");
  const char *places[] = {"node", "store"};
  for (int p = 0; p < 2; p++) {
    for (int threads = 1; threads <= THREADS; threads *= THREADS) {
      long n = p == 0 ? takes * 100 : takes;
      double s = time_takes(places[p], argv[1], n, threads);
      printf("%-28s %8d %12.2f %12.0f\n", p == 0 ? "node (this process)" : "store (one upsert per take)", threads,
             s * 1e6 / (double)n, (double)n / s);
    }
  }
  return 0;
}
