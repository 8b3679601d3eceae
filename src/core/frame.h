/* frame.h: the in-memory shapes that pass between pipeline stages.
 * - oc_series: one named price series, dates ascending, one value per date (what the store hands to
 *   ETL and forecasting).
 * - oc_frame: a column table keyed by date (what ETL produces, the lake writes as Parquet and
 *   training reads): double columns with NaN meaning missing, plus string key/value metadata.
 * Plain data with owning pointers; must not know about files, the store or any format. */
#ifndef OC_FRAME_H
#define OC_FRAME_H

#include <stddef.h>

#include "core/date.h"

typedef struct oc_series {
  char *name;     /* e.g. "WTI" */
  size_t n;
  oc_date *dates; /* strictly ascending */
  double *values; /* finite; may be <= 0 (WTI on 2020-04-20) */
} oc_series;

typedef struct oc_frame {
  size_t nrows;
  oc_date *dates; /* nrows, ascending; the Parquet column "date" (DATE logical type) */
  size_t ncols;
  char **names;   /* ncols column names (excluding "date") */
  double **cols;  /* ncols arrays of nrows values; NaN = missing (null in Parquet) */
  size_t nmeta;
  char **meta_keys;
  char **meta_values;
} oc_frame;

/* Allocates dates and nothing else; columns are added with oc_frame_add_column. */
void oc_frame_init(oc_frame *f, size_t nrows);
/* Adds a column named name (copied) of nrows NaNs and returns it for filling. */
double *oc_frame_add_column(oc_frame *f, const char *name);
/* Column index by name, or -1. */
long oc_frame_find_column(const oc_frame *f, const char *name);
/* Sets (or replaces) a metadata entry; key and value are copied. */
void oc_frame_set_meta(oc_frame *f, const char *key, const char *value);
/* Metadata value or NULL. */
const char *oc_frame_get_meta(const oc_frame *f, const char *key);
void oc_frame_free(oc_frame *f);

void oc_series_init(oc_series *s, const char *name, size_t n);
void oc_series_free(oc_series *s);
/* The observations of s dated <= last, as a view into s (shares its arrays: never free it). */
oc_series oc_series_view_until(const oc_series *s, oc_date last);

#endif
