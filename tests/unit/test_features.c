/* Unit tests for src/features that need no shared data: small hand-computed cases for the rolling
 * statistics, lags and indicators; every streaming step against its whole-array call under random
 * block splits (bit-identical); the feature set's columns against the per-indicator functions over
 * several blocks, its required history, its calendar, its independence from the thread count and
 * from how the output columns are aligned. The TA-Lib standard on real data is test_features_talib.c. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "features/features.h"
#include "features/indicators.h"
#include "features/rolling.h"

static void assert_nan(double v) { assert_true(isnan(v)); }
static void assert_same(const double *got, const double *want, size_t n, const char *what) {
  for (size_t i = 0; i < n; i++)
    if (memcmp(&got[i], &want[i], sizeof got[i]) != 0) fail_msg("%s row %zu: %.17g, want %.17g", what, i, got[i], want[i]);
}
static void assert_near(double got, double want) {
  if (!oc_test_close(got, want, 1e-12)) fail_msg("got %.17g, want %.17g", got, want);
}

/* ---- hand-computed cases ---- */

static void test_rolling_mean_std_hand(void **state) {
  (void)state;
  const double in[] = {1, 2, 4, 7, 11};
  double mean[5], sd[5];
  oc_rolling_mean_std(in, 5, 3, mean, sd);
  assert_nan(mean[0]);
  assert_nan(mean[1]);
  assert_nan(sd[1]);
  assert_near(mean[2], 7.0 / 3);
  assert_near(mean[3], 13.0 / 3);
  assert_near(mean[4], 22.0 / 3);
  /* sample variance of {1,2,4}: mean 7/3, squared deviations 16/9+1/9+25/9 = 42/9, /2 = 7/3 */
  assert_near(sd[2], sqrt(7.0 / 3));
  /* {2,4,7}: mean 13/3, deviations 49/9+1/9+64/9 = 114/9, /2 = 19/3 */
  assert_near(sd[3], sqrt(19.0 / 3));
  /* {4,7,11}: mean 22/3, deviations 100/9+1/9+121/9 = 222/9, /2 = 37/3 */
  assert_near(sd[4], sqrt(37.0 / 3));
}

static void test_rolling_missing_blanks_its_windows(void **state) {
  (void)state;
  const double in[] = {NAN, 1, 2, NAN, 3, 4, 5};
  double mean[7], mn[7], mx[7];
  oc_rolling_mean_std(in, 7, 2, mean, NULL);
  oc_rolling_min_max(in, 7, 2, mn, mx);
  const int has_value[] = {0, 0, 1, 0, 0, 1, 1};
  for (int i = 0; i < 7; i++) {
    assert_int_equal(!isnan(mean[i]), has_value[i]);
    assert_int_equal(!isnan(mn[i]), has_value[i]);
    assert_int_equal(!isnan(mx[i]), has_value[i]);
  }
  assert_near(mean[2], 1.5);
  assert_near(mean[6], 4.5);
  assert_near(mn[5], 3);
  assert_near(mx[5], 4);
}

static void test_rolling_min_max_hand(void **state) {
  (void)state;
  const double in[] = {5, 3, 4, 1, 2, 6, 6, 0};
  const double want_min[] = {NAN, NAN, 3, 1, 1, 1, 2, 0};
  const double want_max[] = {NAN, NAN, 5, 4, 4, 6, 6, 6};
  double mn[8], mx[8];
  oc_rolling_min_max(in, 8, 3, mn, mx);
  for (int i = 0; i < 8; i++) {
    if (isnan(want_min[i])) {
      assert_nan(mn[i]);
      assert_nan(mx[i]);
    } else {
      assert_near(mn[i], want_min[i]);
      assert_near(mx[i], want_max[i]);
    }
  }
}

/* Rolling min/max against a brute-force rescan on a long pseudo-random series with missing values
 * in its first part: windows at and around powers of two (the doubling table's levels) and one
 * longer than a min/max sub-block. */
