/* bench_backtest: times the walk-forward backtest of the given models on a Date,Price CSV (the shared
 * EIA file) and prints the timing, the metric summary and a digest of every forecast (so a speed-up can
 * show it changed no result). Driven by bench/backtest/run, which also
 * times statsmodels' ARIMA(1,1,1) on the same origins. Benchmark code: reads the CSV itself so it does
 * not depend on a data directory.
 * Usage: bench_backtest FILE.csv START END HORIZON REFIT_EVERY MODELS(comma-separated) THREADS [REPEATS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/progress.h"
#include "core/sha256.h"
#include "model/backtest.h"

static int read_price_csv(const char *path, oc_series *s, oc_error *err) {
  char *text;
  size_t len;
  if (oc_read_file(path, &text, &len, err) < 0) return -1;
  size_t cap = 1024, n = 0;
  oc_series_init(s, "WTI", cap);
  char *save = NULL;
  size_t line = 0;
  for (char *row = strtok_r(text, "\n", &save); row; row = strtok_r(NULL, "\n", &save)) {
    if (line++ == 0) continue;
    char *comma = strchr(row, ',');
    if (!comma) continue;
    oc_date d;
    if (oc_date_parse(row, (size_t)(comma - row), &d, NULL) < 0) {
      free(text);
      return oc_error_set(err, "%s:%zu: bad date", path, line);
    }
    if (n == cap) {
      cap *= 2;
      s->dates = oc_xrealloc(s->dates, cap * sizeof *s->dates);
      s->values = oc_xrealloc(s->values, cap * sizeof *s->values);
    }
    s->dates[n] = d;
    s->values[n++] = strtod(comma + 1, NULL);
  }
  s->n = n;
  free(text);
  return 0;
}

/* SHA-256 of every forecast (origin price, point and bounds at each horizon, as raw doubles): equal
 * digests mean a change left the backtest's results bit for bit as they were. */
static void forecasts_digest(const oc_backtest_result *r, char hex[65]) {
  oc_sha256 ctx;
  oc_sha256_init(&ctx);
  for (size_t i = 0; i < r->n_models * r->n_origins; i++) {
    const oc_price_forecast *f = &r->forecasts[i];
    size_t bytes = f->horizon * sizeof(double);
    oc_sha256_update(&ctx, &f->origin_price, sizeof f->origin_price);
    oc_sha256_update(&ctx, f->mean, bytes);
    oc_sha256_update(&ctx, f->lo80, bytes);
    oc_sha256_update(&ctx, f->hi80, bytes);
    oc_sha256_update(&ctx, f->lo95, bytes);
    oc_sha256_update(&ctx, f->hi95, bytes);
  }
  uint8_t digest[32];
  oc_sha256_final(&ctx, digest);
  oc_hex_encode(digest, 32, hex);
}

/* CPU seconds (user + system, all threads) used by the process so far. */
static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
         (double)ru.ru_stime.tv_usec * 1e-6;
}

int main(int argc, char **argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: %s FILE.csv START END HORIZON REFIT_EVERY MODELS THREADS [REPEATS]\n", argv[0]);
    return 2;
  }
  oc_error err = {0};
  oc_series s;
  if (read_price_csv(argv[1], &s, &err) < 0) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  oc_backtest_config cfg = {0};
  if (oc_date_parse(argv[2], strlen(argv[2]), &cfg.start, NULL) < 0 || oc_date_parse(argv[3], strlen(argv[3]), &cfg.end, NULL) < 0) {
    fprintf(stderr, "bad dates\n");
    return 2;
  }
  cfg.horizon = (size_t)atoi(argv[4]);
  cfg.refit_every = (size_t)atoi(argv[5]);
  cfg.threads = (size_t)atoi(argv[7]);
  int repeats = argc > 8 ? atoi(argv[8]) : 1;
  char *list = oc_xstrdup(argv[6]);
  const char *specs[16];
  size_t n_specs = 0;
  char *save = NULL;
  for (char *m = strtok_r(list, ",", &save); m && n_specs < 16; m = strtok_r(NULL, ",", &save)) specs[n_specs++] = m;
  oc_backtest_result r;
  double best = 1e30, best_cpu = 1e30;
  for (int rep = 0; rep < repeats; rep++) {
    double t0 = oc_monotonic_seconds(), c0 = cpu_seconds();
    if (oc_backtest_run(&s, specs, n_specs, &cfg, &r, &err) < 0) {
      fprintf(stderr, "%s\n", err.message);
      return 1;
    }
    double dt = oc_monotonic_seconds() - t0, dc = cpu_seconds() - c0;
    if (dt < best) best = dt;
    if (dc < best_cpu) best_cpu = dc;
    if (rep + 1 < repeats) oc_backtest_result_free(&r);
  }
  oc_buf out = {0};
  oc_backtest_format(&r, "table", NULL, &out, &err);
  fputs(out.data, stdout);
  printf("oilcast_seconds %.4f cpu_seconds %.4f origins %zu models %s threads %zu\n", best, best_cpu, r.n_origins, argv[6],
         cfg.threads);
  char hex[65];
  forecasts_digest(&r, hex);
  printf("forecasts_sha256 %s\n", hex);
  oc_buf_free(&out);
  oc_backtest_result_free(&r);
  oc_series_free(&s);
  free(list);
  return 0;
}
