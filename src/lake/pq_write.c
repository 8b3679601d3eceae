/* pq_write.c: the Parquet writer. Streams "PAR1", then per row group and column one chunk of data
 * pages v1 (definition levels for optional columns, PLAIN values, ~1 MiB per page, each optionally
 * ZSTD-compressed), then the Thrift footer, its length and "PAR1". Values are never handled one call
 * at a time: pages are written straight from the caller's arrays (writev / streaming compression)
 * unless nulls must be squeezed out. Everything goes to a temporary sibling renamed into place by
 * oc_pq_writer_close, so readers never see a partial file. Must not print or exit. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zstd.h>

#include "core/fsutil.h"
#include "lake/pq_internal.h"
#include "oc_version.h"

#define PAGE_TARGET_BYTES (1u << 20)

struct oc_pq_writer {
  char *path;
  char *tmp_path;
  int fd;
  uint64_t offset;
  oc_pq_codec codec;
  int zstd_level;
  ZSTD_CCtx *cctx;
  oc_pq_file_info info; /* what the footer will say; row_groups grows with each row group */
  size_t row_group_cap;
  size_t meta_cap;
  oc_buf levels;     /* a page's length-prefixed definition levels */
  oc_buf packed;     /* a page's non-null values when nulls had to be squeezed out */
  oc_buf compressed; /* a compressed page */
  oc_buf header;     /* a serialised page header */
};

static int write_iov(oc_pq_writer *w, struct iovec *iov, int n, oc_error *err) {
  while (n > 0) {
    ssize_t done = writev(w->fd, iov, n);
    if (done < 0) {
      if (errno == EINTR) continue;
      return oc_error_errno(err, "cannot write %s", w->tmp_path);
    }
    w->offset += (uint64_t)done;
    while (n > 0 && (size_t)done >= iov->iov_len) {
      done -= (ssize_t)iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (char *)iov->iov_base + done;
      iov->iov_len -= (size_t)done;
    }
  }
  return 0;
}

static int write_bytes(oc_pq_writer *w, const void *data, size_t len, oc_error *err) {
  struct iovec iov = {(void *)data, len};
  return write_iov(w, &iov, 1, err);
}

int oc_pq_writer_open(oc_pq_writer **out, const char *path, const oc_pq_column_spec *cols, size_t ncols,
                      const oc_pq_write_options *opt, oc_error *err) {
  for (size_t c = 0; c < ncols; c++) {
    const oc_pq_column_spec *s = &cols[c];
    bool type_ok = s->type == OC_PQ_INT32 || s->type == OC_PQ_INT64 || s->type == OC_PQ_DOUBLE ||
                   s->type == OC_PQ_BYTE_ARRAY;
    bool logical_ok = s->logical == OC_PQ_LOGICAL_NONE || (s->logical == OC_PQ_LOGICAL_DATE && s->type == OC_PQ_INT32) ||
                      (s->logical == OC_PQ_LOGICAL_TIMESTAMP_MICROS && s->type == OC_PQ_INT64) ||
                      (s->logical == OC_PQ_LOGICAL_STRING && s->type == OC_PQ_BYTE_ARRAY);
    if (!s->name || !*s->name || !type_ok || !logical_ok)
      return oc_error_set(err, "writing %s: column %zu ('%s') has an unsupported name/type/logical type combination",
                          path, c, s->name ? s->name : "");
    for (size_t d = 0; d < c; d++)
      if (strcmp(cols[d].name, s->name) == 0) return oc_error_set(err, "writing %s: two columns named '%s'", path, s->name);
  }
  oc_pq_codec codec = opt ? opt->codec : OC_PQ_UNCOMPRESSED;
  if (codec != OC_PQ_UNCOMPRESSED && codec != OC_PQ_ZSTD)
    return oc_error_set(err, "writing %s: unsupported codec %d", path, (int)codec);
  char *tmp_path;
  int fd = oc_create_temp_sibling(path, &tmp_path, err);
  if (fd < 0) return -1;
  oc_pq_writer *w = oc_xcalloc(1, sizeof *w);
  w->path = oc_xstrdup(path);
  w->tmp_path = tmp_path;
  w->fd = fd;
  w->codec = codec;
  w->zstd_level = opt && opt->zstd_level ? opt->zstd_level : 1;
  w->info.version = 2;
  w->info.created_by = oc_xstrdup("oilcast version " OILCAST_VERSION);
  w->info.ncols = ncols;
  w->info.cols = oc_xcalloc(ncols, sizeof *w->info.cols);
  for (size_t c = 0; c < ncols; c++) {
    w->info.cols[c].name = oc_xstrdup(cols[c].name);
    w->info.cols[c].type = cols[c].type;
    w->info.cols[c].physical = cols[c].type;
    w->info.cols[c].logical = cols[c].logical;
    w->info.cols[c].optional = cols[c].optional;
  }
  if (write_bytes(w, OC_PQ_MAGIC, 4, err) != 0) {
    oc_pq_writer_abort(w);
    return -1;
  }
  *out = w;
  return 0;
}

