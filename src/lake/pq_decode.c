/* pq_decode.c: the values section of a Parquet data page, in every encoding the reader accepts
 * (PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY, RLE booleans, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
 * DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT), turned from the file's physical type into the representation
 * the reader hands over (parquet.h: BOOLEAN as INT32 0/1, FLOAT as DOUBLE, INT96 as INT64 nanoseconds,
 * FIXED_LEN_BYTE_ARRAY as BYTE_ARRAY). Works on bytes already decompressed and split from the levels;
 * trusts none of them: every count, width and length is checked against what remains, and errors say
 * "file offset N: ..." (the caller adds the file, row group and column). Must not do I/O. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "lake/pq_internal.h"

enum { INDEX_BATCH = 1024 };

static size_t row_of(const oc_pq_value_sink *s, size_t k) { return s->slot ? s->slot[k] : s->base + k; }

/* Bytes per value of a fixed-width physical type (0 for BOOLEAN and BYTE_ARRAY). */
static size_t physical_width(const oc_pq_column_info *col) {
  switch (col->physical) {
  case OC_PQ_INT32:
  case OC_PQ_PHYSICAL_FLOAT: return 4;
  case OC_PQ_INT64:
  case OC_PQ_DOUBLE: return 8;
  case OC_PQ_PHYSICAL_INT96: return 12;
  case OC_PQ_PHYSICAL_FIXED_LEN_BYTE_ARRAY: return (size_t)col->type_length;
  default: return 0;
  }
}

static int put_bytes(const oc_pq_value_sink *s, size_t k, const uint8_t *data, size_t len, uint64_t at,
                     oc_error *err) {
  if (len > s->heap_limit - s->heap->len || len > UINT32_MAX)
    return oc_error_set(err, "file offset %llu: the column's values outgrow the reader's expansion limit",
                        (unsigned long long)at);
  size_t row = row_of(s, k);
  s->offsets[row] = s->heap->len;
  s->lengths[row] = (uint32_t)len;
  oc_buf_append(s->heap, data, len);
  return 0;
}

static void put_int64(const oc_pq_value_sink *s, size_t k, int64_t v) {
  size_t row = row_of(s, k);
  if (s->col->type == OC_PQ_INT32) {
    ((int32_t *)s->values)[row] = (int32_t)(uint32_t)(uint64_t)v; /* INT32 deltas wrap at 32 bits */
  } else {
    ((int64_t *)s->values)[row] = v;
  }
}

/* One value of a fixed-width physical type (physical_width bytes at raw) into the representation. */
static int put_raw(const oc_pq_value_sink *s, size_t k, const uint8_t *raw, uint64_t at, oc_error *err) {
  size_t row = row_of(s, k);
  switch (s->col->physical) {
  case OC_PQ_INT32: memcpy((int32_t *)s->values + row, raw, 4); return 0;
  case OC_PQ_INT64: memcpy((int64_t *)s->values + row, raw, 8); return 0;
  case OC_PQ_DOUBLE: memcpy((double *)s->values + row, raw, 8); return 0;
  case OC_PQ_PHYSICAL_FLOAT: {
    float f;
    memcpy(&f, raw, 4);
    ((double *)s->values)[row] = f;
    return 0;
  }
  case OC_PQ_PHYSICAL_INT96: { /* nanoseconds of the day, then the Julian day number */
    int64_t nanos, ns;
    int32_t julian;
    memcpy(&nanos, raw, 8);
    memcpy(&julian, raw + 8, 4);
    if (__builtin_mul_overflow((int64_t)julian - 2440588, INT64_C(86400000000000), &ns) ||
        __builtin_add_overflow(ns, nanos, &ns))
      return oc_error_set(err, "file offset %llu: INT96 timestamp (Julian day %d) is outside the years 1677..2262",
                          (unsigned long long)at, julian);
    ((int64_t *)s->values)[row] = ns;
    return 0;
  }
  default: return put_bytes(s, k, raw, (size_t)s->col->type_length, at, err);
  }
}

