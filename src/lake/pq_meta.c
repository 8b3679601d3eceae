/* pq_meta.c: Parquet's Thrift structs (parquet.thrift field ids) to and from oc_pq_file_info and
 * oc_pq_page_header. Decoding validates what can be validated without the file: required fields,
 * value ranges, a flat schema of supported types, row counts that add up, one chunk per column with
 * the schema's type and path. Repeated fields replace earlier ones without leaking; unknown fields are
 * skipped. Must not touch files: offsets against the file size are the reader's job. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lake/pq_internal.h"
#include "lake/thrift.h"

/* ---- Encoding ---- */

void oc_pq_encode_page_header(const oc_pq_page_header *h, oc_buf *out) {
  oc_thrift_writer w;
  oc_tw_begin(&w, out);
  oc_tw_i32(&w, 1, h->type);
  oc_tw_i32(&w, 2, h->uncompressed_size);
  oc_tw_i32(&w, 3, h->compressed_size);
  oc_tw_struct_begin(&w, 5);
  oc_tw_i32(&w, 1, h->num_values);
  oc_tw_i32(&w, 2, h->encoding);
  oc_tw_i32(&w, 3, h->def_encoding);
  oc_tw_i32(&w, 4, h->rep_encoding);
  oc_tw_struct_end(&w);
  oc_tw_struct_end(&w);
}

static void encode_stat_value(oc_thrift_writer *w, int16_t id, const oc_pq_stat_value *v) {
  if (v->present) oc_tw_binary(w, id, v->data, v->len);
}

static void encode_statistics(oc_thrift_writer *w, const oc_pq_statistics *s) {
  oc_tw_struct_begin(w, 12);
  encode_stat_value(w, 1, &s->max);
  encode_stat_value(w, 2, &s->min);
  if (s->has_null_count) oc_tw_i64(w, 3, s->null_count);
  if (s->has_distinct_count) oc_tw_i64(w, 4, s->distinct_count);
  encode_stat_value(w, 5, &s->max_value);
  encode_stat_value(w, 6, &s->min_value);
  if (s->has_nan_count) oc_tw_i64(w, 9, s->nan_count);
  oc_tw_struct_end(w);
}

static void encode_logical_type(oc_thrift_writer *w, oc_pq_logical logical) {
  oc_tw_struct_begin(w, 10);
  switch (logical) {
  case OC_PQ_LOGICAL_STRING:
    oc_tw_struct_begin(w, 1);
    oc_tw_struct_end(w);
    break;
  case OC_PQ_LOGICAL_DATE:
    oc_tw_struct_begin(w, 6);
    oc_tw_struct_end(w);
    break;
  case OC_PQ_LOGICAL_TIMESTAMP_MICROS:
    oc_tw_struct_begin(w, 8);
    oc_tw_bool(w, 1, true); /* isAdjustedToUTC */
    oc_tw_struct_begin(w, 2); /* unit: TimeUnit union */
    oc_tw_struct_begin(w, 2); /* MICROS */
    oc_tw_struct_end(w);
    oc_tw_struct_end(w);
    oc_tw_struct_end(w);
    break;
  default: break;
  }
  oc_tw_struct_end(w);
}

static int32_t converted_type_of(oc_pq_logical logical) {
  switch (logical) {
  case OC_PQ_LOGICAL_STRING: return OC_PQ_CONVERTED_UTF8;
  case OC_PQ_LOGICAL_DATE: return OC_PQ_CONVERTED_DATE;
  case OC_PQ_LOGICAL_TIMESTAMP_MICROS: return OC_PQ_CONVERTED_TIMESTAMP_MICROS;
  default: return -1;
  }
}

static void encode_schema(oc_thrift_writer *w, const oc_pq_file_info *info) {
  oc_tw_list_begin(w, 2, OC_TT_STRUCT, info->ncols + 1);
  oc_tw_elem_struct_begin(w);
  oc_tw_string(w, 4, "schema");
  oc_tw_i32(w, 5, (int32_t)info->ncols);
  oc_tw_struct_end(w);
  for (size_t c = 0; c < info->ncols; c++) {
    const oc_pq_column_info *col = &info->cols[c];
    oc_tw_elem_struct_begin(w);
    oc_tw_i32(w, 1, col->type);
    oc_tw_i32(w, 3, col->optional ? OC_PQ_OPTIONAL : OC_PQ_REQUIRED);
    oc_tw_string(w, 4, col->name);
    int32_t converted = converted_type_of(col->logical);
    if (converted >= 0) {
      oc_tw_i32(w, 6, converted);
      encode_logical_type(w, col->logical);
    }
    oc_tw_struct_end(w);
  }
}

static void encode_chunk(oc_thrift_writer *w, const oc_pq_column_info *col, const oc_pq_chunk_info *ch) {
  oc_tw_elem_struct_begin(w);
  oc_tw_i64(w, 2, 0); /* file_offset: deprecated, 0 when no ColumnMetaData is written outside the footer */
  oc_tw_struct_begin(w, 3);
  oc_tw_i32(w, 1, col->type);
  oc_tw_list_begin(w, 2, OC_TT_I32, ch->nencodings);
  for (size_t e = 0; e < ch->nencodings; e++) oc_tw_elem_i32(w, ch->encodings[e]);
  oc_tw_list_begin(w, 3, OC_TT_BINARY, 1);
  oc_tw_elem_string(w, col->name);
  oc_tw_i32(w, 4, ch->codec);
  oc_tw_i64(w, 5, ch->num_values);
  oc_tw_i64(w, 6, ch->total_uncompressed_size);
  oc_tw_i64(w, 7, ch->total_compressed_size);
  oc_tw_i64(w, 9, ch->data_page_offset);
  if (ch->stats.present) encode_statistics(w, &ch->stats);
  oc_tw_struct_end(w);
  oc_tw_struct_end(w);
}

