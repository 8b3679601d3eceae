/* etl.c: the ETL pipeline step (etl.h): store -> oc_etl_build -> the table and its partition.
 * Must not print; the file formats belong to the lake and features/frame_csv.h. */
#include "pipeline/etl.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/publish.h"
#include "features/frame_csv.h"
#include "lake/lake.h"
#include "pipeline/pipeline.h"

void oc_pipeline_etl_options_default(oc_pipeline_etl_options *o) {
  *o = (oc_pipeline_etl_options){.series = "WTI", .format = OC_PIPELINE_ETL_PARQUET};
  oc_etl_options_default(&o->etl);
}

static int check_options(const oc_pipeline_etl_options *o, oc_error *err) {
  assert(o->series);
  if (o->format != OC_PIPELINE_ETL_PARQUET && o->format != OC_PIPELINE_ETL_CSV)
    return oc_pipeline_bad_option(err, "unknown table format %d (Parquet or CSV)", (int)o->format);
  if (o->out && !*o->out) return oc_pipeline_bad_option(err, "the table's output path is empty");
  /* a series named twice gives twin spread columns, the target itself constant ones */
  oc_pipeline_list names;
  oc_pipeline_list_split(o->exog, &names);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < names.n; i++) {
    if (strcmp(names.items[i], o->series) == 0)
      rc = oc_pipeline_bad_option(err, "exogenous series %s is the target series", names.items[i]);
    for (size_t j = 0; rc == 0 && j < i; j++)
      if (strcmp(names.items[j], names.items[i]) == 0)
        rc = oc_pipeline_bad_option(err, "the exogenous series list '%s' names %s twice", o->exog, names.items[i]);
  }
  oc_pipeline_list_free(&names);
  if (rc != 0) return rc;
  return oc_etl_options_check(&o->etl, err) != 0 ? OC_PIPELINE_BAD_OPTION : 0;
}

/* The target and exogenous series, loaded from the store. */
typedef struct inputs {
  oc_series target;
  oc_series *exogs;
  size_t nexog;
} inputs;

static void inputs_free(inputs *in) {
  oc_series_free(&in->target);
  for (size_t i = 0; i < in->nexog; i++) oc_series_free(&in->exogs[i]);
  free(in->exogs);
}

static int load_inputs(oc_store *store, const oc_pipeline_etl_options *o, inputs *in, oc_error *err) {
  memset(in, 0, sizeof *in);
  if (oc_store_series_load(store, o->series, OC_DATE_INVALID, OC_DATE_INVALID, &in->target, err) != 0) return -1;
  oc_pipeline_list names;
  oc_pipeline_list_split(o->exog, &names);
  in->exogs = oc_xcalloc(names.n + 1, sizeof *in->exogs);
  int rc = 0;
  for (size_t i = 0; i < names.n && rc == 0; i++) {
    if (oc_store_series_load(store, names.items[i], OC_DATE_INVALID, OC_DATE_INVALID, &in->exogs[i], err) != 0)
      rc = oc_error_prefix(err, "exogenous series %s: ", names.items[i]);
    else
      in->nexog++;
  }
  oc_pipeline_list_free(&names);
  return rc;
}

static int write_table(const char *path, const oc_pipeline_etl_options *o, const oc_frame *frame, oc_error *err) {
  return o->format == OC_PIPELINE_ETL_CSV ? oc_frame_write_csv(path, frame, err) : oc_lake_write_frame(path, frame, NULL, err);
}

static int make_parent_dir(const char *path, oc_error *err) {
  char *dir = oc_xstrdup(path);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  int rc = slash ? oc_mkdir_p(dir, err) : 0;
  free(dir);
  return rc;
}

/* The default run's two files, the table and its lake partition, published as one (core/publish.h):
 * a kill at any instant leaves both old or both new, never a table that disagrees with the partition. */
static int write_default_pair(const char *data_dir, const oc_pipeline_etl_options *o, const oc_frame *frame,
                              oc_pipeline_etl_result *out, oc_error *err) {
  const char *table = o->format == OC_PIPELINE_ETL_CSV ? "training_data.csv" : "training_data.parquet";
  char *processed = oc_path_join(data_dir, "processed");
  char *partitions = oc_path_join(processed, "training");
  out->table_path = oc_path_join(processed, table);
  out->partition_path = oc_lake_partition_path(partitions, "series", o->series);
  const char *finals[] = {table, out->partition_path + strlen(processed) + 1};
  char *staged_table = oc_publish_staging_path(out->table_path);
  char *staged_partition = oc_publish_staging_path(out->partition_path);
  int rc = make_parent_dir(out->partition_path, err);
  if (rc == 0) rc = write_table(staged_table, o, frame, err);
  if (rc == 0) rc = oc_lake_write_frame(staged_partition, frame, NULL, err);
  if (rc == 0) {
    rc = oc_publish(processed, finals, 2, err);
  } else {
    unlink(staged_table);
    unlink(staged_partition);
  }
  free(staged_table);
  free(staged_partition);
  free(partitions);
  free(processed);
  return rc;
}

/* Writes the table asked for elsewhere (o->out), and only it, so that an experiment with other options
 * never changes what the next default run and the lake's readers see; or the default pair. */
static int write_outputs(const char *data_dir, const oc_pipeline_etl_options *o, const oc_frame *frame,
                         oc_pipeline_etl_result *out, oc_error *err) {
  if (!o->out) return write_default_pair(data_dir, o, frame, out, err);
  out->table_path = oc_pipeline_path(data_dir, o->out);
  int rc = make_parent_dir(out->table_path, err);
  return rc == 0 ? write_table(out->table_path, o, frame, err) : rc;
}

int oc_pipeline_etl(const char *data_dir, oc_store *store, const oc_pipeline_etl_options *opt,
                    oc_pipeline_etl_result *out, oc_error *err) {
  assert(data_dir && store && opt && out);
  memset(out, 0, sizeof *out);
  int bad = check_options(opt, err);
  if (bad != 0) return bad;
  inputs in;
  oc_frame frame = {0};
  int rc = load_inputs(store, opt, &in, err);
  if (rc == 0) rc = oc_etl_build(&in.target, in.exogs, in.nexog, &opt->etl, &frame, &out->report, err);
  if (rc == 0) rc = write_outputs(data_dir, opt, &frame, out, err);
  out->rows = frame.nrows;
  out->columns = frame.ncols;
  oc_frame_free(&frame);
  inputs_free(&in);
  if (rc != 0) oc_pipeline_etl_result_free(out);
  return rc;
}

void oc_pipeline_etl_result_free(oc_pipeline_etl_result *r) {
  free(r->table_path);
  free(r->partition_path);
  oc_etl_report_free(&r->report);
  memset(r, 0, sizeof *r);
}