static int plain(const oc_pq_value_sink *s, const uint8_t *data, size_t len, size_t n, uint64_t origin, oc_error *err) {
  const oc_pq_column_info *col = s->col;
  if (col->physical == OC_PQ_PHYSICAL_BOOLEAN) {
    if (len != (n + 7) / 8)
      return oc_error_set(err, "file offset %llu: %zu PLAIN booleans need %zu bytes but the page holds %zu",
                          (unsigned long long)origin, n, (n + 7) / 8, len);
    for (size_t k = 0; k < n; k++) ((int32_t *)s->values)[row_of(s, k)] = (data[k / 8] >> (k % 8)) & 1;
    return 0;
  }
  if (col->physical == OC_PQ_BYTE_ARRAY) {
    size_t pos = 0;
    for (size_t k = 0; k < n; k++) {
      uint32_t vlen;
      if (len - pos < 4 || (memcpy(&vlen, data + pos, 4), vlen > len - pos - 4))
        return oc_error_set(err, "file offset %llu: BYTE_ARRAY value of row %zu runs past the page end",
                            (unsigned long long)(origin + pos), row_of(s, k));
      if (put_bytes(s, k, data + pos + 4, vlen, origin + pos, err) != 0) return -1;
      pos += 4 + (size_t)vlen;
    }
    if (pos != len)
      return oc_error_set(err, "file offset %llu: %zu unexpected bytes after the page's values",
                          (unsigned long long)(origin + pos), len - pos);
    return 0;
  }
  size_t width = physical_width(col);
  if (len / width != n || len % width != 0)
    return oc_error_set(err, "file offset %llu: %zu %s values need %zu bytes but the page holds %zu",
                        (unsigned long long)origin, n, oc_pq_physical_name(col->physical), n * width, len);
  if (!s->slot && col->physical == (int32_t)col->type) { /* the common case: one copy */
    memcpy((uint8_t *)s->values + s->base * width, data, len);
    return 0;
  }
  for (size_t k = 0; k < n; k++)
    if (put_raw(s, k, data + k * width, origin + k * width, err) != 0) return -1;
  return 0;
}

static int byte_stream_split(const oc_pq_value_sink *s, const uint8_t *data, size_t len, size_t n, uint64_t origin,
                             oc_error *err) {
  size_t width = physical_width(s->col);
  if (width == 0 || s->col->physical == OC_PQ_PHYSICAL_INT96)
    return oc_error_set(err, "file offset %llu: BYTE_STREAM_SPLIT cannot encode %s", (unsigned long long)origin,
                        oc_pq_physical_name(s->col->physical));
  if (len / width != n || len % width != 0)
    return oc_error_set(err, "file offset %llu: %zu BYTE_STREAM_SPLIT values need %zu bytes but the page holds %zu",
                        (unsigned long long)origin, n, n * width, len);
  uint8_t *raw = oc_xmalloc(width);
  int rc = 0;
  for (size_t k = 0; k < n && rc == 0; k++) {
    for (size_t b = 0; b < width; b++) raw[b] = data[b * n + k];
    rc = put_raw(s, k, raw, origin + k, err);
  }
  free(raw);
  return rc;
}

/* ---- DELTA_BINARY_PACKED ---------------------------------------------------------------------- */

static int get_uvarint(const uint8_t *data, size_t len, size_t *pos, uint64_t *out, uint64_t origin, oc_error *err) {
  uint64_t v = 0;
  size_t start = *pos;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (*pos >= len) break;
    uint8_t b = data[(*pos)++];
    v |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return 0;
    }
  }
  return oc_error_set(err, "file offset %llu: DELTA_BINARY_PACKED header is cut short or malformed",
                      (unsigned long long)(origin + start));
}

static int get_zigzag(const uint8_t *data, size_t len, size_t *pos, int64_t *out, uint64_t origin, oc_error *err) {
  uint64_t u = 0;
  if (get_uvarint(data, len, pos, &u, origin, err) != 0) return -1;
  *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
  return 0;
}

/* Decodes exactly n values into out; *used = the bytes they took (the header says how many values it
 * holds: it must be n). Arithmetic wraps as the format specifies. */
