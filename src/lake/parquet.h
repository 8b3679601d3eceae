/* parquet.h: a small, spec-following Apache Parquet writer and reader for flat tables.
 * The writer writes physical types INT32, INT64, DOUBLE, BYTE_ARRAY; logical types DATE (INT32),
 * TIMESTAMP(MICROS, UTC) (INT64) and STRING (BYTE_ARRAY); required and optional columns (definition
 * levels in the RLE/bit-packed hybrid); data page v1 with PLAIN values; UNCOMPRESSED and ZSTD codecs;
 * column-chunk statistics; any number of row groups; key/value metadata.
 * The reader reads flat files as other tools (DuckDB, Arrow/pyarrow, Spark) write them: every physical
 * type (BOOLEAN, INT32, INT64, INT96, FLOAT, DOUBLE, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY, each handed over
 * in one of the four oc_pq_type representations below); data pages v1 and v2 and dictionary pages;
 * encodings PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY, RLE (booleans), DELTA_BINARY_PACKED,
 * DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT; codecs UNCOMPRESSED, SNAPPY and
 * ZSTD. It rejects nested schemas and other codecs with a clear error and treats every file as
 * hostile: every offset, length and count is checked before use and errors name the byte offset.
 * Must not know about frames, dates-as-trading-days or any pipeline concept: see lake.h for that. */
#ifndef OC_LAKE_PARQUET_H
#define OC_LAKE_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Physical types the writer writes, and the representations the reader hands values over in: it
 * widens BOOLEAN to INT32 (0/1) and FLOAT to DOUBLE (exactly), turns INT96 timestamps into INT64
 * nanoseconds (logical TIMESTAMP_NANOS) and FIXED_LEN_BYTE_ARRAY into BYTE_ARRAY values;
 * oc_pq_column_info.physical keeps the file's own type. */
typedef enum { OC_PQ_INT32 = 1, OC_PQ_INT64 = 2, OC_PQ_DOUBLE = 5, OC_PQ_BYTE_ARRAY = 6 } oc_pq_type;
/* The file's physical types (parquet.thrift's Type). */
enum {
  OC_PQ_PHYSICAL_BOOLEAN = 0,
  OC_PQ_PHYSICAL_INT96 = 3,
  OC_PQ_PHYSICAL_FLOAT = 4,
  OC_PQ_PHYSICAL_FIXED_LEN_BYTE_ARRAY = 7,
};
typedef enum {
  OC_PQ_LOGICAL_NONE = 0,
  OC_PQ_LOGICAL_DATE,             /* INT32 days since 1970-01-01 */
  OC_PQ_LOGICAL_TIMESTAMP_MICROS, /* INT64 microseconds since 1970-01-01T00:00:00 (the writer: adjusted to UTC) */
  OC_PQ_LOGICAL_STRING,           /* BYTE_ARRAY, UTF-8 */
  OC_PQ_LOGICAL_OTHER,            /* (reader) an annotation this library does not interpret */
  OC_PQ_LOGICAL_TIMESTAMP_MILLIS, /* (reader) INT64 milliseconds since 1970-01-01T00:00:00 */
  OC_PQ_LOGICAL_TIMESTAMP_NANOS,  /* (reader) INT64 nanoseconds since 1970-01-01T00:00:00 (and INT96) */
  OC_PQ_LOGICAL_DECIMAL,          /* (reader) unscaled integer (INT32, INT64, big-endian BYTE_ARRAY) / 10^scale */
} oc_pq_logical;
typedef enum { OC_PQ_UNCOMPRESSED = 0, OC_PQ_ZSTD = 6 } oc_pq_codec;

/* One BYTE_ARRAY value. */
typedef struct oc_pq_bytes {
  const uint8_t *data;
  uint32_t len;
} oc_pq_bytes;

const char *oc_pq_type_name(oc_pq_type type);
const char *oc_pq_logical_name(oc_pq_logical logical);
/* The name of a physical type of the file ("FIXED_LEN_BYTE_ARRAY"; "unknown"). */
const char *oc_pq_physical_name(int32_t physical);
/* Units per second of a TIMESTAMP_* logical type (1000, 10^6, 10^9); 0 for any other type. */
int64_t oc_pq_timestamp_units_per_second(oc_pq_logical logical);
/* A timestamp t of that unit as whole days since 1970-01-01 and the time of day in the same unit
 * (0 <= *time_of_day < one day), flooring towards the past. */
