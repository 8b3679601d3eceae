/* etl.h: turns stored prices into oilcast's model-ready table: Clean (gaps, outliers, non-positive
 * prices), Align (exogenous series onto the target's trading days), Features (features.h), Targets
 * (log(P[t+h]/P[t]), h = 1..horizon), Normalization and Selection fitted on training rows only. Every
 * policy is a named option with a default and is recorded in the frame's metadata.
 *
 * The frame contract (training reads it, keep it exact):
 *   dates: the cleaned target's trading days, ascending; every cleaned row is present;
 *   columns: "close" (cleaned price, not normalized), the selected normalized features in
 *            feature-set order, then "target_h1".."target_hH" (not normalized); NaN = missing
 *            (warm-up rows have NaN features, the last H rows NaN targets: training uses rows whose
 *            features and targets are all present);
 *   metadata: oilcast.series, oilcast.horizon, oilcast.features (JSON array), oilcast.targets (JSON
 *            array), oilcast.train_end (ISO date: rows dated <= it are training; the network trains on
 *            those whose targets are dated <= it too, model/training_table.h), oilcast.normalization
 *            (JSON {"method", "params":[{"name","center","scale"}...]}), oilcast.policies (JSON),
 *            oilcast.dropped_features (JSON [{"name","reason"}...]), oilcast.source_checksum (sha256
 *            hex, see oc_etl_source_checksum), oilcast.version.
 * The inference side (oc_feature_transform) recomputes one normalized feature row the same way.
 * Must not read files or the store, and must not print: callers do I/O and show the report. */
#ifndef OC_ETL_H
#define OC_ETL_H

#include <stddef.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/error.h"
#include "core/frame.h"

typedef enum { OC_NONPOS_DROP, OC_NONPOS_CLIP, OC_NONPOS_FAIL } oc_nonpos_policy;
typedef enum { OC_OUTLIER_FLAG, OC_OUTLIER_DROP } oc_outlier_policy;
typedef enum { OC_NORM_ZSCORE, OC_NORM_ROBUST } oc_norm_method;

typedef struct oc_etl_options {
  int horizon;                  /* targets target_h1..target_hH; default 7 */
  oc_date train_end;            /* OC_DATE_INVALID (default): from val_frac */
  double val_frac;              /* share of rows with all targets kept for validation; default 0.1 */
  oc_nonpos_policy nonpositive; /* default drop */
  double clip_floor;            /* price used by the clip policy; default 0.01 */
  oc_outlier_policy outliers;   /* default flag */
  double outlier_z;             /* robust z-score threshold; default 5 */
  int outlier_window;           /* trailing returns the median/MAD use; default 250 */
  int gap_days;                 /* report runs of more missing trading days than this; default 3 */
  int ffill_days;               /* exogenous forward-fill limit in trading days; default 3 */
  oc_norm_method normalization; /* default zscore */
  double corr_threshold;        /* drop one of each pair with |corr| above this; default 0.98 */
  double near_constant_share;   /* drop a feature whose most frequent value covers at least this
                                 * share of training rows; default 0.99 */
  int threads;                  /* feature computation threads; default 1 */
} oc_etl_options;

void oc_etl_options_default(oc_etl_options *o);
/* 0 when every option is in its range; else -1 and err names the first that is not. */
int oc_etl_options_check(const oc_etl_options *o, oc_error *err);
/* Policy names <-> values ("drop"|"clip"|"fail", "flag"|"drop", "zscore"|"robust"); parse returns -1
 * for an unknown name. */
int oc_nonpos_policy_parse(const char *name, oc_nonpos_policy *out);
int oc_outlier_policy_parse(const char *name, oc_outlier_policy *out);
int oc_norm_method_parse(const char *name, oc_norm_method *out);
const char *oc_nonpos_policy_name(oc_nonpos_policy p);
const char *oc_outlier_policy_name(oc_outlier_policy p);
const char *oc_norm_method_name(oc_norm_method m);

typedef struct oc_etl_gap {
  oc_date last_before, first_after; /* observations around the gap */
  int missing_trading_days;
} oc_etl_gap;

typedef struct oc_etl_exog_report {
  char *name;
  size_t exact, filled, missing; /* target rows with a same-day value / a forward-filled one / none */
} oc_etl_exog_report;

typedef struct oc_etl_report {
  size_t rows_in, rows_out;
  size_t nonpositive;            /* rows with a price <= 0 (handled per policy) */
  oc_date *nonpositive_dates;
  double *nonpositive_values;
  size_t ngaps;
  oc_etl_gap *gaps;
  size_t noutliers;              /* flagged (and, with the drop policy, dropped) rows */
  oc_date *outlier_dates;
  size_t nexog;
  oc_etl_exog_report *exog;
  size_t train_rows, validation_rows; /* rows with all targets, on each side of train_end */
  oc_date train_end;
  size_t features_kept, features_dropped;
  char **dropped_names, **dropped_reasons;
} oc_etl_report;

void oc_etl_report_free(oc_etl_report *r);
/* Appends a human-readable report (several lines). */
void oc_etl_report_format(const oc_etl_report *r, oc_buf *out);

