/* Unit tests for src/features/etl: the frame contract on the real WTI (+ Brent) series, the three
 * non-positive price policies on 2020-04-20, no look-ahead (every value after t changed => features and
 * normalization parameters at or before t bit-identical), a 10-trading-day gap, a single-row series,
 * an all-missing exogenous series, the forward-fill limit, and the inference row matching the table. */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/fsutil.h"
#include "features/etl.h"
#include "features/features.h"
#include "features/frame_csv.h"

static oc_date D(const char *s) {
  oc_date d;
  assert_int_equal(oc_date_parse(s, strlen(s), &d, NULL), 0);
  return d;
}

/* Loads a shared-data "Date,Price" file. */
static void load_csv(const char *file, const char *name, oc_series *s) {
  oc_test_data_dir_or_skip();
  char *path = oc_test_data_path(file), *text;
  size_t len;
  oc_error err;
  if (oc_read_file(path, &text, &len, &err) != 0) fail_msg("%s", err.message);
  size_t rows = 0;
  for (size_t i = 0; i < len; i++) rows += text[i] == '\n';
  oc_series_init(s, name, rows);
  s->n = 0;
  for (char *line = strchr(text, '\n') + 1; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (line[0] < '0' || line[0] > '9') continue;
    assert_int_equal(oc_date_parse(line, 10, &s->dates[s->n], NULL), 0);
    s->values[s->n++] = strtod(line + 11, NULL);
  }
  free(text);
  free(path);
}

/* A random-walk series of n trading days from 2015-01-05 (deterministic for seed). */
static void synth(oc_series *s, const char *name, size_t n, unsigned seed, double start) {
  oc_series_init(s, name, n);
  oc_date d = D("2015-01-05");
  double p = start;
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    p *= exp(((double)((seed >> 8) % 2001) - 1000.0) / 40000.0);
    s->dates[i] = d;
    s->values[i] = p;
    d = oc_calendar_next_trading_day(d);
  }
}

/* A target and a correlated-looking exogenous series over the same n trading days. */
static void synth_pair(size_t n, oc_series *target, oc_series *exog) {
  synth(target, "WTI", n, 11, 60);
  synth(exog, "BRENT", n, 23, 63);
}

static void free_pair(oc_series *target, oc_series *exog) {
  oc_series_free(target);
  oc_series_free(exog);
}

static const double *col(const oc_frame *f, const char *name) {
  long c = oc_frame_find_column(f, name);
  if (c < 0) fail_msg("no column %s", name);
  return f->cols[c];
}

static long row_of(const oc_frame *f, oc_date d) {
  for (size_t i = 0; i < f->nrows; i++)
    if (f->dates[i] == d) return (long)i;
  return -1;
}