void oc_pq_encode_file_meta(const oc_pq_file_info *info, oc_buf *out) {
  oc_thrift_writer w;
  oc_tw_begin(&w, out);
  oc_tw_i32(&w, 1, info->version);
  encode_schema(&w, info);
  oc_tw_i64(&w, 3, info->num_rows);
  oc_tw_list_begin(&w, 4, OC_TT_STRUCT, info->nrow_groups);
  for (size_t g = 0; g < info->nrow_groups; g++) {
    const oc_pq_row_group_info *rg = &info->row_groups[g];
    int64_t compressed = 0;
    oc_tw_elem_struct_begin(&w);
    oc_tw_list_begin(&w, 1, OC_TT_STRUCT, info->ncols);
    for (size_t c = 0; c < info->ncols; c++) {
      encode_chunk(&w, &info->cols[c], &rg->chunks[c]);
      compressed += rg->chunks[c].total_compressed_size;
    }
    oc_tw_i64(&w, 2, rg->total_byte_size);
    oc_tw_i64(&w, 3, rg->num_rows);
    if (info->ncols > 0) oc_tw_i64(&w, 5, rg->chunks[0].data_page_offset);
    oc_tw_i64(&w, 6, compressed);
    oc_tw_struct_end(&w);
  }
  if (info->nmeta > 0) {
    oc_tw_list_begin(&w, 5, OC_TT_STRUCT, info->nmeta);
    for (size_t i = 0; i < info->nmeta; i++) {
      oc_tw_elem_struct_begin(&w);
      oc_tw_string(&w, 1, info->meta_keys[i]);
      if (info->meta_values[i]) oc_tw_string(&w, 2, info->meta_values[i]);
      oc_tw_struct_end(&w);
    }
  }
  if (info->created_by) oc_tw_string(&w, 6, info->created_by);
  oc_tw_list_begin(&w, 7, OC_TT_STRUCT, info->ncols);
  for (size_t c = 0; c < info->ncols; c++) {
    oc_tw_elem_struct_begin(&w); /* ColumnOrder union */
    oc_tw_struct_begin(&w, 1);   /* TYPE_ORDER */
    oc_tw_struct_end(&w);
    oc_tw_struct_end(&w);
  }
  oc_tw_struct_end(&w);
}

/* ---- Decoding ---- */

void oc_pq_stat_value_set(oc_pq_stat_value *v, const void *data, size_t len) {
  free(v->data);
  v->data = oc_xmalloc(len ? len : 1);
  memcpy(v->data, data, len);
  v->len = len;
  v->present = true;
}

static void statistics_free(oc_pq_statistics *s) {
  free(s->min.data);
  free(s->max.data);
  free(s->min_value.data);
  free(s->max_value.data);
  memset(s, 0, sizeof *s);
}

static void chunk_free(oc_pq_chunk_info *ch) {
  free(ch->encodings);
  statistics_free(&ch->stats);
  memset(ch, 0, sizeof *ch);
}

void oc_pq_file_info_free(oc_pq_file_info *info) {
  for (size_t c = 0; c < info->ncols; c++) free(info->cols[c].name);
  free(info->cols);
  for (size_t g = 0; g < info->nrow_groups; g++) {
    if (info->row_groups[g].chunks)
      for (size_t c = 0; c < info->ncols; c++) chunk_free(&info->row_groups[g].chunks[c]);
    free(info->row_groups[g].chunks);
  }
  free(info->row_groups);
  for (size_t i = 0; i < info->nmeta; i++) {
    free(info->meta_keys[i]);
    free(info->meta_values[i]);
  }
  free(info->meta_keys);
  free(info->meta_values);
  free(info->created_by);
  memset(info, 0, sizeof *info);
}

/* Enters a struct and runs the statement that follows once per field (id, type set); returns -1 from
 * the enclosing function on a decoding error and leaves the loop at the struct's end. */
#define FOR_FIELDS(r, id, type)                                                                         \
  for (int more_ = oc_tr_struct_begin(r) == 0 ? oc_tr_field(r, &id, &type) : -1;;                      \
       more_ = oc_tr_field(r, &id, &type))                                                             \
    if (more_ < 0) {                                                                                   \
      return -1;                                                                                       \
    } else if (more_ == 0) {                                                                           \
      break;                                                                                           \
    } else

static int replace_string(oc_thrift_reader *r, uint8_t type, const char *name, char **slot) {
  char *s;
  if (oc_tr_string(r, type, name, &s) != 0) return -1;
  free(*slot);
  *slot = s;
  return 0;
}

static int missing(oc_thrift_reader *r, const char *strct, const char *field) {
  return oc_tr_fail(r, "%s is missing required field %s", strct, field);
}

/* One field of a struct of i32 and bool fields, decoded into i32 or flag. */
typedef struct field_slot {
  int16_t id;
  const char *name;
  int32_t *i32;
  bool *flag;
} field_slot;

