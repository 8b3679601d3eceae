/* import_parquet.c: the Parquet reader of the file source (see import.h): the file's date, value and
 * (long format) series columns, chosen by name as for a CSV, row group by row group into the sink.
 * Dates: DATE; TIMESTAMP(MILLIS|MICROS|NANOS) and legacy INT96, as the calendar date of the stored
 * clock (UTC for instants), provided every row of the file shares the first row's time of day (daily
 * data stamped at 00:00 or at a 16:00 close reads; intraday rows are refused, since
 * two of them would be one day); 'YYYY-MM-DD' strings. Values: DOUBLE; FLOAT as the shortest decimal
 * that is that float (70.1, not 70.09999847); integers; DECIMAL scaled exactly (the double nearest the
 * decimal); BOOLEAN as 0/1; numeric strings. A null value or a NaN is a missing observation, a null
 * date or series a bad row. A file the reader cannot decode is an error naming the file, row group,
 * column and byte offset: nothing is read from it. Rows are numbered from 1 over the whole file (the
 * `where` of a problem); row groups from 0, as in the footer. Only reads: never writes or decides. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "ingest/import_internal.h"
#include "ingest/row.h"
#include "lake/parquet.h"

typedef enum { DATE_DAYS, DATE_TIMESTAMP, DATE_TEXT } date_kind;
typedef enum { VALUE_DOUBLE, VALUE_FLOAT, VALUE_INTEGER, VALUE_DECIMAL, VALUE_TEXT } value_kind;

/* What the rows of the file need to know while they are read. */
typedef struct parquet_rows {
  const oc_pq_column_info *date_col, *value_col, *series_col; /* series_col NULL: every row is single_series */
  const char *single_series;
  date_kind dates;
  value_kind values;
  int64_t units_per_second;  /* DATE_TIMESTAMP */
  bool has_time_of_day;      /* the first dated row's time of day is known */
  int64_t time_of_day;
  size_t time_of_day_row;
} parquet_rows;

/* A string column (BYTE_ARRAY, UTF-8 or unannotated). */
static bool is_text(const oc_pq_column_info *col) {
  return col->physical == OC_PQ_BYTE_ARRAY && (col->logical == OC_PQ_LOGICAL_STRING || col->logical == OC_PQ_LOGICAL_NONE);
}

/* A column whose type cannot hold what it was chosen for: what it is, what would do, which option. */
static int wrong_type(const char *path, const oc_pq_column_info *col, const char *not_a, const char *reads,
                      const char *option, oc_error *err) {
  return oc_error_set(err, "%s: column '%s' is %s (logical type %s), not %s: ingest reads %s columns (name another "
                           "with %s)",
                      path, col->name, oc_pq_physical_name(col->physical), oc_pq_column_logical_name(col), not_a,
                      reads, option);
}

static int date_kind_of(const char *path, const oc_pq_column_info *col, parquet_rows *rows, oc_error *err) {
  if (col->type == OC_PQ_INT32 && col->logical == OC_PQ_LOGICAL_DATE) {
    rows->dates = DATE_DAYS;
  } else if (col->type == OC_PQ_INT64 && oc_pq_timestamp_units_per_second(col->logical) > 0) {
    rows->dates = DATE_TIMESTAMP;
    rows->units_per_second = oc_pq_timestamp_units_per_second(col->logical);
  } else if (is_text(col)) {
    rows->dates = DATE_TEXT;
  } else {
    return wrong_type(path, col, "a date", "DATE, TIMESTAMP, INT96 or 'YYYY-MM-DD' string", "--date-col", err);
  }
  return 0;
}

static int value_kind_of(const char *path, const oc_pq_column_info *col, parquet_rows *rows, oc_error *err) {
  if (col->logical == OC_PQ_LOGICAL_DECIMAL) {
    rows->values = VALUE_DECIMAL;
  } else if (col->logical == OC_PQ_LOGICAL_NONE && col->type == OC_PQ_DOUBLE) {
    rows->values = col->physical == OC_PQ_PHYSICAL_FLOAT ? VALUE_FLOAT : VALUE_DOUBLE;
  } else if (col->logical == OC_PQ_LOGICAL_NONE && (col->type == OC_PQ_INT32 || col->type == OC_PQ_INT64)) {
    rows->values = VALUE_INTEGER; /* INT32, INT64 and BOOLEAN (0/1) */
  } else if (is_text(col)) {
    rows->values = VALUE_TEXT;
  } else {
    return wrong_type(path, col, "a number", "DOUBLE, FLOAT, integer, DECIMAL, BOOLEAN or numeric string",
                      "--value-col", err);
  }
  return 0;
}

