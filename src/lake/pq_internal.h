/* pq_internal.h: pieces shared by the Parquet writer (pq_write.c) and reader (pq_read.c): the Thrift
 * structs they exchange (FileMetaData and PageHeader, in pq_meta.c) and the definition-level codec
 * (RLE/bit-packed hybrid at bit width 1, in pq_levels.c). Not part of the lake's public interface. */
#ifndef OC_LAKE_PQ_INTERNAL_H
#define OC_LAKE_PQ_INTERNAL_H

#include "core/buf.h"
#include "lake/parquet.h"

#define OC_PQ_MAGIC "PAR1"

enum { OC_PQ_PAGE_DATA = 0, OC_PQ_PAGE_INDEX = 1, OC_PQ_PAGE_DICTIONARY = 2, OC_PQ_PAGE_DATA_V2 = 3 };
enum { OC_PQ_ENC_PLAIN = 0, OC_PQ_ENC_RLE = 3 };
enum { OC_PQ_REQUIRED = 0, OC_PQ_OPTIONAL = 1 };
enum { OC_PQ_CONVERTED_UTF8 = 0, OC_PQ_CONVERTED_DATE = 6, OC_PQ_CONVERTED_TIMESTAMP_MICROS = 10 };

typedef struct oc_pq_page_header {
  int32_t type;
  int32_t uncompressed_size;
  int32_t compressed_size;
  bool has_data_header;
  int32_t num_values;
  int32_t encoding;
  int32_t def_encoding;
  int32_t rep_encoding;
} oc_pq_page_header;

void oc_pq_encode_page_header(const oc_pq_page_header *h, oc_buf *out);
/* Decodes a page header from at most len bytes at data (file offset origin); *header_len = its size. */
int oc_pq_decode_page_header(const uint8_t *data, size_t len, uint64_t origin, oc_pq_page_header *h,
                             size_t *header_len, oc_error *err);

/* Serialises FileMetaData (schema, row groups with statistics, key/value metadata, created_by,
 * TYPE_ORDER column orders). */
void oc_pq_encode_file_meta(const oc_pq_file_info *info, oc_buf *out);
/* Decodes and validates FileMetaData: a flat schema of supported types, consistent row counts,
 * one chunk per column with a matching type and path. Offsets against the file are checked by the
 * reader. On failure info holds what was decoded so far (free it with oc_pq_file_info_free). */
int oc_pq_decode_file_meta(const uint8_t *data, size_t len, uint64_t origin, oc_pq_file_info *info, oc_error *err);
void oc_pq_file_info_free(oc_pq_file_info *info);
void oc_pq_stat_value_set(oc_pq_stat_value *v, const void *data, size_t len);

/* Appends n definition levels (valid[i] = 0 or 1; valid == NULL means all 1) in the RLE/bit-packed
 * hybrid with bit width 1, without the length prefix. */
void oc_pq_levels_encode(const uint8_t *valid, size_t n, oc_buf *out);
/* Decodes exactly n levels from len bytes into out (0/1 bytes); *present = number of 1s. origin is the
 * file offset of data (for errors; for compressed pages, the page's offset). */
int oc_pq_levels_decode(const uint8_t *data, size_t len, size_t n, uint8_t *out, size_t *present, uint64_t origin,
                        oc_error *err);

#endif