/* Decodes a struct of such fields (others are skipped); bit i of *seen says fields[i] was there. */
static int decode_fields(oc_thrift_reader *r, const field_slot *fields, size_t n, unsigned *seen) {
  int16_t id;
  uint8_t t;
  assert(n <= 8 * sizeof *seen);
  *seen = 0;
  FOR_FIELDS(r, id, t) {
    size_t i = 0;
    while (i < n && fields[i].id != id) i++;
    int rc = i == n           ? oc_tr_skip(r, t)
             : fields[i].i32 ? oc_tr_i32(r, t, fields[i].name, fields[i].i32)
                             : oc_tr_bool(r, t, fields[i].name, fields[i].flag);
    if (rc != 0) return -1;
    if (i < n) *seen |= 1u << i;
  }
  return 0;
}

static int decode_stat_value(oc_thrift_reader *r, uint8_t type, const char *name, oc_pq_stat_value *v) {
  const uint8_t *data;
  size_t len;
  if (oc_tr_binary(r, type, name, &data, &len) != 0) return -1;
  oc_pq_stat_value_set(v, data, len);
  return 0;
}

static int decode_count(oc_thrift_reader *r, uint8_t type, const char *name, int64_t *out, bool *has) {
  if (oc_tr_i64(r, type, name, out) != 0) return -1;
  if (*out < 0) return oc_tr_fail(r, "%s is negative (%lld)", name, (long long)*out);
  *has = true;
  return 0;
}

static int decode_statistics(oc_thrift_reader *r, oc_pq_statistics *s) {
  int16_t id;
  uint8_t t;
  int rc;
  statistics_free(s);
  s->present = true;
  FOR_FIELDS(r, id, t) {
    switch (id) {
    case 1: rc = decode_stat_value(r, t, "Statistics.max", &s->max); break;
    case 2: rc = decode_stat_value(r, t, "Statistics.min", &s->min); break;
    case 3: rc = decode_count(r, t, "Statistics.null_count", &s->null_count, &s->has_null_count); break;
    case 4: rc = decode_count(r, t, "Statistics.distinct_count", &s->distinct_count, &s->has_distinct_count); break;
    case 5: rc = decode_stat_value(r, t, "Statistics.max_value", &s->max_value); break;
    case 6: rc = decode_stat_value(r, t, "Statistics.min_value", &s->min_value); break;
    case 9: rc = decode_count(r, t, "Statistics.nan_count", &s->nan_count, &s->has_nan_count); break;
    default: rc = oc_tr_skip(r, t); break;
    }
    if (rc != 0) return -1;
  }
  return 0;
}

/* A union of empty structs (TimeUnit, ColumnOrder): *kind = the id of its (last) field. */
static int decode_union_kind(oc_thrift_reader *r, int *kind) {
  int16_t id;
  uint8_t t;
  FOR_FIELDS(r, id, t) {
    *kind = id;
    if (oc_tr_skip(r, t) != 0) return -1;
  }
  return 0;
}

typedef struct schema_element {
  bool has_type, has_repetition, has_num_children, has_logical;
  int32_t type, type_length, repetition, num_children;
  oc_pq_logical logical;
  bool timestamp_utc;
  int32_t scale, precision; /* SchemaElement's (converted DECIMAL) or DecimalType's */
  bool has_converted_type;
  int32_t converted_type;
  char *name;
} schema_element;

static int decode_timestamp_type(oc_thrift_reader *r, schema_element *e) {
  int16_t id;
  uint8_t t;
  int rc;
  int unit = 0;
  e->timestamp_utc = false;
  FOR_FIELDS(r, id, t) {
    if (id == 1) {
      rc = oc_tr_bool(r, t, "TimestampType.isAdjustedToUTC", &e->timestamp_utc);
    } else if (id == 2 && t == OC_TT_STRUCT) {
      rc = decode_union_kind(r, &unit); /* TimeUnit: 1 MILLIS, 2 MICROS, 3 NANOS */
    } else {
      rc = oc_tr_skip(r, t);
    }
    if (rc != 0) return -1;
  }
  e->logical = unit == 1   ? OC_PQ_LOGICAL_TIMESTAMP_MILLIS
               : unit == 2 ? OC_PQ_LOGICAL_TIMESTAMP_MICROS
               : unit == 3 ? OC_PQ_LOGICAL_TIMESTAMP_NANOS
                           : OC_PQ_LOGICAL_OTHER;
  return 0;
}

static int decode_decimal_type(oc_thrift_reader *r, schema_element *e) {
  const field_slot fields[] = {{1, "DecimalType.scale", &e->scale, NULL},
                               {2, "DecimalType.precision", &e->precision, NULL}};
  unsigned seen;
  if (decode_fields(r, fields, 2, &seen) != 0) return -1;
  e->logical = OC_PQ_LOGICAL_DECIMAL;
  return 0;
}

/* IntType: a signed integer is a plain number; an unsigned one is not read as one. */
static int decode_int_type(oc_thrift_reader *r, schema_element *e) {
  bool is_signed = true;
  const field_slot fields[] = {{2, "IntType.isSigned", NULL, &is_signed}};
  unsigned seen;
  if (decode_fields(r, fields, 1, &seen) != 0) return -1;
  e->logical = is_signed ? OC_PQ_LOGICAL_NONE : OC_PQ_LOGICAL_OTHER;
  return 0;
}