void oc_pq_timestamp_split(int64_t t, int64_t units_per_second, int64_t *days, int64_t *time_of_day);
const char *oc_pq_codec_name(int32_t codec);
/* Bytes per value in memory: 4, 8, 8, or sizeof(oc_pq_bytes). */
size_t oc_pq_value_size(oc_pq_type type);

/* ---- Writer ---- */

typedef struct oc_pq_column_spec {
  const char *name;
  oc_pq_type type;
  oc_pq_logical logical;
  bool optional;
} oc_pq_column_spec;

/* One column of one row group: nrows values (int32_t, int64_t, double or oc_pq_bytes by type) and,
 * for optional columns, nrows validity bytes (1 = present, 0 = null; NULL = all present). Values at
 * null positions are ignored. */
typedef struct oc_pq_column_data {
  const void *values;
  const uint8_t *valid;
} oc_pq_column_data;

typedef struct oc_pq_write_options {
  oc_pq_codec codec;
  int zstd_level; /* 0 = 1 (fast; what Arrow uses) */
} oc_pq_write_options;

typedef struct oc_pq_writer oc_pq_writer;

/* Creates path's temporary sibling and writes the header; the file appears under path only when
 * oc_pq_writer_close succeeds. Column specs are copied. */
int oc_pq_writer_open(oc_pq_writer **out, const char *path, const oc_pq_column_spec *cols, size_t ncols,
                      const oc_pq_write_options *opt, oc_error *err);
/* Adds a key/value pair to the file metadata (copied). */
void oc_pq_writer_add_meta(oc_pq_writer *w, const char *key, const char *value);
/* Writes one row group of nrows rows (nrows may be 0); cols has one entry per column. */
int oc_pq_writer_write_row_group(oc_pq_writer *w, size_t nrows, const oc_pq_column_data *cols, oc_error *err);
/* Writes the footer, syncs and renames into place. Frees w whatever the outcome. */
int oc_pq_writer_close(oc_pq_writer *w, oc_error *err);
/* Discards the temporary file and frees w. */
void oc_pq_writer_abort(oc_pq_writer *w);

/* ---- Reader: file metadata ---- */

typedef struct oc_pq_stat_value {
  bool present;
  size_t len;
  uint8_t *data; /* PLAIN encoding (no length prefix for BYTE_ARRAY) */
} oc_pq_stat_value;

typedef struct oc_pq_statistics {
  bool present;
  bool has_null_count, has_nan_count, has_distinct_count;
  int64_t null_count, nan_count, distinct_count;
  oc_pq_stat_value min, max;             /* legacy fields (signed order only) */
  oc_pq_stat_value min_value, max_value; /* fields ordered by the column order */
} oc_pq_statistics;

typedef struct oc_pq_chunk_info {
  int32_t codec;
  int64_t num_values;
  int64_t total_uncompressed_size;
  int64_t total_compressed_size;
  int64_t data_page_offset;
  bool has_dictionary_page_offset;
  int64_t dictionary_page_offset;
  size_t nencodings;
  int32_t *encodings;
  oc_pq_statistics stats;
} oc_pq_chunk_info;

typedef struct oc_pq_row_group_info {
  int64_t num_rows;
  int64_t total_byte_size;
  oc_pq_chunk_info *chunks; /* one per column */
} oc_pq_row_group_info;

typedef struct oc_pq_column_info {
  char *name;
  oc_pq_type type;           /* how the reader hands the values over (see oc_pq_type) */
  int32_t physical;          /* the file's physical type: an oc_pq_type or OC_PQ_PHYSICAL_* */
  int32_t type_length;       /* bytes per FIXED_LEN_BYTE_ARRAY value (1..); 0 otherwise */
  bool optional;
  oc_pq_logical logical;     /* from LogicalType, else from ConvertedType */
  bool timestamp_utc;        /* TIMESTAMP_*: isAdjustedToUTC (true for the legacy converted types) */
  int32_t decimal_scale, decimal_precision; /* DECIMAL: 0 <= scale <= precision <= 38 */
  bool has_converted_type;
  int32_t converted_type;
} oc_pq_column_info;

