/* Unit tests for the incremental ETL (features/etl.h's oc_etl_session) and the pieces it is built from:
 * a history built step by step through a session (extended by 1, 269, 1,000... observations, across the
 * features' 1,024-row blocks, with a negative price, return spikes and exogenous gaps arriving in the
 * new rows) gives frames bit for bit equal to oc_etl_build's over the same history, for every cleaning
 * and normalization policy; a history that does not extend the last one (a revised value, other
 * options, a changed exogenous series, a shorter one, an exogenous series that ended before the target
 * catching up) starts afresh; a failed build empties the
 * session; the features' stream extended in pieces equals one whole computation, and so do the
 * trailing median/MAD from a later row; the selection's correlations decide as a scalar Pearson
 * correlation per pair does. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/etl.h"
#include "features/features.h"
#include "features/trailing_mad.h"

/* A WTI-like random walk of n trading days with a negative price (row 1500), return spikes (rows 700,
 * 1900, 2600) and an exogenous series missing on runs of 2 and 6 trading days. */
static void series_pair(size_t n, oc_series *target, oc_series *exog) {
  *target = oc_test_random_walk_series("WTI", n, 0.0, 7);
  oc_series brent = oc_test_random_walk_series("BRENT", n, 0.0001, 8);
  if (n > 1500) target->values[1500] = -37.63;
  size_t spikes[] = {700, 1900, 2600};
  for (size_t k = 0; k < 3; k++)
    if (spikes[k] < n) target->values[spikes[k]] *= k % 2 ? 0.7 : 1.4;
  oc_series_init(exog, "BRENT", n);
  exog->n = 0;
  for (size_t i = 0; i < n; i++) {
    if ((i >= 1000 && i < 1002) || (i >= 2300 && i < 2306)) continue;
    exog->dates[exog->n] = brent.dates[i];
    exog->values[exog->n++] = brent.values[i];
  }
  oc_series_free(&brent);
}

/* The first n observations of s, as a view. */
static oc_series first_rows(const oc_series *s, size_t n) {
  oc_series v = *s;
  v.n = n;
  return v;
}

static void assert_frames_equal(const oc_frame *a, const oc_frame *b) {
  assert_int_equal(a->nrows, b->nrows);
  assert_int_equal(a->ncols, b->ncols);
  assert_memory_equal(a->dates, b->dates, a->nrows * sizeof *a->dates);
  for (size_t c = 0; c < a->ncols; c++) {
    assert_string_equal(a->names[c], b->names[c]);
    assert_memory_equal(a->cols[c], b->cols[c], a->nrows * sizeof(double));
  }
  const char *keys[] = {"oilcast.series", "oilcast.horizon", "oilcast.features", "oilcast.targets",
                        "oilcast.train_end", "oilcast.normalization", "oilcast.policies",
                        "oilcast.dropped_features", "oilcast.source_checksum"};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
    assert_string_equal(oc_frame_get_meta(a, keys[k]), oc_frame_get_meta(b, keys[k]));
}

/* Builds the first n observations through the session and afresh, and compares the frames. */
static void check_step(oc_etl_session *session, const oc_series *target, const oc_series *exog, size_t n,
                       const oc_etl_options *o, size_t expect_prepared) {
  oc_series t = first_rows(target, n), e = exog ? oc_series_view_until(exog, target->dates[n - 1]) : (oc_series){0};
  oc_frame incremental, whole;
  oc_error err;
  if (oc_etl_session_build(session, &t, exog ? &e : NULL, exog ? 1 : 0, o, &incremental, NULL, &err) != 0)
    fail_msg("session build of %zu rows: %s", n, err.message);
  if (oc_etl_build(&t, exog ? &e : NULL, exog ? 1 : 0, o, &whole, NULL, &err) != 0) fail_msg("%s", err.message);
  assert_frames_equal(&incremental, &whole);
  assert_int_equal(oc_etl_session_last_prepared(session), expect_prepared);
  oc_frame_free(&incremental);
  oc_frame_free(&whole);
}