/* Builds the training frame (see the contract above) from target and nexog exogenous series.
 * report may be NULL. Errors: a target too short for the horizon, unsorted dates, non-finite values,
 * the fail policy meeting a non-positive price, no training rows, no feature left. */
int oc_etl_build(const oc_series *target, const oc_series *exogs, size_t nexog, const oc_etl_options *opts,
                 oc_frame *out, oc_etl_report *report, oc_error *err);

/* A history that grows (a forecaster refitted as observations arrive) need not be prepared again from
 * its first row. A session keeps what its last build prepared: the cleaned rows, the outlier
 * statistics, the aligned exogenous values, every feature row (with the features' running state) and
 * each feature's sorted training values. A build whose target and exogenous series extend the ones
 * the session last built from (the same observations, bit for bit, then more, an exogenous series'
 * new ones dated after the last target row prepared; the same cleaning and alignment options) prepares only the new observations and merges the new training values into the
 * sorted ones; any other build starts afresh. Every stage is causal (a row depends only on the
 * observations up to it: the no-look-ahead rule), so the frame is bit for bit oc_etl_build's
 * (tests/unit/test_etl_session.c). Normalization and selection are fitted again at every build: their
 * statistics are means and correlations over all the training rows. A build with a report starts
 * afresh (the report covers every row). One session per thread. */
typedef struct oc_etl_session oc_etl_session;
oc_etl_session *oc_etl_session_new(void);
void oc_etl_session_free(oc_etl_session *s);
/* oc_etl_build through the session (the same frame, report and errors); a failed build empties it. */
int oc_etl_session_build(oc_etl_session *s, const oc_series *target, const oc_series *exogs, size_t nexog,
                         const oc_etl_options *opts, oc_frame *out, oc_etl_report *report, oc_error *err);
/* Target observations the session's last build prepared (the others it had already). */
size_t oc_etl_session_last_prepared(const oc_etl_session *s);

/* sha256 (hex) of the inputs in a canonical text form: for the target then each exog, "NAME\n"
 * followed by "YYYY-MM-DD,%.17g\n" per observation. */
void oc_etl_source_checksum(const oc_series *target, const oc_series *exogs, size_t nexog,
                            char hex[65]);

/* What inference needs to rebuild a normalized feature row exactly as ETL did. */
typedef struct oc_feature_transform {
  size_t n;
  char **names; /* selected features, in model input order */
  double *center, *scale;
  size_t nexog;
  char **exog_names; /* exogenous series the features expect, in order */
  oc_etl_options options;
} oc_feature_transform;

/* From the metadata strings oilcast.features, oilcast.normalization and oilcast.policies.
 * policies_json may be NULL: default policies, and the exogenous series the spread features name. */
int oc_feature_transform_parse(const char *features_json, const char *normalization_json,
                               const char *policies_json, oc_feature_transform *out, oc_error *err);
int oc_feature_transform_from_frame(const oc_frame *f, oc_feature_transform *out, oc_error *err);
void oc_feature_transform_free(oc_feature_transform *t);

/* Observations beyond oc_features_required_history() that a forecast feeds the features. Why 500:
 * the recursive indicators (EMA, MACD, RSI, ATR) depend on the whole history through their seed but
 * forget it geometrically (the slowest, EMA26, keeps (25/27)^500 ~ 2e-17 of it after 500 steps, RSI
 * and ATR (13/14)^500 ~ 1e-16). Measured on the real WTI series (9,821 rows, Brent as exog), at 926
 * origins, between the tail's normalized feature row and the full-history ETL table's row
 * (tests/unit/test_forecast_tail.c): rsi14 and atr14 differ by at most 1.1e-15 standard deviations
 * (rounding); the largest difference, 7.3e-11 (bb_pctb; stddev20 and bb_bandwidth ~1.6e-11), comes
 * from the TA-Lib running totals (sums and sums of squares since row 0) whose rounding grows with
 * the history, so the tail's value is the less rounded one. The network reads floats (spacing 1.2e-7
 * at 1): its forecasts from the tail and from the whole history agree to 1.3e-7 in log return.
 * A WTI forecast from the tail computes 561 feature rows instead of ~9,800. The cleaning policies see
 * the tail only: a non-positive price older than it no longer fails a forecast under the 'fail'
 * policy, and the outlier 'drop' policy's first flags in the tail have shorter trailing windows. */
#define OC_FEATURE_INFERENCE_EXTRA_HISTORY 500

/* The last oc_features_required_history() + OC_FEATURE_INFERENCE_EXTRA_HISTORY observations of
 * history (all of it when shorter), as a view into it (no copy): what a forecast computes its feature
 * row from (model/mlp_forecast.h, the mlp forecaster). */
oc_series oc_feature_inference_tail(const oc_series *history);

/* The normalized feature row (t->n values) at the last date of the cleaned history, which is returned
 * in *as_of. exogs must be the series named by t->exog_names, in that order. A history too short for
 * the features is an error that says how many observations are needed
 * (oc_features_required_history()). */
int oc_feature_transform_latest(const oc_feature_transform *t, const oc_series *target, const oc_series *exogs,
                                size_t nexog, double *row, oc_date *as_of, oc_error *err);

#endif
