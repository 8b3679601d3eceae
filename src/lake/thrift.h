/* thrift.h: the Thrift compact protocol, as much of it as Parquet metadata needs. The encoder appends
 * to an oc_buf; the decoder walks an untrusted byte range with a bounds check on every read, a nesting
 * limit and errors naming the absolute file offset. Knows nothing about Parquet's structs (see
 * pq_meta.c); must not allocate from a length it has not checked against the bytes that remain. */
#ifndef OC_LAKE_THRIFT_H
#define OC_LAKE_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

/* Compact protocol type codes (as they appear in field headers and list headers). */
enum {
  OC_TT_STOP = 0,
  OC_TT_BOOL_TRUE = 1,
  OC_TT_BOOL_FALSE = 2,
  OC_TT_BYTE = 3,
  OC_TT_I16 = 4,
  OC_TT_I32 = 5,
  OC_TT_I64 = 6,
  OC_TT_DOUBLE = 7,
  OC_TT_BINARY = 8,
  OC_TT_LIST = 9,
  OC_TT_SET = 10,
  OC_TT_MAP = 11,
  OC_TT_STRUCT = 12,
};

#define OC_THRIFT_MAX_DEPTH 32

/* ---- Encoder ---- */
typedef struct oc_thrift_writer {
  oc_buf *out;
  int depth;
  int16_t last_id[OC_THRIFT_MAX_DEPTH]; /* last field id per open struct (delta encoding) */
} oc_thrift_writer;

/* Starts a top-level struct. */
void oc_tw_begin(oc_thrift_writer *w, oc_buf *out);
void oc_tw_i32(oc_thrift_writer *w, int16_t id, int32_t v);
void oc_tw_i64(oc_thrift_writer *w, int16_t id, int64_t v);
void oc_tw_bool(oc_thrift_writer *w, int16_t id, bool v);
void oc_tw_binary(oc_thrift_writer *w, int16_t id, const void *data, size_t len);
void oc_tw_string(oc_thrift_writer *w, int16_t id, const char *s);
/* A struct-valued field; close it with oc_tw_struct_end. */
void oc_tw_struct_begin(oc_thrift_writer *w, int16_t id);
/* Writes STOP and closes the innermost struct (also ends the top-level struct). */
void oc_tw_struct_end(oc_thrift_writer *w);
/* A list-valued field of n elements of elem_type; follow with n oc_tw_elem_* calls. */
void oc_tw_list_begin(oc_thrift_writer *w, int16_t id, uint8_t elem_type, size_t n);
void oc_tw_elem_i32(oc_thrift_writer *w, int32_t v);
void oc_tw_elem_string(oc_thrift_writer *w, const char *s);
/* A struct element of a list; close it with oc_tw_struct_end. */
void oc_tw_elem_struct_begin(oc_thrift_writer *w);

/* ---- Decoder ---- */
typedef struct oc_thrift_reader {
  const uint8_t *data;
  size_t len;
  size_t pos;
  uint64_t origin; /* file offset of data[0], for error messages */
  const char *what; /* what is being decoded ("file footer", "page header"), for error messages */
  oc_error *err;
  int depth;
  int16_t last_id[OC_THRIFT_MAX_DEPTH];
} oc_thrift_reader;

void oc_tr_init(oc_thrift_reader *r, const void *data, size_t len, uint64_t origin, const char *what,
                oc_error *err);
/* Absolute file offset of the next byte. */
uint64_t oc_tr_offset(const oc_thrift_reader *r);
/* Enters a struct (top-level or a struct-typed field/element). */
int oc_tr_struct_begin(oc_thrift_reader *r);
/* Next field of the current struct: 1 with *id and *type set, 0 at STOP (the struct is then closed),
 * -1 on error. */
int oc_tr_field(oc_thrift_reader *r, int16_t *id, uint8_t *type);
/* Readers of a value of the field type just returned; `type` is that field's type, `name` the field's
 * name for errors ("ColumnMetaData.num_values"). They fail when the type does not match. */
int oc_tr_i32(oc_thrift_reader *r, uint8_t type, const char *name, int32_t *out);
int oc_tr_i64(oc_thrift_reader *r, uint8_t type, const char *name, int64_t *out);
int oc_tr_bool(oc_thrift_reader *r, uint8_t type, const char *name, bool *out);
/* Points *data into the input (not copied); *len is checked against the bytes that remain. */
int oc_tr_binary(oc_thrift_reader *r, uint8_t type, const char *name, const uint8_t **data, size_t *len);
/* A NUL-terminated malloc'd copy of a binary field. */
int oc_tr_string(oc_thrift_reader *r, uint8_t type, const char *name, char **out);
/* List header: element type and count; the count is checked to fit in the remaining bytes (every
 * element takes at least one byte), so callers may allocate n elements. */
int oc_tr_list(oc_thrift_reader *r, uint8_t type, const char *name, uint8_t *elem_type, size_t *n);
/* Elements of a list (type = the list's element type). */
int oc_tr_elem_i32(oc_thrift_reader *r, uint8_t elem_type, const char *name, int32_t *out);
/* Skips a value of the given type (unknown fields, forward compatibility). */
int oc_tr_skip(oc_thrift_reader *r, uint8_t type);
/* Sets an error "<what> at file offset N: message". Returns -1. */
int oc_tr_fail(oc_thrift_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
