/* bench_market MANIFEST [REPEATS]: where the CPU of a market fetch goes, stage by stage, measured in
 * this process on the answers a fetch kept in the raw zone (the manifest bench/market/run's last fetch
 * wrote): for each answer, the scan of its bytes (the provider's parse), its SHA-256 and the masking
 * of the API key; then the whole replay of the manifest into a fresh data directory (answers read and
 * checked, parsed, every row validated, upserted in one transaction, the run recorded and committed);
 * and two parts of that replay on their own: opening the store it left (migrated, as every command
 * after `oilcast init` finds it) and upserting its rows into a fresh store with the commit; and their
 * sum with the scans, the serial work that no arrangement of a fetch can skip.
 * Each figure is the least CPU time (this thread's) of REPEATS runs (default 20): the cost of the work
 * itself, which the load of a shared machine only adds to. What `oilcast ingest` pays besides (process
 * start, opening the store, the requests) is the run script's figure minus these. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/frame.h"
#include "core/fsutil.h"
#include "core/sha256.h"
#include "ingest/market.h"
#include "store/datadir.h"
#include "store/store.h"

#define KEY "bench-key-0123456789" /* the key bench/market/run asks with (the answers hold it masked) */

static double thread_cpu_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void least(double *best, double t0) {
  double spent = thread_cpu_ms() - t0;
  if (spent < *best) *best = spent;
}

/* The scan, SHA-256 and masking of one answer file, the least of repeats runs each; adds the scan's to
 * *scans. */
static int answer_stages(const oc_market_provider *provider, const char *path, int repeats, double *scans) {
  char *body;
  size_t len;
  oc_error err;
  if (oc_read_file(path, &body, &len, &err) != 0) return fprintf(stderr, "bench_market: %s\n", err.message), -1;
  double scan = 1e300, hash = 1e300, mask = 1e300;
  for (int r = 0; r < repeats; r++) {
    oc_market_page page;
    double t0 = thread_cpu_ms();
    if (provider->parse(body, len, &page, &err) != 0) {
      fprintf(stderr, "bench_market: %s: %s\n", path, err.message);
      free(body);
      return -1;
    }
    least(&scan, t0);
    oc_market_page_free(&page);
    char hex[OC_SHA256_HEX_LEN];
    t0 = thread_cpu_ms();
    oc_sha256_hex(body, len, hex);
    least(&hash, t0);
    t0 = thread_cpu_ms();
    oc_market_mask_key(body, len, KEY);
    least(&mask, t0);
  }
  printf("  answer of %7zu bytes: scan %6.2f ms (%4.0f MB/s), SHA-256 %5.2f ms, key masking %5.2f ms\n", len, scan,
         (double)len / 1e3 / scan, hash, mask);
  *scans += scan;
  free(body);
  return 0;
}

/* The whole replay into a fresh data directory under tmp, the least of repeats runs. */
static int replay_stage(const char *manifest, const char *tmp, int repeats) {
  double best = 1e300;
  long long rows = 0;
  for (int r = 0; r < repeats; r++) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/replay%d", tmp, r);
    oc_error err;
    bool created;
    oc_store *store;
    if (oc_datadir_init(dir, &created, &err) != 0 || oc_datadir_open(dir, &store, &err) != 0)
      return fprintf(stderr, "bench_market: %s\n", err.message), -1;
    char *raw_dir = oc_path_join(dir, "raw/market_data");
    oc_market_options opt = oc_market_options_default();
    opt.replay = manifest;
    opt.raw_dir = raw_dir;
    oc_ingest_report batch;
    oc_market_report report;
    double t0 = thread_cpu_ms();
    int rc = oc_market_ingest(store, &opt, &batch, &report, &err);
    least(&best, t0);
    rows = batch.rows_inserted;
    oc_ingest_report_free(&batch);
    oc_store_close(store);
    free(raw_dir);
    if (rc != 0) return fprintf(stderr, "bench_market: replay: %s\n", err.message), -1;
  }
  printf("  replay into a fresh store (%lld rows: answers read and checked, parsed, validated, upserted, "
         "committed): %.2f ms\n", rows, best);
  return 0;
}

/* Opening the store of the data directory dir (already migrated), the least of repeats runs (*best). */
static int open_stage(const char *dir, int repeats, double *best_out) {
  double best = 1e300;
  for (int r = 0; r < repeats; r++) {
    oc_error err;
    oc_store *store;
    double t0 = thread_cpu_ms();
    if (oc_datadir_open(dir, &store, &err) != 0) return fprintf(stderr, "bench_market: %s\n", err.message), -1;
    least(&best, t0);
    oc_store_close(store);
  }
  printf("  opening the store (migrated already): %.2f ms\n", best);
  *best_out = best;
  return 0;
}

/* Upserts the series' rows into the store of a fresh data directory dir in one transaction; adds this
 * thread's CPU time of the upsert and of the commit to the least so far. */
