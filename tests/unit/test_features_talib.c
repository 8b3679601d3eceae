/* Unit tests for src/features against the TA-Lib standard: every TA-Lib indicator, and the same
 * indicators as columns of the feature set (computed block by block, several blocks long), against
 * $OILCAST_TEST_DATA/talib/wti-indicators.csv (produced by the TA-Lib 0.4 C library from
 * wti-daily.csv, see that directory's README.md) on the whole file, values and missing cells. Skipped
 * where the shared data is absent (a failure when CI=true). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/fsutil.h"
#include "features/features.h"
#include "features/indicators.h"


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

/* The feature set's indicator columns on the fixture's close prices (trading days from 1986). */
static void test_feature_set_matches_talib(void **state) {
  (void)state;
  fixture fx;
  load_fixture(&fx);
  size_t n = fx.n;
  oc_date *dates = malloc(n * sizeof *dates);
  for (size_t i = 0; i < n; i++) dates[i] = oc_calendar_add_trading_days(oc_date_from_ymd(1986, 1, 2), (int)i);
  oc_feature_input in = {n, dates, fx.col[C_CLOSE], 0, NULL, NULL};
  size_t count = oc_features_count(0);
  double **cols = oc_features_alloc_columns(count, n);
  char **names = oc_features_names(NULL, 0);
  oc_features_compute(&in, cols, 2);
  const struct {
    const char *feature;
    int column;
  } pairs[] = {{"sma20", C_SMA20},       {"ema12", C_EMA12},         {"ema26", C_EMA26},
               {"rsi14", C_RSI14},       {"macd", C_MACD},           {"macd_signal", C_MACD_SIGNAL},
               {"macd_hist", C_MACD_HIST}, {"bb_upper", C_BB_UPPER}, {"bb_middle", C_BB_MIDDLE},
               {"bb_lower", C_BB_LOWER}, {"roc10", C_ROC10},         {"mom10", C_MOM10},
               {"stddev20", C_STDDEV20}};
  for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
    size_t c = 0;
    while (c < count && strcmp(names[c], pairs[p].feature) != 0) c++;
    assert_true(c < count);
    compare_column(&fx, pairs[p].column, cols[c], pairs[p].feature);
  }
  oc_features_free_names(names, count);
  oc_features_free_columns(cols, count);
  free(dates);
  free_fixture(&fx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_talib_standard),
      cmocka_unit_test(test_feature_set_matches_talib),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