static void test_rolling_min_max_matches_rescan(void **state) {
  (void)state;
  enum { N = 4000 };
  double *in = malloc(N * sizeof *in), *mn = malloc(N * sizeof *mn), *mx = malloc(N * sizeof *mx);
  unsigned x = 12345;
  for (int i = 0; i < N; i++) {
    x = x * 1103515245u + 12345u;
    in[i] = i < 1500 && (x >> 16) % 97 == 0 ? NAN : (double)((x >> 8) % 1000);
  }
  const size_t windows[] = {1, 2, 3, 5, 7, 20, 33, 60, 64, 65, 1500};
  for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
    size_t win = windows[w];
    oc_rolling_min_max(in, N, win, mn, mx);
    for (size_t i = 0; i < N; i++) {
      double lo = INFINITY, hi = -INFINITY;
      int complete = i + 1 >= win;
      for (size_t k = 0; complete && k < win; k++) {
        double v = in[i - k];
        if (isnan(v)) complete = 0;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
      }
      if (!complete) {
        assert_nan(mn[i]);
        assert_nan(mx[i]);
      } else {
        assert_true(mn[i] == lo);
        assert_true(mx[i] == hi);
      }
    }
  }
  free(in);
  free(mn);
  free(mx);
}

static void test_returns_lags_hand(void **state) {
  (void)state;
  const double price[] = {10, 11, 0, 12, 12};
  double r[5], lag[5], d[5];
  oc_log_returns(price, 5, r);
  assert_nan(r[0]);
  assert_near(r[1], log(1.1));
  assert_nan(r[2]); /* non-positive price: no log return */
  assert_nan(r[3]);
  assert_near(r[4], 0.0);
  oc_lag(r, 5, 2, lag);
  assert_nan(lag[0]);
  assert_nan(lag[1]);
  assert_nan(lag[2]);
  assert_near(lag[3], log(1.1));
  oc_diff(price, 5, d);
  assert_nan(d[0]);
  assert_near(d[3], 12);
}

static void test_indicators_hand(void **state) {
  (void)state;
  const double in[] = {1, 2, 3, 4, 5, 4, 3};
  double out[7], sig[7], hist[7];
  oc_ta_sma(in, 7, 3, out);
  assert_nan(out[1]);
  assert_near(out[2], 2);
  assert_near(out[6], 4);
  oc_ta_ema(in, 7, 3, out); /* k = 0.5, seed = SMA(1,2,3) = 2 */
  assert_nan(out[1]);
  assert_near(out[2], 2);
  assert_near(out[3], 3);
  assert_near(out[4], 4);
  assert_near(out[5], 4);
  assert_near(out[6], 3.5);
  oc_ta_rsi(in, 7, 3, out); /* gains 1,1,1 losses 0 -> 100; then loss 1: gain 2/3, loss 1/3 */
  assert_nan(out[2]);
  assert_near(out[3], 100);
  assert_near(out[4], 100);
  assert_near(out[5], 100 * (2.0 / 3) / 1.0);
  oc_ta_mom(in, 7, 2, out);
  assert_nan(out[1]);
  assert_near(out[2], 2);
  assert_near(out[6], -2);
  oc_ta_roc(in, 7, 2, out);
  assert_near(out[2], 200);
  oc_ta_stddev(in, 7, 3, 1.0, out);
  assert_near(out[2], sqrt(2.0 / 3));
  oc_ta_atr_close(in, 7, 3, out); /* |diffs| 1,1,1,1,1,1 */
  assert_nan(out[2]);
  assert_near(out[3], 1);
  assert_near(out[6], 1);
  oc_ta_macd(in, 4, 2, 3, 2, out, sig, hist); /* lookback (3-1)+(2-1) = 3 */
  assert_nan(out[2]);
  assert_false(isnan(out[3]));
  oc_ta_macd(in, 3, 2, 3, 2, out, sig, hist); /* too short: everything missing */
  for (int i = 0; i < 3; i++) {
    assert_nan(out[i]);
    assert_nan(sig[i]);
    assert_nan(hist[i]);
  }
  const double flat[] = {5, 5, 5, 5};
  double up[4], mid[4], lo[4];
  oc_ta_bbands(flat, 4, 3, 2, 2, up, mid, lo);
  assert_nan(up[1]);
  assert_near(up[3], 5);
  assert_near(lo[3], 5);
}

/* ---- streaming steps against whole-array calls ---- */

/* Deterministic block lengths of 1..max rows, so every block boundary position gets exercised. */
static size_t next_block(unsigned *seed, size_t max) {
  *seed = *seed * 1103515245u + 12345u;
  return 1 + (*seed >> 8) % max;
}

