/* Unit tests for src/features: every TA-Lib indicator against the TA-Lib-computed standard
 * ($OILCAST_TEST_DATA/talib/wti-indicators.csv, produced by the TA-Lib 0.4 C library from
 * wti-daily.csv, see that directory's README.md) on the whole file, values and missing cells; small
 * hand-computed cases for the rolling statistics, lags and indicators that always run; the feature
 * set's required history and its independence from the thread count. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "features/features.h"
#include "features/indicators.h"
#include "features/rolling.h"

static void assert_nan(double v) { assert_true(isnan(v)); }
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

/* Rolling min/max against a brute-force rescan on a long pseudo-random series. */
static void test_rolling_min_max_matches_rescan(void **state) {
  (void)state;
  enum { N = 3000 };
  double *in = malloc(N * sizeof *in), *mn = malloc(N * sizeof *mn), *mx = malloc(N * sizeof *mx);
  unsigned x = 12345;
  for (int i = 0; i < N; i++) {
    x = x * 1103515245u + 12345u;
    in[i] = (x >> 16) % 97 == 0 ? NAN : (double)((x >> 8) % 1000);
  }
  const size_t windows[] = {1, 2, 5, 20, 60};
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

/* ---- the TA-Lib standard ---- */

enum { C_DATE, C_CLOSE, C_SMA20, C_EMA12, C_EMA26, C_RSI14, C_MACD, C_MACD_SIGNAL, C_MACD_HIST, C_BB_UPPER,
       C_BB_MIDDLE, C_BB_LOWER, C_ROC10, C_MOM10, C_STDDEV20, C_COUNT };

typedef struct fixture {
  size_t n;
  double *col[C_COUNT]; /* NaN for empty cells; C_DATE unused */
} fixture;

static void load_fixture(fixture *fx) {
  oc_test_data_dir_or_skip();
  char *path = oc_test_data_path("talib/wti-indicators.csv"), *text;
  size_t len;
  oc_error err;
  if (oc_read_file(path, &text, &len, &err) != 0) fail_msg("%s", err.message);
  memset(fx, 0, sizeof *fx);
  size_t cap = 0;
  char *line = strchr(text, '\n') + 1; /* skip the header */
  while (*line) {
    char *end = strchr(line, '\n');
    if (end) *end = '\0';
    if (*line) {
      if (fx->n == cap) {
        cap = cap ? 2 * cap : 16384;
        for (int c = 0; c < C_COUNT; c++) fx->col[c] = realloc(fx->col[c], cap * sizeof(double));
      }
      char *p = line;
      for (int c = 0; c < C_COUNT; c++) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        fx->col[c][fx->n] = (c == C_DATE || !*p) ? NAN : strtod(p, NULL);
        p = comma ? comma + 1 : p + strlen(p);
      }
      fx->n++;
    }
    if (!end) break;
    line = end + 1;
  }
  free(text);
  free(path);
}

static void free_fixture(fixture *fx) {
  for (int c = 0; c < C_COUNT; c++) free(fx->col[c]);
}

/* The fixture prints 12 significant digits, so agreement is to its rounding (5e-12 relative) plus
 * the 1e-9 the standard allows; missing cells must coincide exactly. */
static void compare_column(const fixture *fx, int c, const double *got, const char *name) {
  size_t compared = 0;
  for (size_t i = 0; i < fx->n; i++) {
    double want = fx->col[c][i];
    if (isnan(want) != isnan(got[i]))
      fail_msg("%s row %zu: TA-Lib %s, oilcast %.17g", name, i, isnan(want) ? "has no value" : "has a value", got[i]);
    if (isnan(want)) continue;
    double scale = fabs(want) > 1e-6 ? fabs(want) : 1e-6;
    if (fabs(got[i] - want) > 1e-9 * scale)
      fail_msg("%s row %zu: TA-Lib %.12g, oilcast %.17g", name, i, want, got[i]);
    compared++;
  }
  assert_true(compared + 40 > fx->n);
}

static void test_talib_standard(void **state) {
  (void)state;
  fixture fx;
  load_fixture(&fx);
  assert_int_equal(fx.n, 9821);
  size_t n = fx.n;
  const double *close = fx.col[C_CLOSE];
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
  oc_ta_sma(close, n, 20, a);
  compare_column(&fx, C_SMA20, a, "sma20");
  oc_ta_ema(close, n, 12, a);
  compare_column(&fx, C_EMA12, a, "ema12");
  oc_ta_ema(close, n, 26, a);
  compare_column(&fx, C_EMA26, a, "ema26");
  oc_ta_rsi(close, n, 14, a);
  compare_column(&fx, C_RSI14, a, "rsi14");
  oc_ta_macd(close, n, 12, 26, 9, a, b, c);
  compare_column(&fx, C_MACD, a, "macd");
  compare_column(&fx, C_MACD_SIGNAL, b, "macd_signal");
  compare_column(&fx, C_MACD_HIST, c, "macd_hist");
  oc_ta_bbands(close, n, 20, 2.0, 2.0, a, b, c);
  compare_column(&fx, C_BB_UPPER, a, "bb_upper");
  compare_column(&fx, C_BB_MIDDLE, b, "bb_middle");
  compare_column(&fx, C_BB_LOWER, c, "bb_lower");
  oc_ta_roc(close, n, 10, a);
  compare_column(&fx, C_ROC10, a, "roc10");
  oc_ta_mom(close, n, 10, a);
  compare_column(&fx, C_MOM10, a, "mom10");
  oc_ta_stddev(close, n, 20, 1.0, a);
  compare_column(&fx, C_STDDEV20, a, "stddev20");
  free(a);
  free(b);
  free(c);
  free_fixture(&fx);
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
    d = oc_date_add_business_days(d, 1);
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

/* Calendar features against the date module, over business days spanning leap years, and over
 * every calendar day (weekends included) of a few years. */
static void test_calendar_features(void **state) {
  (void)state;
  size_t n = 4000;
  oc_date *dates = malloc(n * sizeof *dates);
  double *close = malloc(n * sizeof *close);
  for (size_t i = 0; i < n; i++) {
    dates[i] = i < 2000 ? oc_date_add_business_days(oc_date_from_ymd(1995, 12, 27), (int)i)
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

static void test_threads_bit_identical(void **state) {
  (void)state;
  size_t n = 5000;
  oc_date *dates;
  double *close, *exog;
  make_series(n, &dates, &close, &exog);
  const char *exog_names[] = {"BRENT", "OTHER"};
  const double *exogs[] = {exog, close};
  size_t count = oc_features_count(2);
  double **one = alloc_columns(count, n), **four = alloc_columns(count, n);
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
  free_columns(one, count);
  free_columns(four, count);
  free(dates);
  free(close);
  free(exog);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rolling_mean_std_hand),      cmocka_unit_test(test_rolling_missing_blanks_its_windows),
      cmocka_unit_test(test_rolling_min_max_hand),       cmocka_unit_test(test_rolling_min_max_matches_rescan),
      cmocka_unit_test(test_returns_lags_hand),          cmocka_unit_test(test_indicators_hand),
      cmocka_unit_test(test_required_history_is_exact),  cmocka_unit_test(test_threads_bit_identical),
      cmocka_unit_test(test_calendar_features),
      cmocka_unit_test(test_talib_standard),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
