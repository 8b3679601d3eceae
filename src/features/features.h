/* features.h: oilcast's feature set, the one list of named model inputs computed from a cleaned
 * target price series (and exogenous series already aligned to its dates). Every column is a pure,
 * causal function of the rows up to its own (see indicators.h and rolling.h), NaN while history is
 * insufficient. Independent feature groups can run on several threads; the output does not depend on
 * the thread count. Must not clean, align, normalize or select (that is etl.h) and must not know
 * about files or the store. */
#ifndef OC_FEATURES_H
#define OC_FEATURES_H

#include <stddef.h>

#include "core/date.h"

typedef struct oc_feature_input {
  size_t n;
  const oc_date *dates;            /* n, ascending */
  const double *close;             /* n, cleaned target prices (positive) */
  size_t nexog;
  const char *const *exog_names;   /* nexog names, e.g. "BRENT" */
  const double *const *exog;       /* nexog arrays of n values aligned to dates; NaN = missing */
} oc_feature_input;

/* Number of feature columns for nexog exogenous series. */
size_t oc_features_count(size_t nexog);
/* Feature column names in output order (malloc'd array of malloc'd strings, oc_features_count
 * entries); free with oc_features_free_names. */
char **oc_features_names(const char *const *exog_names, size_t nexog);
void oc_features_free_names(char **names, size_t count);
/* Computes every feature: out holds oc_features_count(in->nexog) arrays of in->n doubles, in the
 * order of oc_features_names. threads <= 1 computes on the calling thread. */
void oc_features_compute(const oc_feature_input *in, double *const *out, int threads);
/* A computation that resumes: the lanes' indicator and rolling states after the rows computed so far.
 * Every column is causal (a row's value depends only on the rows up to it), so extending a stream by
 * later rows gives bit for bit the values oc_features_compute gives over the whole history. */
typedef struct oc_feature_stream oc_feature_stream;
oc_feature_stream *oc_feature_stream_new(size_t nexog);
void oc_feature_stream_free(oc_feature_stream *s);
/* Rows computed so far. */
size_t oc_feature_stream_rows(const oc_feature_stream *s);
/* Computes rows [oc_feature_stream_rows(s), in->n) of every feature into out (as oc_features_compute;
 * earlier rows of out are not touched). in must hold the rows the stream has computed, unchanged,
 * followed by the new ones, with s's number of exogenous series. */
void oc_feature_stream_extend(oc_feature_stream *s, const oc_feature_input *in, double *const *out, int threads);
/* count arrays of n doubles for oc_features_compute. Large arrays are 2 MiB-aligned and advised as
 * transparent huge pages: a 10-million-row feature table otherwise spends more time in page faults
 * than in arithmetic. Free with oc_features_free_columns. */
double **oc_features_alloc_columns(size_t count, size_t n);
void oc_features_free_columns(double **cols, size_t count);
/* Observations of the target a history needs so that every feature has a value at its last row. */
size_t oc_features_required_history(void);

#endif