static double *alloc_doubles(size_t n) { return malloc(n * sizeof(double)); }

static void test_streaming_matches_whole_array(void **state) {
  (void)state;
  enum { N = 4000 };
  double *close = alloc_doubles(N), *ret = alloc_doubles(N), *got[8], *want[8];
  for (int k = 0; k < 8; k++) {
    got[k] = alloc_doubles(N);
    want[k] = alloc_doubles(N);
  }
  double p = 60;
  unsigned x = 99;
  for (size_t i = 0; i < N; i++) {
    x = x * 1103515245u + 12345u;
    p *= exp(((double)((x >> 8) % 2001) - 1000.0) / 40000.0);
    close[i] = p;
  }
  oc_log_returns(close, N, ret);
  for (size_t i = 37; i < N; i += 211) ret[i] = NAN; /* missing returns blank their windows */

  /* Four SMA windows fused, the first with its variance, against SMA, BBANDS and STDDEV. */
  const int periods[] = {20, 5, 10, 60};
  oc_ta_moments m[4];
  for (int k = 0; k < 4; k++) oc_ta_moments_init(&m[k], periods[k]);
  unsigned seed = 1;
  for (size_t first = 0, len; first < N; first += len) {
    len = next_block(&seed, 300);
    len = len < N - first ? len : N - first;
    double *const means[4] = {got[0] + first, got[1] + first, got[2] + first, got[3] + first};
    double *const variances[4] = {got[4] + first, NULL, NULL, NULL};
    oc_ta_moments_step(m, 4, close + first, len, means, variances);
  }
  for (int k = 0; k < 4; k++) {
    oc_ta_sma(close, N, periods[k], want[k]);
    assert_same(got[k], want[k], N, "fused sma");
  }
  oc_ta_bbands_from_variance(got[0], got[4], got[5], got[6], N, 2.0, 2.0);
  oc_ta_bbands(close, N, 20, 2.0, 2.0, want[4], want[0], want[5]);
  oc_ta_stddev(close, N, 20, 1.0, want[6]);
  assert_same(got[4], want[4], N, "bb upper");
  assert_same(got[5], want[5], N, "bb lower");
  assert_same(got[6], want[6], N, "stddev");

  /* The recursive indicators and the look-back ones, in random blocks. */
  oc_ta_ema_state ema;
  oc_ta_macd_state macd;
  oc_ta_wilder rsi, atr;
  oc_ta_ema_init(&ema, 12, (size_t)oc_ta_ema_lookback(12));
  oc_ta_macd_init(&macd, 12, 26, 9);
  oc_ta_wilder_init(&rsi, 14);
  oc_ta_wilder_init(&atr, 14);
  for (size_t first = 0, len; first < N; first += len) {
    len = next_block(&seed, 300);
    len = len < N - first ? len : N - first;
    const double *in = close + first;
    oc_ta_ema_step(&ema, in, len, got[0] + first);
    oc_ta_macd_step(&macd, in, len, got[1] + first, got[2] + first, got[3] + first);
    oc_ta_rsi_step(&rsi, in, len, got[4] + first);
    oc_ta_atr_close_step(&atr, in, len, got[5] + first);
    oc_ta_roc_step(in, first, len, 10, got[6] + first);
    oc_ta_mom_step(in, first, len, 10, got[7] + first);
  }
  oc_ta_ema(close, N, 12, want[0]);
  oc_ta_macd(close, N, 12, 26, 9, want[1], want[2], want[3]);
  oc_ta_rsi(close, N, 14, want[4]);
  oc_ta_atr_close(close, N, 14, want[5]);
  oc_ta_roc(close, N, 10, want[6]);
  oc_ta_mom(close, N, 10, want[7]);
  const char *what[] = {"ema", "macd", "macd signal", "macd hist", "rsi", "atr", "roc", "mom"};
  for (int k = 0; k < 8; k++) assert_same(got[k], want[k], N, what[k]);

  /* Six rolling windows in one set (a fused group of four and one of two), against each window on
   * its own; the set's blocks are split again inside (min/max sub-blocks). */
  const size_t windows[] = {5, 10, 20, 60, 1, 2};
  for (size_t w = 0; w < 6; w++) {
    oc_rolling_set set;
    oc_rolling_set_init(&set, windows, 6);
    for (size_t first = 0, len; first < N; first += len) {
      len = next_block(&seed, 1500);
      len = len < N - first ? len : N - first;
      double *out[24];
      for (size_t c = 0; c < 24; c++) out[c] = (c / 4 == w ? got[c % 4] : want[4 + c % 4]) + first;
      oc_rolling_set_step(&set, ret + first, len, out);
    }
    oc_rolling_set_free(&set);
    oc_rolling_mean_std(ret, N, windows[w], want[0], want[1]);
    oc_rolling_min_max(ret, N, windows[w], want[2], want[3]);
    for (int k = 0; k < 4; k++) assert_same(got[k], want[k], N, "rolling set");
  }

  /* Row-wise steps. */
  for (size_t first = 0, len; first < N; first += len) {
    len = next_block(&seed, 300);
    len = len < N - first ? len : N - first;
    oc_log_returns_step(close + first, first, len, got[0] + first);
    oc_lag_step(ret + first, first, len, 3, got[1] + first);
    oc_diff_step(close + first, first, len, got[2] + first);
  }
  oc_log_returns(close, N, want[0]);
  oc_lag(ret, N, 3, want[1]);
  oc_diff(close, N, want[2]);
  assert_same(got[0], want[0], N, "log returns");
  assert_same(got[1], want[1], N, "lag");
  assert_same(got[2], want[2], N, "diff");

  for (int k = 0; k < 8; k++) {
    free(got[k]);
    free(want[k]);
  }
  free(close);
  free(ret);
}

