/* lake_csv.c: CSV into an oc_frame (see oc_lake_read_frame_csv in lake.h), so that `oilcast lake
 * from-csv` can turn any date-keyed numeric table into a Parquet file. Tokenising and number parsing
 * are the shared ones (src/core/csv.h); this file only shapes rows into columns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/csv.h"
#include "lake/lake.h"

typedef struct csv_table {
  size_t ncols; /* including the date column */
  char **names;
  size_t nrows, cap;
  oc_date *dates;
  double **cols; /* ncols - 1 growing columns */
} csv_table;

static void table_free(csv_table *t) {
  for (size_t c = 0; c < t->ncols; c++) free(t->names[c]);
  for (size_t c = 0; c + 1 < t->ncols; c++) free(t->cols[c]);
  free(t->names);
  free(t->cols);
  free(t->dates);
}

static int read_header(oc_csv_reader *r, const char *path, csv_table *t, oc_error *err) {
  size_t line;
  const char *reason;
  int st = oc_csv_next(r, &line, &reason);
  if (st == OC_CSV_END) return oc_error_set(err, "%s: empty file (a header line is needed)", path);
  if (st == OC_CSV_BAD) return oc_error_set(err, "%s:%zu: %s", path, line, reason);
  if (r->nfields < 1) return oc_error_set(err, "%s:%zu: the header has no columns", path, line);
  t->ncols = r->nfields;
  t->names = oc_xcalloc(t->ncols, sizeof *t->names);
  t->cols = oc_xcalloc(t->ncols, sizeof *t->cols);
  for (size_t c = 0; c < t->ncols; c++) {
    t->names[c] = oc_xmalloc(r->fields[c].len + 1);
    memcpy(t->names[c], r->fields[c].data, r->fields[c].len);
    t->names[c][r->fields[c].len] = '\0';
    if (c > 0 && !t->names[c][0]) return oc_error_set(err, "%s:%zu: column %zu has an empty name", path, line, c + 1);
    /* Parquet names its columns once each, and the first CSV column becomes "date" (see lake.h) */
    if (c > 0 && strcmp(t->names[c], "date") == 0)
      return oc_error_set(err, "%s:%zu: column %zu is named 'date', the name the first column (the dates) takes", path,
                          line, c + 1);
    for (size_t d = 1; d < c; d++)
      if (strcmp(t->names[d], t->names[c]) == 0)
        return oc_error_set(err, "%s:%zu: columns %zu and %zu are both named '%s'", path, line, d + 1, c + 1,
                            t->names[c]);
  }
  return 0;
}

static int read_row(const oc_csv_reader *r, const char *path, size_t line, csv_table *t, oc_error *err) {
  if (r->nfields != t->ncols)
    return oc_error_set(err, "%s:%zu: %zu fields, the header has %zu", path, line, r->nfields, t->ncols);
  if (t->nrows == t->cap) {
    size_t cap = t->cap;
    oc_xgrow((void **)&t->dates, &cap, t->nrows + 1, sizeof *t->dates);
    for (size_t c = 0; c + 1 < t->ncols; c++) t->cols[c] = oc_xrealloc(t->cols[c], cap * sizeof **t->cols);
    t->cap = cap;
  }
  const char *reason;
  oc_date d;
  if (oc_date_parse(r->fields[0].data, r->fields[0].len, &d, &reason) != 0)
    return oc_error_set(err, "%s:%zu: column '%s': bad date '%.*s': %s", path, line, t->names[0],
                        (int)r->fields[0].len, r->fields[0].data, reason);
  t->dates[t->nrows] = d;
  for (size_t c = 1; c < t->ncols; c++) {
    const oc_csv_field *f = &r->fields[c];
    double v = NAN;
    if (f->len > 0 && oc_parse_number(f->data, f->len, &v, &reason) != 0)
      return oc_error_set(err, "%s:%zu: column '%s': bad number '%.*s': %s", path, line, t->names[c], (int)f->len,
                          f->data, reason);
    t->cols[c - 1][t->nrows] = v;
  }
  t->nrows++;
  return 0;
}

int oc_lake_read_frame_csv(const char *path, oc_frame *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  char *data;
  size_t len;
  if (oc_read_file(path, &data, &len, err) != 0) return -1;
  oc_csv_reader r;
  oc_csv_init(&r, data, len, ',');
  csv_table t = {0};
  int rc = read_header(&r, path, &t, err);
  while (rc == 0) {
    size_t line;
    const char *reason;
    int st = oc_csv_next(&r, &line, &reason);
    if (st == OC_CSV_END) break;
    rc = st == OC_CSV_BAD ? oc_error_set(err, "%s:%zu: %s", path, line, reason) : read_row(&r, path, line, &t, err);
  }
  if (rc == 0) {
    oc_frame_init(out, t.nrows);
    if (t.nrows) memcpy(out->dates, t.dates, t.nrows * sizeof *t.dates);
    for (size_t c = 1; c < t.ncols; c++) {
      double *col = oc_frame_add_column(out, t.names[c]);
      if (t.nrows) memcpy(col, t.cols[c - 1], t.nrows * sizeof *col);
    }
  }
  table_free(&t);
  oc_csv_free(&r);
  free(data);
  return rc;
}