void oc_pq_writer_add_meta(oc_pq_writer *w, const char *key, const char *value) {
  oc_xgrow((void **)&w->info.meta_keys, &w->meta_cap, w->info.nmeta + 1, sizeof *w->info.meta_keys);
  size_t cap = w->meta_cap;
  w->info.meta_values = oc_xrealloc(w->info.meta_values, cap * sizeof *w->info.meta_values);
  w->info.meta_keys[w->info.nmeta] = oc_xstrdup(key);
  w->info.meta_values[w->info.nmeta] = value ? oc_xstrdup(value) : NULL;
  w->info.nmeta++;
}

/* ---- Statistics ---- */

/* Signed-order min/max of present integer values; T is int32_t or int64_t. */
#define INT_MIN_MAX(T, values, valid, n, stats)                                                        \
  do {                                                                                               \
    const T *v_ = (values);                                                                          \
    T lo_ = 0, hi_ = 0;                                                                              \
    bool any_ = false;                                                                               \
    for (size_t i_ = 0; i_ < (n); i_++) {                                                            \
      if ((valid) && !(valid)[i_]) continue;                                                         \
      if (!any_ || v_[i_] < lo_) lo_ = v_[i_];                                                       \
      if (!any_ || v_[i_] > hi_) hi_ = v_[i_];                                                       \
      any_ = true;                                                                                   \
    }                                                                                                \
    if (any_) set_min_max((stats), &lo_, &hi_, sizeof(T), true);                                     \
  } while (0)

static void set_min_max(oc_pq_statistics *s, const void *lo, const void *hi, size_t len, bool legacy_too) {
  oc_pq_stat_value_set(&s->min_value, lo, len);
  oc_pq_stat_value_set(&s->max_value, hi, len);
  if (legacy_too) { /* the deprecated fields are signed-order only: fine for numbers, wrong for strings */
    oc_pq_stat_value_set(&s->min, lo, len);
    oc_pq_stat_value_set(&s->max, hi, len);
  }
}

static void double_stats(const double *v, const uint8_t *valid, size_t n, oc_pq_statistics *s) {
  double lo = INFINITY, hi = -INFINITY;
  int64_t nans = 0;
  bool any = false;
  for (size_t i = 0; i < n; i++) {
    if (valid && !valid[i]) continue;
    double x = v[i];
    if (isnan(x)) {
      nans++;
      continue;
    }
    lo = x < lo ? x : lo;
    hi = x > hi ? x : hi;
    any = true;
  }
  s->has_nan_count = true;
  s->nan_count = nans;
  if (!any) return; /* all null or NaN: no min/max at all, as the spec requires */
  if (lo == 0) lo = -0.0; /* zero bounds: -0.0 as min, +0.0 as max (TYPE_ORDER rules) */
  if (hi == 0) hi = +0.0;
  set_min_max(s, &lo, &hi, sizeof lo, true);
}

