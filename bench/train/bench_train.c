/* bench_train: trains the reference network on the WTI training table and prints the time and the
 * validation loss; bench/train/run compares it with the same network in PyTorch.
 *   bench_train --data-dir DIR [--series WTI] [--epochs 100] [--repeats 1] [--export FILE]
 * DIR is an oilcast data directory holding the series; the table is built with the ETL defaults (as
 * `oilcast etl` does). Early stopping and the learning-rate plateau rule are off so every run does all
 * epochs. Wall-clock and CPU seconds are both printed: on a shared machine the wall clock mostly
 * measures waiting for a core. --export writes the exact matrices for the peer: int64 LE n_train, n_val, n_in, n_out, then
 * float32 LE x_train, y_train, x_val, y_val. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fsutil.h"
#include "features/etl.h"
#include "model/model_file.h"
#include "model/training_table.h"
#include "store/datadir.h"

static void put_i64(FILE *f, int64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)v >> (8 * i));
  fwrite(b, 1, 8, f);
}

static void put_floats(FILE *f, const float *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t bits;
    memcpy(&bits, &v[i], 4);
    unsigned char b[4] = {(unsigned char)bits, (unsigned char)(bits >> 8), (unsigned char)(bits >> 16),
                          (unsigned char)(bits >> 24)};
    fwrite(b, 1, 4, f);
  }
}

int main(int argc, char **argv) {
  const char *dir = NULL, *series = "WTI", *export_path = NULL;
  int epochs = 100, repeats = 1;
  static const struct option options[] = {{"data-dir", required_argument, NULL, 'd'},
                                          {"series", required_argument, NULL, 's'},
                                          {"epochs", required_argument, NULL, 'e'},
                                          {"repeats", required_argument, NULL, 'r'},
                                          {"export", required_argument, NULL, 'x'},
                                          {0}};
  int opt;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (opt == 'd') dir = optarg;
    else if (opt == 's') series = optarg;
    else if (opt == 'e') epochs = atoi(optarg);
    else if (opt == 'r') repeats = atoi(optarg);
    else if (opt == 'x') export_path = optarg;
    else return 2;
  }
  if (!dir || epochs < 1 || repeats < 1) {
    fprintf(stderr, "usage: bench_train --data-dir DIR [--series WTI] [--epochs N] [--repeats N] [--export FILE]\n");
    return 2;
  }
  oc_error err;
  oc_store *store;
  oc_series s;
  oc_frame frame;
  oc_etl_options eopt;
  oc_etl_options_default(&eopt);
  oc_training_table t;
  if (oc_datadir_open(dir, &store, &err) != 0 ||
      oc_store_series_load(store, series, OC_DATE_INVALID, OC_DATE_INVALID, &s, &err) != 0 ||
      oc_etl_build(&s, NULL, 0, &eopt, &frame, NULL, &err) != 0 || oc_training_table_from_frame(&frame, &t, &err) != 0) {
    fprintf(stderr, "bench_train: %s\n", err.message);
    return 1;
  }
  printf("table: %s, %zu rows x %zu features, %zu horizons; %zu train, %zu validation rows\n", series, frame.nrows,
         t.n_in, t.n_out, t.n_train, t.n_val);
  if (export_path) {
    FILE *f = fopen(export_path, "wb");
    if (!f) return perror(export_path), 1;
    put_i64(f, (int64_t)t.n_train);
    put_i64(f, (int64_t)t.n_val);
    put_i64(f, (int64_t)t.n_in);
    put_i64(f, (int64_t)t.n_out);
    put_floats(f, t.x_train, t.n_train * t.n_in);
    put_floats(f, t.y_train, t.n_train * t.n_out);
    put_floats(f, t.x_val, t.n_val * t.n_in);
    put_floats(f, t.y_val, t.n_val * t.n_out);
    fclose(f);
  }
  oc_mlp_arch arch = oc_mlp_arch_default((int)t.n_in, (int)t.n_out);
  oc_train_params p = oc_train_params_default();
  p.epochs = epochs;
  p.early_stopping_patience = 0;
  p.lr_patience = 0;
  oc_dataset train = oc_training_table_train(&t), val = oc_training_table_val(&t);
  double best = 1e300, best_cpu = 1e300;
  for (int r = 0; r < repeats; r++) {
    oc_mlp m;
    oc_fit_result res;
    p.seed = 42 + (uint64_t)r;
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    if (oc_mlp_fit(&arch, &p, &train, &val, NULL, NULL, &m, &res, &err) != 0) {
      fprintf(stderr, "bench_train: %s\n", err.message);
      return 1;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
    printf("oilcast: seconds=%.3f cpu_seconds=%.3f epochs=%d final_val_loss=%.6g best_val_loss=%.6g seed=%llu\n",
           res.seconds, cpu, res.epochs_run, res.val_loss[res.epochs_run - 1], res.best_val_loss,
           (unsigned long long)p.seed);
    if (res.seconds < best) best = res.seconds;
    if (cpu < best_cpu) best_cpu = cpu;
    oc_mlp_free(&m);
    oc_fit_result_free(&res);
  }
  printf("oilcast_best_seconds=%.3f\noilcast_best_cpu_seconds=%.3f\n", best, best_cpu);
  oc_training_table_free(&t);
  oc_frame_free(&frame);
  oc_series_free(&s);
  oc_store_close(store);
  return 0;
}
