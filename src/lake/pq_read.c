/* pq_read.c: the Parquet reader. Treats every file as hostile: the footer length is checked against
 * the file size, every column chunk against the data area, every page against its chunk, every level
 * run and value against its page. Allocations follow verified sizes only: a chunk is read into memory
 * (bounded by the file size), and decoded arrays are allocated only after the page headers that are
 * physically present add up to the row count, within an expansion limit relative to the chunk's bytes
 * (so a tiny file claiming 2^40 values is refused instead of allocated). Here: the file, the chunks,
 * the pages (v1, v2, dictionary), their decompression (Snappy, loaded on first use: snappy_lazy.h; ZSTD)
 * and levels; the values sections are pq_decode.c's. Must not print or exit. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "lake/pq_internal.h"
#include "lake/snappy_lazy.h"

/* Decoded bytes may exceed a chunk's stored bytes by at most this factor (plus a fixed allowance):
 * generous for real data (a constant column compresses ~10^4:1 under ZSTD, an all-null page is a few
 * bytes of RLE), fatal for forged counts. */
#define MAX_EXPANSION 65536u
#define EXPANSION_ALLOWANCE (64u << 20)

static int source_read(oc_pq_reader *r, uint64_t offset, size_t len, void *dst, oc_error *err) {
  if (offset > r->file_size || len > r->file_size - offset)
    return oc_error_set(err, "%s: read of %zu bytes at file offset %llu runs past the end (%llu bytes)", r->name, len,
                        (unsigned long long)offset, (unsigned long long)r->file_size);
  if (r->mem) {
    memcpy(dst, r->mem + offset, len);
    return 0;
  }
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(r->fd, (char *)dst + done, len - done, (off_t)(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return oc_error_errno(err, "cannot read %s at file offset %llu", r->name, (unsigned long long)(offset + done));
    }
    if (n == 0)
      return oc_error_set(err, "%s: file ended at offset %llu while reading (was it truncated while open?)", r->name,
                          (unsigned long long)(offset + done));
    done += (size_t)n;
  }
  return 0;
}

static int check_chunks(oc_pq_reader *r, oc_error *err) {
  const oc_pq_file_info *info = &r->info;
  for (size_t g = 0; g < info->nrow_groups; g++) {
    for (size_t c = 0; c < info->ncols; c++) {
      const oc_pq_chunk_info *ch = &info->row_groups[g].chunks[c];
      int64_t start = ch->data_page_offset;
      if (ch->has_dictionary_page_offset && ch->dictionary_page_offset > 0 && ch->dictionary_page_offset < start)
        start = ch->dictionary_page_offset;
      if (start < 4 || (uint64_t)start > r->footer_offset ||
          (uint64_t)ch->total_compressed_size > r->footer_offset - (uint64_t)start)
        return oc_error_set(err,
                            "%s: row group %zu, column '%s': chunk at file offset %lld of %lld bytes lies outside "
                            "the data area [4, %llu)",
                            r->name, g, info->cols[c].name, (long long)start, (long long)ch->total_compressed_size,
                            (unsigned long long)r->footer_offset);
    }
  }
  return 0;
}

static int open_common(oc_pq_reader *r, oc_error *err) {
  uint8_t head[4], tail[8];
  if (r->file_size < 12)
    return oc_error_set(err, "%s: %llu bytes is too small for a Parquet file (magic, footer length and magic take 12)",
                        r->name, (unsigned long long)r->file_size);
  if (source_read(r, 0, 4, head, err) != 0 || source_read(r, r->file_size - 8, 8, tail, err) != 0) return -1;
  if (memcmp(head, OC_PQ_MAGIC, 4) != 0)
    return oc_error_set(err, "%s: not a Parquet file (no PAR1 magic at file offset 0)", r->name);
  if (memcmp(tail + 4, OC_PQ_MAGIC, 4) != 0)
    return oc_error_set(err, "%s: no PAR1 magic at file offset %llu (truncated, or not a Parquet file)", r->name,
                        (unsigned long long)(r->file_size - 4));
  uint32_t footer_len;
  memcpy(&footer_len, tail, 4);
  if (footer_len > r->file_size - 12)
    return oc_error_set(err, "%s: footer length %u (at file offset %llu) exceeds the %llu bytes between the magics",
                        r->name, footer_len, (unsigned long long)(r->file_size - 8),
                        (unsigned long long)(r->file_size - 12));
  r->footer_offset = r->file_size - 8 - footer_len;
  uint8_t *footer = oc_xmalloc(footer_len);
  int rc = source_read(r, r->footer_offset, footer_len, footer, err);
  if (rc == 0) rc = oc_pq_decode_file_meta(footer, footer_len, r->footer_offset, &r->info, err);
  free(footer);
  if (rc != 0) {
    if (err && strncmp(err->message, r->name, strlen(r->name)) != 0) oc_error_prefix(err, "%s: ", r->name);
    return -1;
  }
  return check_chunks(r, err);
}

