/* testutil.h: helpers shared by the cmocka unit tests: locating the shared real data (skip or fail
 * per the CI rule), scratch directories, and float comparisons. Test code only. */
#ifndef OC_TESTUTIL_H
#define OC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/frame.h"
#include "model/auto_select.h"
#include "model/mlp.h"
#include "model/model_file.h"
#include "model/training_table.h"
#include "store/store.h"

/* Directory holding the shared EIA data ($OILCAST_TEST_DATA, default ../shared/data). When it is
 * absent the whole test program exits 77 (ctest reports "skipped"), or fails when CI=true. */
const char *oc_test_data_dir_or_skip(void);
/* That directory when it holds wti-daily.csv, else NULL: for a test that runs on the simulator
 * without it (ingest/simulate.h) because it checks nothing specific to the real prices. */
const char *oc_test_data_dir_if_present(void);
/* Full path of a file in that directory (malloc'd). */
char *oc_test_data_path(const char *name);
/* A fresh empty directory under $TMPDIR (malloc'd); removed by oc_test_rmtree. */
char *oc_test_tmpdir(const char *tag);
void oc_test_rmtree(const char *path);
/* A fresh data directory (oc_datadir_init under oc_test_tmpdir(tag), which must report it created),
 * opened into *store; returns its path (malloc'd). Fails the test on an error. */
char *oc_test_datadir(const char *tag, oc_store **store);
/* cmocka setup/teardown of a test on its own fresh data directory: *state is an
 * oc_test_datadir_fixture (the directory and its open store), removed again by the teardown. */
typedef struct oc_test_datadir_fixture {
  char *dir;
  oc_store *store;
} oc_test_datadir_fixture;
int oc_test_datadir_setup(void **state);
int oc_test_datadir_teardown(void **state);
/* Writes text to dir/name and returns the full path (malloc'd). */
char *oc_test_write_file(const char *dir, const char *name, const char *text);
/* Whether dir/name exists. */
bool oc_test_exists_in(const char *dir, const char *name);
/* |a-b| <= tol * max(1, |a|, |b|). */
int oc_test_close(double a, double b, double tol);
/* Series "SIM" of n prices on consecutive trading days from 2018-01-01 whose log returns follow
 * r(t) = phi r(t-1) + sd e(t) (e standard normal from the seeded oc_rng), starting at 60. */
oc_series oc_test_ar1_series(size_t n, double phi, double sd, uint64_t seed);
/* `auto`'s comparison sized for such series: `origins` validation origins a block, `years` blocks, the
 * horizon, refits every `refit`, two threads. */
oc_auto_config oc_test_auto_config(size_t origins, size_t years, size_t horizon, size_t refit);

/* A trading-day random walk in log price from 60 USD on 2020-01-06: daily log drift, 1.5% daily
 * volatility, deterministic for a seed. Free with oc_series_free. */
oc_series oc_test_random_walk_series(const char *name, size_t n, double drift, uint64_t seed);

/* Stores s in store under its name (unit USD/bbl, source "simulated"); fails the test on an error. */
void oc_test_store_series(oc_store *store, const oc_series *s);

/* The ETL table of history (horizon steps) and a small reference network (16/8 hidden units) trained
 * on it for epochs epochs: what the forecast and serving tests share. The caller frees frame, table,
 * net and card. */
void oc_test_train_small_mlp(const oc_series *history, int horizon, int epochs, oc_frame *frame,
                             oc_training_table *table, oc_mlp *net, oc_model_card *card);

/* `oilcast etl` of the stored series into data_dir's default training table (processed/...), with
 * targets for horizon steps; fails the test on an error. */
void oc_test_etl_table(const char *data_dir, oc_store *store, const char *series, int horizon);

/* An in-process `oilcast serve` on data_dir, on a free loopback port, without an access log; url
 * receives "http://127.0.0.1:PORT". Fails the test on an error; stop it with oc_server_stop. */
struct oc_server;
struct oc_server *oc_test_server_start(const char *data_dir, char url[64]);

#endif
