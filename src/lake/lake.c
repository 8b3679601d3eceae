/* lake.c: oc_frame <-> Parquet (see lake.h), on top of parquet.h. Must not print or exit. */
#include "lake/lake.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "lake/parquet.h"

static const char DATE_COLUMN[] = "date";

/* Validity of rows [a, b) of a double column: NULL when nothing is NaN, else valid (b - a bytes). */
static const uint8_t *nan_validity(const double *v, size_t a, size_t b, uint8_t *valid) {
  bool any_nan = false;
  for (size_t i = a; i < b; i++) {
    uint8_t ok = !isnan(v[i]);
    valid[i - a] = ok;
    any_nan |= !ok;
  }
  return any_nan ? valid : NULL;
}

int oc_lake_write_frame(const char *path, const oc_frame *frame, const oc_lake_write_options *opt, oc_error *err) {
  if (oc_frame_find_column(frame, DATE_COLUMN) >= 0)
    return oc_error_set(err, "writing %s: the frame has a column named '%s', which the date column uses", path,
                        DATE_COLUMN);
  size_t ncols = frame->ncols + 1;
  size_t per_group = opt && opt->rows_per_row_group ? opt->rows_per_row_group : OC_LAKE_DEFAULT_ROWS_PER_GROUP;
  oc_pq_write_options pq_opt = {
      .codec = opt && opt->codec == OC_LAKE_UNCOMPRESSED ? OC_PQ_UNCOMPRESSED : OC_PQ_ZSTD};
  oc_pq_column_spec *specs = oc_xcalloc(ncols, sizeof *specs);
  specs[0] = (oc_pq_column_spec){DATE_COLUMN, OC_PQ_INT32, OC_PQ_LOGICAL_DATE, false};
  for (size_t c = 0; c < frame->ncols; c++)
    specs[c + 1] = (oc_pq_column_spec){frame->names[c], OC_PQ_DOUBLE, OC_PQ_LOGICAL_NONE, true};
  oc_pq_writer *w;
  int rc = oc_pq_writer_open(&w, path, specs, ncols, &pq_opt, err);
  free(specs);
  if (rc != 0) return -1;
  for (size_t i = 0; i < frame->nmeta; i++) oc_pq_writer_add_meta(w, frame->meta_keys[i], frame->meta_values[i]);
  size_t group_rows = frame->nrows < per_group ? frame->nrows : per_group;
  uint8_t *valid = oc_xmalloc(frame->ncols * group_rows + 1);
  oc_pq_column_data *data = oc_xcalloc(ncols, sizeof *data);
  for (size_t a = 0; a < frame->nrows && rc == 0; a += per_group) {
    size_t b = frame->nrows - a < per_group ? frame->nrows : a + per_group;
    data[0] = (oc_pq_column_data){frame->dates + a, NULL};
    for (size_t c = 0; c < frame->ncols; c++)
      data[c + 1] = (oc_pq_column_data){frame->cols[c] + a, nan_validity(frame->cols[c], a, b, valid + c * group_rows)};
    rc = oc_pq_writer_write_row_group(w, b - a, data, err);
  }
  free(valid);
  free(data);
  if (rc != 0) {
    oc_pq_writer_abort(w);
    return -1;
  }
  return oc_pq_writer_close(w, err);
}