static int decode_logical_type(oc_thrift_reader *r, schema_element *e) {
  int16_t id;
  uint8_t t;
  int rc;
  FOR_FIELDS(r, id, t) {
    if (id == 8 && t == OC_TT_STRUCT) {
      rc = decode_timestamp_type(r, e);
    } else if (id == 5 && t == OC_TT_STRUCT) {
      rc = decode_decimal_type(r, e);
    } else if (id == 10 && t == OC_TT_STRUCT) {
      rc = decode_int_type(r, e);
    } else {
      e->logical = id == 1 ? OC_PQ_LOGICAL_STRING : id == 6 ? OC_PQ_LOGICAL_DATE : OC_PQ_LOGICAL_OTHER;
      rc = oc_tr_skip(r, t);
    }
    if (rc != 0) return -1;
  }
  return 0;
}

static int decode_schema_element(oc_thrift_reader *r, schema_element *e) {
  int16_t id;
  uint8_t t;
  int rc;
  uint64_t start = oc_tr_offset(r);
  FOR_FIELDS(r, id, t) {
    switch (id) {
    case 1: rc = oc_tr_i32(r, t, "SchemaElement.type", &e->type), e->has_type = true; break;
    case 2: rc = oc_tr_i32(r, t, "SchemaElement.type_length", &e->type_length); break;
    case 3: rc = oc_tr_i32(r, t, "SchemaElement.repetition_type", &e->repetition), e->has_repetition = true; break;
    case 4: rc = replace_string(r, t, "SchemaElement.name", &e->name); break;
    case 5: rc = oc_tr_i32(r, t, "SchemaElement.num_children", &e->num_children), e->has_num_children = true; break;
    case 6: rc = oc_tr_i32(r, t, "SchemaElement.converted_type", &e->converted_type), e->has_converted_type = true; break;
    case 7: rc = oc_tr_i32(r, t, "SchemaElement.scale", &e->scale); break;
    case 8: rc = oc_tr_i32(r, t, "SchemaElement.precision", &e->precision); break;
    case 10:
      if (t != OC_TT_STRUCT) return oc_tr_fail(r, "SchemaElement.logicalType is not a struct");
      rc = decode_logical_type(r, e), e->has_logical = true;
      break;
    default: rc = oc_tr_skip(r, t); break;
    }
    if (rc != 0) return -1;
  }
  if (!e->name) return oc_error_set(r->err, "%s: SchemaElement at file offset %llu has no name", r->what, (unsigned long long)start);
  return 0;
}

/* The legacy ConvertedType; the timestamps it names are adjusted to UTC. */
static oc_pq_logical logical_from_converted(schema_element *e) {
  switch (e->converted_type) {
  case OC_PQ_CONVERTED_UTF8: return OC_PQ_LOGICAL_STRING;
  case OC_PQ_CONVERTED_DECIMAL: return OC_PQ_LOGICAL_DECIMAL;
  case OC_PQ_CONVERTED_DATE: return OC_PQ_LOGICAL_DATE;
  case OC_PQ_CONVERTED_TIMESTAMP_MILLIS: e->timestamp_utc = true; return OC_PQ_LOGICAL_TIMESTAMP_MILLIS;
  case OC_PQ_CONVERTED_TIMESTAMP_MICROS: e->timestamp_utc = true; return OC_PQ_LOGICAL_TIMESTAMP_MICROS;
  case OC_PQ_CONVERTED_INT_8:
  case OC_PQ_CONVERTED_INT_16:
  case OC_PQ_CONVERTED_INT_32:
  case OC_PQ_CONVERTED_INT_64: return OC_PQ_LOGICAL_NONE; /* signed integers: plain numbers */
  default: return OC_PQ_LOGICAL_OTHER;
  }
}

static bool logical_fits(oc_pq_logical logical, int32_t physical) {
  switch (logical) {
  case OC_PQ_LOGICAL_DATE: return physical == OC_PQ_INT32;
  case OC_PQ_LOGICAL_TIMESTAMP_MILLIS:
  case OC_PQ_LOGICAL_TIMESTAMP_MICROS: return physical == OC_PQ_INT64;
  case OC_PQ_LOGICAL_TIMESTAMP_NANOS: return physical == OC_PQ_INT64 || physical == OC_PQ_PHYSICAL_INT96;
  case OC_PQ_LOGICAL_STRING: return physical == OC_PQ_BYTE_ARRAY;
  case OC_PQ_LOGICAL_DECIMAL:
    return physical == OC_PQ_INT32 || physical == OC_PQ_INT64 || physical == OC_PQ_BYTE_ARRAY ||
           physical == OC_PQ_PHYSICAL_FIXED_LEN_BYTE_ARRAY;
  default: return true;
  }
}

/* How the reader hands over values of a physical type (parquet.h), or -1 for an unknown type. */
static int representation_of(int32_t physical) {
  switch (physical) {
  case OC_PQ_PHYSICAL_BOOLEAN:
  case OC_PQ_INT32: return OC_PQ_INT32;
  case OC_PQ_INT64:
  case OC_PQ_PHYSICAL_INT96: return OC_PQ_INT64;
  case OC_PQ_PHYSICAL_FLOAT:
  case OC_PQ_DOUBLE: return OC_PQ_DOUBLE;
  case OC_PQ_BYTE_ARRAY:
  case OC_PQ_PHYSICAL_FIXED_LEN_BYTE_ARRAY: return OC_PQ_BYTE_ARRAY;
  default: return -1;
  }
}

