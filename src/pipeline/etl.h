/* etl.h: the ETL pipeline step (what `oilcast etl` runs): loads the target and exogenous series from
 * the store, builds the model-ready table with oc_etl_build (features/etl.h) and writes it beside the
 * store as Parquet (or CSV + PATH.meta.json). The default table (no `out`) comes with the Hive-style
 * partition DATA_DIR/processed/training/series=NAME/part-0.parquet that the lake's readers scan; a
 * table asked for elsewhere (`out`) is the only file written. Every file is
 * written atomically (temporary sibling, fsync, rename: lake.h, fsutil.h), so a kill at any instant
 * leaves each file old or new, never half-written. Options are checked, and the series loaded and the
 * table built, before the first byte is written: a bad option or input writes nothing.
 * Must not print (the caller shows the result) or know about the CLI. */
#ifndef OC_PIPELINE_ETL_H
#define OC_PIPELINE_ETL_H

#include <stddef.h>

#include "core/error.h"
#include "features/etl.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

typedef enum { OC_PIPELINE_ETL_PARQUET, OC_PIPELINE_ETL_CSV } oc_pipeline_etl_format;

/* Named oc_pipeline_etl_* because features/etl.h owns oc_etl_options (the policies, held here). */
typedef struct oc_pipeline_etl_options {
  const char *series;            /* target series; default "WTI" */
  const char *exog;              /* exogenous series, comma-separated; NULL or "" (default) = none */
  oc_pipeline_etl_format format; /* default Parquet */
  const char *out;               /* the table's path, relative = inside data_dir; NULL (default) =
                                  * processed/training_data.parquet (.csv with the CSV format) */
  oc_etl_options etl;            /* horizon, split and policies; oc_etl_options_default */
} oc_pipeline_etl_options;

void oc_pipeline_etl_options_default(oc_pipeline_etl_options *o);

typedef struct oc_pipeline_etl_result {
  char *table_path;     /* the table written (malloc'd) */
  char *partition_path; /* the Hive-style partition written (malloc'd); NULL with opt.out */
  size_t rows, columns; /* of the table; columns do not count the date */
  oc_etl_report report; /* what cleaning, alignment, the split and the selection did */
} oc_pipeline_etl_result;

/* Runs the step (see above); on failure out is left empty and err says what failed. */
int oc_pipeline_etl(const char *data_dir, oc_store *store, const oc_pipeline_etl_options *opt,
                    oc_pipeline_etl_result *out, oc_error *err);
void oc_pipeline_etl_result_free(oc_pipeline_etl_result *r);

#endif