/* The double nearest unscaled / 10^scale: the decimal's digits through strtod, which rounds correctly. */
static double decimal_value(__int128 unscaled, int scale) {
  char text[OC_PQ_DECIMAL_STRLEN];
  return strtod(oc_pq_format_decimal(unscaled, scale, text), NULL);
}

/* The shortest decimal that reads back as the float f, as a double (70.1 for 70.1f). */
static double float_value(double f) {
  char text[32];
  return strtod(oc_pq_format_float(f, text), NULL);
}

/* Row i of a decoded chunk as a number; false with why on a bad value. */
static bool row_value(const parquet_rows *rows, const oc_pq_column *c, size_t i, double *out, char *why, size_t cap) {
  const oc_pq_column_info *col = rows->value_col;
  int64_t integer = c->type == OC_PQ_INT32 ? ((const int32_t *)c->values)[i]
                    : c->type == OC_PQ_INT64 ? ((const int64_t *)c->values)[i]
                                             : 0;
  switch (rows->values) {
  case VALUE_DOUBLE: *out = ((const double *)c->values)[i]; return true;
  case VALUE_FLOAT: *out = float_value(((const double *)c->values)[i]); return true;
  case VALUE_INTEGER: *out = (double)integer; return true;
  case VALUE_DECIMAL: {
    __int128 unscaled = integer;
    if (c->type == OC_PQ_BYTE_ARRAY) {
      const oc_pq_bytes *b = &((const oc_pq_bytes *)c->values)[i];
      if (!oc_pq_decimal_unscaled(b->data, b->len, &unscaled)) {
        snprintf(why, cap, "DECIMAL value of %u bytes does not fit in 128 bits", b->len);
        return false;
      }
    }
    *out = decimal_value(unscaled, col->decimal_scale);
    return true;
  }
  case VALUE_TEXT: {
    const oc_pq_bytes *b = &((const oc_pq_bytes *)c->values)[i];
    const char *reason;
    if (oc_parse_number((const char *)b->data, b->len, out, &reason) == 0) return true;
    snprintf(why, cap, "bad value '%.*s': %s", (int)(b->len < 40 ? b->len : 40), (const char *)b->data, reason);
    return false;
  }
  }
  return false;
}

/* "YYYY-MM-DD hh:mm:ss[.fraction]" of a timestamp split into days and time of day. */
static void format_time(int64_t days, int64_t time_of_day, int64_t per_second, char *buf, size_t cap) {
  char date[OC_DATE_STRLEN];
  int64_t secs = time_of_day / per_second, frac = time_of_day % per_second;
  int width = per_second == 1000 ? 3 : per_second == 1000000 ? 6 : 9;
  int n = snprintf(buf, cap, "%sT%02d:%02d:%02d", oc_date_format((oc_date)days, date), (int)(secs / 3600),
                   (int)(secs / 60 % 60), (int)(secs % 60));
  if (frac && n > 0 && (size_t)n < cap) snprintf(buf + n, cap - (size_t)n, ".%0*lld", width, (long long)frac);
}

/* Row i of a decoded date chunk as a date; false with why on a bad date. where is the row's number. */
static bool row_date(parquet_rows *rows, const oc_pq_column *c, size_t i, size_t where, oc_date *out, char *why,
                     size_t cap) {
  if (rows->dates == DATE_DAYS) {
    *out = ((const int32_t *)c->values)[i];
    return true;
  }
  if (rows->dates == DATE_TEXT) {
    const oc_pq_bytes *b = &((const oc_pq_bytes *)c->values)[i];
    return oc_row_parse_date((const char *)b->data, b->len, out, why, cap) == 0;
  }
  int64_t days, time_of_day;
  oc_pq_timestamp_split(((const int64_t *)c->values)[i], rows->units_per_second, &days, &time_of_day);
  if (days < -719162 || days > 2932896) { /* outside years 0001..9999 */
    snprintf(why, cap, "timestamp %lld is outside the years 0001..9999", (long long)((const int64_t *)c->values)[i]);
    return false;
  }
  if (!rows->has_time_of_day) {
    rows->has_time_of_day = true;
    rows->time_of_day = time_of_day;
    rows->time_of_day_row = where;
  } else if (time_of_day != rows->time_of_day) {
    char at[64], first[64];
    format_time(days, time_of_day, rows->units_per_second, at, sizeof at);
    format_time(0, rows->time_of_day, rows->units_per_second, first, sizeof first);
    snprintf(why, cap,
             "timestamp %s has another time of day than row %zu (%s): ingest takes one observation a day, so "
             "every timestamp of a file must share one time of day",
             at, rows->time_of_day_row, first + 11);
    return false;
  }
  *out = (oc_date)days;
  return true;
}

