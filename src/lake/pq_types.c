/* pq_types.c: names and sizes of the Parquet types this library handles, and the human-readable
 * rendering of statistics values (used by `oilcast lake inspect`). No I/O. */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/csv.h"
#include "lake/pq_internal.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet code copies PLAIN values as host memory, which needs a little-endian machine"
#endif

const char *oc_pq_type_name(oc_pq_type type) {
  switch (type) {
  case OC_PQ_INT32: return "INT32";
  case OC_PQ_INT64: return "INT64";
  case OC_PQ_DOUBLE: return "DOUBLE";
  case OC_PQ_BYTE_ARRAY: return "BYTE_ARRAY";
  }
  return "?";
}

const char *oc_pq_physical_name(int32_t physical) {
  static const char *const names[] = {"BOOLEAN", "INT32", "INT64",      "INT96",
                                      "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  return physical >= 0 && physical < (int32_t)(sizeof names / sizeof names[0]) ? names[physical] : "unknown";
}

const char *oc_pq_logical_name(oc_pq_logical logical) {
  switch (logical) {
  case OC_PQ_LOGICAL_NONE: return "none";
  case OC_PQ_LOGICAL_DATE: return "DATE";
  case OC_PQ_LOGICAL_TIMESTAMP_MICROS: return "TIMESTAMP(MICROS)";
  case OC_PQ_LOGICAL_STRING: return "STRING";
  case OC_PQ_LOGICAL_OTHER: return "other";
  case OC_PQ_LOGICAL_TIMESTAMP_MILLIS: return "TIMESTAMP(MILLIS)";
  case OC_PQ_LOGICAL_TIMESTAMP_NANOS: return "TIMESTAMP(NANOS)";
  case OC_PQ_LOGICAL_DECIMAL: return "DECIMAL";
  }
  return "?";
}

const char *oc_pq_column_logical_name(const oc_pq_column_info *col) {
  if (!col->timestamp_utc) return oc_pq_logical_name(col->logical);
  switch (col->logical) {
  case OC_PQ_LOGICAL_TIMESTAMP_MILLIS: return "TIMESTAMP(MILLIS,UTC)";
  case OC_PQ_LOGICAL_TIMESTAMP_MICROS: return "TIMESTAMP(MICROS,UTC)";
  case OC_PQ_LOGICAL_TIMESTAMP_NANOS: return "TIMESTAMP(NANOS,UTC)";
  default: return oc_pq_logical_name(col->logical);
  }
}

const char *oc_pq_codec_name(int32_t codec) {
  static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
  return codec >= 0 && codec < (int32_t)(sizeof names / sizeof names[0]) ? names[codec] : "unknown";
}

size_t oc_pq_value_size(oc_pq_type type) {
  switch (type) {
  case OC_PQ_INT32: return 4;
  case OC_PQ_INT64: return 8;
  case OC_PQ_DOUBLE: return 8;
  case OC_PQ_BYTE_ARRAY: return sizeof(oc_pq_bytes);
  }
  return 0;
}

char *oc_pq_format_double(double d, char *buf) {
  if (isnan(d)) return strcpy(buf, "NaN");
  if (isinf(d)) return strcpy(buf, d > 0 ? "Infinity" : "-Infinity");
  return oc_format_number(d, buf);
}

int64_t oc_pq_timestamp_units_per_second(oc_pq_logical logical) {
  switch (logical) {
  case OC_PQ_LOGICAL_TIMESTAMP_MILLIS: return 1000;
  case OC_PQ_LOGICAL_TIMESTAMP_MICROS: return 1000000;
  case OC_PQ_LOGICAL_TIMESTAMP_NANOS: return 1000000000;
  default: return 0;
  }
}

void oc_pq_timestamp_split(int64_t t, int64_t units_per_second, int64_t *days, int64_t *time_of_day) {
  assert(units_per_second > 0);
  const int64_t per_day = 86400 * units_per_second;
  *days = t / per_day;
  *time_of_day = t % per_day;
  if (*time_of_day < 0) {
    *time_of_day += per_day;
    (*days)--;
  }
}

/* A timestamp of its column's unit as YYYY-MM-DDTHH:MM:SS with 3, 6 or 9 decimals (the unit's), with a Z
 * when adjusted to UTC. */
static void format_timestamp(const oc_pq_column_info *col, int64_t t, char *buf, size_t size) {
  const int64_t per_second = oc_pq_timestamp_units_per_second(col->logical);
  const int width = per_second == 1000 ? 3 : per_second == 1000000 ? 6 : 9;
  int64_t days, rem;
  oc_pq_timestamp_split(t, per_second, &days, &rem);
  char date[OC_DATE_STRLEN];
  if (days < -719162 || days > 2932896) { /* outside years 0001..9999 */
    snprintf(buf, size, "%" PRId64 "%s", t, width == 3 ? "ms" : width == 6 ? "us" : "ns");
    return;
  }
  oc_date_format((oc_date)days, date);
  int64_t secs = rem / per_second;
  snprintf(buf, size, "%sT%02d:%02d:%02d.%0*" PRId64 "%s", date, (int)(secs / 3600), (int)(secs / 60 % 60),
           (int)(secs % 60), width, rem % per_second, col->timestamp_utc ? "Z" : "");
}

char *oc_pq_format_float(double f, char *buf) {
  if (!isfinite(f)) return oc_pq_format_double(f, buf);
  for (int digits = 1; digits <= 9; digits++) { /* 9 significant digits tell every float apart */
    snprintf(buf, 32, "%.*g", digits, f);
    if ((float)strtod(buf, NULL) == (float)f) break;
  }
  return buf;
}

bool oc_pq_decimal_unscaled(const uint8_t *data, size_t len, __int128 *out) {
  if (len == 0) return false;
  uint8_t sign = data[0] & 0x80 ? 0xFF : 0x00;
  while (len > 16) { /* leading bytes beyond 128 bits must be sign extension */
    if (data[0] != sign || (data[1] & 0x80) != (sign & 0x80)) return false;
    data++, len--;
  }
  unsigned __int128 v = sign ? ~(unsigned __int128)0 : 0;
  for (size_t i = 0; i < len; i++) v = v << 8 | data[i];
  *out = (__int128)v;
  return true;
}

char *oc_pq_format_decimal(__int128 unscaled, int scale, char *buf) {
  char digits[48];
  unsigned __int128 magnitude = unscaled < 0 ? -(unsigned __int128)unscaled : (unsigned __int128)unscaled;
  int n = 0;
  do {
    digits[n++] = (char)('0' + (int)(magnitude % 10));
    magnitude /= 10;
  } while (magnitude);
  while (n <= scale) digits[n++] = '0'; /* a zero before the point */
  char *p = buf;
  if (unscaled < 0) *p++ = '-';
  for (int i = n - 1; i >= 0; i--) {
    *p++ = digits[i];
    if (i == scale && scale > 0) *p++ = '.';
  }
  *p = '\0';
  return buf;
}

/* The unscaled integer of a DECIMAL statistics value (INT32, INT64 or big-endian bytes). */
static bool decimal_stat(const oc_pq_column_info *col, const oc_pq_stat_value *v, __int128 *out) {
  int32_t i32;
  int64_t i64;
  switch (col->type) {
  case OC_PQ_INT32:
    if (v->len != 4) return false;
    memcpy(&i32, v->data, 4);
    *out = i32;
    return true;
  case OC_PQ_INT64:
    if (v->len != 8) return false;
    memcpy(&i64, v->data, 8);
    *out = i64;
    return true;
  case OC_PQ_BYTE_ARRAY: return oc_pq_decimal_unscaled(v->data, v->len, out);
  case OC_PQ_DOUBLE: break;
  }
  return false;
}

char *oc_pq_format_stat(const oc_pq_column_info *col, const oc_pq_stat_value *v, char *buf, size_t size) {
  if (!v->present) {
    snprintf(buf, size, "-");
    return buf;
  }
  /* Rendered in the column's representation: statistics of a type the reader widens (a FLOAT's 4
   * bytes, a BOOLEAN's 1) show as their size. */
  size_t want = col->type == OC_PQ_INT32 ? 4 : col->type == OC_PQ_BYTE_ARRAY ? v->len : 8;
  if (col->physical == OC_PQ_PHYSICAL_FLOAT && v->len == 4) {
    float f;
    memcpy(&f, v->data, 4);
    return oc_pq_format_float(f, buf);
  }
  __int128 unscaled;
  if (col->logical == OC_PQ_LOGICAL_DECIMAL && decimal_stat(col, v, &unscaled))
    return oc_pq_format_decimal(unscaled, col->decimal_scale, buf);
  if (v->len != want) {
    snprintf(buf, size, "<%zu bytes>", v->len);
    return buf;
  }
  int32_t i32;
  int64_t i64;
  double d;
  switch (col->type) {
  case OC_PQ_INT32:
    memcpy(&i32, v->data, 4);
    if (col->logical == OC_PQ_LOGICAL_DATE && i32 >= -719162 && i32 <= 2932896) {
      oc_date_format(i32, buf);
    } else {
      snprintf(buf, size, "%" PRId32, i32);
    }
    break;
  case OC_PQ_INT64:
    memcpy(&i64, v->data, 8);
    if (oc_pq_timestamp_units_per_second(col->logical) > 0) { /* `lake cat` quotes these in JSON */
      format_timestamp(col, i64, buf, size);
    } else {
      snprintf(buf, size, "%" PRId64, i64);
    }
    break;
  case OC_PQ_DOUBLE:
    memcpy(&d, v->data, 8);
    oc_pq_format_double(d, buf);
    break;
  case OC_PQ_BYTE_ARRAY: {
    size_t o = 0;
    buf[o++] = '"';
    for (size_t i = 0; i < v->len && o + 8 < size; i++) {
      uint8_t c = v->data[i];
      if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
        buf[o++] = (char)c;
      } else {
        o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
      }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    break;
  }
  }
  return buf;
}
