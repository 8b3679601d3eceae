/* import.h: the historical import (`oilcast ingest --source historical`): reads a CSV or JSON price
 * file, validates every row, and upserts the good ones into the store in ONE transaction, recording
 * the run and keeping an unchanged copy of the file under raw/ (lineage). Formats: EIA/datahub
 * `Date,Price`; FRED `DATE|observation_date,<ID>` with '.' or empty = missing; any CSV with named
 * columns (long format with a series column too); JSON `[{"date":..,"price":..}]` or a bare array of
 * numbers dated by business day from a start date. Library code: prints nothing. */
#ifndef OC_IMPORT_H
#define OC_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/error.h"
#include "core/sha256.h"
#include "store/store.h"

typedef enum { OC_ON_ERROR_ABORT = 0, OC_ON_ERROR_SKIP = 1 } oc_on_error;

typedef struct oc_import_options {
  const char *path;
  const char *source_kind; /* "historical" (default) or "simulated": stamped on the run, new series, rows */
  const char *series;      /* the series of a single-series file (default "WTI") */
  const char *unit;        /* unit of newly created series (default "USD/bbl") */
  const char *date_col, *value_col, *series_col; /* NULL: detected from the header */
  oc_date start_date;      /* first date of a bare JSON number array; OC_DATE_INVALID otherwise */
  oc_on_error on_error;
  const char *raw_dir;     /* lineage root, e.g. DIR/raw/historical_data; NULL: keep no copy */
} oc_import_options;

void oc_import_options_init(oc_import_options *opt);

#define OC_IMPORT_LISTED 20 /* bad rows listed one by one; the rest are counted */
#define OC_IMPORT_NEGATIVES_LISTED 5

typedef struct oc_import_problem {
  size_t line;
  char reason[200];
} oc_import_problem;

typedef struct oc_import_negative {
  size_t line;
  oc_date date;
  double value;
  char series[OC_SERIES_NAME_MAX + 1];
} oc_import_negative;

typedef struct oc_import_report {
  const char *format; /* "eia", "fred", "csv", "csv-long", "json-objects", "json-numbers" */
  char sha256[OC_SHA256_HEX_LEN];
  char *raw_path;     /* lineage copy ("" when none) */
  int64_t rows_read, rows_inserted, rows_updated, rows_unchanged, rows_rejected, rows_missing;
  int64_t negative_values;
  size_t nseries;
  oc_import_problem problems[OC_IMPORT_LISTED];
  size_t nproblems; /* listed (<= OC_IMPORT_LISTED); rows_rejected is the total */
  oc_import_negative negatives[OC_IMPORT_NEGATIVES_LISTED];
  size_t nnegatives; /* listed */
  int64_t run_id;
  bool written; /* the transaction committed */
} oc_import_report;

/* Imports opt->path. Returns 0 when the import committed (with --on-error skip, bad rows are in the
 * report). Returns -1 when nothing was written: a runtime error, or bad rows under
 * OC_ON_ERROR_ABORT (the report lists them; a "rejected" run is still logged). */
int oc_import_file(oc_store *store, const oc_import_options *opt, oc_import_report *report, oc_error *err);
void oc_import_report_free(oc_import_report *report);

#endif