/* The shape checks of one leaf column: NULL when it is readable, else what is wrong. */
static const char *leaf_problem(const schema_element *e) {
  if (e->has_num_children || !e->has_type) return "is a group (nested schemas are not supported)";
  if (representation_of(e->type) < 0) return "has an unknown physical type";
  if (e->type == OC_PQ_PHYSICAL_FIXED_LEN_BYTE_ARRAY && e->type_length <= 0)
    return "is a FIXED_LEN_BYTE_ARRAY without a positive type_length";
  if (!e->has_repetition || (e->repetition != OC_PQ_REQUIRED && e->repetition != OC_PQ_OPTIONAL))
    return "is neither required nor optional (repeated fields are not supported)";
  return NULL;
}

static int decode_schema(oc_thrift_reader *r, uint8_t type, oc_pq_file_info *info) {
  uint8_t et;
  size_t n;
  uint64_t start = oc_tr_offset(r);
  if (oc_tr_list(r, type, "FileMetaData.schema", &et, &n) != 0) return -1;
  if (et != OC_TT_STRUCT) return oc_tr_fail(r, "FileMetaData.schema is not a list of structs");
  if (n == 0) return oc_tr_fail(r, "the schema is empty (no root element)");
  if (info->cols) return oc_tr_fail(r, "FileMetaData.schema appears twice");
  info->cols = oc_xcalloc(n - 1, sizeof *info->cols);
  for (size_t i = 0; i < n; i++) {
    schema_element e = {0};
    uint64_t at = oc_tr_offset(r);
    if (decode_schema_element(r, &e) != 0) {
      free(e.name);
      return -1;
    }
    if (i == 0) {
      bool ok = !e.has_type && e.has_num_children && (size_t)e.num_children == n - 1 && e.num_children >= 0;
      free(e.name);
      if (!ok)
        return oc_error_set(r->err,
                            "%s: schema root at file offset %llu must be a group of all %zu leaf columns "
                            "(nested schemas are not supported)",
                            r->what, (unsigned long long)at, n - 1);
      continue;
    }
    oc_pq_column_info *col = &info->cols[info->ncols++];
    col->name = e.name;
    const char *problem = leaf_problem(&e);
    if (problem)
      return oc_error_set(r->err, "%s: column '%s' (schema element at file offset %llu) %s", r->what, col->name,
                          (unsigned long long)at, problem);
    col->physical = e.type;
    col->type = (oc_pq_type)representation_of(e.type);
    col->type_length = e.type == OC_PQ_PHYSICAL_FIXED_LEN_BYTE_ARRAY ? e.type_length : 0;
    col->optional = e.repetition == OC_PQ_OPTIONAL;
    col->has_converted_type = e.has_converted_type;
    col->converted_type = e.converted_type;
    col->logical = e.has_logical ? e.logical : e.has_converted_type ? logical_from_converted(&e) : OC_PQ_LOGICAL_NONE;
    if (e.type == OC_PQ_PHYSICAL_INT96) col->logical = OC_PQ_LOGICAL_TIMESTAMP_NANOS; /* legacy timestamps */
    col->timestamp_utc = e.timestamp_utc;
    col->decimal_scale = e.scale;
    col->decimal_precision = e.precision;
    if (!logical_fits(col->logical, col->physical))
      return oc_error_set(r->err, "%s: column '%s' (file offset %llu): logical type %s cannot annotate %s", r->what,
                          col->name, (unsigned long long)at, oc_pq_logical_name(col->logical),
                          oc_pq_physical_name(col->physical));
    if (col->logical == OC_PQ_LOGICAL_DECIMAL &&
        (e.precision < 1 || e.precision > 38 || e.scale < 0 || e.scale > e.precision))
      return oc_error_set(r->err, "%s: column '%s' (file offset %llu): DECIMAL(%d,%d) is out of range (precision "
                          "1..38, scale 0..precision)", r->what, col->name, (unsigned long long)at, e.precision,
                          e.scale);
  }
  for (size_t a = 0; a < info->ncols; a++)
    for (size_t b = a + 1; b < info->ncols; b++)
      if (strcmp(info->cols[a].name, info->cols[b].name) == 0)
        return oc_error_set(r->err, "%s: schema at file offset %llu has two columns named '%s'", r->what,
                            (unsigned long long)start, info->cols[a].name);
  return 0;
}

static int decode_encodings(oc_thrift_reader *r, uint8_t type, oc_pq_chunk_info *ch) {
  uint8_t et;
  size_t n;
  if (oc_tr_list(r, type, "ColumnMetaData.encodings", &et, &n) != 0) return -1;
  free(ch->encodings);
  ch->encodings = oc_xcalloc(n, sizeof *ch->encodings);
  ch->nencodings = 0;
  for (size_t i = 0; i < n; i++) {
    if (oc_tr_elem_i32(r, et, "ColumnMetaData.encodings[]", &ch->encodings[i]) != 0) return -1;
    ch->nencodings++;
  }
  return 0;
}

static int decode_path(oc_thrift_reader *r, uint8_t type, const oc_pq_column_info *col) {
  uint8_t et;
  size_t n;
  uint64_t at = oc_tr_offset(r);
  if (oc_tr_list(r, type, "ColumnMetaData.path_in_schema", &et, &n) != 0) return -1;
  bool match = n == 1;
  for (size_t i = 0; i < n; i++) {
    const uint8_t *data;
    size_t len;
    if (oc_tr_binary(r, et, "ColumnMetaData.path_in_schema[]", &data, &len) != 0) return -1;
    match = match && len == strlen(col->name) && memcmp(data, col->name, len) == 0;
  }
  if (!match)
    return oc_error_set(r->err, "%s: path_in_schema at file offset %llu does not name column '%s'", r->what,
                        (unsigned long long)at, col->name);
  return 0;
}