/* Step sizes chosen to start and end inside and across the features' blocks and the outlier window. */
static void check_growing(const oc_etl_options *o, bool with_exog) {
  oc_series target, exog;
  series_pair(3100, &target, &exog);
  oc_etl_session *session = oc_etl_session_new();
  const size_t lengths[] = {300, 301, 570, 1024, 1025, 1499, 1501, 2048, 2700, 3100};
  for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++)
    check_step(session, &target, with_exog ? &exog : NULL, lengths[k], o, k ? lengths[k] - lengths[k - 1] : lengths[0]);
  oc_etl_session_free(session);
  oc_series_free(&target);
  oc_series_free(&exog);
}

static void test_extends_bit_for_bit(void **state) {
  (void)state;
  oc_etl_options o;
  oc_etl_options_default(&o);
  check_growing(&o, true);
  check_growing(&o, false);
  o.outliers = OC_OUTLIER_DROP; /* the outlier statistics extended: flagged rows leave the table */
  o.outlier_window = 60;
  check_growing(&o, true);
  oc_etl_options_default(&o);
  o.nonpositive = OC_NONPOS_CLIP;
  o.normalization = OC_NORM_ROBUST;
  o.horizon = 3;
  check_growing(&o, true);
}

/* A history that is not the last one plus more observations is prepared from its first row. */
static void test_starts_afresh(void **state) {
  (void)state;
  oc_series target, exog;
  series_pair(1200, &target, &exog);
  oc_etl_options o;
  oc_etl_options_default(&o);
  oc_etl_session *session = oc_etl_session_new();
  check_step(session, &target, &exog, 900, &o, 900);
  check_step(session, &target, &exog, 800, &o, 800); /* shorter */
  target.values[500] *= 1.01;                       /* a revised value */
  check_step(session, &target, &exog, 1000, &o, 1000);
  check_step(session, &target, &exog, 1100, &o, 100);
  exog.values[10] += 0.5; /* the exogenous series revised */
  check_step(session, &target, &exog, 1150, &o, 1150);
  check_step(session, &target, NULL, 1160, &o, 1160); /* without it */
  o.ffill_days = 1;                                   /* other alignment */
  check_step(session, &target, &exog, 1170, &o, 1170);
  o.val_frac = 0.2; /* selection options only: the preparation is kept */
  check_step(session, &target, &exog, 1200, &o, 30);
  oc_etl_session_free(session);
  oc_series_free(&target);
  oc_series_free(&exog);
}

/* An exogenous series that ended before the target (published a day or more later) and then catches
 * up: its new observations are dated on target rows the session had aligned without them (forward-filled
 * or missing), so those rows are prepared again, as oc_etl_build prepares them. */
static void test_exog_catching_up(void **state) {
  (void)state;
  oc_series target, exog;
  series_pair(1200, &target, &exog);
  oc_etl_options o;
  oc_etl_options_default(&o);
  oc_etl_session *session = oc_etl_session_new();
  oc_series t = first_rows(&target, 1000), late = oc_series_view_until(&exog, target.dates[994]);
  oc_series caught_up = oc_series_view_until(&exog, target.dates[1000]);
  oc_frame incremental, whole;
  oc_error err;
  assert_int_equal(oc_etl_session_build(session, &t, &late, 1, &o, &incremental, NULL, &err), 0);
  oc_frame_free(&incremental);
  t = first_rows(&target, 1001);
  if (oc_etl_session_build(session, &t, &caught_up, 1, &o, &incremental, NULL, &err) != 0) fail_msg("%s", err.message);
  if (oc_etl_build(&t, &caught_up, 1, &o, &whole, NULL, &err) != 0) fail_msg("%s", err.message);
  assert_frames_equal(&incremental, &whole);
  oc_frame_free(&incremental);
  oc_frame_free(&whole);
  oc_etl_session_free(session);
  oc_series_free(&target);
  oc_series_free(&exog);
}

/* The fail policy meeting a negative price in the new rows: oc_etl_build's error, and the session
 * starts afresh at its next build; a build with a report is prepared afresh and reports every row. */