static void test_real_wti_contract(void **state) {
  (void)state;
  oc_series wti, brent;
  load_csv("wti-daily.csv", "WTI", &wti);
  load_csv("brent-daily.csv", "BRENT", &brent);
  oc_etl_options o;
  oc_etl_options_default(&o);
  oc_frame f;
  oc_etl_report r;
  oc_error err;
  if (oc_etl_build(&wti, &brent, 1, &o, &f, &r, &err) != 0) fail_msg("%s", err.message);
  oc_buf text = {0};
  oc_etl_report_format(&r, &text);
  printf("%s", text.data);
  oc_buf_free(&text);

  /* rows: every cleaned row; the negative day is dropped and reported */
  assert_int_equal(r.rows_in, 9821);
  assert_int_equal(r.nonpositive, 1);
  assert_int_equal(r.nonpositive_dates[0], D("2020-04-20"));
  assert_int_equal(f.nrows, 9820);
  assert_int_equal(row_of(&f, D("2020-04-20")), -1);
  /* layout: close, features, targets */
  assert_string_equal(f.names[0], "close");
  json_t *features = json_loads(oc_frame_get_meta(&f, "oilcast.features"), 0, NULL);
  json_t *targets = json_loads(oc_frame_get_meta(&f, "oilcast.targets"), 0, NULL);
  assert_non_null(features);
  assert_int_equal(json_array_size(targets), 7);
  assert_int_equal(f.ncols, 1 + json_array_size(features) + 7);
  for (size_t i = 0; i < json_array_size(features); i++)
    assert_string_equal(f.names[1 + i], json_string_value(json_array_get(features, i)));
  assert_string_equal(f.names[f.ncols - 7], "target_h1");
  assert_string_equal(f.names[f.ncols - 1], "target_h7");
  assert_int_equal(json_array_size(features), r.features_kept);
  assert_int_equal(r.features_kept + r.features_dropped, oc_features_count(1));
  json_decref(features);
  json_decref(targets);
  const char *keys[] = {"oilcast.series", "oilcast.horizon", "oilcast.train_end", "oilcast.normalization",
                        "oilcast.policies", "oilcast.dropped_features", "oilcast.source_checksum",
                        "oilcast.version"};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) assert_non_null(oc_frame_get_meta(&f, keys[k]));
  assert_string_equal(oc_frame_get_meta(&f, "oilcast.series"), "WTI");
  assert_string_equal(oc_frame_get_meta(&f, "oilcast.horizon"), "7");
  assert_int_equal(strlen(oc_frame_get_meta(&f, "oilcast.source_checksum")), 64);
  /* split: 10% of the 9813 rows with all targets are validation */
  assert_int_equal(r.train_rows + r.validation_rows, 9813);
  assert_int_equal(r.validation_rows, 981);
  char d[OC_DATE_STRLEN];
  assert_string_equal(oc_frame_get_meta(&f, "oilcast.train_end"), oc_date_format(r.train_end, d));
  /* close is raw; targets are log returns h ahead with NaN at the tail */
  long apr17 = row_of(&f, D("2020-04-17")), apr21 = row_of(&f, D("2020-04-21"));
  assert_int_equal(apr21, apr17 + 1);
  assert_true(col(&f, "close")[apr17] == 18.31);
  assert_true(oc_test_close(col(&f, "target_h1")[apr17], log(8.91 / 18.31), 1e-15));
  assert_true(isnan(col(&f, "target_h1")[f.nrows - 1]));
  assert_false(isnan(col(&f, "target_h1")[f.nrows - 2]));
  assert_true(isnan(col(&f, "target_h7")[f.nrows - 7]));
  /* normalized features: mean ~0 and std ~1 over the training rows (z-score) */
  size_t ntrain = 0;
  for (size_t i = 0; i < f.nrows && f.dates[i] <= r.train_end; i++) ntrain++;
  for (size_t c = 1; c < f.ncols - 7; c++) {
    double s = 0, ss = 0;
    size_t m = 0;
    for (size_t i = 0; i < ntrain; i++)
      if (isfinite(f.cols[c][i])) {
        s += f.cols[c][i];
        ss += f.cols[c][i] * f.cols[c][i];
        m++;
      }
    assert_true(fabs(s / m) < 1e-9);
    assert_true(fabs(ss / m - 1) < 1e-9);
  }
  /* Brent's spread survives selection, the price-level twins of sma20 do not */
  assert_true(oc_frame_find_column(&f, "spread_BRENT") >= 0);
  assert_int_equal(oc_frame_find_column(&f, "ema12"), -1);

  /* the inference row at the last date equals the table's last row */
  oc_feature_transform t;
  if (oc_feature_transform_from_frame(&f, &t, &err) != 0) fail_msg("%s", err.message);
  double *row = calloc(t.n, sizeof *row);
  oc_date as_of;
  if (oc_feature_transform_latest(&t, &wti, &brent, 1, row, &as_of, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(as_of, f.dates[f.nrows - 1]);
  for (size_t i = 0; i < t.n; i++) assert_true(row[i] == col(&f, t.names[i])[f.nrows - 1]);
  /* without the policies: defaults (the table used them) and the exog named by the spread features */
  oc_feature_transform t2;
  if (oc_feature_transform_parse(oc_frame_get_meta(&f, "oilcast.features"), oc_frame_get_meta(&f, "oilcast.normalization"),
                                 NULL, &t2, &err) != 0)
    fail_msg("%s", err.message);
  assert_int_equal(t2.nexog, 1);
  assert_string_equal(t2.exog_names[0], "BRENT");
  double *row2 = calloc(t2.n, sizeof *row2);
  assert_int_equal(oc_feature_transform_latest(&t2, &wti, &brent, 1, row2, &as_of, &err), 0);
  assert_memory_equal(row, row2, t.n * sizeof *row);
  free(row2);
  oc_feature_transform_free(&t2);
  /* too short a history: a clear error with the number needed */
  size_t need = oc_features_required_history();
  oc_series shortw = wti;
  shortw.n = need - 1;
  oc_series shortb = brent;
  assert_int_equal(oc_feature_transform_latest(&t, &shortw, &shortb, 1, row, &as_of, &err), -1);
  char want[64];
  snprintf(want, sizeof want, "need at least %zu", need);
  assert_non_null(strstr(err.message, want));
  /* wrong exog set */
  assert_int_equal(oc_feature_transform_latest(&t, &wti, NULL, 0, row, &as_of, &err), -1);
  free(row);
  oc_feature_transform_free(&t);

  /* deterministic: a second build is identical */
  oc_frame g;
  if (oc_etl_build(&wti, &brent, 1, &o, &g, NULL, &err) != 0) fail_msg("%s", err.message);
  assert_int_equal(g.ncols, f.ncols);
  for (size_t c = 0; c < f.ncols; c++) assert_memory_equal(f.cols[c], g.cols[c], f.nrows * sizeof(double));
  for (size_t m = 0; m < f.nmeta; m++) assert_string_equal(f.meta_values[m], g.meta_values[m]);
  oc_frame_free(&g);
  oc_frame_free(&f);
  oc_etl_report_free(&r);
  oc_series_free(&wti);
  oc_series_free(&brent);
}

static void test_nonpositive_policies(void **state) {
  (void)state;
  oc_series s;
  synth(&s, "WTI", 300, 3, 20);
  oc_date bad = s.dates[200];
  s.values[200] = -36.98;
  oc_etl_options o;
  oc_etl_options_default(&o);
  oc_frame f;
  oc_etl_report r;
  oc_error err;
  /* drop (default): the row is gone and reported */
  assert_int_equal(oc_etl_build(&s, NULL, 0, &o, &f, &r, &err), 0);
  assert_int_equal(f.nrows, 299);
  assert_int_equal(row_of(&f, bad), -1);
  assert_int_equal(r.nonpositive, 1);
  assert_true(r.nonpositive_values[0] == -36.98);
  assert_non_null(strstr(oc_frame_get_meta(&f, "oilcast.policies"), "\"non_positive\":\"drop\""));
  oc_frame_free(&f);
  oc_etl_report_free(&r);
  /* clip: the row stays at the floor, the huge returns are flagged as outliers */
  o.nonpositive = OC_NONPOS_CLIP;
  assert_int_equal(oc_etl_build(&s, NULL, 0, &o, &f, &r, &err), 0);
  assert_int_equal(f.nrows, 300);
  assert_true(col(&f, "close")[200] == 0.01);
  assert_true(r.noutliers >= 1);
  assert_int_equal(r.outlier_dates[0], bad);
  assert_non_null(strstr(oc_frame_get_meta(&f, "oilcast.policies"), "\"non_positive\":\"clip\""));
  oc_frame_free(&f);
  oc_etl_report_free(&r);
  /* fail: an error naming the day */
  o.nonpositive = OC_NONPOS_FAIL;
  assert_int_equal(oc_etl_build(&s, NULL, 0, &o, &f, &r, &err), -1);
  char d[OC_DATE_STRLEN];
  assert_non_null(strstr(err.message, oc_date_format(bad, d)));
  assert_non_null(strstr(err.message, "-36.98"));
  oc_etl_report_free(&r);
  oc_series_free(&s);
}

/* Features (raw and normalized), normalization parameters and selection at or before t are unchanged
 * when every value after t changes, t a few rows after the training window; with outlier dropping on,
 * its causality is covered too. */
static void check_no_lookahead(oc_norm_method method, oc_outlier_policy outliers, oc_date train_end) {
  oc_series s, e;
  synth_pair(900, &s, &e);
  oc_etl_options o;
  oc_etl_options_default(&o);
  o.outliers = outliers;
  o.outlier_z = 3;
  o.normalization = method;
  o.train_end = train_end;
  oc_frame a, b;
  oc_error err;
  if (oc_etl_build(&s, &e, 1, &o, &a, NULL, &err) != 0) fail_msg("%s", err.message);
  oc_date cut = oc_date_parse(oc_frame_get_meta(&a, "oilcast.train_end"), 10, &cut, NULL) == 0 ? cut : 0;
  size_t t = 0;
  while (s.dates[t] <= cut) t++;
  t += 3; /* a few rows past the training window */
  unsigned x = 99;
  for (size_t i = t + 1; i < s.n; i++) {
    x = x * 1103515245u + 12345u;
    s.values[i] *= 0.5 + (double)(x >> 16 & 0xffff) / 65536.0;
    e.values[i] *= 1.5 - (double)(x >> 8 & 0xff) / 256.0;
  }
  if (oc_etl_build(&s, &e, 1, &o, &b, NULL, &err) != 0) fail_msg("%s", err.message);
  const char *same[] = {"oilcast.features", "oilcast.normalization", "oilcast.dropped_features",
                        "oilcast.train_end", "oilcast.policies"};
  for (size_t k = 0; k < sizeof same / sizeof same[0]; k++)
    assert_string_equal(oc_frame_get_meta(&a, same[k]), oc_frame_get_meta(&b, same[k]));
  long last = row_of(&a, s.dates[t]);
  assert_true(last > 0);
  assert_int_equal(row_of(&b, s.dates[t]), last);
  assert_memory_equal(a.dates, b.dates, (size_t)(last + 1) * sizeof(oc_date));
  for (size_t c = 0; c < a.ncols; c++) {
    /* targets look h rows ahead by definition: compare those only where t+h <= last */
    size_t rows = (size_t)last + 1;
    if (strncmp(a.names[c], "target_h", 8) == 0) rows -= (size_t)atoi(a.names[c] + 8);
    assert_memory_equal(a.cols[c], b.cols[c], rows * sizeof(double));
  }
  oc_frame_free(&a);
  oc_frame_free(&b);
  free_pair(&s, &e);
}

/* The raw feature set, for cuts inside and after any training window: values after the cut replaced
 * (prices scaled, the exog negated) leave every feature at or before the cut bit-identical. */
static void test_features_causal(void **state) {
  (void)state;
  oc_series s, e;
  synth_pair(900, &s, &e);
  size_t count = oc_features_count(1);
  double **fa = malloc(count * sizeof *fa), **fb = malloc(count * sizeof *fb);
  for (size_t c = 0; c < count; c++) {
    fa[c] = malloc(s.n * sizeof(double));
    fb[c] = malloc(s.n * sizeof(double));
  }
  const char *names[] = {"BRENT"};
  const double *exog_a[] = {e.values};
  oc_feature_input ia = {s.n, s.dates, s.values, 1, names, exog_a};
  oc_features_compute(&ia, fa, 1);
  double *changed = malloc(s.n * sizeof *changed), *changed_e = malloc(s.n * sizeof *changed_e);
  for (size_t cut = 0; cut < s.n; cut += 61) {
    for (size_t i = 0; i < s.n; i++) {
      changed[i] = i <= cut ? s.values[i] : s.values[i] * 1.25 + (double)i;
      changed_e[i] = i <= cut ? e.values[i] : -e.values[i];
    }
    const double *exog_b[] = {changed_e};
    oc_feature_input ib = {s.n, s.dates, changed, 1, names, exog_b};
    oc_features_compute(&ib, fb, 2);
    for (size_t c = 0; c < count; c++) assert_memory_equal(fa[c], fb[c], (cut + 1) * sizeof(double));
  }
  free(changed);
  free(changed_e);
  for (size_t c = 0; c < count; c++) {
    free(fa[c]);
    free(fb[c]);
  }
  free(fa);
  free(fb);
  free_pair(&s, &e);
}

static void test_no_lookahead(void **state) {
  (void)state;
  /* the default split (last 10% of rows) depends on the row count, which dropping outliers after t
   * may change: that case runs with an explicit train end */
  check_no_lookahead(OC_NORM_ZSCORE, OC_OUTLIER_FLAG, OC_DATE_INVALID);
  check_no_lookahead(OC_NORM_ROBUST, OC_OUTLIER_DROP, D("2017-06-30"));
  check_no_lookahead(OC_NORM_ZSCORE, OC_OUTLIER_DROP, D("2016-12-30"));
}

static void test_ten_day_gap(void **state) {
  (void)state;
  oc_series s;
  synth(&s, "WTI", 400, 5, 40);
  /* shift rows 200.. later by 10 trading days: a 10-trading-day hole */
  for (size_t i = 200; i < s.n; i++) s.dates[i] = oc_calendar_add_trading_days(s.dates[i], 10);
  oc_etl_options o;
  oc_etl_options_default(&o);
  oc_frame f;
  oc_etl_report r;
  oc_error err;
  assert_int_equal(oc_etl_build(&s, NULL, 0, &o, &f, &r, &err), 0);
  assert_int_equal(r.ngaps, 1);
  assert_int_equal(r.gaps[0].missing_trading_days, 10);
  assert_int_equal(r.gaps[0].last_before, s.dates[199]);
  assert_int_equal(r.gaps[0].first_after, s.dates[200]);
  /* rows are kept and the features run across the gap as adjacent observations */
  assert_int_equal(f.nrows, 400);
  assert_true(oc_test_close(col(&f, "target_h1")[199], log(s.values[200] / s.values[199]), 1e-15));
  oc_frame_free(&f);
  oc_etl_report_free(&r);
  oc_series_free(&s);
}

static void test_single_row_and_short(void **state) {
  (void)state;
  oc_series s;
  synth(&s, "WTI", 1, 5, 40);
  oc_etl_options o;
  oc_etl_options_default(&o);
  oc_frame f;
  oc_error err;
  assert_int_equal(oc_etl_build(&s, NULL, 0, &o, &f, NULL, &err), -1);
  assert_non_null(strstr(err.message, "has 1 rows"));
  assert_non_null(strstr(err.message, "needs at least 9 rows"));
  oc_series_free(&s);
  /* enough rows for targets but not for any feature's warm-up on training rows */
  synth(&s, "WTI", 0, 5, 40);
  assert_int_equal(oc_etl_build(&s, NULL, 0, &o, &f, NULL, &err), -1);
  oc_series_free(&s);
  /* unsorted dates */
  synth(&s, "WTI", 50, 5, 40);
  s.dates[10] = s.dates[9];
  assert_int_equal(oc_etl_build(&s, NULL, 0, &o, &f, NULL, &err), -1);
  assert_non_null(strstr(err.message, "not strictly ascending"));
  oc_series_free(&s);
}

static void test_all_missing_exog(void **state) {
  (void)state;
  oc_series s, empty, later;
  synth(&s, "WTI", 300, 5, 40);
  oc_series_init(&empty, "EMPTY", 0);
  synth(&later, "LATER", 10, 9, 40);
  for (size_t i = 0; i < later.n; i++) later.dates[i] += 3650; /* entirely after the target */
  oc_series exogs[2] = {empty, later};
  oc_etl_options o;
  oc_etl_options_default(&o);
  oc_frame f;
  oc_etl_report r;
  oc_error err;
  assert_int_equal(oc_etl_build(&s, exogs, 2, &o, &f, &r, &err), 0);
  assert_int_equal(r.exog[0].missing, 300);
  assert_int_equal(r.exog[1].missing, 300); /* never a value from after the target date */
  assert_int_equal(oc_frame_find_column(&f, "spread_EMPTY"), -1);
  assert_int_equal(oc_frame_find_column(&f, "spread_LATER"), -1);
  const char *dropped = oc_frame_get_meta(&f, "oilcast.dropped_features");
  assert_non_null(strstr(dropped, "{\"name\":\"spread_EMPTY\",\"reason\":\"no values on training rows\"}"));
  oc_frame_free(&f);
  oc_etl_report_free(&r);
  oc_series_free(&s);
  oc_series_free(&empty);
  oc_series_free(&later);
}

static void test_exog_forward_fill_limit(void **state) {
  (void)state;
  oc_series s, e;
  synth_pair(300, &s, &e);
  /* remove exog rows 100 (one day: filled) and 150..154 (five days: filled for 3, then missing) */
  size_t k = 0;
  for (size_t i = 0; i < e.n; i++)
    if (i != 100 && !(i >= 150 && i <= 154)) {
      e.dates[k] = e.dates[i];
      e.values[k++] = e.values[i];
    }
  e.n = k;
  oc_etl_options o;
  oc_etl_options_default(&o);
  o.near_constant_share = 1.0;
  oc_frame f;
  oc_etl_report r;
  oc_error err;
  assert_int_equal(oc_etl_build(&s, &e, 1, &o, &f, &r, &err), 0);
  assert_int_equal(r.exog[0].filled, 4);
  assert_int_equal(r.exog[0].missing, 2);
  assert_int_equal(r.exog[0].exact, 294);
  oc_frame_free(&f);
  oc_etl_report_free(&r);
  free_pair(&s, &e);
}

static void test_csv_output(void **state) {
  (void)state;
  oc_frame f;
  oc_frame_init(&f, 2);
  f.dates[0] = D("2020-04-17");
  f.dates[1] = D("2020-04-21");
  double *close = oc_frame_add_column(&f, "close"), *t1 = oc_frame_add_column(&f, "target_h1");
  close[0] = 18.31;
  close[1] = 8.91;
  t1[0] = -0.5;
  oc_frame_set_meta(&f, "oilcast.series", "WTI");
  char *dir = oc_test_tmpdir("etl_csv"), *path = oc_path_join(dir, "t.csv"), *meta = oc_path_join(dir, "t.csv.meta.json");
  oc_error err;
  if (oc_frame_write_csv(path, &f, &err) != 0) fail_msg("%s", err.message);
  char *text;
  size_t len;
  assert_int_equal(oc_read_file(path, &text, &len, &err), 0);
  assert_string_equal(text, "date,close,target_h1\n2020-04-17,18.31,-0.5\n2020-04-21,8.91,\n");
  free(text);
  assert_int_equal(oc_read_file(meta, &text, &len, &err), 0);
  json_t *j = json_loads(text, 0, NULL);
  assert_string_equal(json_string_value(json_object_get(j, "oilcast.series")), "WTI");
  json_decref(j);
  free(text);
  oc_test_rmtree(dir);
  free(dir);
  free(path);
  free(meta);
  oc_frame_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nonpositive_policies), cmocka_unit_test(test_no_lookahead),
      cmocka_unit_test(test_features_causal),
      cmocka_unit_test(test_ten_day_gap),          cmocka_unit_test(test_single_row_and_short),
      cmocka_unit_test(test_all_missing_exog),     cmocka_unit_test(test_exog_forward_fill_limit),
      cmocka_unit_test(test_csv_output),
      cmocka_unit_test(test_real_wti_contract),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
