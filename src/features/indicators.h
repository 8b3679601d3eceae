/* indicators.h: technical indicators with TA-Lib's exact definitions (TA-Lib 0.4 C library, default
 * compatibility, unstable period 0), so a trader comparing oilcast with TA-Lib sees the same numbers.
 * Every function is pure: it reads n input values and writes n outputs, out[t] depending only on
 * in[0..t] (causal). Where TA-Lib has no value yet (its "lookback" rows) the output is NaN, never 0.
 * The arithmetic follows TA-Lib's own order of operations (running sums started at row 0, EMA seeded
 * with the SMA of its first period, Wilder smoothing for RSI/ATR), which is what makes the results
 * agree to rounding. Inputs are expected finite; a NaN input propagates into every later value of the
 * recursive indicators (EMA, MACD, RSI, ATR).
 *
 * Each indicator also exists in streaming form: a state carried from one block of rows to the next,
 * so the feature set can compute a long series in cache-sized blocks with results bit-identical to
 * the whole-array call (which is one step over every row). A step's `in` points at the block's first
 * row; the rows before it that the indicator looks back on (its period) must be readable there
 * wherever they exist, i.e. `in` is a position inside the caller's whole series. These functions must
 * not allocate and must not know about dates, frames or files. */
#ifndef OC_INDICATORS_H
#define OC_INDICATORS_H

#include <stddef.h>

/* Simple moving average; first value at row period-1. */
void oc_ta_sma(const double *in, size_t n, int period, double *out);
/* Exponential moving average, k = 2/(period+1), seeded with the SMA of rows 0..period-1; first value
 * at row period-1. */
void oc_ta_ema(const double *in, size_t n, int period, double *out);
/* Relative strength index with Wilder smoothing; first value at row period (average gain/loss of the
 * first period differences). 0 when there was neither gain nor loss. */
void oc_ta_rsi(const double *in, size_t n, int period, double *out);
/* MACD line, signal and histogram. As in TA-Lib, the fast EMA is seeded at the slow EMA's first row
 * (the SMA of the fast period ending there), not at its own; all three outputs start at row
 * (slow-1)+(signal-1). */
void oc_ta_macd(const double *in, size_t n, int fast, int slow, int signal, double *macd, double *macd_signal,
                double *macd_hist);
/* Population standard deviation over period rows times nbdev; values whose variance is below TA-Lib's
 * zero threshold (1e-8) are 0. First value at row period-1. */
void oc_ta_stddev(const double *in, size_t n, int period, double nbdev, double *out);
/* Bollinger bands on an SMA middle band: middle +/- nbdev * population stddev. First value at row
 * period-1. */
void oc_ta_bbands(const double *in, size_t n, int period, double nbdev_up, double nbdev_dn, double *upper,
                  double *middle, double *lower);
/* Rate of change in percent: (in[t]/in[t-period] - 1) * 100, 0 when in[t-period] is 0. First value at
 * row period. */
void oc_ta_roc(const double *in, size_t n, int period, double *out);
/* Momentum: in[t] - in[t-period]. First value at row period. */
void oc_ta_mom(const double *in, size_t n, int period, double *out);
/* TA-Lib's ATR fed with a close-only series (high = low = close), so the true range is
 * |close[t] - close[t-1]|: the first value (row period) is the mean true range of rows 1..period, then
 * Wilder smoothing. */
void oc_ta_atr_close(const double *close, size_t n, int period, double *out);

/* Rows without a value at the start of an EMA (TA-Lib's TA_EMA_Lookback): where its seed row is. */
int oc_ta_ema_lookback(int period);

/* ---- streaming form ---- */

#include <math.h>

/* TA-Lib's TA_IS_ZERO / TA_IS_ZERO_OR_NEG threshold. */
#define OC_TA_EPSILON 0.00000001

/* A window's running sum and sum of squares as TA-Lib keeps them: the SMA and the population variance
 * behind SMA, STDDEV and BBANDS. Looks back period-1 rows. */
typedef struct oc_ta_moments {
  int period;
  size_t row; /* rows stepped so far */
  double total, total_sq;
} oc_ta_moments;
void oc_ta_moments_init(oc_ta_moments *m, int period);
/* Steps nwindows moments (initialized together, stepped together) over the same rows; for window j,
 * mean[j] receives the SMA and, when variance and variance[j] are not NULL, variance[j] TA-Lib's
 * sum-of-squares population variance. Several windows in one call run faster than one by one: their
 * running totals advance in the same loop. */
void oc_ta_moments_step(oc_ta_moments *m, size_t nwindows, const double *in, size_t count, double *const *mean,
                        double *const *variance);
/* Bollinger bands from a window's moments: upper holds the variance on entry and the upper band on
 * return. stddev (may be NULL) receives the population standard deviation, which is TA-Lib's
 * STDDEV(period, 1) to the bit. */
void oc_ta_bbands_from_variance(const double *middle, double *upper, double *lower, double *stddev, size_t count,
                                double nbdev_up, double nbdev_dn);

/* The recursive indicators advance one row at a time (push): their step functions are loops of
 * pushes, and a caller computing several of them fuses their pushes into one loop so that their
 * dependency chains (a division per row for the Wilder averages) overlap instead of running one
 * after another. Keep the states in local variables there: the compiler then holds them in
 * registers. Pushes never look back; the caller passes the row's change where one is needed. */

