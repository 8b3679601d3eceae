/* indicators.c: see indicators.h. The loops mirror TA-Lib's order of floating-point operations on
 * purpose (running totals, where the trailing value is subtracted, how the Wilder averages are
 * rescaled): a mathematically equivalent but reordered formula drifts from TA-Lib in the last digits.
 * Every whole-array function is its streaming step over all n rows, so there is one implementation
 * of each indicator; rows are told apart by their absolute index (state->row), never by their
 * position in a block. Look-back reads use signed offsets from the block start and happen only for
 * rows that have that much history. */
#include "features/indicators.h"

#include "features/rolling.h"
#include "features/vectorize.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <string.h>


static double per_to_k(int period) { return 2.0 / (double)(period + 1); }

/* in[i - back] for a block-relative row i: negative offsets reach into the rows before the block. */
static inline double back(const double *in, size_t i, size_t back_rows) {
  return in[(ptrdiff_t)i - (ptrdiff_t)back_rows];
}

int oc_ta_ema_lookback(int period) { return period - 1; }

/* Rows without a value at the start of the other outputs (RSI and ATR look back their period, which
 * their Wilder state holds). */
static int sma_lookback(int period) { return period - 1; }
static int roc_lookback(int period) {
  assert(period >= 1);
  return period;
}
static int macd_lookback(int fast, int slow, int signal) {
  int longest = slow > fast ? slow : fast;
  return oc_ta_ema_lookback(longest) + oc_ta_ema_lookback(signal);
}

/* ---- moments: SMA, STDDEV, BBANDS ---- */

void oc_ta_moments_init(oc_ta_moments *m, int period) {
  assert(period >= 1);
  *m = (oc_ta_moments){.period = period};
}

/* TA-Lib adds the new value, takes the window's figures, then subtracts the trailing value. Up to
 * FUSED windows advance in one loop over the rows so that their running totals' dependency chains
 * overlap; k is a constant in each instantiation, which lets the compiler unroll the windows and keep
 * the totals in registers. The loop stores each row's window totals; the divisions by the period come
 * after, in a pass per window that vectorizes (the same operations on the same values). */
enum { FUSED = 4 };
static inline __attribute__((always_inline)) void moments_fused(oc_ta_moments *m, size_t k, const double *in,
                                                                 size_t count, double *const *mean,
                                                                 double *const *variance) {
  double total[FUSED], total_sq[FUSED];
  size_t lookback[FUSED];
  for (size_t j = 0; j < k; j++) {
    lookback[j] = (size_t)sma_lookback(m[j].period);
    total[j] = m[j].total;
    total_sq[j] = m[j].total_sq;
  }
  size_t row = m[0].row;
  for (size_t i = 0; i < count; i++, row++) {
    double x = in[i];
#pragma GCC unroll 4
    for (size_t j = 0; j < k; j++) {
      total[j] += x;
      total_sq[j] += x * x;
      if (row < lookback[j]) {
        mean[j][i] = NAN;
        if (variance && variance[j]) variance[j][i] = NAN;
        continue;
      }
      mean[j][i] = total[j];
      if (variance && variance[j]) variance[j][i] = total_sq[j];
      double old = back(in, i, lookback[j]);
      total[j] -= old;
      total_sq[j] -= old * old;
    }
  }
  for (size_t j = 0; j < k; j++) {
    m[j].total = total[j];
    m[j].total_sq = total_sq[j];
    m[j].row = row;
    const double period = m[j].period;
    double *window_mean = mean[j], *window_variance = variance ? variance[j] : NULL;
    for (size_t i = 0; i < count; i++) window_mean[i] /= period; /* NaN rows stay NaN */
    if (window_variance)
      for (size_t i = 0; i < count; i++)
        window_variance[i] = window_variance[i] / period - window_mean[i] * window_mean[i];
  }
}