static void test_errors_and_reports(void **state) {
  (void)state;
  oc_series target, exog;
  series_pair(1600, &target, &exog);
  oc_etl_options o;
  oc_etl_options_default(&o);
  o.nonpositive = OC_NONPOS_FAIL;
  oc_etl_session *session = oc_etl_session_new();
  check_step(session, &target, NULL, 1400, &o, 1400);
  oc_series t = first_rows(&target, 1600);
  oc_frame f;
  oc_error err, whole_err;
  assert_int_equal(oc_etl_session_build(session, &t, NULL, 0, &o, &f, NULL, &err), -1);
  assert_int_equal(oc_etl_build(&t, NULL, 0, &o, &f, NULL, &whole_err), -1);
  assert_string_equal(err.message, whole_err.message);
  assert_non_null(strstr(err.message, "-37.63"));
  o.nonpositive = OC_NONPOS_DROP;
  check_step(session, &target, NULL, 1450, &o, 1450);
  oc_etl_report r;
  if (oc_etl_session_build(session, &t, NULL, 0, &o, &f, &r, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(oc_etl_session_last_prepared(session), 1600);
  assert_int_equal(r.rows_in, 1600);
  assert_int_equal(r.nonpositive, 1);
  assert_int_equal(r.rows_out, 1599);
  oc_etl_report_free(&r);
  oc_frame_free(&f);
  check_step(session, &target, NULL, 1600, &o, 0); /* the same history again: nothing new to prepare */
  oc_etl_session_free(session);
  oc_series_free(&target);
  oc_series_free(&exog);
}

/* The features' stream extended in pieces of 1, 5, 1,018, 1,024, 2,000 rows equals one computation. */
static void test_feature_stream_pieces(void **state) {
  (void)state;
  oc_series target, exog;
  series_pair(4200, &target, &exog);
  /* aligned by position for this test: the stream reads any exogenous column, gaps are not its concern */
  const char *names[] = {"BRENT"};
  const double *exogs[] = {exog.values};
  oc_feature_input in = {target.n, target.dates, target.values, 1, names, exogs};
  for (size_t i = 0; i < target.n; i++) target.values[i] = fabs(target.values[i]);
  size_t count = oc_features_count(1);
  double **whole = oc_features_alloc_columns(count, target.n), **pieces = oc_features_alloc_columns(count, target.n);
  oc_features_compute(&in, whole, 1);
  oc_feature_stream *stream = oc_feature_stream_new(1);
  const size_t ends[] = {1, 6, 1024, 2048, 4048, 4200};
  for (size_t k = 0; k < sizeof ends / sizeof ends[0]; k++) {
    oc_feature_input part = in;
    part.n = ends[k];
    oc_feature_stream_extend(stream, &part, pieces, k % 2 ? 2 : 1);
    assert_int_equal(oc_feature_stream_rows(stream), ends[k]);
  }
  for (size_t c = 0; c < count; c++) assert_memory_equal(whole[c], pieces[c], target.n * sizeof(double));
  oc_feature_stream_free(stream);
  oc_features_free_columns(whole, count);
  oc_features_free_columns(pieces, count);
  oc_series_free(&target);
  oc_series_free(&exog);
}

/* The trailing median/MAD from a later row equals the whole computation's rows there. */
static void test_trailing_mad_from(void **state) {
  (void)state;
  oc_series s = oc_test_random_walk_series("X", 700, 0.0, 3);
  double *x = s.values, *med = malloc(s.n * sizeof *med), *mad = malloc(s.n * sizeof *mad);
  double *med2 = malloc(s.n * sizeof *med2), *mad2 = malloc(s.n * sizeof *mad2);
  for (size_t i = 0; i < s.n; i += 37) x[i] = NAN; /* gaps occupy their place in the window */
  for (size_t i = 5; i < s.n; i += 50) x[i] = x[i - 1];
  oc_trailing_median_mad(x, s.n, 60, 20, med, mad);
  const size_t firsts[] = {0, 1, 19, 60, 61, 62, 333, 699, 700};
  for (size_t k = 0; k < sizeof firsts / sizeof firsts[0]; k++) {
    size_t first = firsts[k];
    oc_trailing_median_mad_from(x, s.n, first, 60, 20, med2, mad2);
    assert_memory_equal(med + first, med2 + first, (s.n - first) * sizeof *med);
    assert_memory_equal(mad + first, mad2 + first, (s.n - first) * sizeof *mad);
  }
  free(med);
  free(mad);
  free(med2);
  free(mad2);
  oc_series_free(&s);
}

/* Pearson correlation of a and b over rows [0, rows) where both are finite, one pair at a time: the
 * selection's definition (features/etl.c), NaN with fewer than 3 rows or a zero variance. */
static double reference_corr(const double *a, const double *b, size_t rows) {
  double sa = 0, sb = 0;
  size_t m = 0;
  for (size_t i = 0; i < rows; i++)
    if (isfinite(a[i]) && isfinite(b[i])) {
      sa += a[i];
      sb += b[i];
      m++;
    }
  if (m < 3) return NAN;
  double ma = sa / (double)m, mb = sb / (double)m, cov = 0, va = 0, vb = 0;
  for (size_t i = 0; i < rows; i++)
    if (isfinite(a[i]) && isfinite(b[i])) {
      cov += (a[i] - ma) * (b[i] - mb);
      va += (a[i] - ma) * (a[i] - ma);
      vb += (b[i] - mb) * (b[i] - mb);
    }
  return va > 0 && vb > 0 ? cov / sqrt(va * vb) : NAN;
}

/* Every feature the report does not drop for another reason is kept, or dropped for its first kept
 * feature correlated above the threshold, as the scalar reference decides (reasons compared as text:
 * the correlation to 4 decimals). A short history makes pairs with fewer than 3 common rows too. */
static size_t check_selection(size_t n, double threshold) {
  oc_series target = oc_test_random_walk_series("WTI", n, 0.0, 7), exog = oc_test_random_walk_series("BRENT", n, 0.0, 8);
  oc_etl_options o;
  oc_etl_options_default(&o);
  o.corr_threshold = threshold;
  oc_frame f;
  oc_etl_report r;
  oc_error err;
  if (oc_etl_build(&target, &exog, 1, &o, &f, &r, &err) != 0) fail_msg("%s", err.message);
  /* the same features on the same rows: nothing to clean, the exogenous series on the same dates */
  const char *names[] = {"BRENT"};
  const double *exogs[] = {exog.values};
  oc_feature_input in = {target.n, target.dates, target.values, 1, names, exogs};
  size_t count = oc_features_count(1), rows = r.train_rows;
  double **cols = oc_features_alloc_columns(count, target.n);
  oc_features_compute(&in, cols, 1);
  char **all = oc_features_names(names, 1);
  size_t *kept = malloc(count * sizeof *kept), nkept = 0, dropped = 0, by_corr = 0;
  char reason[256];
  for (size_t c = 0; c < count; c++) {
    const char *given = NULL;
    for (size_t d = 0; d < r.features_dropped; d++)
      if (strcmp(r.dropped_names[d], all[c]) == 0) given = r.dropped_reasons[d];
    if (given && strncmp(given, "|corr|", 6) != 0) { /* constant, no values, zero scale */
      dropped++;
      continue;
    }
    reason[0] = '\0';
    for (size_t k = 0; k < nkept && !reason[0]; k++) {
      double corr = reference_corr(cols[c], cols[kept[k]], rows);
      if (fabs(corr) > threshold)
        snprintf(reason, sizeof reason, "|corr| %.4f > %.2f with %s", fabs(corr), threshold, all[kept[k]]);
    }
    if (reason[0]) {
      if (!given) fail_msg("%s: kept, the reference drops it (%s)", all[c], reason);
      assert_string_equal(given, reason);
      dropped++;
      by_corr++;
    } else {
      if (given) fail_msg("%s: dropped (%s), the reference keeps it", all[c], given);
      kept[nkept++] = c;
    }
  }
  assert_int_equal(dropped, r.features_dropped);
  assert_int_equal(nkept, r.features_kept);
  free(kept);
  oc_features_free_names(all, count);
  oc_features_free_columns(cols, count);
  oc_etl_report_free(&r);
  oc_frame_free(&f);
  oc_series_free(&target);
  oc_series_free(&exog);
  return by_corr;
}

static void test_selection_correlations(void **state) {
  (void)state;
  assert_true(check_selection(2500, 0.98) >= 3); /* the moving averages and bands of a price are near-collinear */
  assert_true(check_selection(2500, 0.5) > check_selection(2500, 0.98));
  check_selection(75, 0.9);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_extends_bit_for_bit),   cmocka_unit_test(test_starts_afresh),
      cmocka_unit_test(test_exog_catching_up),
      cmocka_unit_test(test_errors_and_reports),    cmocka_unit_test(test_feature_stream_pieces),
      cmocka_unit_test(test_trailing_mad_from),     cmocka_unit_test(test_selection_correlations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
