/* import.h: the file source of the ingest path (`oilcast ingest --source historical|simulated`):
 * detects the format of a CSV or JSON price file and parses its rows into an ingest batch
 * (ingest/batch.h), which validates them, writes them in ONE transaction, records the run and keeps
 * the file unchanged under raw/ (lineage). This file only reads and parses; it must not check, write
 * or record anything itself. Formats: EIA/datahub `Date,Price`; FRED `DATE|observation_date,<ID>`
 * with '.' or empty = missing; any CSV with named columns (long format with a series column too);
 * JSON `[{"date":..,"price":..}]` or a bare array of numbers dated by trading day from a start
 * date; Parquet (by its PAR1 magic or a .parquet name) with columns chosen as for a CSV, as other
 * tools write it (import_parquet.c says which types it reads). Library code: prints nothing. */
#ifndef OC_IMPORT_H
#define OC_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/error.h"
#include "ingest/batch.h"
#include "store/store.h"

typedef struct oc_import_options {
  const char *path;
  const char *source_kind; /* "historical" (default) or "simulated": stamped on the run, new series, rows;
                           * a file the simulator marked (OC_SIMULATE_MARK) is "simulated" whatever this says */
  const char *series;      /* the series of a single-series file (default "WTI") */
  const char *unit;        /* unit of newly created series (default "USD/bbl") */
  const char *date_col, *value_col, *series_col; /* NULL: detected from the header */
  oc_date start_date;      /* first date of a bare JSON number array; OC_DATE_INVALID otherwise */
  oc_on_error on_error;
  const char *raw_dir;     /* lineage root, e.g. DIR/raw/historical_data; NULL: keep no copy */
} oc_import_options;

void oc_import_options_init(oc_import_options *opt);

/* The file import's report is the batch's (format: "eia", "fred", "csv", "csv-long", "json-objects",
 * "json-numbers", "parquet", "parquet-long"; `where` of a problem or a negative value is the file's
 * line, or a Parquet file's row counted from 1). */
typedef oc_ingest_report oc_import_report;
static inline void oc_import_report_free(oc_import_report *report) { oc_ingest_report_free(report); }

/* Imports opt->path through oc_ingest_batch (the file is the source; its bytes are the lineage copy).
 * Returns 0 when the import committed (with --on-error skip, bad rows are in the report). Returns -1
 * when nothing was written: a runtime error, or bad rows under OC_ON_ERROR_ABORT, or bad rows and
 * no good one under OC_ON_ERROR_SKIP (the report lists them; a "rejected" run is still logged). */
int oc_import_file(oc_store *store, const oc_import_options *opt, oc_import_report *report, oc_error *err);

#endif