static int delta_binary_packed(const uint8_t *data, size_t len, size_t n, int64_t *out, size_t *used, uint64_t origin,
                               oc_error *err) {
  size_t pos = 0;
  uint64_t block_size = 0, miniblocks = 0, total = 0;
  int64_t value = 0;
  if (get_uvarint(data, len, &pos, &block_size, origin, err) != 0 ||
      get_uvarint(data, len, &pos, &miniblocks, origin, err) != 0 ||
      get_uvarint(data, len, &pos, &total, origin, err) != 0 || get_zigzag(data, len, &pos, &value, origin, err) != 0)
    return -1;
  if (block_size == 0 || block_size > (1u << 20) || miniblocks == 0 || block_size % miniblocks != 0 ||
      (block_size / miniblocks) % 8 != 0)
    return oc_error_set(err, "file offset %llu: DELTA_BINARY_PACKED block of %llu values in %llu miniblocks is invalid",
                        (unsigned long long)origin, (unsigned long long)block_size, (unsigned long long)miniblocks);
  if (total != n)
    return oc_error_set(err, "file offset %llu: DELTA_BINARY_PACKED holds %llu values, the page needs %zu",
                        (unsigned long long)origin, (unsigned long long)total, n);
  size_t per_mini = (size_t)(block_size / miniblocks), done = 0;
  if (n > 0) out[done++] = value;
  while (done < n) {
    int64_t min_delta;
    if (get_zigzag(data, len, &pos, &min_delta, origin, err) != 0) return -1;
    if (miniblocks > len - pos)
      return oc_error_set(err, "file offset %llu: DELTA_BINARY_PACKED miniblock widths run past the page end",
                          (unsigned long long)(origin + pos));
    const uint8_t *widths = data + pos;
    pos += (size_t)miniblocks;
    for (size_t m = 0; m < miniblocks && done < n; m++) {
      unsigned width = widths[m];
      if (width > 64)
        return oc_error_set(err, "file offset %llu: DELTA_BINARY_PACKED miniblock width %u exceeds 64",
                            (unsigned long long)(origin + pos), width);
      size_t bytes = per_mini * width / 8;
      if (bytes > len - pos)
        return oc_error_set(err, "file offset %llu: DELTA_BINARY_PACKED miniblock of %zu bytes runs past the page end",
                            (unsigned long long)(origin + pos), bytes);
      for (size_t i = 0; i < per_mini && done < n; i++) {
        uint64_t delta = (uint64_t)min_delta + oc_pq_unpack_bits(data + pos, (uint64_t)i * width, width);
        value = (int64_t)((uint64_t)value + delta);
        out[done++] = value;
      }
      pos += bytes;
    }
  }
  *used = pos;
  return 0;
}

static int delta_integers(const oc_pq_value_sink *s, const uint8_t *data, size_t len, size_t n, uint64_t origin,
                          oc_error *err) {
  if (s->col->physical != OC_PQ_INT32 && s->col->physical != OC_PQ_INT64)
    return oc_error_set(err, "file offset %llu: DELTA_BINARY_PACKED cannot encode %s", (unsigned long long)origin,
                        oc_pq_physical_name(s->col->physical));
  int64_t *v = oc_xcalloc(n ? n : 1, sizeof *v);
  size_t used;
  int rc = delta_binary_packed(data, len, n, v, &used, origin, err);
  for (size_t k = 0; rc == 0 && k < n; k++) put_int64(s, k, v[k]);
  free(v);
  return rc;
}

/* Lengths (DELTA_BINARY_PACKED) then the bytes of n values: *lengths (caller frees) and *bytes, the
 * start of the concatenated values, checked to hold them all. */
static int delta_lengths(const uint8_t *data, size_t len, size_t n, int64_t **lengths, const uint8_t **bytes,
                         size_t *bytes_len, uint64_t origin, oc_error *err) {
  size_t used;
  *lengths = oc_xcalloc(n ? n : 1, sizeof **lengths);
  if (delta_binary_packed(data, len, n, *lengths, &used, origin, err) != 0) return -1;
  uint64_t need = 0;
  for (size_t k = 0; k < n; k++) {
    if ((*lengths)[k] < 0 || (uint64_t)(*lengths)[k] > len)
      return oc_error_set(err, "file offset %llu: value length %lld is out of range", (unsigned long long)origin,
                          (long long)(*lengths)[k]);
    need += (uint64_t)(*lengths)[k];
  }
  if (need > len - used)
    return oc_error_set(err, "file offset %llu: %zu values need %llu bytes, the page has %zu left",
                        (unsigned long long)(origin + used), n, (unsigned long long)need, len - used);
  *bytes = data + used;
  *bytes_len = (size_t)need;
  return 0;
}

static int delta_length_byte_array(const oc_pq_value_sink *s, const uint8_t *data, size_t len, size_t n,
                                   uint64_t origin, oc_error *err) {
  if (s->col->physical != OC_PQ_BYTE_ARRAY)
    return oc_error_set(err, "file offset %llu: DELTA_LENGTH_BYTE_ARRAY cannot encode %s", (unsigned long long)origin,
                        oc_pq_physical_name(s->col->physical));
  int64_t *lengths;
  const uint8_t *bytes;
  size_t total;
  int rc = delta_lengths(data, len, n, &lengths, &bytes, &total, origin, err);
  for (size_t k = 0, at = 0; rc == 0 && k < n; at += (size_t)lengths[k], k++)
    rc = put_bytes(s, k, bytes + at, (size_t)lengths[k], origin, err);
  free(lengths);
  return rc;
}

