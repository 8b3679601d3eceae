/* indicators.c: see indicators.h. The loops mirror TA-Lib's order of floating-point operations on
 * purpose (running totals, where the trailing value is subtracted, how the Wilder averages are
 * rescaled): a mathematically equivalent but reordered formula drifts from TA-Lib in the last digits. */
#include "features/indicators.h"

#include <math.h>

/* TA-Lib's TA_IS_ZERO / TA_IS_ZERO_OR_NEG thresholds. */
#define TA_EPSILON 0.00000001
static int ta_is_zero(double v) { return -TA_EPSILON < v && v < TA_EPSILON; }
static int ta_is_zero_or_neg(double v) { return v < TA_EPSILON; }

static double per_to_k(int period) { return 2.0 / (double)(period + 1); }

static void fill_nan(double *out, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) out[i] = NAN;
}

/* Fills the lookback rows with NaN; returns 0 when the whole output is lookback. */
static int start_after_lookback(double *out, size_t n, size_t lookback) {
  if (n <= lookback) {
    fill_nan(out, 0, n);
    return 0;
  }
  fill_nan(out, 0, lookback);
  return 1;
}

int oc_ta_sma_lookback(int period) { return period - 1; }
int oc_ta_ema_lookback(int period) { return period - 1; }
int oc_ta_rsi_lookback(int period) { return period; }
int oc_ta_roc_lookback(int period) { return period; }
int oc_ta_atr_lookback(int period) { return period; }

int oc_ta_macd_lookback(int fast, int slow, int signal) {
  int longest = slow > fast ? slow : fast;
  return oc_ta_ema_lookback(longest) + oc_ta_ema_lookback(signal);
}

void oc_ta_sma(const double *in, size_t n, int period, double *out) {
  size_t lookback = (size_t)oc_ta_sma_lookback(period);
  if (!start_after_lookback(out, n, lookback)) return;
  double total = 0.0;
  size_t i = 0, trailing = 0;
  for (; i < lookback; i++) total += in[i];
  for (; i < n; i++) {
    total += in[i];
    double window_total = total;
    total -= in[trailing++];
    out[i] = window_total / period;
  }
}

/* TA-Lib's INT_EMA: the EMA's first value is at row `first`, seeded with the SMA of the period rows
 * ending there; every later row applies ((x - prev) * k) + prev. Rows before `first` are untouched. */
static void ema_seeded_at(const double *in, size_t n, int period, double k, size_t first, double *out) {
  double total = 0.0;
  for (size_t i = first + 1 - (size_t)period; i <= first; i++) total += in[i];
  double prev = total / period;
  out[first] = prev;
  for (size_t i = first + 1; i < n; i++) {
    prev = ((in[i] - prev) * k) + prev;
    out[i] = prev;
  }
}

void oc_ta_ema(const double *in, size_t n, int period, double *out) {
  size_t lookback = (size_t)oc_ta_ema_lookback(period);
  if (!start_after_lookback(out, n, lookback)) return;
  ema_seeded_at(in, n, period, per_to_k(period), lookback, out);
}

/* Adds one price change to the running gain or loss total, as TA-Lib does. */
static void add_change(double diff, double *gain, double *loss) {
  if (diff < 0)
    *loss -= diff;
  else
    *gain += diff;
}

static double rsi_value(double gain, double loss) {
  double sum = gain + loss;
  return ta_is_zero(sum) ? 0.0 : 100.0 * (gain / sum);
}

void oc_ta_rsi(const double *in, size_t n, int period, double *out) {
  size_t lookback = (size_t)oc_ta_rsi_lookback(period);
  if (!start_after_lookback(out, n, lookback)) return;
  double gain = 0.0, loss = 0.0;
  for (size_t i = 1; i <= lookback; i++) add_change(in[i] - in[i - 1], &gain, &loss);
  loss /= period;
  gain /= period;
  out[lookback] = rsi_value(gain, loss);
  for (size_t i = lookback + 1; i < n; i++) {
    loss *= (period - 1);
    gain *= (period - 1);
    add_change(in[i] - in[i - 1], &gain, &loss);
    loss /= period;
    gain /= period;
    out[i] = rsi_value(gain, loss);
  }
}