static int bytes_cmp(const oc_pq_bytes *a, const oc_pq_bytes *b) {
  size_t n = a->len < b->len ? a->len : b->len;
  int c = n ? memcmp(a->data, b->data, n) : 0; /* memcmp compares as unsigned char */
  return c ? c : (a->len > b->len) - (a->len < b->len);
}

static void bytes_stats(const oc_pq_bytes *v, const uint8_t *valid, size_t n, oc_pq_statistics *s) {
  const oc_pq_bytes *lo = NULL, *hi = NULL;
  for (size_t i = 0; i < n; i++) {
    if (valid && !valid[i]) continue;
    if (!lo || bytes_cmp(&v[i], lo) < 0) lo = &v[i];
    if (!hi || bytes_cmp(&v[i], hi) > 0) hi = &v[i];
  }
  if (!lo) return;
  oc_pq_stat_value_set(&s->min_value, lo->data, lo->len);
  oc_pq_stat_value_set(&s->max_value, hi->data, hi->len);
}

static void column_stats(const oc_pq_column_info *col, const oc_pq_column_data *d, size_t n, oc_pq_statistics *s) {
  const uint8_t *valid = col->optional ? d->valid : NULL;
  s->present = true;
  s->has_null_count = true;
  s->null_count = 0;
  if (valid)
    for (size_t i = 0; i < n; i++) s->null_count += !valid[i];
  switch (col->type) {
  case OC_PQ_INT32: INT_MIN_MAX(int32_t, d->values, valid, n, s); break;
  case OC_PQ_INT64: INT_MIN_MAX(int64_t, d->values, valid, n, s); break;
  case OC_PQ_DOUBLE: double_stats(d->values, valid, n, s); break;
  case OC_PQ_BYTE_ARRAY: bytes_stats(d->values, valid, n, s); break;
  }
}

/* ---- Pages ---- */

/* The values of rows [a, b) as PLAIN bytes: a pointer into the caller's array when no null has to be
 * dropped (fixed width), else packed into w->packed. */
static void plain_values(oc_pq_writer *w, const oc_pq_column_info *col, const oc_pq_column_data *d, size_t a, size_t b,
                         const void **data, size_t *len) {
  const uint8_t *valid = col->optional ? d->valid : NULL;
  oc_buf_clear(&w->packed);
  if (col->type == OC_PQ_BYTE_ARRAY) {
    const oc_pq_bytes *v = d->values;
    for (size_t i = a; i < b; i++) {
      if (valid && !valid[i]) continue;
      uint32_t n = v[i].len;
      oc_buf_append(&w->packed, &n, 4);
      oc_buf_append(&w->packed, v[i].data, n);
    }
  } else {
    size_t width = oc_pq_value_size(col->type);
    const uint8_t *v = d->values;
    if (!valid) {
      *data = v + a * width;
      *len = (b - a) * width;
      return;
    }
    oc_buf_reserve(&w->packed, (b - a) * width);
    uint8_t *dst = (uint8_t *)w->packed.data;
    for (size_t i = a; i < b; i++) {
      memcpy(dst, v + i * width, width);
      dst += valid[i] ? width : 0; /* branch-free squeeze */
    }
    w->packed.len = (size_t)(dst - (uint8_t *)w->packed.data);
  }
  *data = w->packed.data;
  *len = w->packed.len;
}

static int compress_page(oc_pq_writer *w, struct iovec *parts, int nparts, size_t total, oc_error *err) {
  oc_buf_clear(&w->compressed);
  size_t bound = ZSTD_compressBound(total);
  oc_buf_reserve(&w->compressed, bound);
  if (!w->cctx) {
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx) return oc_error_set(err, "writing %s: cannot create a ZSTD context", w->path);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->zstd_level);
  }
  ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
  ZSTD_CCtx_setPledgedSrcSize(w->cctx, total);
  ZSTD_outBuffer out = {w->compressed.data, bound, 0};
  for (int i = 0; i < nparts; i++) {
    ZSTD_inBuffer in = {parts[i].iov_base, parts[i].iov_len, 0};
    ZSTD_EndDirective mode = i == nparts - 1 ? ZSTD_e_end : ZSTD_e_continue;
    size_t rc;
    do {
      rc = ZSTD_compressStream2(w->cctx, &out, &in, mode);
      if (ZSTD_isError(rc)) return oc_error_set(err, "writing %s: ZSTD: %s", w->path, ZSTD_getErrorName(rc));
    } while (mode == ZSTD_e_end ? rc != 0 : in.pos < in.size);
  }
  w->compressed.len = out.pos;
  return 0;
}