enum { CMD_TYPE = 1, CMD_ENCODINGS = 2, CMD_PATH = 4, CMD_CODEC = 8, CMD_NUM_VALUES = 16, CMD_UNCOMPRESSED = 32,
       CMD_COMPRESSED = 64, CMD_DATA_PAGE = 128, CMD_ALL = 255 };

static int decode_column_meta(oc_thrift_reader *r, const oc_pq_column_info *col, oc_pq_chunk_info *ch) {
  int16_t id;
  uint8_t t;
  int rc;
  unsigned seen = 0;
  int32_t type = 0;
  uint64_t start = oc_tr_offset(r);
  FOR_FIELDS(r, id, t) {
    switch (id) {
    case 1: rc = oc_tr_i32(r, t, "ColumnMetaData.type", &type), seen |= CMD_TYPE; break;
    case 2: rc = decode_encodings(r, t, ch), seen |= CMD_ENCODINGS; break;
    case 3: rc = decode_path(r, t, col), seen |= CMD_PATH; break;
    case 4: rc = oc_tr_i32(r, t, "ColumnMetaData.codec", &ch->codec), seen |= CMD_CODEC; break;
    case 5: rc = oc_tr_i64(r, t, "ColumnMetaData.num_values", &ch->num_values), seen |= CMD_NUM_VALUES; break;
    case 6:
      rc = oc_tr_i64(r, t, "ColumnMetaData.total_uncompressed_size", &ch->total_uncompressed_size);
      seen |= CMD_UNCOMPRESSED;
      break;
    case 7:
      rc = oc_tr_i64(r, t, "ColumnMetaData.total_compressed_size", &ch->total_compressed_size);
      seen |= CMD_COMPRESSED;
      break;
    case 9: rc = oc_tr_i64(r, t, "ColumnMetaData.data_page_offset", &ch->data_page_offset), seen |= CMD_DATA_PAGE; break;
    case 11:
      rc = oc_tr_i64(r, t, "ColumnMetaData.dictionary_page_offset", &ch->dictionary_page_offset);
      ch->has_dictionary_page_offset = true;
      break;
    case 12:
      if (t != OC_TT_STRUCT) return oc_tr_fail(r, "ColumnMetaData.statistics is not a struct");
      rc = decode_statistics(r, &ch->stats);
      break;
    default: rc = oc_tr_skip(r, t); break;
    }
    if (rc != 0) return -1;
  }
  const char *where = r->what;
  if (seen != CMD_ALL)
    return oc_error_set(r->err, "%s: ColumnMetaData of column '%s' at file offset %llu lacks required fields", where,
                        col->name, (unsigned long long)start);
  if (type != col->physical)
    return oc_error_set(r->err, "%s: column chunk at file offset %llu has type %d, the schema says %s for '%s'",
                        where, (unsigned long long)start, type, oc_pq_physical_name(col->physical), col->name);
  if (ch->num_values < 0 || ch->total_uncompressed_size < 0 || ch->total_compressed_size < 0 ||
      ch->data_page_offset < 0 || (ch->has_dictionary_page_offset && ch->dictionary_page_offset < 0))
    return oc_error_set(r->err, "%s: column chunk of '%s' at file offset %llu has a negative size or offset", where,
                        col->name, (unsigned long long)start);
  return 0;
}

static int decode_column_chunk(oc_thrift_reader *r, const oc_pq_column_info *col, oc_pq_chunk_info *ch) {
  int16_t id;
  uint8_t t;
  int rc;
  bool has_meta = false;
  uint64_t start = oc_tr_offset(r);
  FOR_FIELDS(r, id, t) {
    if (id == 1 && t == OC_TT_BINARY) return oc_tr_fail(r, "column '%s' is stored in another file (file_path)", col->name);
    if (id == 3 && t == OC_TT_STRUCT) {
      chunk_free(ch);
      rc = decode_column_meta(r, col, ch);
      has_meta = true;
    } else {
      rc = oc_tr_skip(r, t);
    }
    if (rc != 0) return -1;
  }
  if (!has_meta)
    return oc_error_set(r->err, "%s: ColumnChunk of '%s' at file offset %llu has no meta_data", r->what, col->name,
                        (unsigned long long)start);
  return 0;
}

static int decode_row_group(oc_thrift_reader *r, oc_pq_file_info *info, oc_pq_row_group_info *rg) {
  int16_t id;
  uint8_t t;
  int rc;
  bool has_rows = false, has_size = false;
  uint64_t start = oc_tr_offset(r);
  FOR_FIELDS(r, id, t) {
    switch (id) {
    case 1: {
      uint8_t et;
      size_t n;
      if (oc_tr_list(r, t, "RowGroup.columns", &et, &n) != 0) return -1;
      if (et != OC_TT_STRUCT || n != info->ncols || rg->chunks)
        return oc_tr_fail(r, "RowGroup.columns must be %zu column chunks (one per column), once", info->ncols);
      rg->chunks = oc_xcalloc(n, sizeof *rg->chunks);
      for (size_t c = 0; c < n; c++)
        if (decode_column_chunk(r, &info->cols[c], &rg->chunks[c]) != 0) return -1;
      rc = 0;
      break;
    }
    case 2: rc = oc_tr_i64(r, t, "RowGroup.total_byte_size", &rg->total_byte_size), has_size = true; break;
    case 3: rc = oc_tr_i64(r, t, "RowGroup.num_rows", &rg->num_rows), has_rows = true; break;
    default: rc = oc_tr_skip(r, t); break;
    }
    if (rc != 0) return -1;
  }
  if (!rg->chunks || !has_rows || !has_size)
    return oc_error_set(r->err, "%s: RowGroup at file offset %llu lacks columns, num_rows or total_byte_size", r->what,
                        (unsigned long long)start);
  if (rg->num_rows < 0)
    return oc_error_set(r->err, "%s: RowGroup at file offset %llu has num_rows %lld", r->what,
                        (unsigned long long)start, (long long)rg->num_rows);
  for (size_t c = 0; c < info->ncols; c++)
    if (rg->chunks[c].num_values != rg->num_rows)
      return oc_error_set(r->err,
                          "%s: RowGroup at file offset %llu has %lld rows but column '%s' has %lld values",
                          r->what, (unsigned long long)start, (long long)rg->num_rows, info->cols[c].name,
                          (long long)rg->chunks[c].num_values);
  return 0;
}