int oc_pq_reader_open(oc_pq_reader *r, const char *path, oc_error *err) {
  memset(r, 0, sizeof *r);
  r->fd = -1;
  r->name = oc_xstrdup(path);
  r->fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (r->fd < 0) {
    oc_error_errno(err, "cannot open %s", path);
  } else if (fstat(r->fd, &st) != 0) {
    oc_error_errno(err, "cannot stat %s", path);
  } else if (!S_ISREG(st.st_mode)) {
    oc_error_set(err, "%s is not a regular file", path);
  } else {
    r->file_size = (uint64_t)st.st_size;
    if (open_common(r, err) == 0) return 0;
  }
  oc_pq_reader_close(r);
  return -1;
}

int oc_pq_reader_open_memory(oc_pq_reader *r, const void *data, size_t len, const char *name, oc_error *err) {
  memset(r, 0, sizeof *r);
  r->fd = -1;
  r->name = oc_xstrdup(name);
  r->mem = data;
  r->file_size = len;
  if (open_common(r, err) == 0) return 0;
  oc_pq_reader_close(r);
  return -1;
}

void oc_pq_reader_close(oc_pq_reader *r) {
  if (r->fd >= 0) close(r->fd);
  oc_pq_file_info_free(&r->info);
  free(r->name);
  memset(r, 0, sizeof *r);
  r->fd = -1;
}

long oc_pq_find_column(const oc_pq_reader *r, const char *name) {
  for (size_t c = 0; c < r->info.ncols; c++)
    if (strcmp(r->info.cols[c].name, name) == 0) return (long)c;
  return -1;
}

void oc_pq_column_free(oc_pq_column *c) {
  free(c->values);
  free(c->valid);
  free(c->heap);
  memset(c, 0, sizeof *c);
}

/* ---- Column chunks ---- */

typedef struct page_ref {
  size_t data_pos; /* offset of the page data within the chunk */
  oc_pq_page_header h;
} page_ref;

typedef struct chunk_ctx {
  oc_pq_reader *r;
  const oc_pq_column_info *col;
  size_t row_group;
  uint64_t start; /* file offset of the chunk */
  int32_t codec;
  oc_error *err;
} chunk_ctx;

