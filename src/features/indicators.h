/* indicators.h: technical indicators with TA-Lib's exact definitions (TA-Lib 0.4 C library, default
 * compatibility, unstable period 0), so a trader comparing oilcast with TA-Lib sees the same numbers.
 * Every function is pure: it reads n input values and writes n outputs, out[t] depending only on
 * in[0..t] (causal). Where TA-Lib has no value yet (its "lookback" rows) the output is NaN, never 0.
 * The arithmetic follows TA-Lib's own order of operations (running sums started at row 0, EMA seeded
 * with the SMA of its first period, Wilder smoothing for RSI/ATR), which is what makes the results
 * agree to rounding. Inputs are expected finite; a NaN input propagates into every later value of the
 * recursive indicators (EMA, MACD, RSI, ATR). These functions must not allocate per call except where
 * noted (MACD needs scratch space) and must not know about dates, frames or files. */
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
 * (slow-1)+(signal-1). Allocates scratch space. */
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

/* Rows without a value at the start of each output (TA-Lib's *_Lookback functions). */
int oc_ta_sma_lookback(int period);
int oc_ta_ema_lookback(int period);
int oc_ta_rsi_lookback(int period);
int oc_ta_macd_lookback(int fast, int slow, int signal);
int oc_ta_roc_lookback(int period);
int oc_ta_atr_lookback(int period);

#endif