static int decode_row_groups(oc_thrift_reader *r, uint8_t type, oc_pq_file_info *info) {
  uint8_t et;
  size_t n;
  if (oc_tr_list(r, type, "FileMetaData.row_groups", &et, &n) != 0) return -1;
  if (et != OC_TT_STRUCT || info->row_groups)
    return oc_tr_fail(r, "FileMetaData.row_groups must be one list of structs, after the schema");
  if (!info->cols && n > 0) return oc_tr_fail(r, "FileMetaData.row_groups comes before the schema");
  info->row_groups = oc_xcalloc(n, sizeof *info->row_groups);
  for (size_t g = 0; g < n; g++) {
    info->nrow_groups++;
    if (decode_row_group(r, info, &info->row_groups[g]) != 0) return -1;
  }
  return 0;
}

static int decode_key_values(oc_thrift_reader *r, uint8_t type, oc_pq_file_info *info) {
  uint8_t et;
  size_t n;
  if (oc_tr_list(r, type, "FileMetaData.key_value_metadata", &et, &n) != 0) return -1;
  if (et != OC_TT_STRUCT || info->meta_keys) return oc_tr_fail(r, "FileMetaData.key_value_metadata must be one list of structs");
  info->meta_keys = oc_xcalloc(n, sizeof *info->meta_keys);
  info->meta_values = oc_xcalloc(n, sizeof *info->meta_values);
  for (size_t i = 0; i < n; i++) {
    int16_t id;
    uint8_t t;
    int rc;
    info->nmeta++;
    uint64_t at = oc_tr_offset(r);
    FOR_FIELDS(r, id, t) {
      if (id == 1) {
        rc = replace_string(r, t, "KeyValue.key", &info->meta_keys[i]);
      } else if (id == 2) {
        rc = replace_string(r, t, "KeyValue.value", &info->meta_values[i]);
      } else {
        rc = oc_tr_skip(r, t);
      }
      if (rc != 0) return -1;
    }
    if (!info->meta_keys[i])
      return oc_error_set(r->err, "%s: KeyValue at file offset %llu has no key", r->what, (unsigned long long)at);
  }
  return 0;
}

static int decode_column_orders(oc_thrift_reader *r, uint8_t type, oc_pq_file_info *info) {
  uint8_t et;
  size_t n;
  if (oc_tr_list(r, type, "FileMetaData.column_orders", &et, &n) != 0) return -1;
  if (et != OC_TT_STRUCT) return oc_tr_fail(r, "FileMetaData.column_orders is not a list of structs");
  bool all_type_order = true;
  for (size_t i = 0; i < n; i++) {
    int kind = 0;
    if (decode_union_kind(r, &kind) != 0) return -1;
    all_type_order = all_type_order && kind == 1; /* TYPE_ORDER */
  }
  info->type_defined_order = all_type_order && n == info->ncols;
  return 0;
}

int oc_pq_decode_file_meta(const uint8_t *data, size_t len, uint64_t origin, oc_pq_file_info *info, oc_error *err) {
  oc_thrift_reader tr, *r = &tr;
  oc_tr_init(r, data, len, origin, "file footer (FileMetaData)", err);
  memset(info, 0, sizeof *info);
  int16_t id;
  uint8_t t;
  int rc;
  bool has_version = false, has_rows = false, has_row_groups = false;
  FOR_FIELDS(r, id, t) {
    switch (id) {
    case 1: rc = oc_tr_i32(r, t, "FileMetaData.version", &info->version), has_version = true; break;
    case 2: rc = decode_schema(r, t, info); break;
    case 3: rc = oc_tr_i64(r, t, "FileMetaData.num_rows", &info->num_rows), has_rows = true; break;
    case 4: rc = decode_row_groups(r, t, info), has_row_groups = true; break;
    case 5: rc = decode_key_values(r, t, info); break;
    case 6: rc = replace_string(r, t, "FileMetaData.created_by", &info->created_by); break;
    case 7: rc = decode_column_orders(r, t, info); break;
    default: rc = oc_tr_skip(r, t); break;
    }
    if (rc != 0) return -1;
  }
  if (!has_version) return missing(r, "FileMetaData", "version (1)");
  if (!info->cols) return missing(r, "FileMetaData", "schema (2)");
  if (!has_rows) return missing(r, "FileMetaData", "num_rows (3)");
  if (!has_row_groups) return missing(r, "FileMetaData", "row_groups (4)");
  if (r->pos != r->len)
    return oc_tr_fail(r, "%zu unexpected bytes after FileMetaData (footer length says %zu)", r->len - r->pos, r->len);
  int64_t total = 0;
  for (size_t g = 0; g < info->nrow_groups; g++) {
    if (info->row_groups[g].num_rows > INT64_MAX - total) return oc_tr_fail(r, "row counts overflow");
    total += info->row_groups[g].num_rows;
  }
  if (total != info->num_rows)
    return oc_error_set(err, "file footer: num_rows is %lld but the row groups hold %lld rows", (long long)info->num_rows,
                        (long long)total);
  return 0;
}

