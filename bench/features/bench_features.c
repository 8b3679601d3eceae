/* bench_features: the full oilcast feature set (features.h: calendar, returns and lags, rolling
 * statistics, TA-Lib indicators, one exogenous spread) over N simulated trading days (the market
 * simulator, target = series 0, exog = series 1). Prints rows/s for 1 thread and for T threads, each
 * the best of R runs, timed "cold" (allocating and first-touching the output columns, as pandas does)
 * and "warm" (into already-touched columns). For scale it also times the memory floor: only writing
 * the same output columns (memset with a non-zero byte), cold and warm, on the same threads. With --dump DIR it also writes the inputs as raw little-endian files
 * (dates.i32, close.f64, exog.f64) for the pandas peer in bench/features/run. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/fsutil.h"
#include "core/progress.h"
#include "features/features.h"
#include "ingest/simulate.h"

static int dump(const char *dir, const char *name, const void *data, size_t bytes) {
  char *path = oc_path_join(dir, name);
  oc_error err;
  int rc = oc_write_file_atomic(path, data, bytes, &err);
  if (rc != 0) fprintf(stderr, "bench_features: %s\n", err.message);
  free(path);
  return rc;
}

static void compute_features(const oc_feature_input *in, double **cols, size_t count, int threads) {
  (void)count;
  oc_features_compute(in, cols, threads);
}

/* The memory floor: threads write every column once, each thread its own share of the columns. */
typedef struct floor_share {
  double **cols;
  size_t first, last, n;
} floor_share;

static void *write_share(void *arg) {
  floor_share *s = arg;
  /* A non-zero pattern: on some machines writing zeros is much cheaper than writing data (here 2x). */
  for (size_t c = s->first; c < s->last; c++) memset(s->cols[c], 0x5a, s->n * sizeof(double));
  return NULL;
}

static void write_columns(const oc_feature_input *in, double **cols, size_t count, int threads) {
  pthread_t workers[64];
  floor_share shares[64];
  int t = 0;
  for (; t < threads && t < 64; t++) {
    shares[t] = (floor_share){cols, count * (size_t)t / (size_t)threads, count * (size_t)(t + 1) / (size_t)threads, in->n};
    if (pthread_create(&workers[t], NULL, write_share, &shares[t]) != 0) break;
  }
  for (int k = 0; k < t; k++) pthread_join(workers[k], NULL);
}

/* Best of repeats runs of work on 1 and on threads threads, each timed cold (allocating the columns
 * inside the timing, as pandas does, and freeing them after) and warm (into the columns just used). */
static void time_best(const char *label, void (*work)(const oc_feature_input *, double **, size_t, int),
                      const oc_feature_input *in, size_t count, int threads, int repeats) {
  const int thread_counts[] = {1, threads};
  for (int t = 0; t < (threads > 1 ? 2 : 1); t++) {
    double best_cold = 1e300, best_warm = 1e300;
    for (int r = 0; r < repeats; r++) {
      double t0 = oc_monotonic_seconds();
      double **cols = oc_features_alloc_columns(count, in->n);
      work(in, cols, count, thread_counts[t]);
      double t1 = oc_monotonic_seconds();
      work(in, cols, count, thread_counts[t]);
      double t2 = oc_monotonic_seconds();
      oc_features_free_columns(cols, count);
      best_cold = t1 - t0 < best_cold ? t1 - t0 : best_cold;
      best_warm = t2 - t1 < best_warm ? t2 - t1 : best_warm;
    }
    printf("%s features=%zu rows=%zu threads=%d cold_seconds=%.3f cold_rows_per_s=%.0f warm_seconds=%.3f "
           "warm_rows_per_s=%.0f\n",
           label, count, in->n, thread_counts[t], best_cold, (double)in->n / best_cold, best_warm,
           (double)in->n / best_warm);
    fflush(stdout);
  }
}

int main(int argc, char **argv) {
  size_t n = 10000000;
  int threads = 2, repeats = 3;
  const char *dump_dir = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) n = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) repeats = atoi(argv[++i]);
    else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc) dump_dir = argv[++i];
    else {
      fprintf(stderr, "usage: bench_features [--rows N] [--threads T] [--repeats R] [--dump DIR]\n");
      return 2;
    }
  }
  oc_date *dates = oc_xmalloc(n * sizeof *dates), *exog_dates = oc_xmalloc(n * sizeof *exog_dates);
  double *close = oc_xmalloc(n * sizeof *close), *exog = oc_xmalloc(n * sizeof *exog);
  oc_date start = oc_date_from_ymd(1990, 1, 1);
  oc_simulate_series(42, 0, start, n, dates, close);
  oc_simulate_series(42, 1, start, n, exog_dates, exog);
  if (dump_dir && (dump(dump_dir, "dates.i32", dates, n * sizeof *dates) != 0 ||
                   dump(dump_dir, "close.f64", close, n * sizeof *close) != 0 ||
                   dump(dump_dir, "exog.f64", exog, n * sizeof *exog) != 0))
    return 1;
  const char *exog_names[] = {"EXOG"};
  const double *exogs[] = {exog};
  oc_feature_input in = {n, dates, close, 1, exog_names, exogs};
  size_t count = oc_features_count(1);
  time_best("oilcast", compute_features, &in, count, threads, repeats);
  time_best("floor (writing the output columns only)", write_columns, &in, count, threads, repeats);
  free(dates);
  free(exog_dates);
  free(close);
  free(exog);
  return 0;
}
