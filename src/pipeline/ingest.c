/* pipeline/ingest.c: see ingest.h. The source table and the call that picks its entry; what a source
 * does with its input lives in src/ingest/, never here. */
#include "pipeline/ingest.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/http_client.h"
#include "core/progress.h"
#include "ingest/import.h"
#include "store/datadir.h"

/* One way to ingest. run() reads opt's input and ends in oc_ingest_batch; raw_dir is the source's
 * lineage root (DIR/raw/<zone>). */
typedef struct ingest_source {
  const char *name;     /* the --source value; also the source kind stamped on runs, series and rows */
  const char *raw_zone; /* lineage folder under DIR/raw/ (created by `oilcast init`) */
  int (*run)(const char *data_dir, oc_store *store, const struct ingest_source *source,
             const oc_pipeline_ingest_options *opt, const char *raw_dir, oc_pipeline_ingest_result *out,
             oc_error *err);
  bool fetches; /* asks a server over HTTP (but for a replay of what it kept) */
} ingest_source;

static int run_file(const char *data_dir, oc_store *store, const ingest_source *source,
                    const oc_pipeline_ingest_options *opt, const char *raw_dir, oc_pipeline_ingest_result *out,
                    oc_error *err) {
  (void)data_dir;
  if (!opt->path) return oc_error_set(err, "the %s source needs a file to read", source->name);
  oc_import_options io;
  oc_import_options_init(&io);
  io.path = opt->path;
  io.source_kind = source->name;
  io.series = opt->series;
  io.unit = opt->unit;
  io.date_col = opt->date_col;
  io.value_col = opt->value_col;
  io.series_col = opt->series_col;
  io.start_date = opt->start_date;
  io.on_error = opt->on_error;
  io.raw_dir = raw_dir;
  return oc_import_file(store, &io, &out->report, err);
}

/* The API key: given, else OILCAST_<PROVIDER>_API_KEY, else <provider>_api_key in oilcast.conf; copied
 * into key (NULL when there is none anywhere). */
static int market_api_key(const char *data_dir, const oc_pipeline_ingest_options *opt, const oc_market_provider *p,
                          char *key, size_t cap, oc_error *err) {
  key[0] = '\0';
  if (opt->api_key) return snprintf(key, cap, "%s", opt->api_key), 0;
  char env[64], name[64];
  snprintf(env, sizeof env, "OILCAST_%s_API_KEY", p->name);
  for (char *c = env; *c; c++) *c = (char)toupper((unsigned char)*c);
  if (getenv(env) && *getenv(env)) return snprintf(key, cap, "%s", getenv(env)), 0;
  char *path = oc_path_join(data_dir, OC_DATADIR_CONF);
  oc_conf conf;
  int rc = oc_conf_read(path, &conf, err);
  free(path);
  if (rc != 0) return -1;
  snprintf(name, sizeof name, "%s_api_key", p->name);
  const char *value = oc_conf_get(&conf, name);
  if (value) snprintf(key, cap, "%s", value);
  oc_conf_free(&conf);
  if (!key[0])
    return oc_error_set(err, "%s: no API key: give --api-key, set %s or add `%s = KEY` to %s", p->name, env, name,
                        OC_DATADIR_CONF);
  return 0;
}

/* The market source: fetch (or replay) as one batch, then record where the series comes from. */
static int run_market(const char *data_dir, oc_store *store, const ingest_source *source,
                      const oc_pipeline_ingest_options *opt, const char *raw_dir, oc_pipeline_ingest_result *out,
                      oc_error *err) {
  (void)source;
  oc_market_options mo = oc_market_options_default();
  char key[512];
  if (!opt->replay) {
    mo.provider = opt->provider ? oc_market_provider_find(opt->provider) : NULL;
    if (!mo.provider)
      return oc_pipeline_bad_option(err, "the market source needs a provider: %s", oc_market_provider_names);
    if (market_api_key(data_dir, opt, mo.provider, key, sizeof key, err) != 0) return -1;
    mo.api_key = key;
  }
  mo.series = opt->series;
  mo.symbol = opt->symbol;
  mo.base_url = opt->base_url;
  mo.unit = opt->unit;
  mo.since = opt->since;
  mo.overlap = opt->overlap;
  mo.retry = opt->retry;
  mo.on_error = opt->on_error;
  mo.raw_dir = raw_dir;
  mo.replay = opt->replay;
  /* the series' provider is recorded by oc_market_ingest, in the import's own transaction */
  return oc_market_ingest(store, &mo, &out->report, &out->market, err);
}

static const ingest_source sources[] = {
    {"historical", "historical_data", run_file, false},
    {"simulated", "market_data", run_file, false},
    {"market", "market_data", run_market, true},
};
#define NSOURCES (sizeof sources / sizeof sources[0])

static const ingest_source *find_source(const char *name) {
  for (size_t i = 0; i < NSOURCES; i++)
    if (strcmp(sources[i].name, name) == 0) return &sources[i];
  return NULL;
}

bool oc_pipeline_ingest_source_known(const char *name, char *known, size_t known_cap) {
  if (find_source(name)) return true;
  if (known && known_cap) {
    size_t used = 0;
    known[0] = '\0';
    for (size_t i = 0; i < NSOURCES && used < known_cap; i++) {
      const char *sep = i == 0 ? "" : i + 1 == NSOURCES ? " or " : ", ";
      int n = snprintf(known + used, known_cap - used, "%s%s", sep, sources[i].name);
      if (n < 0) break;
      used += (size_t)n;
    }
  }
  return false;
}

oc_pipeline_ingest_options oc_pipeline_ingest_options_default(void) {
  oc_market_options market = oc_market_options_default();
  return (oc_pipeline_ingest_options){.source = "historical",
                                      .series = "WTI",
                                      .unit = "USD/bbl",
                                      .start_date = OC_DATE_INVALID,
                                      .on_error = OC_ON_ERROR_ABORT,
                                      .since = market.since,
                                      .overlap = market.overlap,
                                      .retry = market.retry};
}

void oc_pipeline_ingest_prepare(const oc_pipeline_ingest_options *opt) {
  const ingest_source *source = find_source(opt->source);
  if (source && source->fetches && !opt->replay) oc_http_warm_up();
}

void oc_pipeline_ingest_prepare_end(void) { oc_http_warm_up_end(); }

int oc_pipeline_ingest(const char *data_dir, oc_store *store, const oc_pipeline_ingest_options *opt,
                       oc_pipeline_ingest_result *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  out->report.format = "unknown";
  const ingest_source *source = find_source(opt->source);
  if (!source) {
    char known[128];
    oc_pipeline_ingest_source_known(opt->source, known, sizeof known);
    return oc_pipeline_bad_option(err, "unknown ingest source '%s' (known: %s)", opt->source, known);
  }
  char *zone = oc_path_join("raw", source->raw_zone);
  char *raw_dir = oc_path_join(data_dir, zone);
  double t0 = oc_monotonic_seconds();
  int rc = source->run(data_dir, store, source, opt, raw_dir, out, err);
  out->seconds = oc_monotonic_seconds() - t0;
  oc_pipeline_ingest_prepare_end(); /* a fetch that failed before its first request did not wait for it */
  free(raw_dir);
  free(zone);
  return rc;
}

void oc_pipeline_ingest_result_free(oc_pipeline_ingest_result *result) { oc_ingest_report_free(&result->report); }
