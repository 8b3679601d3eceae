/* lake.h: the data lake's table files: an oc_frame as a Parquet file other tools read (DuckDB,
 * pandas/pyarrow, Spark), and back. The file layout is fixed:
 *   "date"   INT32 with the DATE logical type, required (days since 1970-01-01, oc_date);
 *   then every frame column, in frame order, as an optional DOUBLE (NaN is written as null);
 *   frame metadata as Parquet key/value metadata.
 * Files are written atomically (temporary sibling, fsync, rename). Also: Hive-style partitions
 * (DIR/key=value/part-0.parquet). For other shapes use the general Parquet API in parquet.h.
 * Must not know what the columns mean (features, targets): that is the ETL's business. */
#ifndef OC_LAKE_LAKE_H
#define OC_LAKE_LAKE_H

#include <stddef.h>

#include "core/error.h"
#include "core/frame.h"

typedef enum {
  OC_LAKE_CODEC_DEFAULT = 0, /* ZSTD */
  OC_LAKE_ZSTD,
  OC_LAKE_UNCOMPRESSED,
} oc_lake_codec;

#define OC_LAKE_DEFAULT_ROWS_PER_GROUP ((size_t)1 << 20)

typedef struct oc_lake_write_options {
  oc_lake_codec codec;
  size_t rows_per_row_group; /* 0 = OC_LAKE_DEFAULT_ROWS_PER_GROUP */
} oc_lake_write_options;

/* Writes frame to path (opt NULL = defaults). Fails if a frame column is named "date". */
int oc_lake_write_frame(const char *path, const oc_frame *frame, const oc_lake_write_options *opt, oc_error *err);

/* Reads a Parquet file with a "date" column (INT32 DATE, no nulls) and numeric other columns
 * (DOUBLE, INT32 or INT64; nulls become NaN) into out (initialised here; free with oc_frame_free).
 * Key/value metadata becomes frame metadata. On failure out is left empty. */
int oc_lake_read_frame(const char *path, oc_frame *out, oc_error *err);

/* Reads a frame from CSV as `oilcast lake cat` and `oilcast etl --format csv` write it: a header line,
 * the first column ISO dates (whatever its name; it becomes the date column), every other column
 * numbers, empty cells missing (NaN). Errors name FILE:LINE and the column. */
int oc_lake_read_frame_csv(const char *path, oc_frame *out, oc_error *err);

/* DIR/key=value/part-0.parquet (malloc'd): the Hive-style partition file DuckDB and Spark read as a
 * column key; key and value escaped the Hive way (bytes other than letters, digits, '.', '_' and '-'
 * become %XX). */
char *oc_lake_partition_path(const char *dir, const char *key, const char *value);



#endif