static int chunk_fail(const chunk_ctx *cx, uint64_t offset, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int chunk_fail(const chunk_ctx *cx, uint64_t offset, const char *fmt, ...) {
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return oc_error_set(cx->err, "%s: row group %zu, column '%s', file offset %llu: %s", cx->r->name, cx->row_group,
                      cx->col->name, (unsigned long long)offset, msg);
}

/* Names the file, row group and column in front of a lower layer's "file offset N: ..." message. */
static int chunk_prefix(const chunk_ctx *cx) {
  return oc_error_prefix(cx->err, "%s: row group %zu, column '%s', ", cx->r->name, cx->row_group, cx->col->name);
}

/* The shape checks of one page header; NULL when the reader can decode the page, else why not. */
static const char *page_problem(const chunk_ctx *cx, const oc_pq_page_header *h, size_t data_pages) {
  if (h->type == OC_PQ_PAGE_DICTIONARY) {
    if (!h->has_dictionary_header) return "dictionary page without a DictionaryPageHeader";
    if (data_pages > 0) return "a dictionary page after a data page";
    if (h->dictionary_encoding != OC_PQ_ENC_PLAIN && h->dictionary_encoding != OC_PQ_ENC_PLAIN_DICTIONARY)
      return "dictionary page values are not PLAIN";
    return NULL;
  }
  if ((h->type != OC_PQ_PAGE_DATA && h->type != OC_PQ_PAGE_DATA_V2) || !h->has_data_header)
    return "page type is not supported (data pages v1 and v2, dictionary and index pages only)";
  if (h->type == OC_PQ_PAGE_DATA && cx->col->optional && h->def_encoding != OC_PQ_ENC_RLE)
    return "definition level encoding is not supported (RLE only)";
  if (h->type == OC_PQ_PAGE_DATA_V2) {
    if (h->rep_levels_len != 0) return "repetition levels in a flat column";
    if (!cx->col->optional && h->def_levels_len != 0) return "definition levels in a required column";
    if ((int64_t)h->def_levels_len > h->compressed_size || h->def_levels_len > h->uncompressed_size)
      return "definition levels longer than the page";
  }
  return NULL;
}

/* Walks the page headers of a chunk; fills pages (caller frees) and checks their counts. */
static int walk_pages(const chunk_ctx *cx, const uint8_t *chunk, size_t len, int64_t rows, page_ref **pages_out,
                      size_t *npages_out) {
  page_ref *pages = NULL;
  size_t n = 0, cap = 0, data_pages = 0;
  int64_t values = 0;
  size_t pos = 0;
  while (pos < len) {
    page_ref p;
    size_t hl;
    if (oc_pq_decode_page_header(chunk + pos, len - pos, cx->start + pos, &p.h, &hl, cx->err) != 0) {
      oc_error_prefix(cx->err, "%s: row group %zu, column '%s': ", cx->r->name, cx->row_group, cx->col->name);
      goto fail;
    }
    uint64_t at = cx->start + pos;
    if ((size_t)p.h.compressed_size > len - pos - hl) {
      chunk_fail(cx, at, "page claims %d bytes but the column chunk has %zu left", p.h.compressed_size, len - pos - hl);
      goto fail;
    }
    p.data_pos = pos + hl;
    pos = p.data_pos + (size_t)p.h.compressed_size;
    if (p.h.type == OC_PQ_PAGE_INDEX) continue;
    const char *problem = page_problem(cx, &p.h, data_pages);
    if (problem) {
      chunk_fail(cx, at, "%s (page type %d)", problem, p.h.type);
      goto fail;
    }
    if (p.h.type != OC_PQ_PAGE_DICTIONARY) {
      values += p.h.num_values;
      data_pages++;
    }
    oc_xgrow((void **)&pages, &cap, n + 1, sizeof *pages);
    pages[n++] = p;
  }
  if (values != rows) {
    chunk_fail(cx, cx->start, "the pages hold %lld values but the row group has %lld rows", (long long)values,
               (long long)rows);
    goto fail;
  }
  *pages_out = pages;
  *npages_out = n;
  return 0;
fail:
  free(pages);
  return -1;
}

typedef struct column_sink {
  oc_pq_column *out;
  size_t row;        /* rows decoded so far */
  uint64_t *offsets; /* BYTE_ARRAY: heap offset of each value */
  uint32_t *lengths;
  oc_buf heap;
  size_t heap_limit;
  oc_pq_dictionary dict;
  bool has_dict;
} column_sink;

/* Where pages are decompressed, reused page after page. */
typedef struct page_buffer {
  uint8_t *data;
  size_t cap;
  ZSTD_DCtx *zstd;
} page_buffer;

/* Decompresses stored bytes into buf (grown to size) unless the codec is UNCOMPRESSED, in which case
 * *out points at the stored bytes. */
static int decompress(const chunk_ctx *cx, const uint8_t *stored, size_t stored_len, size_t size, uint64_t at,
                      page_buffer *buf, const uint8_t **out) {
  if (cx->codec == OC_PQ_UNCOMPRESSED) {
    if (size != stored_len)
      return chunk_fail(cx, at, "uncompressed page says %zu bytes uncompressed but %zu stored", size, stored_len);
    *out = stored;
    return 0;
  }
  if (size > (uint64_t)stored_len * MAX_EXPANSION + EXPANSION_ALLOWANCE)
    return chunk_fail(cx, at, "page claims to expand from %zu to %zu bytes, beyond the reader's limit", stored_len,
                      size);
  oc_xgrow((void **)&buf->data, &buf->cap, size ? size : 1, 1);
  *out = buf->data;
  if (cx->codec == OC_PQ_CODEC_SNAPPY) {
    oc_error load_err;
    const oc_snappy_lib *snappy = oc_snappy(&load_err);
    if (!snappy) return chunk_fail(cx, at, "%s", load_err.message);
    size_t claimed, got = size;
    if (snappy->uncompressed_length((const char *)stored, stored_len, &claimed) != SNAPPY_OK)
      return chunk_fail(cx, at, "Snappy page is corrupt (no valid length header)");
    if (claimed != size)
      return chunk_fail(cx, at, "Snappy page holds %zu bytes, its header says %zu", claimed, size);
    if (snappy->uncompress((const char *)stored, stored_len, (char *)buf->data, &got) != SNAPPY_OK || got != size)
      return chunk_fail(cx, at, "Snappy page does not decompress to its declared %zu bytes", size);
    return 0;
  }
  if (!buf->zstd && !(buf->zstd = ZSTD_createDCtx())) return chunk_fail(cx, at, "cannot create a ZSTD context");
  size_t got = ZSTD_decompressDCtx(buf->zstd, buf->data, size, stored, stored_len);
  if (ZSTD_isError(got))
    return chunk_fail(cx, at, "ZSTD page does not decompress to its declared %zu bytes: %s", size,
                      ZSTD_getErrorName(got));
  if (got != size) return chunk_fail(cx, at, "ZSTD page decompressed to %zu bytes, its header says %zu", got, size);
  return 0;
}

/* The rows of a page: its definition levels (levels_len bytes, NULL for a required column), then its
 * values section (values_len bytes, decompressed). at is the file offset of the page's data (for
 * compressed pages, positions in messages are within the page). */
static int decode_page(const chunk_ctx *cx, const page_ref *p, const uint8_t *levels, size_t levels_len,
                       const uint8_t *values, size_t values_len, uint64_t at, column_sink *sink) {
  size_t nv = (size_t)p->h.num_values, present = nv;
  oc_pq_column *out = sink->out;
  if (levels && oc_pq_levels_decode(levels, levels_len, nv, out->valid + sink->row, &present, at, cx->err) != 0)
    return oc_error_prefix(cx->err, "%s: row group %zu, column '%s': ", cx->r->name, cx->row_group, cx->col->name);
  size_t *slot = NULL;
  if (present < nv) {
    slot = oc_xmalloc(present ? present * sizeof *slot : 1);
    for (size_t i = 0, k = 0; i < nv; i++)
      if (out->valid[sink->row + i]) slot[k++] = sink->row + i;
  }
  oc_pq_value_sink vs = {.col = cx->col, .values = out->values, .offsets = sink->offsets, .lengths = sink->lengths,
                         .heap = &sink->heap, .heap_limit = sink->heap_limit, .base = sink->row, .slot = slot};
  int rc = oc_pq_decode_values(&vs, p->h.encoding, sink->has_dict ? &sink->dict : NULL, values, values_len, present,
                               at, cx->err);
  free(slot);
  if (rc != 0) return chunk_prefix(cx);
  out->null_count += nv - present;
  sink->row += nv;
  return 0;
}

static int decode_pages(const chunk_ctx *cx, const uint8_t *chunk, const page_ref *pages, size_t npages,
                        column_sink *sink) {
  page_buffer buf = {0};
  int rc = 0;
  for (size_t i = 0; i < npages && rc == 0; i++) {
    const page_ref *p = &pages[i];
    const uint8_t *payload = chunk + p->data_pos, *data;
    size_t stored = (size_t)p->h.compressed_size, size = (size_t)p->h.uncompressed_size;
    uint64_t at = cx->start + p->data_pos;
    if (p->h.type == OC_PQ_PAGE_DICTIONARY) {
      rc = decompress(cx, payload, stored, size, at, &buf, &data);
      if (rc == 0 && oc_pq_dictionary_decode(&sink->dict, cx->col, data, size, (size_t)p->h.dictionary_values, at,
                                             cx->err) != 0)
        rc = chunk_prefix(cx);
      sink->has_dict = rc == 0;
    } else if (p->h.type == OC_PQ_PAGE_DATA) { /* levels and values compressed together */
      rc = decompress(cx, payload, stored, size, at, &buf, &data);
      uint32_t levels_len = 0;
      size_t values_at = 0; /* the levels' length prefix and the levels come first */
      if (rc == 0 && cx->col->optional) {
        if (size < 4) {
          rc = chunk_fail(cx, at, "page too short for the definition levels length");
        } else if (memcpy(&levels_len, data, 4), levels_len > size - 4) {
          rc = chunk_fail(cx, at, "definition levels claim %u bytes, the page has %zu", levels_len, size - 4);
        } else {
          values_at = 4 + (size_t)levels_len;
        }
      }
      if (rc == 0)
        rc = decode_page(cx, p, cx->col->optional ? data + 4 : NULL, levels_len, data + values_at, size - values_at,
                         at + values_at, sink);
    } else { /* v2: levels stored uncompressed in front of the (maybe compressed) values */
      size_t levels_len = (size_t)p->h.def_levels_len;
      if (p->h.values_compressed) {
        rc = decompress(cx, payload + levels_len, stored - levels_len, size - levels_len, at + levels_len, &buf, &data);
      } else if (size != stored) {
        rc = chunk_fail(cx, at, "uncompressed v2 page says %zu bytes uncompressed but %zu stored", size, stored);
      } else {
        data = payload + levels_len;
      }
      if (rc == 0)
        rc = decode_page(cx, p, cx->col->optional ? payload : NULL, levels_len, data, size - levels_len,
                         at + levels_len, sink);
    }
  }
  ZSTD_freeDCtx(buf.zstd);
  free(buf.data);
  return rc;
}

int oc_pq_read_column(oc_pq_reader *r, size_t row_group, size_t col, oc_pq_column *out, oc_error *err) {
  memset(out, 0, sizeof *out);
  if (row_group >= r->info.nrow_groups || col >= r->info.ncols)
    return oc_error_set(err, "%s: no row group %zu / column %zu (the file has %zu row groups and %zu columns)", r->name,
                        row_group, col, r->info.nrow_groups, r->info.ncols);
  const oc_pq_column_info *ci = &r->info.cols[col];
  const oc_pq_row_group_info *rg = &r->info.row_groups[row_group];
  const oc_pq_chunk_info *ch = &rg->chunks[col];
  chunk_ctx cx = {r, ci, row_group, (uint64_t)ch->data_page_offset, ch->codec, err};
  if (ch->has_dictionary_page_offset && ch->dictionary_page_offset > 0 && ch->dictionary_page_offset < ch->data_page_offset)
    cx.start = (uint64_t)ch->dictionary_page_offset;
  if (ch->codec != OC_PQ_UNCOMPRESSED && ch->codec != OC_PQ_CODEC_SNAPPY && ch->codec != OC_PQ_ZSTD)
    return chunk_fail(&cx, cx.start, "codec %s is not supported (UNCOMPRESSED, SNAPPY and ZSTD only)",
                      oc_pq_codec_name(ch->codec));
  size_t len = (size_t)ch->total_compressed_size;
  uint8_t *chunk = oc_xmalloc(len);
  page_ref *pages = NULL;
  size_t npages = 0;
  column_sink sink = {.out = out};
  int rc = source_read(r, cx.start, len, chunk, err);
  if (rc == 0) rc = walk_pages(&cx, chunk, len, rg->num_rows, &pages, &npages);
  size_t n = (size_t)rg->num_rows, width = oc_pq_value_size(ci->type);
  if (rc == 0 && (double)n * (double)(width + 1) > (double)len * MAX_EXPANSION + EXPANSION_ALLOWANCE)
    rc = chunk_fail(&cx, cx.start, "%zu rows from a %zu-byte chunk is beyond the reader's expansion limit", n, len);
  if (rc == 0) {
    out->type = ci->type;
    out->n = n;
    out->values = oc_xcalloc(n, width);
    if (ci->optional) out->valid = oc_xcalloc(n, 1);
    if (ci->type == OC_PQ_BYTE_ARRAY) {
      sink.offsets = oc_xcalloc(n, sizeof *sink.offsets);
      sink.lengths = oc_xcalloc(n, sizeof *sink.lengths);
      sink.heap_limit = (size_t)((double)len * MAX_EXPANSION + EXPANSION_ALLOWANCE > (double)SIZE_MAX / 2
                                     ? SIZE_MAX / 2
                                     : (double)len * MAX_EXPANSION + EXPANSION_ALLOWANCE);
    }
    rc = decode_pages(&cx, chunk, pages, npages, &sink);
  }
  if (rc == 0 && ci->type == OC_PQ_BYTE_ARRAY) {
    out->heap = (uint8_t *)oc_buf_steal(&sink.heap);
    oc_pq_bytes *v = out->values;
    for (size_t i = 0; i < n; i++)
      if (!out->valid || out->valid[i]) v[i] = (oc_pq_bytes){out->heap + sink.offsets[i], sink.lengths[i]};
  }
  oc_buf_free(&sink.heap);
  oc_pq_dictionary_free(&sink.dict);
  free(sink.offsets);
  free(sink.lengths);
  free(pages);
  free(chunk);
  if (rc != 0) oc_pq_column_free(out);
  return rc;
}