OC_VECTOR_CLONES void oc_ta_moments_step(oc_ta_moments *m, size_t nwindows, const double *in, size_t count, double *const *mean,
                        double *const *variance) {
  for (size_t first = 0; first < nwindows; first += FUSED) {
    double *const *group_variance = variance ? variance + first : NULL;
    switch (nwindows - first) {
    case 1: moments_fused(m + first, 1, in, count, mean + first, group_variance); break;
    case 2: moments_fused(m + first, 2, in, count, mean + first, group_variance); break;
    case 3: moments_fused(m + first, 3, in, count, mean + first, group_variance); break;
    default: moments_fused(m + first, FUSED, in, count, mean + first, group_variance); break;
    }
  }
}

OC_VECTOR_CLONES void oc_ta_bbands_from_variance(const double *middle, double *upper, double *lower, double *stddev, size_t count,
                                double nbdev_up, double nbdev_dn) {
  oc_sqrt_or_zero(upper, count, OC_TA_EPSILON); /* TA-Lib: a variance under its zero threshold is 0 */
  if (stddev) memcpy(stddev, upper, count * sizeof *stddev);
  for (size_t i = 0; i < count; i++) { /* NaN deviation (no window yet) stays NaN */
    double sd = upper[i];
    upper[i] = middle[i] + sd * nbdev_up;
    lower[i] = middle[i] - sd * nbdev_dn;
  }
}

void oc_ta_sma(const double *in, size_t n, int period, double *out) {
  oc_ta_moments m;
  oc_ta_moments_init(&m, period);
  oc_ta_moments_step(&m, 1, in, n, &out, NULL);
}

void oc_ta_stddev(const double *in, size_t n, int period, double nbdev, double *out) {
  oc_ta_moments m;
  oc_ta_moments_init(&m, period);
  for (size_t block = 0; block < n; block += 256) { /* the means are not wanted: a small scratch block */
    double mean[256];
    size_t count = n - block < 256 ? n - block : 256;
    double *mean_out = mean, *variance_out = out + block;
    oc_ta_moments_step(&m, 1, in + block, count, &mean_out, &variance_out);
  }
  oc_sqrt_or_zero(out, n, OC_TA_EPSILON);
  for (size_t i = 0; i < n; i++) out[i] *= nbdev;
}

void oc_ta_bbands(const double *in, size_t n, int period, double nbdev_up, double nbdev_dn, double *upper,
                  double *middle, double *lower) {
  oc_ta_moments m;
  oc_ta_moments_init(&m, period);
  oc_ta_moments_step(&m, 1, in, n, &middle, &upper); /* the variance waits in upper */
  oc_ta_bbands_from_variance(middle, upper, lower, NULL, n, nbdev_up, nbdev_dn);
}

/* ---- EMA and MACD ---- */

void oc_ta_ema_init(oc_ta_ema_state *e, int period, size_t seed_row) {
  assert(period >= 1 && seed_row + 1 >= (size_t)period); /* the seed is the SMA of period rows */
  *e = (oc_ta_ema_state){.period = period, .k = per_to_k(period), .seed_row = seed_row, .value = NAN};
}

void oc_ta_ema_step(oc_ta_ema_state *e, const double *in, size_t count, double *out) {
  oc_ta_ema_state local = *e; /* in a register, not re-read after every store to out */
  for (size_t i = 0; i < count; i++) out[i] = oc_ta_ema_push(&local, in[i]);
  *e = local;
}

void oc_ta_ema(const double *in, size_t n, int period, double *out) {
  oc_ta_ema_state e;
  oc_ta_ema_init(&e, period, (size_t)oc_ta_ema_lookback(period));
  oc_ta_ema_step(&e, in, n, out);
}