static int upsert_once(const oc_series *series, const char *dir, double *upsert, double *commit) {
  oc_error err;
  bool created;
  oc_store *store;
  if (oc_datadir_init(dir, &created, &err) != 0 || oc_datadir_open(dir, &store, &err) != 0)
    return fprintf(stderr, "bench_market: %s\n", err.message), -1;
  oc_observation *obs = oc_xcalloc(series->n ? series->n : 1, sizeof *obs);
  int64_t id = 0;
  int rc = oc_store_series_ensure(store, series->name, "USD/bbl", "market", &id, &err);
  for (size_t i = 0; i < series->n; i++) obs[i] = (oc_observation){id, series->dates[i], series->values[i]};
  oc_upsert_counts counts = {0};
  double t0 = thread_cpu_ms();
  if (rc == 0) rc = oc_store_begin(store, &err);
  if (rc == 0) rc = oc_store_observations_upsert(store, obs, series->n, "market", 0, &counts, &err);
  least(upsert, t0);
  t0 = thread_cpu_ms();
  if (rc == 0) rc = oc_store_commit(store, &err);
  least(commit, t0);
  if (rc == 0 && counts.inserted != (int64_t)series->n) rc = oc_error_set(&err, "%lld of %zu rows inserted",
                                                                          (long long)counts.inserted, series->n);
  free(obs);
  oc_store_close(store);
  return rc == 0 ? 0 : (fprintf(stderr, "bench_market: upsert: %s\n", err.message), -1);
}

/* The replayed store's first series (in replayed_dir), upserted into fresh stores under tmp; *spent
 * receives the least upsert plus the least commit. */
static int upsert_stage(const char *replayed_dir, const char *tmp, int repeats, double *spent) {
  oc_error err;
  oc_store *store;
  if (oc_datadir_open(replayed_dir, &store, &err) != 0) return fprintf(stderr, "bench_market: %s\n", err.message), -1;
  oc_series_info *list = NULL;
  size_t n = 0;
  oc_series series = {0};
  int rc = oc_store_series_list(store, &list, &n, &err) != 0 || n == 0
               ? -1
               : oc_store_series_load(store, list[0].name, oc_date_from_ymd(1, 1, 1),
                                     oc_date_from_ymd(9999, 12, 31), &series, &err);
  oc_series_info_list_free(list, n);
  oc_store_close(store);
  if (rc != 0) return fprintf(stderr, "bench_market: loading the replayed series: %s\n", n ? err.message : "none"), -1;
  double upsert = 1e300, commit = 1e300;
  for (int r = 0; rc == 0 && r < repeats; r++) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/upsert%d", tmp, r);
    rc = upsert_once(&series, dir, &upsert, &commit);
  }
  if (rc == 0)
    printf("  upserting its %zu rows into a fresh store, one transaction: %.2f ms, its commit %.2f ms\n", series.n,
           upsert, commit);
  *spent = upsert + commit;
  oc_series_free(&series);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: bench_market MANIFEST [REPEATS]\n"), 2;
  const char *manifest = argv[1];
  int repeats = argc > 2 ? atoi(argv[2]) : 20;
  if (repeats < 1) repeats = 1;
  json_error_t jerr;
  json_t *m = json_load_file(manifest, 0, &jerr);
  const char *provider_name = json_string_value(json_object_get(m, "provider")); /* NULL for no m */
  const oc_market_provider *provider = provider_name ? oc_market_provider_find(provider_name) : NULL;
  if (!provider) {
    fprintf(stderr, "bench_market: %s: not a market manifest\n", manifest);
    json_decref(m);
    return 1;
  }
  /* the answers' files are named relative to the provider's folder, two levels above the manifest */
  char *provider_dir = oc_xstrdup(manifest);
  for (int up = 0; up < 2 && strrchr(provider_dir, '/'); up++) *strrchr(provider_dir, '/') = '\0';
  printf("bench_market: where a %s fetch's CPU goes (least of %d runs each, this process)\n", provider->name, repeats);
  int rc = 0;
  double scans = 0, open = 0, upsert = 0;
  size_t i;
  const json_t *answer;
  json_array_foreach(json_object_get(m, "answers"), i, answer) {
    if (rc != 0 || !json_is_true(json_object_get(answer, "used"))) continue;
    char *path = oc_path_join(provider_dir, json_string_value(json_object_get(answer, "file")));
    rc = answer_stages(provider, path, repeats, &scans);
    free(path);
  }
  char tmp[] = "/tmp/oilcast-bench-market-parts-XXXXXX";
  if (rc == 0 && !mkdtemp(tmp)) rc = (perror("bench_market: mkdtemp"), -1);
  if (rc == 0) {
    rc = replay_stage(manifest, tmp, repeats);
    char replayed[sizeof tmp + 16];
    snprintf(replayed, sizeof replayed, "%s/replay0", tmp);
    if (rc == 0) rc = open_stage(replayed, repeats, &open);
    if (rc == 0) rc = upsert_stage(replayed, tmp, repeats, &upsert);
    /* what any fetch of these answers does on one thread after they came, however it is arranged:
     * read them, open the store, put the rows in and commit (the SHA-256s and the raw zone can wait on
     * other cores); bench/market/run adds the process start and the download to it */
    if (rc == 0)
      printf("  the serial work no fetch of these answers can skip (their scans, the store's open, the upsert "
             "and its commit): %.2f ms\n", scans + open + upsert);
    char cmd[sizeof tmp + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "bench_market: could not remove %s\n", tmp);
  }
  free(provider_dir);
  json_decref(m);
  return rc == 0 ? 0 : 1;
}