static int write_page(oc_pq_writer *w, const oc_pq_column_info *col, const oc_pq_column_data *d, size_t a, size_t b,
                      oc_pq_chunk_info *ch, oc_error *err) {
  struct iovec parts[2];
  int nparts = 0;
  size_t total = 0;
  if (col->optional) {
    oc_buf_clear(&w->levels);
    oc_buf_append(&w->levels, "\0\0\0\0", 4);
    oc_pq_levels_encode(d->valid ? d->valid + a : NULL, b - a, &w->levels);
    uint32_t n = (uint32_t)(w->levels.len - 4);
    memcpy(w->levels.data, &n, 4);
    parts[nparts++] = (struct iovec){w->levels.data, w->levels.len};
  }
  const void *values;
  size_t values_len;
  plain_values(w, col, d, a, b, &values, &values_len);
  parts[nparts++] = (struct iovec){(void *)values, values_len};
  for (int i = 0; i < nparts; i++) total += parts[i].iov_len;
  if (total > INT32_MAX) return oc_error_set(err, "writing %s: a page of column '%s' exceeds 2 GiB", w->path, col->name);
  size_t stored = total;
  if (w->codec == OC_PQ_ZSTD) {
    if (compress_page(w, parts, nparts, total, err) != 0) return -1;
    parts[0] = (struct iovec){w->compressed.data, w->compressed.len};
    nparts = 1;
    stored = w->compressed.len;
  }
  oc_pq_page_header h = {.type = OC_PQ_PAGE_DATA,
                         .uncompressed_size = (int32_t)total,
                         .compressed_size = (int32_t)stored,
                         .has_data_header = true,
                         .num_values = (int32_t)(b - a),
                         .encoding = OC_PQ_ENC_PLAIN,
                         .def_encoding = OC_PQ_ENC_RLE,
                         .rep_encoding = OC_PQ_ENC_RLE};
  oc_buf_clear(&w->header);
  oc_pq_encode_page_header(&h, &w->header);
  if (ch->total_compressed_size == 0) ch->data_page_offset = (int64_t)w->offset;
  ch->total_uncompressed_size += (int64_t)(w->header.len + total);
  ch->total_compressed_size += (int64_t)(w->header.len + stored);
  struct iovec all[3] = {{w->header.data, w->header.len}};
  for (int i = 0; i < nparts; i++) all[1 + i] = parts[i];
  return write_iov(w, all, 1 + nparts, err);
}

/* Rows in the page starting at row a: about PAGE_TARGET_BYTES of values. */
static size_t page_end(const oc_pq_column_info *col, const oc_pq_column_data *d, size_t a, size_t nrows) {
  if (col->type != OC_PQ_BYTE_ARRAY) {
    size_t rows = PAGE_TARGET_BYTES / oc_pq_value_size(col->type);
    return nrows - a < rows ? nrows : a + rows;
  }
  const oc_pq_bytes *v = d->values;
  size_t bytes = 0, b = a;
  while (b < nrows && bytes < PAGE_TARGET_BYTES) {
    if (!col->optional || !d->valid || d->valid[b]) bytes += 4 + (size_t)v[b].len;
    b++;
  }
  return b;
}