static int decode_data_page_header(oc_thrift_reader *r, oc_pq_page_header *h) {
  const field_slot fields[] = {{1, "DataPageHeader.num_values", &h->num_values, NULL},
                               {2, "DataPageHeader.encoding", &h->encoding, NULL},
                               {3, "DataPageHeader.definition_level_encoding", &h->def_encoding, NULL},
                               {4, "DataPageHeader.repetition_level_encoding", &h->rep_encoding, NULL}};
  unsigned seen;
  if (decode_fields(r, fields, 4, &seen) != 0) return -1;
  if (seen != 15) return missing(r, "DataPageHeader", "num_values/encoding/level encodings");
  h->has_data_header = true;
  return 0;
}

static int decode_data_page_header_v2(oc_thrift_reader *r, oc_pq_page_header *h) {
  const field_slot fields[] = {{1, "DataPageHeaderV2.num_values", &h->num_values, NULL},
                               {2, "DataPageHeaderV2.num_nulls", &h->num_nulls, NULL},
                               {3, "DataPageHeaderV2.num_rows", &h->num_rows, NULL},
                               {4, "DataPageHeaderV2.encoding", &h->encoding, NULL},
                               {5, "DataPageHeaderV2.definition_levels_byte_length", &h->def_levels_len, NULL},
                               {6, "DataPageHeaderV2.repetition_levels_byte_length", &h->rep_levels_len, NULL},
                               {7, "DataPageHeaderV2.is_compressed", NULL, &h->values_compressed}};
  unsigned seen;
  h->values_compressed = true; /* the default when the field is absent */
  if (decode_fields(r, fields, 7, &seen) != 0) return -1;
  if ((seen & 63) != 63) return missing(r, "DataPageHeaderV2", "num_values/num_nulls/num_rows/encoding/level lengths");
  if (h->num_nulls < 0 || h->num_rows < 0 || h->def_levels_len < 0 || h->rep_levels_len < 0)
    return oc_tr_fail(r, "DataPageHeaderV2 has a negative count or length");
  h->has_data_header = true;
  return 0;
}

static int decode_dictionary_page_header(oc_thrift_reader *r, oc_pq_page_header *h) {
  const field_slot fields[] = {{1, "DictionaryPageHeader.num_values", &h->dictionary_values, NULL},
                               {2, "DictionaryPageHeader.encoding", &h->dictionary_encoding, NULL}};
  unsigned seen;
  if (decode_fields(r, fields, 2, &seen) != 0) return -1;
  if (seen != 3) return missing(r, "DictionaryPageHeader", "num_values/encoding");
  if (h->dictionary_values < 0) return oc_tr_fail(r, "DictionaryPageHeader.num_values is negative");
  h->has_dictionary_header = true;
  return 0;
}

int oc_pq_decode_page_header(const uint8_t *data, size_t len, uint64_t origin, oc_pq_page_header *h,
                             size_t *header_len, oc_error *err) {
  oc_thrift_reader tr, *r = &tr;
  oc_tr_init(r, data, len, origin, "page header", err);
  memset(h, 0, sizeof *h);
  int16_t id;
  uint8_t t;
  int rc;
  unsigned seen = 0;
  FOR_FIELDS(r, id, t) {
    switch (id) {
    case 1: rc = oc_tr_i32(r, t, "PageHeader.type", &h->type), seen |= 1; break;
    case 2: rc = oc_tr_i32(r, t, "PageHeader.uncompressed_page_size", &h->uncompressed_size), seen |= 2; break;
    case 3: rc = oc_tr_i32(r, t, "PageHeader.compressed_page_size", &h->compressed_size), seen |= 4; break;
    case 5:
      if (t != OC_TT_STRUCT) return oc_tr_fail(r, "PageHeader.data_page_header is not a struct");
      rc = decode_data_page_header(r, h);
      break;
    case 7:
      if (t != OC_TT_STRUCT) return oc_tr_fail(r, "PageHeader.dictionary_page_header is not a struct");
      rc = decode_dictionary_page_header(r, h);
      break;
    case 8:
      if (t != OC_TT_STRUCT) return oc_tr_fail(r, "PageHeader.data_page_header_v2 is not a struct");
      rc = decode_data_page_header_v2(r, h);
      break;
    default: rc = oc_tr_skip(r, t); break;
    }
    if (rc != 0) return -1;
  }
  if (seen != 7) return missing(r, "PageHeader", "type/uncompressed_page_size/compressed_page_size");
  if (h->uncompressed_size < 0 || h->compressed_size < 0)
    return oc_error_set(err, "page header at file offset %llu: negative page size", (unsigned long long)origin);
  if (h->has_data_header && h->num_values < 0)
    return oc_error_set(err, "page header at file offset %llu: negative num_values", (unsigned long long)origin);
  *header_len = r->pos;
  return 0;
}