/* An EMA whose first value is at row seed_row, seeded with the SMA of the period rows ending there
 * (seed_row = period-1 for TA-Lib's EMA; MACD seeds its fast EMA later). */
typedef struct oc_ta_ema_state {
  int period;
  double k;
  size_t seed_row, row;
  double total, value;
} oc_ta_ema_state;
void oc_ta_ema_init(oc_ta_ema_state *e, int period, size_t seed_row);
void oc_ta_ema_step(oc_ta_ema_state *e, const double *in, size_t count, double *out);

/* TA-Lib's INT_EMA for one row: the period rows ending at seed_row are summed from 0.0 in order and
 * their mean is the first value; every later row applies ((x - prev) * k) + prev. NaN before. */
static inline double oc_ta_ema_push(oc_ta_ema_state *e, double x) {
  size_t row = e->row++;
  if (row > e->seed_row) {
    e->value = ((x - e->value) * e->k) + e->value;
    return e->value;
  }
  if (row + (size_t)e->period > e->seed_row) {
    e->total += x;
    if (row == e->seed_row) e->value = e->total / e->period;
  }
  return e->value;
}

typedef struct oc_ta_macd_state {
  oc_ta_ema_state fast, slow, signal;
  size_t line_row, lookback, row; /* first row of the MACD line, of every output */
} oc_ta_macd_state;
void oc_ta_macd_init(oc_ta_macd_state *m, int fast, int slow, int signal);
void oc_ta_macd_step(oc_ta_macd_state *m, const double *in, size_t count, double *macd, double *macd_signal,
                     double *macd_hist);

static inline void oc_ta_macd_push(oc_ta_macd_state *m, double x, double *macd, double *macd_signal,
                                   double *macd_hist) {
  size_t row = m->row++;
  double fast = oc_ta_ema_push(&m->fast, x), slow = oc_ta_ema_push(&m->slow, x);
  double line = row >= m->line_row ? fast - slow : NAN;
  double signal = oc_ta_ema_push(&m->signal, line);
  int ready = row >= m->lookback;
  *macd = ready ? line : NAN;
  *macd_signal = signal;
  *macd_hist = ready ? line - signal : NAN;
}

/* Wilder-smoothed averages: RSI's gain and loss, or ATR's true range. */
typedef struct oc_ta_wilder {
  int period;
  size_t row;
  double gain, loss; /* ATR keeps its average true range in gain */
} oc_ta_wilder;
void oc_ta_wilder_init(oc_ta_wilder *w, int period);
void oc_ta_rsi_step(oc_ta_wilder *w, const double *in, size_t count, double *out);
void oc_ta_atr_close_step(oc_ta_wilder *w, const double *close, size_t count, double *out);

/* RSI's Wilder averages after one row given change = in[t] - in[t-1] (ignored at row 0), NaN before
 * row period. Rows 1..period sum the gains and losses; row period divides them into the first
 * averages; every later row rescales by (period-1), adds the change and divides again. TA-Lib adds
 * the change to one total or the other; adding 0.0 to the other instead is the same to the bit and
 * avoids an unpredictable branch. */
static inline void oc_ta_rsi_push(oc_ta_wilder *w, double change, double *avg_gain, double *avg_loss) {
  size_t row = w->row++, lookback = (size_t)w->period;
  *avg_gain = *avg_loss = NAN;
  if (row == 0) return;
  if (row > lookback) {
    w->loss *= (w->period - 1);
    w->gain *= (w->period - 1);
  }
  w->gain += change < 0 ? 0.0 : change;
  w->loss -= change < 0 ? change : 0.0;
  if (row < lookback) return;
  w->loss /= w->period;
  w->gain /= w->period;
  *avg_gain = w->gain;
  *avg_loss = w->loss;
}

/* The RSI from its averages: 0 when there was neither gain nor loss; NaN averages give NaN. Kept
 * apart from the push so that a caller can compute a block's values in one vectorized pass. */
static inline double oc_ta_rsi_value(double avg_gain, double avg_loss) {
  double sum = avg_gain + avg_loss, value = 100.0 * (avg_gain / sum); /* no branch: vectorizes */
  return ((-OC_TA_EPSILON < sum) & (sum < OC_TA_EPSILON)) ? 0.0 : value;
}

/* ATR on a close-only series for one row given change = close[t] - close[t-1]: the true range is
 * |change| (TA-Lib's |close[t-1] - close[t]| is the same number). */
static inline double oc_ta_atr_close_push(oc_ta_wilder *w, double change) {
  size_t row = w->row++, lookback = (size_t)w->period;
  if (row == 0) return NAN;
  if (row > lookback) w->gain *= w->period - 1;
  w->gain += fabs(change);
  if (row < lookback) return NAN;
  w->gain /= w->period;
  return w->gain;
}

/* ROC and MOM keep no state beyond the row: first_row is the absolute row of in[0]. Look back period
 * rows. */
void oc_ta_roc_step(const double *in, size_t first_row, size_t count, int period, double *out);
void oc_ta_mom_step(const double *in, size_t first_row, size_t count, int period, double *out);

#endif
