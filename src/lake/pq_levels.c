/* pq_levels.c: definition levels of a flat optional column (max level 1) in Parquet's RLE/bit-packed
 * hybrid. The encoder works a group of 8 levels at a time (one 64-bit load per group): runs of
 * uniform groups become RLE runs, mixed groups are bit-packed, so a column without nulls costs a
 * couple of bytes per page. The decoder trusts nothing: every run is checked against the bytes and
 * the level count that remain. */
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

int oc_pq_levels_decode(const uint8_t *data, size_t len, size_t n, uint8_t *out, size_t *present, uint64_t origin,
                        oc_error *err) {
  size_t pos = 0, done = 0, ones = 0;
  while (done < n) {
    uint64_t header = 0;
    size_t start = pos;
    for (int shift = 0;; shift += 7) {
      if (pos >= len)
        return oc_error_set(err, "definition levels at file offset %llu end after %zu of %zu values",
                            (unsigned long long)(origin + start), done, n);
      if (shift > 56)
        return oc_error_set(err, "definition levels: run header at file offset %llu is too long",
                            (unsigned long long)(origin + start));
      uint8_t b = data[pos++];
      header |= (uint64_t)(b & 0x7F) << shift;
      if (!(b & 0x80)) break;
    }
    uint64_t left = n - done;
    if (header & 1) {
      uint64_t groups = header >> 1;
      uint64_t count = groups * 8 < left ? groups * 8 : left;
      size_t bytes = (size_t)((count + 7) / 8);
      if (groups == 0 || bytes > len - pos)
        return oc_error_set(err,
                            "definition levels: bit-packed run at file offset %llu needs %zu bytes, %zu remain",
                            (unsigned long long)(origin + start), bytes, len - pos);
      for (uint64_t i = 0; i < count; i++) {
        uint8_t bit = (data[pos + i / 8] >> (i % 8)) & 1;
        out[done + i] = bit;
        ones += bit;
      }
      pos += bytes; /* a run can only be cut short by the end of the levels */
      done += (size_t)count;
    } else {
      uint64_t count = header >> 1;
      if (pos >= len)
        return oc_error_set(err, "definition levels: RLE run at file offset %llu has no value byte",
                            (unsigned long long)(origin + start));
      uint8_t value = data[pos++];
      if (value > 1)
        return oc_error_set(err, "definition levels: RLE run at file offset %llu repeats level %u (maximum 1)",
                            (unsigned long long)(origin + start), value);
      if (count == 0)
        return oc_error_set(err, "definition levels: empty RLE run at file offset %llu",
                            (unsigned long long)(origin + start));
      if (count > left) count = left;
      memset(out + done, value, (size_t)count);
      if (value) ones += (size_t)count;
      done += (size_t)count;
    }
  }
  *present = ones;
  return 0;
}