/* A column's logical type as a name, saying UTC for a timestamp adjusted to UTC ("TIMESTAMP(MICROS,UTC)",
 * "TIMESTAMP(NANOS)"). */
const char *oc_pq_column_logical_name(const oc_pq_column_info *col);

typedef struct oc_pq_file_info {
  int32_t version;
  int64_t num_rows;
  char *created_by; /* NULL when absent */
  size_t ncols;
  oc_pq_column_info *cols;
  size_t nrow_groups;
  oc_pq_row_group_info *row_groups;
  size_t nmeta;
  char **meta_keys;
  char **meta_values; /* NULL entries when the value is absent */
  bool type_defined_order; /* column_orders present with TYPE_ORDER for every column */
} oc_pq_file_info;

typedef struct oc_pq_reader {
  char *name;          /* path, for messages */
  int fd;              /* -1 for in-memory files */
  const uint8_t *mem;  /* in-memory file (not owned) */
  uint64_t file_size;
  uint64_t footer_offset; /* where FileMetaData starts */
  oc_pq_file_info info;
} oc_pq_reader;

/* Opens path, checks magic and footer length against the file size, decodes and validates the
 * footer (schema shape, supported types, row groups, every column chunk inside the data area). */
int oc_pq_reader_open(oc_pq_reader *r, const char *path, oc_error *err);
/* The same over bytes in memory (kept by the caller while r is open); name is used in messages. */
int oc_pq_reader_open_memory(oc_pq_reader *r, const void *data, size_t len, const char *name, oc_error *err);
void oc_pq_reader_close(oc_pq_reader *r);
/* Column index by name, or -1. */
long oc_pq_find_column(const oc_pq_reader *r, const char *name);

/* ---- Reader: column data ---- */

typedef struct oc_pq_column {
  oc_pq_type type;
  size_t n;
  void *values;      /* n values of the column's representation, type (oc_pq_bytes for BYTE_ARRAY); null slots zeroed */
  uint8_t *valid;    /* n bytes (1 = present) for optional columns; NULL for required ones */
  size_t null_count;
  uint8_t *heap;     /* storage the oc_pq_bytes point into */
} oc_pq_column;

/* Decodes one column chunk completely (every page checked). */
int oc_pq_read_column(oc_pq_reader *r, size_t row_group, size_t col, oc_pq_column *out, oc_error *err);
void oc_pq_column_free(oc_pq_column *c);

/* The shortest decimal form that reads back as exactly d ("0.1", "-0", "1e+300"; "NaN", "Infinity",
 * "-Infinity"). buf holds at least 32 bytes. Returns buf. */
char *oc_pq_format_double(double d, char *buf);
/* The shortest decimal form that reads back as the float f (a FLOAT value the reader widened to
 * double): "70.01", not "70.01000213623047". buf holds at least 32 bytes. Returns buf. */
char *oc_pq_format_float(double f, char *buf);
/* The integer of a big-endian two's complement DECIMAL of len bytes (BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY);
 * false when it does not fit in 128 bits. */
bool oc_pq_decimal_unscaled(const uint8_t *data, size_t len, __int128 *out);
/* unscaled / 10^scale exactly, with scale decimals ("70.010" for 70010 at scale 3, "-0.5"), as DuckDB
 * prints a DECIMAL; 0 <= scale <= 38, buf holds at least OC_PQ_DECIMAL_STRLEN bytes. Returns buf. */
#define OC_PQ_DECIMAL_STRLEN 48
char *oc_pq_format_decimal(__int128 unscaled, int scale, char *buf);
/* Formats a statistics value of a column for people (dates as YYYY-MM-DD, timestamps of every unit in
 * ISO 8601, decimals with their scale, strings quoted, doubles as oc_pq_format_double, floats as
 * oc_pq_format_float); size >= OC_PQ_DECIMAL_STRLEN. Returns buf. */
char *oc_pq_format_stat(const oc_pq_column_info *col, const oc_pq_stat_value *v, char *buf, size_t size);

#endif