void oc_ta_macd_init(oc_ta_macd_state *m, int fast, int slow, int signal) {
  if (slow < fast) {
    int swap = slow;
    slow = fast;
    fast = swap;
  }
  /* Both EMAs start at the slow EMA's first row: TA-Lib seeds the fast EMA there too. The signal EMA
   * is seeded with the mean of the line's first `signal` values. */
  size_t line_row = (size_t)oc_ta_ema_lookback(slow), lookback = (size_t)macd_lookback(fast, slow, signal);
  *m = (oc_ta_macd_state){.line_row = line_row, .lookback = lookback};
  oc_ta_ema_init(&m->fast, fast, line_row);
  oc_ta_ema_init(&m->slow, slow, line_row);
  oc_ta_ema_init(&m->signal, signal, lookback);
}

void oc_ta_macd_step(oc_ta_macd_state *m, const double *in, size_t count, double *macd, double *macd_signal,
                     double *macd_hist) {
  oc_ta_macd_state local = *m;
  for (size_t i = 0; i < count; i++) oc_ta_macd_push(&local, in[i], &macd[i], &macd_signal[i], &macd_hist[i]);
  *m = local;
}

void oc_ta_macd(const double *in, size_t n, int fast, int slow, int signal, double *macd, double *macd_signal,
                double *macd_hist) {
  oc_ta_macd_state m;
  oc_ta_macd_init(&m, fast, slow, signal);
  oc_ta_macd_step(&m, in, n, macd, macd_signal, macd_hist);
}

/* ---- Wilder smoothing: RSI and ATR ---- */

void oc_ta_wilder_init(oc_ta_wilder *w, int period) {
  assert(period >= 1);
  *w = (oc_ta_wilder){.period = period};
}

void oc_ta_rsi_step(oc_ta_wilder *w, const double *in, size_t count, double *out) {
  oc_ta_wilder local = *w;
  for (size_t i = 0; i < count; i++) {
    double gain, loss;
    oc_ta_rsi_push(&local, local.row > 0 ? in[i] - back(in, i, 1) : 0.0, &gain, &loss);
    out[i] = oc_ta_rsi_value(gain, loss);
  }
  *w = local;
}

void oc_ta_atr_close_step(oc_ta_wilder *w, const double *close, size_t count, double *out) {
  oc_ta_wilder local = *w;
  for (size_t i = 0; i < count; i++)
    out[i] = oc_ta_atr_close_push(&local, local.row > 0 ? close[i] - back(close, i, 1) : 0.0);
  *w = local;
}

void oc_ta_rsi(const double *in, size_t n, int period, double *out) {
  oc_ta_wilder w;
  oc_ta_wilder_init(&w, period);
  oc_ta_rsi_step(&w, in, n, out);
}

void oc_ta_atr_close(const double *close, size_t n, int period, double *out) {
  oc_ta_wilder w;
  oc_ta_wilder_init(&w, period);
  oc_ta_atr_close_step(&w, close, n, out);
}

/* ---- ROC and MOM ---- */

OC_VECTOR_CLONES void oc_ta_roc_step(const double *in, size_t first_row, size_t count, int period, double *out) {
  const size_t lookback = (size_t)roc_lookback(period);
  for (size_t i = 0; i < count; i++) {
    if (first_row + i < lookback) {
      out[i] = NAN;
      continue;
    }
    double base = back(in, i, lookback);
    out[i] = base != 0.0 ? ((in[i] / base) - 1.0) * 100.0 : 0.0;
  }
}

OC_VECTOR_CLONES void oc_ta_mom_step(const double *in, size_t first_row, size_t count, int period, double *out) {
  const size_t lookback = (size_t)roc_lookback(period);
  for (size_t i = 0; i < count; i++) out[i] = first_row + i < lookback ? NAN : in[i] - back(in, i, lookback);
}

void oc_ta_roc(const double *in, size_t n, int period, double *out) { oc_ta_roc_step(in, 0, n, period, out); }

void oc_ta_mom(const double *in, size_t n, int period, double *out) { oc_ta_mom_step(in, 0, n, period, out); }