/* ---- the feature set ---- */

static void make_series(size_t n, oc_date **dates, double **close, double **exog) {
  *dates = malloc(n * sizeof **dates);
  *close = malloc(n * sizeof **close);
  *exog = malloc(n * sizeof **exog);
  oc_date d = oc_date_from_ymd(2020, 1, 6);
  double p = 50;
  unsigned x = 7;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    p *= exp(((double)((x >> 8) % 2001) - 1000.0) / 50000.0);
    (*dates)[i] = d;
    (*close)[i] = p;
    (*exog)[i] = i % 17 == 3 ? NAN : p + 2.0 + (double)(i % 5) / 10.0;
    d = oc_calendar_next_trading_day(d);
  }
}

static double **alloc_columns(size_t count, size_t n) {
  double **cols = malloc(count * sizeof *cols);
  for (size_t c = 0; c < count; c++) cols[c] = malloc(n * sizeof **cols);
  return cols;
}

static void free_columns(double **cols, size_t count) {
  for (size_t c = 0; c < count; c++) free(cols[c]);
  free(cols);
}

static void test_required_history_is_exact(void **state) {
  (void)state;
  size_t need = oc_features_required_history();
  size_t n = need + 5;
  oc_date *dates;
  double *close, *exog;
  make_series(n, &dates, &close, &exog);
  for (size_t i = 0; i < n; i++) exog[i] = close[i] + 1;
  const char *exog_names[] = {"BRENT"};
  const double *exogs[] = {exog};
  size_t count = oc_features_count(1);
  double **cols = alloc_columns(count, n);
  char **names = oc_features_names(exog_names, 1);
  oc_feature_input in = {need, dates, close, 1, exog_names, exogs};
  oc_features_compute(&in, cols, 1);
  for (size_t c = 0; c < count; c++)
    if (isnan(cols[c][need - 1])) fail_msg("%s has no value with %zu rows", names[c], need);
  in.n = need - 1;
  oc_features_compute(&in, cols, 1);
  size_t missing = 0;
  for (size_t c = 0; c < count; c++) missing += isnan(cols[c][need - 2]) != 0;
  assert_true(missing > 0);
  oc_features_free_names(names, count);
  free_columns(cols, count);
  free(dates);
  free(close);
  free(exog);
}

/* Calendar features against the date module, over trading days spanning leap years, and over
 * every calendar day (weekends included) of a few years. */