/* Reads the date column of every row group; the row count is trusted only once real pages back it. */
static int read_dates(oc_pq_reader *r, size_t col, oc_date **dates, size_t *n, oc_error *err) {
  const oc_pq_column_info *ci = &r->info.cols[col];
  if (ci->type != OC_PQ_INT32 || ci->logical != OC_PQ_LOGICAL_DATE)
    return oc_error_set(err, "%s: column '%s' is %s (%s), expected INT32 with the DATE logical type", r->name,
                        DATE_COLUMN, oc_pq_type_name(ci->type), oc_pq_column_logical_name(ci));
  oc_date *out = NULL;
  size_t len = 0, cap = 0;
  for (size_t g = 0; g < r->info.nrow_groups; g++) {
    oc_pq_column c;
    if (oc_pq_read_column(r, g, col, &c, err) != 0) {
      free(out);
      return -1;
    }
    for (size_t i = 0; c.valid && i < c.n; i++) {
      if (!c.valid[i]) {
        oc_error_set(err, "%s: row %zu of row group %zu has a null date", r->name, i, g);
        oc_pq_column_free(&c);
        free(out);
        return -1;
      }
    }
    oc_xgrow((void **)&out, &cap, len + c.n, sizeof *out);
    memcpy(out + len, c.values, c.n * sizeof *out);
    len += c.n;
    oc_pq_column_free(&c);
  }
  *dates = out;
  *n = len;
  return 0;
}

/* Copies one decoded chunk into dst as doubles, NaN for nulls. */
static void chunk_to_doubles(const oc_pq_column *c, double *dst) {
  for (size_t i = 0; i < c->n; i++) {
    double v;
    switch (c->type) {
    case OC_PQ_INT32: v = ((const int32_t *)c->values)[i]; break;
    case OC_PQ_INT64: v = (double)((const int64_t *)c->values)[i]; break;
    default: v = ((const double *)c->values)[i]; break;
    }
    dst[i] = c->valid && !c->valid[i] ? NAN : v;
  }
}

static int read_frame(oc_pq_reader *r, oc_frame *out, oc_error *err) {
  long date_col = oc_pq_find_column(r, DATE_COLUMN);
  if (date_col < 0) return oc_error_set(err, "%s: no '%s' column (a frame file needs one)", r->name, DATE_COLUMN);
  for (size_t c = 0; c < r->info.ncols; c++)
    if (r->info.cols[c].type == OC_PQ_BYTE_ARRAY)
      return oc_error_set(err, "%s: column '%s' holds strings; a frame holds only numeric columns", r->name,
                          r->info.cols[c].name);
  oc_date *dates = NULL;
  size_t n = 0;
  if (read_dates(r, (size_t)date_col, &dates, &n, err) != 0) return -1;
  oc_frame_init(out, n);
  if (n) memcpy(out->dates, dates, n * sizeof *dates);
  free(dates);
  for (size_t c = 0; c < r->info.ncols; c++) {
    if ((long)c == date_col) continue;
    double *dst = oc_frame_add_column(out, r->info.cols[c].name);
    for (size_t g = 0; g < r->info.nrow_groups; g++) {
      oc_pq_column chunk;
      if (oc_pq_read_column(r, g, c, &chunk, err) != 0) return -1;
      chunk_to_doubles(&chunk, dst);
      dst += chunk.n;
      oc_pq_column_free(&chunk);
    }
  }
  for (size_t i = 0; i < r->info.nmeta; i++)
    oc_frame_set_meta(out, r->info.meta_keys[i], r->info.meta_values[i] ? r->info.meta_values[i] : "");
  return 0;
}

int oc_lake_read_frame(const char *path, oc_frame *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  oc_pq_reader r;
  if (oc_pq_reader_open(&r, path, err) != 0) return -1;
  int rc = read_frame(&r, out, err);
  oc_pq_reader_close(&r);
  if (rc != 0) oc_frame_free(out);
  return rc;
}

static void hive_escape(oc_buf *out, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
        *p == '-') {
      oc_buf_putc(out, (char)*p);
    } else {
      oc_buf_putc(out, '%');
      oc_buf_putc(out, hex[*p >> 4]);
      oc_buf_putc(out, hex[*p & 15]);
    }
  }
}

char *oc_lake_partition_path(const char *dir, const char *key, const char *value) {
  oc_buf part = {0};
  hive_escape(&part, key);
  oc_buf_putc(&part, '=');
  hive_escape(&part, value);
  oc_buf_puts(&part, "/part-0.parquet");
  char *path = oc_path_join(dir, part.data);
  oc_buf_free(&part);
  return path;
}
