/* pq_levels.c: definition levels of a flat optional column (max level 1) in Parquet's RLE/bit-packed
 * hybrid. The encoder works a group of 8 levels at a time (one 64-bit load per group): runs of
 * uniform groups become RLE runs, mixed groups are bit-packed, so a column without nulls costs a
 * couple of bytes per page. The decoder reads the hybrid at any bit width up to 32 (definition levels,
 * dictionary indices, RLE booleans) and trusts nothing: every run is checked against the bytes and
 * the value count that remain. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "lake/pq_internal.h"

static void put_varint(oc_buf *b, uint64_t v) {
  while (v >= 0x80) {
    oc_buf_putc(b, (char)(uint8_t)(v | 0x80));
    v >>= 7;
  }
  oc_buf_putc(b, (char)(uint8_t)v);
}

static void put_rle_run(oc_buf *out, size_t count, uint8_t value) {
  put_varint(out, (uint64_t)count << 1);
  oc_buf_putc(out, (char)value);
}

static const uint64_t ALL_ONES = 0x0101010101010101ull;

/* 0 = all null, 1 = all present, 2 = mixed (any nonzero byte counts as present) */
static int group_kind(const uint8_t *g) {
  uint64_t x;
  memcpy(&x, g, 8);
  if (x == 0) return 0;
  if (x == ALL_ONES) return 1;
  for (int b = 0; b < 8; b++)
    if (!g[b]) return 2;
  return 1;
}

static uint8_t pack_group(const uint8_t *g, size_t count) {
  uint8_t bits = 0;
  for (size_t b = 0; b < count; b++) bits |= (uint8_t)((g[b] != 0) << b);
  return bits;
}

void oc_pq_levels_encode(const uint8_t *valid, size_t n, oc_buf *out) {
  if (n == 0) return;
  if (!valid) {
    put_rle_run(out, n, 1);
    return;
  }
  size_t full_groups = n / 8, tail = n % 8;
  size_t g = 0;
  while (g < full_groups) {
    int kind = group_kind(valid + 8 * g);
    size_t end = g + 1;
    if (kind != 2) {
      while (end < full_groups && group_kind(valid + 8 * end) == kind) end++;
      size_t count = 8 * (end - g);
      /* A uniform tail of the same value joins the run, so the common no-null page is one run. */
      if (end == full_groups && tail) {
        bool same = true;
        for (size_t i = 8 * full_groups; i < n; i++) same = same && (valid[i] != 0) == kind;
        if (same) {
          count += tail;
          tail = 0;
        }
      }
      put_rle_run(out, count, (uint8_t)kind);
    } else {
      while (end < full_groups && group_kind(valid + 8 * end) == 2) end++;
      bool take_tail = end == full_groups && tail;
      put_varint(out, (uint64_t)(end - g + take_tail) << 1 | 1);
      for (size_t k = g; k < end; k++) oc_buf_putc(out, (char)pack_group(valid + 8 * k, 8));
      if (take_tail) {
        oc_buf_putc(out, (char)pack_group(valid + 8 * full_groups, tail));
        tail = 0;
      }
    }
    g = end;
  }
  if (tail) {
    put_varint(out, 1 << 1 | 1);
    oc_buf_putc(out, (char)pack_group(valid + 8 * full_groups, tail));
  }
}

