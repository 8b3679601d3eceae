/* testutil.c: see testutil.h. */
#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/fsutil.h"
#include "core/rng.h"
#include "store/datadir.h"
#include "features/etl.h"
#include "model/trainer.h"
#include "pipeline/etl.h"
#include "serve/server.h"

static const char *data_dir(void) {
  const char *dir = getenv("OILCAST_TEST_DATA");
  return dir && *dir ? dir : "../shared/data";
}

const char *oc_test_data_dir_if_present(void) {
  const char *dir = data_dir();
  char *probe = oc_path_join(dir, "wti-daily.csv");
  int present = access(probe, R_OK) == 0;
  free(probe);
  return present ? dir : NULL;
}

const char *oc_test_data_dir_or_skip(void) {
  const char *dir = oc_test_data_dir_if_present();
  if (dir) return dir;
  dir = data_dir();
  const char *ci = getenv("CI");
  if (ci && strcmp(ci, "true") == 0) {
    fprintf(stderr, "test data not found at %s (OILCAST_TEST_DATA) and CI=true: failing\n", dir);
    exit(1);
  }
  fprintf(stderr, "test data not found at %s (set OILCAST_TEST_DATA): skipped\n", dir);
  exit(77);
}

char *oc_test_data_path(const char *name) { return oc_path_join(oc_test_data_dir_or_skip(), name); }

char *oc_test_tmpdir(const char *tag) {
  const char *base = getenv("TMPDIR");
  oc_buf path = {0};
  oc_buf_printf(&path, "%s/oilcast-test-%s-XXXXXX", base && *base ? base : "/tmp", tag);
  if (!mkdtemp(path.data)) {
    perror("mkdtemp");
    abort();
  }
  return oc_buf_steal(&path);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

void oc_test_rmtree(const char *path) { nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

char *oc_test_datadir(const char *tag, oc_store **store) {
  char *dir = oc_test_tmpdir(tag);
  oc_error err;
  bool created;
  if (oc_datadir_init(dir, &created, &err) != 0) fail_msg("%s", err.message);
  if (!created) fail_msg("oc_datadir_init found %s already initialized", dir);
  if (oc_datadir_open(dir, store, &err) != 0) fail_msg("%s", err.message);
  return dir;
}

int oc_test_datadir_setup(void **state) {
  oc_test_datadir_fixture *f = oc_xcalloc(1, sizeof *f);
  f->dir = oc_test_datadir("unit", &f->store);
  *state = f;
  return 0;
}

int oc_test_datadir_teardown(void **state) {
  oc_test_datadir_fixture *f = *state;
  oc_store_close(f->store);
  oc_test_rmtree(f->dir);
  free(f->dir);
  free(f);
  return 0;
}

char *oc_test_write_file(const char *dir, const char *name, const char *text) {
  char *path = oc_path_join(dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    abort();
  }
  fputs(text, f);
  fclose(f);
  return path;
}

bool oc_test_exists_in(const char *dir, const char *name) {
  char *path = oc_path_join(dir, name);
  bool found = oc_path_exists(path);
  free(path);
  return found;
}

int oc_test_close(double a, double b, double tol) {
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
  double scale = fmax(1.0, fmax(fabs(a), fabs(b)));
  return fabs(a - b) <= tol * scale;
}

oc_auto_config oc_test_auto_config(size_t origins, size_t years, size_t horizon, size_t refit) {
  oc_auto_config c;
  oc_auto_config_default(&c);
  c.origins = origins;
  c.years = years;
  c.horizon = horizon;
  c.refit_every = refit;
  c.threads = 2;
  return c;
}

oc_series oc_test_ar1_series(size_t n, double phi, double sd, uint64_t seed) {
  oc_rng rng;
  oc_rng_seed(&rng, seed);
  oc_series s;
  oc_series_init(&s, "SIM", n);
  oc_date d = oc_date_from_ymd(2018, 1, 1);
  double r = 0, lp = log(60);
  for (size_t i = 0; i < n; i++) {
    r = phi * r + sd * oc_rng_normal(&rng);
    lp += r;
    s.dates[i] = d;
    s.values[i] = exp(lp);
    d = oc_calendar_next_trading_day(d);
  }
  return s;
}

void oc_test_store_series(oc_store *store, const oc_series *s) {
  oc_observation *obs = oc_xcalloc(s->n, sizeof *obs);
  int64_t id;
  oc_error err;
  if (oc_store_series_ensure(store, s->name, "USD/bbl", "simulated", &id, &err) != 0) fail_msg("%s", err.message);
  for (size_t i = 0; i < s->n; i++) obs[i] = (oc_observation){id, s->dates[i], s->values[i]};
  oc_upsert_counts counts = {0};
  if (oc_store_observations_upsert(store, obs, s->n, "simulated", 0, &counts, &err) != 0) fail_msg("%s", err.message);
  free(obs);
}

oc_series oc_test_random_walk_series(const char *name, size_t n, double drift, uint64_t seed) {
  oc_series s;
  oc_series_init(&s, name, n);
  oc_rng rng;
  oc_rng_seed(&rng, seed);
  oc_date d = oc_date_from_ymd(2020, 1, 6);
  double logp = log(60.0);
  for (size_t i = 0; i < n; i++) {
    s.dates[i] = d;
    s.values[i] = exp(logp);
    logp += drift + 0.015 * oc_rng_normal(&rng);
    d = oc_calendar_next_trading_day(d);
  }
  return s;
}

void oc_test_train_small_mlp(const oc_series *history, int horizon, int epochs, oc_frame *frame,
                             oc_training_table *table, oc_mlp *net, oc_model_card *card) {
  oc_etl_options eopt;
  oc_etl_options_default(&eopt);
  eopt.horizon = horizon;
  oc_error err;
  if (oc_etl_build(history, NULL, 0, &eopt, frame, NULL, &err) != 0) fail_msg("%s", err.message);
  if (oc_training_table_from_frame(frame, table, &err) != 0) fail_msg("%s", err.message);
  oc_mlp_arch arch = oc_mlp_arch_default(1, 1);
  arch.h1 = 16;
  arch.h2 = 8;
  oc_train_params params = oc_train_params_default();
  params.epochs = epochs;
  oc_fit_result fit;
  if (oc_train_on_table(table, &arch, &params, "table.parquet", NULL, NULL, net, card, &fit, &err) != 0)
    fail_msg("%s", err.message);
  oc_fit_result_free(&fit);
}

void oc_test_etl_table(const char *data_dir, oc_store *store, const char *series, int horizon) {
  oc_pipeline_etl_options opt;
  oc_pipeline_etl_options_default(&opt);
  opt.series = series;
  opt.etl.horizon = horizon;
  oc_pipeline_etl_result table;
  oc_error err;
  if (oc_pipeline_etl(data_dir, store, &opt, &table, &err) != 0) fail_msg("%s", err.message);
  oc_pipeline_etl_result_free(&table);
}

oc_server *oc_test_server_start(const char *data_dir, char url[64]) {
  oc_serve_config cfg;
  oc_serve_config_defaults(&cfg);
  cfg.data_dir = data_dir;
  cfg.listen = "127.0.0.1:0";
  cfg.access_log_fd = -1;
  oc_server *server;
  oc_error err;
  if (oc_server_start(&cfg, &server, &err) != 0) fail_msg("%s", err.message);
  snprintf(url, 64, "http://127.0.0.1:%u", oc_server_port(server));
  return server;
}