static void test_calendar_features(void **state) {
  (void)state;
  size_t n = 4000;
  oc_date *dates = malloc(n * sizeof *dates);
  double *close = malloc(n * sizeof *close);
  for (size_t i = 0; i < n; i++) {
    dates[i] = i < 2000 ? oc_calendar_add_trading_days(oc_date_from_ymd(1995, 12, 27), (int)i)
                        : oc_date_from_ymd(2023, 12, 1) + (oc_date)(i - 2000);
    close[i] = 50;
  }
  size_t count = oc_features_count(0);
  double **cols = alloc_columns(count, n);
  oc_feature_input in = {n, dates, close, 0, NULL, NULL};
  oc_features_compute(&in, cols, 1);
  for (size_t i = 0; i < n; i++) {
    int y, m, d, wd = oc_date_weekday(dates[i]), doy = oc_date_day_of_year(dates[i]);
    oc_date_to_ymd(dates[i], &y, &m, &d);
    double days = oc_date_days_in_year(y);
    assert_near(cols[0][i], sin(2 * M_PI * (wd - 1) / 7.0));
    assert_near(cols[1][i], cos(2 * M_PI * (wd - 1) / 7.0));
    assert_near(cols[2][i], sin(2 * M_PI * (doy - 1) / days));
    assert_near(cols[3][i], cos(2 * M_PI * (doy - 1) / days));
    assert_true(cols[4][i] == m);
  }
  free_columns(cols, count);
  free(dates);
  free(close);
}

/* Any thread count, and output columns at any 8-byte alignment (streamed where 16-byte aligned,
 * copied otherwise), give the same bits; the length ends mid-block. */
static void test_threads_and_alignment_bit_identical(void **state) {
  (void)state;
  size_t n = 5001;
  oc_date *dates;
  double *close, *exog;
  make_series(n, &dates, &close, &exog);
  const char *exog_names[] = {"BRENT", "OTHER"};
  const double *exogs[] = {exog, close};
  size_t count = oc_features_count(2);
  double **one = oc_features_alloc_columns(count, n), **storage = alloc_columns(count, n + 1);
  double **four = malloc(count * sizeof *four);
  for (size_t c = 0; c < count; c++) four[c] = storage[c] + 1; /* 8 bytes off a 16-byte boundary */
  oc_feature_input in = {n, dates, close, 2, exog_names, exogs};
  oc_features_compute(&in, one, 1);
  oc_features_compute(&in, four, 4);
  for (size_t c = 0; c < count; c++) assert_memory_equal(one[c], four[c], n * sizeof(double));
  char **names = oc_features_names(exog_names, 2);
  assert_string_equal(names[0], "dow_sin");
  assert_string_equal(names[11], "ret_mean_5");
  assert_string_equal(names[14], "ret_max_5");
  assert_string_equal(names[count - 1], "spread_OTHER_chg");
  for (size_t c = 0; c < count; c++) /* every name is unique */
    for (size_t k = c + 1; k < count; k++) assert_string_not_equal(names[c], names[k]);
  oc_features_free_names(names, count);
  oc_features_free_columns(one, count);
  free_columns(storage, count);
  free(four);
  free(dates);
  free(close);
  free(exog);
}

static const double *column(double **cols, char **names, size_t count, const char *name) {
  for (size_t c = 0; c < count; c++)
    if (strcmp(names[c], name) == 0) return cols[c];
  fail_msg("no feature column %s", name);
  return NULL;
}

/* Every column of the feature set, computed in blocks by lanes and streamed to its output, equals
 * the whole-array function it is defined by, bit for bit, over several blocks. */
