/* pq_internal.h: pieces shared by the Parquet writer (pq_write.c) and reader (pq_read.c, pq_decode.c):
 * the Thrift structs they exchange (FileMetaData and PageHeader, in pq_meta.c), the definition-level
 * codec and the RLE/bit-packed hybrid decoder (pq_levels.c), and the value decoders of every encoding
 * the reader accepts (pq_decode.c). Not part of the lake's public interface. */
#ifndef OC_LAKE_PQ_INTERNAL_H
#define OC_LAKE_PQ_INTERNAL_H

#include "core/buf.h"
#include "lake/parquet.h"

#define OC_PQ_MAGIC "PAR1"

enum { OC_PQ_PAGE_DATA = 0, OC_PQ_PAGE_INDEX = 1, OC_PQ_PAGE_DICTIONARY = 2, OC_PQ_PAGE_DATA_V2 = 3 };
enum {
  OC_PQ_ENC_PLAIN = 0,
  OC_PQ_ENC_PLAIN_DICTIONARY = 2,
  OC_PQ_ENC_RLE = 3,
  OC_PQ_ENC_DELTA_BINARY_PACKED = 5,
  OC_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
  OC_PQ_ENC_DELTA_BYTE_ARRAY = 7,
  OC_PQ_ENC_RLE_DICTIONARY = 8,
  OC_PQ_ENC_BYTE_STREAM_SPLIT = 9,
};
enum { OC_PQ_REQUIRED = 0, OC_PQ_OPTIONAL = 1 };
enum {
  OC_PQ_CONVERTED_UTF8 = 0,
  OC_PQ_CONVERTED_DECIMAL = 5,
  OC_PQ_CONVERTED_DATE = 6,
  OC_PQ_CONVERTED_TIMESTAMP_MILLIS = 9,
  OC_PQ_CONVERTED_TIMESTAMP_MICROS = 10,
  OC_PQ_CONVERTED_INT_8 = 15,
  OC_PQ_CONVERTED_INT_16 = 16,
  OC_PQ_CONVERTED_INT_32 = 17,
  OC_PQ_CONVERTED_INT_64 = 18,
};
enum { OC_PQ_CODEC_SNAPPY = 1 };

typedef struct oc_pq_page_header {
  int32_t type;
  int32_t uncompressed_size;
  int32_t compressed_size;
  bool has_data_header; /* DataPageHeader (v1) or DataPageHeaderV2, by type */
  int32_t num_values;
  int32_t encoding;
  int32_t def_encoding; /* v1 */
  int32_t rep_encoding; /* v1 */
  int32_t num_nulls, num_rows, def_levels_len, rep_levels_len; /* v2 */
  bool values_compressed;                                     /* v2: is_compressed (default true) */
  bool has_dictionary_header;
  int32_t dictionary_values, dictionary_encoding;
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

/* Reader of the RLE/bit-packed hybrid at a bit width of 0..32, for a total number of values announced
 * up front (a run is cut short there); what names the data in errors ("dictionary indices"). */
typedef struct oc_pq_hybrid {
  const uint8_t *data;
  size_t len, pos;
  unsigned width;
  size_t total, done;
  uint64_t origin;
  const char *what;
  oc_error *err;
  bool packed;       /* the current run is bit-packed (else RLE of value) */
  uint64_t run_left; /* values left in the current run */
  uint32_t value;
  const uint8_t *bits;
  uint64_t bitpos;
} oc_pq_hybrid;

void oc_pq_hybrid_init(oc_pq_hybrid *h, const uint8_t *data, size_t len, unsigned width, size_t total,
                       uint64_t origin, const char *what, oc_error *err);
/* The next n values (n <= total - values read so far). 0, or -1 with the error. */
int oc_pq_hybrid_read(oc_pq_hybrid *h, size_t n, uint32_t *out);
/* width (<= 64) bits at bit position bitpos of bits, least significant bit first. */
uint64_t oc_pq_unpack_bits(const uint8_t *bits, uint64_t bitpos, unsigned width);

/* Where a page's decoded values go: the k-th non-null value of the page is row slot[k] of the
 * column (base + k when slot is NULL): values is an array of the column's representation
 * (oc_pq_value_size(col->type) bytes per row); BYTE_ARRAY values are copied to heap, their offset and
 * length per row, and the heap may not grow beyond heap_limit bytes. */
typedef struct oc_pq_value_sink {
  const oc_pq_column_info *col;
  void *values;
  uint64_t *offsets;
  uint32_t *lengths;
  oc_buf *heap;
  size_t heap_limit;
  size_t base;
  const size_t *slot;
} oc_pq_value_sink;

/* A column chunk's dictionary page, decoded: n values in the column's representation. */
typedef struct oc_pq_dictionary {
  size_t n;
  void *values;
  uint64_t *offsets;
  uint32_t *lengths;
  oc_buf heap;
} oc_pq_dictionary;

/* Decodes n PLAIN values of col (a dictionary page's len bytes at file offset origin) into d. */
int oc_pq_dictionary_decode(oc_pq_dictionary *d, const oc_pq_column_info *col, const uint8_t *data, size_t len,
                            size_t n, uint64_t origin, oc_error *err);
void oc_pq_dictionary_free(oc_pq_dictionary *d);
/* Decodes the n non-null values of a data page (its values section: len bytes at file offset origin,
 * decompressed) in the given encoding into s; dict is the chunk's dictionary or NULL. 0, or -1 with
 * "file offset N: ..." in err. */
int oc_pq_decode_values(const oc_pq_value_sink *s, int32_t encoding, const oc_pq_dictionary *dict, const uint8_t *data,
                        size_t len, size_t n, uint64_t origin, oc_error *err);

#endif