/* Each value is a prefix of the previous one plus a suffix (prefix lengths, then the suffixes as
 * DELTA_LENGTH_BYTE_ARRAY). */
static int delta_byte_array(const oc_pq_value_sink *s, const uint8_t *data, size_t len, size_t n, uint64_t origin,
                            oc_error *err) {
  const oc_pq_column_info *col = s->col;
  if (col->physical != OC_PQ_BYTE_ARRAY && col->physical != OC_PQ_PHYSICAL_FIXED_LEN_BYTE_ARRAY)
    return oc_error_set(err, "file offset %llu: DELTA_BYTE_ARRAY cannot encode %s", (unsigned long long)origin,
                        oc_pq_physical_name(col->physical));
  int64_t *prefixes = oc_xcalloc(n ? n : 1, sizeof *prefixes), *suffixes = NULL;
  size_t used, total;
  const uint8_t *bytes;
  oc_buf value = {0};
  int rc = delta_binary_packed(data, len, n, prefixes, &used, origin, err);
  if (rc == 0) rc = delta_lengths(data + used, len - used, n, &suffixes, &bytes, &total, origin + used, err);
  for (size_t k = 0, at = 0; rc == 0 && k < n; at += (size_t)suffixes[k], k++) {
    if (prefixes[k] < 0 || (uint64_t)prefixes[k] > value.len) {
      rc = oc_error_set(err, "file offset %llu: value %zu keeps %lld bytes of a %zu-byte previous value",
                        (unsigned long long)origin, k, (long long)prefixes[k], value.len);
      break;
    }
    value.len = (size_t)prefixes[k]; /* keep the previous value's prefix (and the buffer's terminator) */
    if (value.data) value.data[value.len] = '\0';
    oc_buf_append(&value, bytes + at, (size_t)suffixes[k]);
    if (col->physical == OC_PQ_PHYSICAL_FIXED_LEN_BYTE_ARRAY && value.len != (size_t)col->type_length) {
      rc = oc_error_set(err, "file offset %llu: value %zu has %zu bytes, the column's fixed length is %d",
                        (unsigned long long)origin, k, value.len, col->type_length);
      break;
    }
    rc = put_bytes(s, k, (const uint8_t *)value.data, value.len, origin, err);
  }
  oc_buf_free(&value);
  free(prefixes);
  free(suffixes);
  return rc;
}

/* ---- RLE booleans and dictionary indices ------------------------------------------------------- */

static int rle_booleans(const oc_pq_value_sink *s, const uint8_t *data, size_t len, size_t n, uint64_t origin,
                        oc_error *err) {
  uint32_t rle_len;
  if (s->col->physical != OC_PQ_PHYSICAL_BOOLEAN)
    return oc_error_set(err, "file offset %llu: RLE values are only read for BOOLEAN, not %s",
                        (unsigned long long)origin, oc_pq_physical_name(s->col->physical));
  if (len < 4 || (memcpy(&rle_len, data, 4), rle_len > len - 4))
    return oc_error_set(err, "file offset %llu: RLE booleans claim more bytes than the page holds",
                        (unsigned long long)origin);
  oc_pq_hybrid h;
  oc_pq_hybrid_init(&h, data + 4, rle_len, 1, n, origin + 4, "RLE booleans", err);
  uint32_t batch[INDEX_BATCH];
  for (size_t done = 0; done < n;) {
    size_t take = n - done < INDEX_BATCH ? n - done : INDEX_BATCH;
    if (oc_pq_hybrid_read(&h, take, batch) != 0) return -1;
    for (size_t i = 0; i < take; i++) ((int32_t *)s->values)[row_of(s, done + i)] = (int32_t)batch[i];
    done += take;
  }
  return 0;
}

void oc_pq_dictionary_free(oc_pq_dictionary *d) {
  free(d->values);
  free(d->offsets);
  free(d->lengths);
  oc_buf_free(&d->heap);
  memset(d, 0, sizeof *d);
}