void oc_ta_macd(const double *in, size_t n, int fast, int slow, int signal, double *macd, double *macd_signal,
                double *macd_hist) {
  if (slow < fast) {
    int swap = slow;
    slow = fast;
    fast = swap;
  }
  size_t lookback = (size_t)oc_ta_macd_lookback(fast, slow, signal);
  if (!start_after_lookback(macd, n, lookback)) {
    fill_nan(macd_signal, 0, n);
    fill_nan(macd_hist, 0, n);
    return;
  }
  /* Both EMAs start at the slow EMA's first row: TA-Lib seeds the fast EMA there too. The slow EMA
   * is parked in macd_signal until the line is formed. */
  size_t first = (size_t)oc_ta_ema_lookback(slow);
  ema_seeded_at(in, n, slow, per_to_k(slow), first, macd_signal);
  ema_seeded_at(in, n, fast, per_to_k(fast), first, macd);
  for (size_t i = first; i < n; i++) macd[i] = macd[i] - macd_signal[i];
  ema_seeded_at(macd, n, signal, per_to_k(signal), lookback, macd_signal);
  fill_nan(macd, 0, lookback);
  fill_nan(macd_signal, 0, lookback);
  fill_nan(macd_hist, 0, lookback);
  for (size_t i = lookback; i < n; i++) macd_hist[i] = macd[i] - macd_signal[i];
}

void oc_ta_stddev(const double *in, size_t n, int period, double nbdev, double *out) {
  size_t lookback = (size_t)oc_ta_sma_lookback(period);
  if (!start_after_lookback(out, n, lookback)) return;
  double total = 0.0, total_sq = 0.0;
  size_t i = 0, trailing = 0;
  for (; i < lookback; i++) {
    total += in[i];
    total_sq += in[i] * in[i];
  }
  for (; i < n; i++) {
    total += in[i];
    total_sq += in[i] * in[i];
    double mean = total / period, mean_sq = total_sq / period;
    double old = in[trailing++];
    total -= old;
    total_sq -= old * old;
    double variance = mean_sq - mean * mean;
    out[i] = ta_is_zero_or_neg(variance) ? 0.0 : (nbdev != 1.0 ? sqrt(variance) * nbdev : sqrt(variance));
  }
}

void oc_ta_bbands(const double *in, size_t n, int period, double nbdev_up, double nbdev_dn, double *upper,
                  double *middle, double *lower) {
  oc_ta_sma(in, n, period, middle);
  size_t lookback = (size_t)oc_ta_sma_lookback(period);
  if (!start_after_lookback(upper, n, lookback)) {
    fill_nan(lower, 0, n);
    return;
  }
  fill_nan(lower, 0, lookback);
  /* TA-Lib's stddev_using_precalc_ma: a running sum of squares minus the SMA squared. */
  double total_sq = 0.0;
  size_t i = 0, trailing = 0;
  for (; i < lookback; i++) total_sq += in[i] * in[i];
  for (; i < n; i++) {
    total_sq += in[i] * in[i];
    double variance = total_sq / period;
    double old = in[trailing++];
    total_sq -= old * old;
    variance -= middle[i] * middle[i];
    double sd = ta_is_zero_or_neg(variance) ? 0.0 : sqrt(variance);
    upper[i] = middle[i] + sd * nbdev_up;
    lower[i] = middle[i] - sd * nbdev_dn;
  }
}

void oc_ta_roc(const double *in, size_t n, int period, double *out) {
  size_t lookback = (size_t)oc_ta_roc_lookback(period);
  if (!start_after_lookback(out, n, lookback)) return;
  for (size_t i = lookback; i < n; i++) {
    double base = in[i - lookback];
    out[i] = base != 0.0 ? ((in[i] / base) - 1.0) * 100.0 : 0.0;
  }
}

void oc_ta_mom(const double *in, size_t n, int period, double *out) {
  size_t lookback = (size_t)oc_ta_roc_lookback(period);
  if (!start_after_lookback(out, n, lookback)) return;
  for (size_t i = lookback; i < n; i++) out[i] = in[i] - in[i - lookback];
}

void oc_ta_atr_close(const double *close, size_t n, int period, double *out) {
  size_t lookback = (size_t)oc_ta_atr_lookback(period);
  if (!start_after_lookback(out, n, lookback)) return;
  double total = 0.0;
  for (size_t i = 1; i <= lookback; i++) total += fabs(close[i - 1] - close[i]);
  double atr = total / period;
  out[lookback] = atr;
  for (size_t i = lookback + 1; i < n; i++) {
    atr *= period - 1;
    atr += fabs(close[i - 1] - close[i]);
    atr /= period;
    out[i] = atr;
  }
}