static void test_feature_columns_match_functions(void **state) {
  (void)state;
  size_t n = 3000;
  oc_date *dates;
  double *close, *exog;
  make_series(n, &dates, &close, &exog);
  const char *exog_names[] = {"BRENT"};
  const double *exogs[] = {exog};
  size_t count = oc_features_count(1);
  double **cols = alloc_columns(count, n), *want = alloc_doubles(n), *w2 = alloc_doubles(n), *w3 = alloc_doubles(n);
  double *ret = alloc_doubles(n), *spread = alloc_doubles(n);
  char **names = oc_features_names(exog_names, 1);
  oc_feature_input in = {n, dates, close, 1, exog_names, exogs};
  oc_features_compute(&in, cols, 2);
#define SAME(name) assert_same(column(cols, names, count, name), want, n, name)
  oc_log_returns(close, n, ret);
  assert_same(column(cols, names, count, "logret"), ret, n, "logret");
  for (size_t lag = 1; lag <= 5; lag++) {
    char name[32];
    snprintf(name, sizeof name, "logret_lag%zu", lag);
    oc_lag(ret, n, lag, want);
    SAME(name);
  }
  const size_t windows[] = {5, 10, 20, 60};
  for (size_t w = 0; w < 4; w++) {
    char mean[32], sd[32], mn[32], mx[32];
    snprintf(mean, sizeof mean, "ret_mean_%zu", windows[w]);
    snprintf(sd, sizeof sd, "ret_std_%zu", windows[w]);
    snprintf(mn, sizeof mn, "ret_min_%zu", windows[w]);
    snprintf(mx, sizeof mx, "ret_max_%zu", windows[w]);
    oc_rolling_mean_std(ret, n, windows[w], want, w2);
    SAME(mean);
    assert_same(column(cols, names, count, sd), w2, n, sd);
    oc_rolling_min_max(ret, n, windows[w], want, w2);
    SAME(mn);
    assert_same(column(cols, names, count, mx), w2, n, mx);
  }
  oc_ta_rsi(close, n, 14, want);
  SAME("rsi14");
  oc_ta_macd(close, n, 12, 26, 9, want, w2, w3);
  SAME("macd");
  assert_same(column(cols, names, count, "macd_signal"), w2, n, "macd_signal");
  assert_same(column(cols, names, count, "macd_hist"), w3, n, "macd_hist");
  oc_ta_roc(close, n, 10, want);
  SAME("roc10");
  oc_ta_mom(close, n, 10, want);
  SAME("mom10");
  oc_ta_stddev(close, n, 20, 1.0, want);
  SAME("stddev20");
  oc_ta_atr_close(close, n, 14, want);
  SAME("atr14");
  oc_ta_ema(close, n, 12, want);
  SAME("ema12");
  oc_ta_ema(close, n, 26, want);
  SAME("ema26");
  const int periods[] = {5, 10, 20, 60};
  for (int k = 0; k < 4; k++) {
    char name[32];
    snprintf(name, sizeof name, "price_rel_sma%d", periods[k]);
    oc_ta_sma(close, n, periods[k], w2);
    oc_relative_to(close, w2, n, want);
    SAME(name);
  }
  oc_ta_sma(close, n, 20, want);
  SAME("sma20");
  oc_ta_bbands(close, n, 20, 2.0, 2.0, w2, want, w3);
  SAME("bb_middle");
  assert_same(column(cols, names, count, "bb_upper"), w2, n, "bb_upper");
  assert_same(column(cols, names, count, "bb_lower"), w3, n, "bb_lower");
  for (size_t i = 0; i < n; i++) {
    double width = w2[i] - w3[i];
    want[i] = width > 0 ? (close[i] - w3[i]) / width : (width == 0 ? 0.5 : NAN);
  }
  SAME("bb_pctb");
  for (size_t i = 0; i < n; i++) want[i] = (w2[i] - w3[i]) / column(cols, names, count, "bb_middle")[i];
  SAME("bb_bandwidth");
  oc_subtract(exog, close, n, spread);
  assert_same(column(cols, names, count, "spread_BRENT"), spread, n, "spread_BRENT");
  oc_diff(spread, n, want);
  SAME("spread_BRENT_chg");
#undef SAME
  oc_features_free_names(names, count);
  free_columns(cols, count);
  free(want);
  free(w2);
  free(w3);
  free(ret);
  free(spread);
  free(dates);
  free(close);
  free(exog);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rolling_mean_std_hand),      cmocka_unit_test(test_rolling_missing_blanks_its_windows),
      cmocka_unit_test(test_rolling_min_max_hand),       cmocka_unit_test(test_rolling_min_max_matches_rescan),
      cmocka_unit_test(test_returns_lags_hand),          cmocka_unit_test(test_indicators_hand),
      cmocka_unit_test(test_required_history_is_exact),  cmocka_unit_test(test_threads_and_alignment_bit_identical),
      cmocka_unit_test(test_calendar_features),          cmocka_unit_test(test_streaming_matches_whole_array),
      cmocka_unit_test(test_feature_columns_match_functions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