int oc_pq_dictionary_decode(oc_pq_dictionary *d, const oc_pq_column_info *col, const uint8_t *data, size_t len,
                            size_t n, uint64_t origin, oc_error *err) {
  oc_pq_dictionary_free(d);
  if (n > len * 8) /* every value takes at least a bit: a count beyond that is forged */
    return oc_error_set(err, "file offset %llu: dictionary of %zu values in %zu bytes", (unsigned long long)origin, n,
                        len);
  d->n = n;
  d->values = oc_xcalloc(n ? n : 1, oc_pq_value_size(col->type));
  if (col->type == OC_PQ_BYTE_ARRAY) {
    d->offsets = oc_xcalloc(n ? n : 1, sizeof *d->offsets);
    d->lengths = oc_xcalloc(n ? n : 1, sizeof *d->lengths);
  }
  oc_pq_value_sink s = {.col = col, .values = d->values, .offsets = d->offsets, .lengths = d->lengths,
                        .heap = &d->heap, .heap_limit = len};
  if (plain(&s, data, len, n, origin, err) != 0) return oc_error_prefix(err, "dictionary page: ");
  return 0;
}

static int dictionary_indices(const oc_pq_value_sink *s, const oc_pq_dictionary *dict, const uint8_t *data,
                              size_t len, size_t n, uint64_t origin, oc_error *err) {
  if (!dict)
    return oc_error_set(err, "file offset %llu: dictionary-encoded page without a dictionary page before it",
                        (unsigned long long)origin);
  if (n > 0 && len < 1)
    return oc_error_set(err, "file offset %llu: dictionary indices lack their bit width", (unsigned long long)origin);
  unsigned width = n > 0 ? data[0] : 0;
  if (width > 32)
    return oc_error_set(err, "file offset %llu: dictionary index width %u exceeds 32", (unsigned long long)origin, width);
  oc_pq_hybrid h;
  oc_pq_hybrid_init(&h, data + (n > 0), len - (n > 0), width, n, origin + 1, "dictionary indices", err);
  size_t vwidth = oc_pq_value_size(s->col->type);
  uint32_t batch[INDEX_BATCH];
  for (size_t done = 0; done < n;) {
    size_t take = n - done < INDEX_BATCH ? n - done : INDEX_BATCH;
    if (oc_pq_hybrid_read(&h, take, batch) != 0) return -1;
    for (size_t i = 0; i < take; i++) {
      uint32_t idx = batch[i];
      if (idx >= dict->n)
        return oc_error_set(err, "file offset %llu: row %zu refers to dictionary entry %u of %zu",
                            (unsigned long long)origin, row_of(s, done + i), idx, dict->n);
      if (s->col->type == OC_PQ_BYTE_ARRAY) {
        if (put_bytes(s, done + i, (const uint8_t *)dict->heap.data + dict->offsets[idx], dict->lengths[idx], origin,
                      err) != 0)
          return -1;
      } else {
        memcpy((uint8_t *)s->values + row_of(s, done + i) * vwidth, (const uint8_t *)dict->values + idx * vwidth,
               vwidth);
      }
    }
    done += take;
  }
  return 0;
}

int oc_pq_decode_values(const oc_pq_value_sink *s, int32_t encoding, const oc_pq_dictionary *dict, const uint8_t *data,
                        size_t len, size_t n, uint64_t origin, oc_error *err) {
  assert(s->col->type != OC_PQ_BYTE_ARRAY || (s->offsets && s->lengths && s->heap));
  switch (encoding) {
  case OC_PQ_ENC_PLAIN: return plain(s, data, len, n, origin, err);
  case OC_PQ_ENC_PLAIN_DICTIONARY:
  case OC_PQ_ENC_RLE_DICTIONARY: return dictionary_indices(s, dict, data, len, n, origin, err);
  case OC_PQ_ENC_RLE: return rle_booleans(s, data, len, n, origin, err);
  case OC_PQ_ENC_DELTA_BINARY_PACKED: return delta_integers(s, data, len, n, origin, err);
  case OC_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: return delta_length_byte_array(s, data, len, n, origin, err);
  case OC_PQ_ENC_DELTA_BYTE_ARRAY: return delta_byte_array(s, data, len, n, origin, err);
  case OC_PQ_ENC_BYTE_STREAM_SPLIT: return byte_stream_split(s, data, len, n, origin, err);
  default:
    return oc_error_set(err, "file offset %llu: value encoding %d is not supported", (unsigned long long)origin,
                        encoding);
  }
}
