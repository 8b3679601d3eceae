/* pipeline/ingest.c: see ingest.h. The source table and the call that picks its entry; what a source
 * does with its input lives in src/ingest/, never here. */
#include "pipeline/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/progress.h"
#include "ingest/import.h"

/* One way to ingest. run() reads opt's input and ends in oc_ingest_batch; raw_dir is the source's
 * lineage root (DIR/raw/<zone>). */
typedef struct ingest_source {
  const char *name;     /* the --source value; also the source kind stamped on runs, series and rows */
  const char *raw_zone; /* lineage folder under DIR/raw/ (created by `oilcast init`) */
  int (*run)(oc_store *store, const struct ingest_source *source, const oc_pipeline_ingest_options *opt,
             const char *raw_dir, oc_ingest_report *report, oc_error *err);
} ingest_source;

static int run_file(oc_store *store, const ingest_source *source, const oc_pipeline_ingest_options *opt,
                    const char *raw_dir, oc_ingest_report *report, oc_error *err) {
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
  return oc_import_file(store, &io, report, err);
}

static const ingest_source sources[] = {
    {"historical", "historical_data", run_file},
    {"simulated", "market_data", run_file},
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
  return (oc_pipeline_ingest_options){.source = "historical",
                             .series = "WTI",
                             .unit = "USD/bbl",
                             .start_date = OC_DATE_INVALID,
                             .on_error = OC_ON_ERROR_ABORT};
}

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
  int rc = source->run(store, source, opt, raw_dir, &out->report, err);
  out->seconds = oc_monotonic_seconds() - t0;
  free(raw_dir);
  free(zone);
  return rc;
}

void oc_pipeline_ingest_result_free(oc_pipeline_ingest_result *result) { oc_ingest_report_free(&result->report); }