static int write_chunk(oc_pq_writer *w, size_t c, size_t nrows, const oc_pq_column_data *d, oc_pq_chunk_info *ch,
                       oc_error *err) {
  const oc_pq_column_info *col = &w->info.cols[c];
  if (col->type == OC_PQ_BYTE_ARRAY) {
    const oc_pq_bytes *v = d->values;
    for (size_t i = 0; i < nrows; i++)
      if (v[i].len > (1u << 30) && (!col->optional || !d->valid || d->valid[i]))
        return oc_error_set(err, "writing %s: value %zu of column '%s' is larger than 1 GiB", w->path, i, col->name);
  }
  ch->codec = w->codec;
  ch->num_values = (int64_t)nrows;
  ch->nencodings = col->optional ? 2 : 1;
  ch->encodings = oc_xcalloc(2, sizeof *ch->encodings);
  ch->encodings[0] = OC_PQ_ENC_PLAIN;
  ch->encodings[1] = OC_PQ_ENC_RLE;
  column_stats(col, d, nrows, &ch->stats);
  for (size_t a = 0; a < nrows;) {
    size_t b = page_end(col, d, a, nrows);
    if (write_page(w, col, d, a, b, ch, err) != 0) return -1;
    a = b;
  }
  return 0;
}

int oc_pq_writer_write_row_group(oc_pq_writer *w, size_t nrows, const oc_pq_column_data *cols, oc_error *err) {
  if (nrows == 0) return 0; /* an empty row group carries nothing; the footer still has the schema */
  for (size_t c = 0; c < w->info.ncols; c++)
    if (!cols[c].values)
      return oc_error_set(err, "writing %s: column '%s' has no values", w->path, w->info.cols[c].name);
  oc_xgrow((void **)&w->info.row_groups, &w->row_group_cap, w->info.nrow_groups + 1, sizeof *w->info.row_groups);
  oc_pq_row_group_info *rg = &w->info.row_groups[w->info.nrow_groups++];
  memset(rg, 0, sizeof *rg);
  rg->num_rows = (int64_t)nrows;
  rg->chunks = oc_xcalloc(w->info.ncols, sizeof *rg->chunks);
  for (size_t c = 0; c < w->info.ncols; c++) {
    if (write_chunk(w, c, nrows, &cols[c], &rg->chunks[c], err) != 0) return -1;
    rg->total_byte_size += rg->chunks[c].total_uncompressed_size;
  }
  w->info.num_rows += (int64_t)nrows;
  return 0;
}

static void writer_free(oc_pq_writer *w) {
  if (w->fd >= 0) close(w->fd);
  oc_pq_file_info_free(&w->info);
  ZSTD_freeCCtx(w->cctx);
  oc_buf_free(&w->levels);
  oc_buf_free(&w->packed);
  oc_buf_free(&w->compressed);
  oc_buf_free(&w->header);
  free(w->path);
  free(w->tmp_path);
  free(w);
}

void oc_pq_writer_abort(oc_pq_writer *w) {
  if (!w) return;
  unlink(w->tmp_path);
  writer_free(w);
}

int oc_pq_writer_close(oc_pq_writer *w, oc_error *err) {
  oc_buf footer = {0};
  oc_pq_encode_file_meta(&w->info, &footer);
  if (footer.len > UINT32_MAX) {
    oc_buf_free(&footer);
    oc_error_set(err, "writing %s: footer larger than 4 GiB", w->path);
    oc_pq_writer_abort(w);
    return -1;
  }
  uint32_t footer_len = (uint32_t)footer.len;
  oc_buf_append(&footer, &footer_len, 4);
  oc_buf_append(&footer, OC_PQ_MAGIC, 4);
  int rc = write_bytes(w, footer.data, footer.len, err);
  oc_buf_free(&footer);
  if (rc == 0 && fsync(w->fd) != 0) rc = oc_error_errno(err, "cannot sync %s", w->tmp_path);
  if (rc == 0) {
    int fd = w->fd;
    w->fd = -1;
    if (close(fd) != 0) rc = oc_error_errno(err, "cannot close %s", w->tmp_path);
  }
  if (rc == 0 && rename(w->tmp_path, w->path) != 0)
    rc = oc_error_errno(err, "cannot rename %s to %s", w->tmp_path, w->path);
  if (rc != 0) {
    oc_pq_writer_abort(w);
    return -1;
  }
  oc_fsync_parent_dir(w->path);
  writer_free(w);
  return 0;
}