typedef struct group_columns {
  oc_pq_column date, value, series;
} group_columns;

static void group_columns_free(group_columns *g) {
  oc_pq_column_free(&g->date);
  oc_pq_column_free(&g->value);
  oc_pq_column_free(&g->series);
}

static bool is_null(const oc_pq_column *c, size_t i) { return c->valid && !c->valid[i]; }

/* The rows of one row group into the sink; *row counts the file's rows. */
static int read_group(oc_pq_reader *r, size_t g, const oc_import_columns *chosen, parquet_rows *rows,
                      oc_ingest_sink *sink, size_t *row, oc_error *err) {
  group_columns cols = {0};
  int rc = oc_pq_read_column(r, g, (size_t)chosen->date, &cols.date, err);
  if (rc == 0) rc = oc_pq_read_column(r, g, (size_t)chosen->value, &cols.value, err);
  if (rc == 0 && chosen->series >= 0) rc = oc_pq_read_column(r, g, (size_t)chosen->series, &cols.series, err);
  for (size_t i = 0; rc == 0 && i < cols.date.n; i++) {
    size_t where = ++*row;
    char why[300];
    oc_date date;
    if (is_null(&cols.date, i)) {
      oc_ingest_reject(sink, where, "date", "row group %zu, column '%s': null date", g, rows->date_col->name);
      continue;
    }
    if (!row_date(rows, &cols.date, i, where, &date, why, sizeof why)) {
      oc_ingest_reject(sink, where, "date", "row group %zu, column '%s': %s", g, rows->date_col->name, why);
      continue;
    }
    double value;
    if (is_null(&cols.value, i)) {
      oc_ingest_missing(sink);
      continue;
    }
    if (!row_value(rows, &cols.value, i, &value, why, sizeof why)) {
      oc_ingest_reject(sink, where, "value", "row group %zu, column '%s': %s", g, rows->value_col->name, why);
      continue;
    }
    if (isnan(value)) { /* pandas' missing value */
      oc_ingest_missing(sink);
      continue;
    }
    const char *series = rows->single_series;
    size_t series_len = strlen(series);
    if (rows->series_col) {
      if (is_null(&cols.series, i)) {
        oc_ingest_reject(sink, where, "series", "row group %zu, column '%s': null series", g, rows->series_col->name);
        continue;
      }
      const oc_pq_bytes *b = &((const oc_pq_bytes *)cols.series.values)[i];
      series = (const char *)b->data, series_len = b->len;
    }
    rc = oc_ingest_add(sink, where, series, series_len, date, value);
  }
  group_columns_free(&cols);
  return rc;
}

int oc_import_read_parquet(void *source, oc_ingest_sink *sink, oc_error *err) {
  const oc_import_source *file = source;
  const oc_import_options *opt = file->opt;
  oc_pq_reader r;
  if (oc_pq_reader_open_memory(&r, file->data, file->len, opt->path, err) != 0) return -1;
  size_t ncols = r.info.ncols;
  oc_csv_field *names = oc_xcalloc(ncols ? ncols : 1, sizeof *names);
  for (size_t c = 0; c < ncols; c++) names[c] = (oc_csv_field){r.info.cols[c].name, strlen(r.info.cols[c].name)};
  oc_import_columns chosen;
  parquet_rows rows = {.single_series = opt->series};
  int rc = oc_import_choose_columns(opt->path, names, ncols, opt, &chosen, err);
  if (rc == 0) {
    rows.date_col = &r.info.cols[chosen.date];
    rows.value_col = &r.info.cols[chosen.value];
    rows.series_col = chosen.series >= 0 ? &r.info.cols[chosen.series] : NULL;
    rc = date_kind_of(opt->path, rows.date_col, &rows, err);
  }
  if (rc == 0) rc = value_kind_of(opt->path, rows.value_col, &rows, err);
  if (rc == 0 && rows.series_col && !is_text(rows.series_col))
    rc = wrong_type(opt->path, rows.series_col, "a string", "string", "--series-col", err);
  if (rc == 0) oc_ingest_set_format(sink, rows.series_col ? "parquet-long" : "parquet");
  size_t row = 0;
  for (size_t g = 0; rc == 0 && g < r.info.nrow_groups; g++) rc = read_group(&r, g, &chosen, &rows, sink, &row, err);
  if (rc == 0 && row == 0) /* an export of nothing: refused as a CSV of its header alone is */
    rc = oc_error_set(err, "%s: no rows (%zu row groups): nothing to import", opt->path, r.info.nrow_groups);
  free(names);
  oc_pq_reader_close(&r);
  return rc;
}
