/* import_internal.h: what the file source's readers share (import.c reads CSV and JSON,
 * import_parquet.c reads Parquet): the file being read and the choice of its date, value and series
 * columns by name, made the same way for every format with columns. Not part of ingest's interface. */
#ifndef OC_IMPORT_INTERNAL_H
#define OC_IMPORT_INTERNAL_H

#include "core/csv.h"
#include "ingest/import.h"

/* The file being read: what the readers need besides the sink. */
typedef struct oc_import_source {
  const oc_import_options *opt;
  const char *data; /* the rows: the file after the simulator's mark line, if it has one */
  size_t len;
  size_t first_line; /* the file's line data starts on */
} oc_import_source;

/* Indexes into a header's column names; series is -1 for a single-series file. */
typedef struct oc_import_columns {
  long date, value, series;
} oc_import_columns;

/* Chooses the columns from the header's n names: --date-col/--value-col/--series-col when given, else
 * date|observation_date|day, price|value|close and series (case-insensitive), else the one column
 * besides the date (and series) for the value. where prefixes errors ("FILE:1" for a CSV header).
 * 0, or -1 naming the missing column and listing the columns. */
int oc_import_choose_columns(const char *where, const oc_csv_field *names, size_t n, const oc_import_options *opt,
                             oc_import_columns *out, oc_error *err);

/* Reads a Parquet file (the source's bytes) into the sink: oc_ingest_read_fn (import_parquet.c). */
int oc_import_read_parquet(void *source, oc_ingest_sink *sink, oc_error *err);

#endif
