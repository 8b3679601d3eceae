/* thrift.c: see thrift.h. Wire format: field header = (id delta << 4 | type) when the delta from the
 * previous field id is 1..15, else the type byte followed by a zigzag varint id; integers are zigzag
 * varints; binary = varint length + bytes; list header = (count << 4 | elem type), count >= 15 spilling
 * into a varint; booleans live in the field type nibble (one byte each inside lists). */
#include "lake/thrift.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Encoder ---- */

static void put_varint(oc_buf *b, uint64_t v) {
  uint8_t tmp[10];
  size_t n = 0;
  while (v >= 0x80) {
    tmp[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  tmp[n++] = (uint8_t)v;
  oc_buf_append(b, tmp, n);
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

static void put_field_header(oc_thrift_writer *w, int16_t id, uint8_t type) {
  assert(w->depth >= 1); /* a field belongs to an open struct */
  int16_t *last = &w->last_id[w->depth - 1];
  int delta = id - *last;
  if (delta > 0 && delta <= 15) {
    oc_buf_putc(w->out, (char)(uint8_t)(delta << 4 | type));
  } else {
    oc_buf_putc(w->out, (char)type);
    put_varint(w->out, zigzag(id));
  }
  *last = id;
}

static void push_struct(oc_thrift_writer *w) {
  if (w->depth >= OC_THRIFT_MAX_DEPTH) abort(); /* a writer bug: our structs are shallow */
  w->last_id[w->depth++] = 0;
}

void oc_tw_begin(oc_thrift_writer *w, oc_buf *out) {
  w->out = out;
  w->depth = 0;
  push_struct(w);
}

void oc_tw_i32(oc_thrift_writer *w, int16_t id, int32_t v) {
  put_field_header(w, id, OC_TT_I32);
  put_varint(w->out, zigzag(v));
}

void oc_tw_i64(oc_thrift_writer *w, int16_t id, int64_t v) {
  put_field_header(w, id, OC_TT_I64);
  put_varint(w->out, zigzag(v));
}

void oc_tw_bool(oc_thrift_writer *w, int16_t id, bool v) {
  put_field_header(w, id, v ? OC_TT_BOOL_TRUE : OC_TT_BOOL_FALSE);
}

void oc_tw_binary(oc_thrift_writer *w, int16_t id, const void *data, size_t len) {
  put_field_header(w, id, OC_TT_BINARY);
  put_varint(w->out, len);
  oc_buf_append(w->out, data, len);
}

void oc_tw_string(oc_thrift_writer *w, int16_t id, const char *s) { oc_tw_binary(w, id, s, strlen(s)); }

void oc_tw_struct_begin(oc_thrift_writer *w, int16_t id) {
  put_field_header(w, id, OC_TT_STRUCT);
  push_struct(w);
}

void oc_tw_struct_end(oc_thrift_writer *w) {
  assert(w->depth >= 1);
  oc_buf_putc(w->out, OC_TT_STOP);
  w->depth--;
}

void oc_tw_list_begin(oc_thrift_writer *w, int16_t id, uint8_t elem_type, size_t n) {
  put_field_header(w, id, OC_TT_LIST);
  if (n < 15) {
    oc_buf_putc(w->out, (char)(uint8_t)(n << 4 | elem_type));
  } else {
    oc_buf_putc(w->out, (char)(uint8_t)(0xF0 | elem_type));
    put_varint(w->out, n);
  }
}

void oc_tw_elem_i32(oc_thrift_writer *w, int32_t v) { put_varint(w->out, zigzag(v)); }

void oc_tw_elem_string(oc_thrift_writer *w, const char *s) {
  size_t len = strlen(s);
  put_varint(w->out, len);
  oc_buf_append(w->out, s, len);
}

void oc_tw_elem_struct_begin(oc_thrift_writer *w) { push_struct(w); }

/* ---- Decoder ---- */

void oc_tr_init(oc_thrift_reader *r, const void *data, size_t len, uint64_t origin, const char *what,
                oc_error *err) {
  memset(r, 0, sizeof *r);
  r->data = data;
  r->len = len;
  r->origin = origin;
  r->what = what;
  r->err = err;
}

uint64_t oc_tr_offset(const oc_thrift_reader *r) { return r->origin + r->pos; }

int oc_tr_fail(oc_thrift_reader *r, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return oc_error_set(r->err, "%s at file offset %llu: %s", r->what, (unsigned long long)oc_tr_offset(r), msg);
}

static int get_byte(oc_thrift_reader *r, uint8_t *out) {
  if (r->pos >= r->len) return oc_tr_fail(r, "truncated (needs 1 more byte, %zu bytes in all)", r->len);
  *out = r->data[r->pos++];
  return 0;
}

static int get_varint(oc_thrift_reader *r, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    uint8_t b = 0;
    if (get_byte(r, &b) != 0) return -1;
    if (shift == 63 && b > 1) return oc_tr_fail(r, "varint longer than 64 bits");
    v |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return 0;
    }
  }
  return oc_tr_fail(r, "varint longer than 10 bytes");
}

static int get_zigzag(oc_thrift_reader *r, int64_t *out) {
  uint64_t v;
  if (get_varint(r, &v) != 0) return -1;
  *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
  return 0;
}

static const char *type_name(uint8_t type) {
  static const char *const names[] = {"stop", "bool", "bool", "byte", "i16", "i32", "i64",
                                      "double", "binary", "list", "set", "map", "struct"};
  return type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}

static int expect_type(oc_thrift_reader *r, uint8_t type, uint8_t want, const char *name) {
  if (type == want) return 0;
  return oc_tr_fail(r, "field %s has thrift type %s (%u), expected %s", name, type_name(type), type,
                    type_name(want));
}

int oc_tr_struct_begin(oc_thrift_reader *r) {
  if (r->depth >= OC_THRIFT_MAX_DEPTH) return oc_tr_fail(r, "structs nested deeper than %d levels", OC_THRIFT_MAX_DEPTH);
  r->last_id[r->depth++] = 0;
  return 0;
}

int oc_tr_field(oc_thrift_reader *r, int16_t *id, uint8_t *type) {
  assert(r->depth >= 1); /* the caller entered a struct (oc_tr_struct_begin) and has not seen its STOP */
  uint8_t b = 0;
  if (get_byte(r, &b) != 0) return -1;
  if (b == OC_TT_STOP) {
    r->depth--;
    return 0;
  }
  uint8_t t = b & 0x0F;
  if (t > OC_TT_STRUCT) return oc_tr_fail(r, "invalid thrift field type %u", t);
  int16_t *last = &r->last_id[r->depth - 1];
  if (b >> 4) {
    *id = (int16_t)(*last + (b >> 4));
  } else {
    int64_t v;
    if (get_zigzag(r, &v) != 0) return -1;
    if (v < INT16_MIN || v > INT16_MAX) return oc_tr_fail(r, "field id %lld out of range", (long long)v);
    *id = (int16_t)v;
  }
  *last = *id;
  *type = t;
  return 1;
}

int oc_tr_i32(oc_thrift_reader *r, uint8_t type, const char *name, int32_t *out) {
  if (expect_type(r, type, OC_TT_I32, name) != 0) return -1;
  int64_t v;
  if (get_zigzag(r, &v) != 0) return -1;
  if (v < INT32_MIN || v > INT32_MAX) return oc_tr_fail(r, "field %s = %lld does not fit in i32", name, (long long)v);
  *out = (int32_t)v;
  return 0;
}

int oc_tr_i64(oc_thrift_reader *r, uint8_t type, const char *name, int64_t *out) {
  if (expect_type(r, type, OC_TT_I64, name) != 0) return -1;
  return get_zigzag(r, out);
}

int oc_tr_bool(oc_thrift_reader *r, uint8_t type, const char *name, bool *out) {
  if (type != OC_TT_BOOL_TRUE && type != OC_TT_BOOL_FALSE) return expect_type(r, type, OC_TT_BOOL_TRUE, name);
  *out = type == OC_TT_BOOL_TRUE;
  return 0;
}

static int get_bytes(oc_thrift_reader *r, const char *name, const uint8_t **data, size_t *len) {
  uint64_t n;
  if (get_varint(r, &n) != 0) return -1;
  if (n > r->len - r->pos)
    return oc_tr_fail(r, "%s claims %llu bytes but only %zu remain", name, (unsigned long long)n, r->len - r->pos);
  *data = r->data + r->pos;
  *len = (size_t)n;
  r->pos += (size_t)n;
  return 0;
}

int oc_tr_binary(oc_thrift_reader *r, uint8_t type, const char *name, const uint8_t **data, size_t *len) {
  if (expect_type(r, type, OC_TT_BINARY, name) != 0) return -1;
  return get_bytes(r, name, data, len);
}

int oc_tr_string(oc_thrift_reader *r, uint8_t type, const char *name, char **out) {
  const uint8_t *data = NULL;
  size_t len = 0;
  if (oc_tr_binary(r, type, name, &data, &len) != 0) return -1;
  char *s = oc_xmalloc(len + 1);
  memcpy(s, data, len);
  s[len] = '\0';
  *out = s;
  return 0;
}

static int get_list_header(oc_thrift_reader *r, const char *name, uint8_t *elem_type, size_t *n) {
  uint8_t b = 0;
  if (get_byte(r, &b) != 0) return -1;
  uint64_t count = b >> 4;
  if (count == 15 && get_varint(r, &count) != 0) return -1;
  *elem_type = b & 0x0F;
  if (*elem_type > OC_TT_STRUCT || *elem_type == OC_TT_STOP)
    return oc_tr_fail(r, "%s: invalid list element type %u", name, *elem_type);
  if (count > r->len - r->pos)
    return oc_tr_fail(r, "%s claims %llu elements but only %zu bytes remain", name, (unsigned long long)count,
                      r->len - r->pos);
  *n = (size_t)count;
  return 0;
}

int oc_tr_list(oc_thrift_reader *r, uint8_t type, const char *name, uint8_t *elem_type, size_t *n) {
  if (expect_type(r, type, OC_TT_LIST, name) != 0) return -1;
  return get_list_header(r, name, elem_type, n);
}

int oc_tr_elem_i32(oc_thrift_reader *r, uint8_t elem_type, const char *name, int32_t *out) {
  return oc_tr_i32(r, elem_type, name, out);
}

/* in_container: booleans inside lists/sets/maps take one byte; as fields they take none. depth: the
 * lists, sets, maps and structs this value is nested in below the skip's start; bounded like struct
 * nesting, since each level recurses and a hostile footer can nest a list a million deep. */
static int skip_value(oc_thrift_reader *r, uint8_t type, bool in_container, int depth) {
  uint8_t b = 0;
  uint64_t v;
  const uint8_t *data;
  size_t len;
  if (depth >= OC_THRIFT_MAX_DEPTH)
    return oc_tr_fail(r, "values nested deeper than %d levels", OC_THRIFT_MAX_DEPTH);
  switch (type) {
  case OC_TT_BOOL_TRUE:
  case OC_TT_BOOL_FALSE: return in_container ? get_byte(r, &b) : 0;
  case OC_TT_BYTE: return get_byte(r, &b);
  case OC_TT_I16:
  case OC_TT_I32:
  case OC_TT_I64: return get_varint(r, &v);
  case OC_TT_DOUBLE:
    if (r->len - r->pos < 8) return oc_tr_fail(r, "truncated double");
    r->pos += 8;
    return 0;
  case OC_TT_BINARY: return get_bytes(r, "binary", &data, &len);
  case OC_TT_LIST:
  case OC_TT_SET: {
    uint8_t et;
    size_t n = 0;
    if (get_list_header(r, "list", &et, &n) != 0) return -1;
    for (size_t i = 0; i < n; i++)
      if (skip_value(r, et, true, depth + 1) != 0) return -1;
    return 0;
  }
  case OC_TT_MAP: {
    if (get_varint(r, &v) != 0) return -1;
    if (v == 0) return 0;
    if (v > r->len - r->pos) return oc_tr_fail(r, "map claims %llu entries", (unsigned long long)v);
    if (get_byte(r, &b) != 0) return -1;
    for (uint64_t i = 0; i < v; i++)
      if (skip_value(r, b >> 4, true, depth + 1) != 0 || skip_value(r, b & 0x0F, true, depth + 1) != 0) return -1;
    return 0;
  }
  case OC_TT_STRUCT: {
    if (oc_tr_struct_begin(r) != 0) return -1;
    for (;;) {
      int16_t id;
      uint8_t t;
      int rc = oc_tr_field(r, &id, &t);
      if (rc <= 0) return rc;
      if (skip_value(r, t, false, depth + 1) != 0) return -1;
    }
  }
  default: return oc_tr_fail(r, "cannot skip a value of thrift type %u", type);
  }
}

int oc_tr_skip(oc_thrift_reader *r, uint8_t type) { return skip_value(r, type, false, 0); }