/* One run header at h->pos; sets up the run. 0, or -1 with the error. */
static int hybrid_run(oc_pq_hybrid *h) {
  size_t done = h->done, n = h->total;
  uint64_t header = 0;
  size_t start = h->pos;
  for (int shift = 0;; shift += 7) {
    if (h->pos >= h->len)
      return oc_error_set(h->err, "%s at file offset %llu end after %zu of %zu values", h->what,
                          (unsigned long long)(h->origin + start), done, n);
    if (shift > 56)
      return oc_error_set(h->err, "%s: run header at file offset %llu is too long", h->what,
                          (unsigned long long)(h->origin + start));
    uint8_t b = h->data[h->pos++];
    header |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) break;
  }
  uint64_t left = n - done;
  if (header & 1) {
    uint64_t groups = header >> 1;
    uint64_t count = groups < left / 8 + 1 ? groups * 8 : left;
    if (count > left) count = left;
    size_t bytes = (size_t)((count * h->width + 7) / 8);
    if (groups == 0 || bytes > h->len - h->pos)
      return oc_error_set(h->err, "%s: bit-packed run at file offset %llu needs %zu bytes, %zu remain", h->what,
                          (unsigned long long)(h->origin + start), bytes, h->len - h->pos);
    h->packed = true;
    h->bits = h->data + h->pos;
    h->bitpos = 0;
    h->run_left = count;
    h->pos += bytes; /* a run can only be cut short by the end of the values */
    return 0;
  }
  uint64_t count = header >> 1;
  size_t value_bytes = (h->width + 7) / 8;
  if (value_bytes > h->len - h->pos)
    return oc_error_set(h->err, "%s: RLE run at file offset %llu has no value", h->what,
                        (unsigned long long)(h->origin + start));
  uint32_t value = 0;
  for (size_t i = 0; i < value_bytes; i++) value |= (uint32_t)h->data[h->pos++] << (8 * i);
  if (h->width < 32 && value >> h->width)
    return oc_error_set(h->err, "%s: RLE run at file offset %llu repeats %u, wider than %u bits (maximum %u)",
                        h->what, (unsigned long long)(h->origin + start), value, h->width,
                        (1u << h->width) - 1);
  if (count == 0)
    return oc_error_set(h->err, "%s: empty RLE run at file offset %llu", h->what,
                        (unsigned long long)(h->origin + start));
  h->packed = false;
  h->value = value;
  h->run_left = count < left ? count : left;
  return 0;
}

void oc_pq_hybrid_init(oc_pq_hybrid *h, const uint8_t *data, size_t len, unsigned width, size_t total,
                       uint64_t origin, const char *what, oc_error *err) {
  assert(width <= 32);
  *h = (oc_pq_hybrid){.data = data, .len = len, .width = width, .total = total, .origin = origin, .what = what,
                      .err = err};
}

int oc_pq_hybrid_read(oc_pq_hybrid *h, size_t n, uint32_t *out) {
  assert(n <= h->total - h->done); /* callers ask for no more than the total they announced */
  for (size_t done = 0; done < n;) {
    if (h->run_left == 0 && hybrid_run(h) != 0) return -1;
    size_t take = h->run_left < n - done ? (size_t)h->run_left : n - done;
    if (h->packed) {
      for (size_t i = 0; i < take; i++, h->bitpos += h->width)
        out[done + i] = (uint32_t)oc_pq_unpack_bits(h->bits, h->bitpos, h->width);
    } else {
      for (size_t i = 0; i < take; i++) out[done + i] = h->value;
    }
    h->run_left -= take;
    h->done += take;
    done += take;
  }
  return 0;
}

uint64_t oc_pq_unpack_bits(const uint8_t *bits, uint64_t bitpos, unsigned width) {
  uint64_t v = 0;
  for (unsigned got = 0; got < width;) {
    unsigned shift = (unsigned)(bitpos & 7), take = 8 - shift;
    if (take > width - got) take = width - got;
    v |= (uint64_t)((bits[bitpos >> 3] >> shift) & ((1u << take) - 1)) << got;
    got += take;
    bitpos += take;
  }
  return v;
}

int oc_pq_levels_decode(const uint8_t *data, size_t len, size_t n, uint8_t *out, size_t *present, uint64_t origin,
                        oc_error *err) {
  oc_pq_hybrid h;
  oc_pq_hybrid_init(&h, data, len, 1, n, origin, "definition levels", err);
  uint32_t chunk[256];
  size_t ones = 0;
  for (size_t done = 0; done < n;) {
    size_t take = n - done < 256 ? n - done : 256;
    if (oc_pq_hybrid_read(&h, take, chunk) != 0) return -1;
    for (size_t i = 0; i < take; i++) {
      out[done + i] = (uint8_t)chunk[i];
      ones += chunk[i];
    }
    done += take;
  }
  *present = ones;
  return 0;
}
