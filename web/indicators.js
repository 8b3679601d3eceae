/* indicators.js: the technical indicators drawn on the Market panel, computed in the page from the
 * observations with TA-Lib's exact definitions (0.4 series, default unstable period 0), so the chart
 * agrees with the C features stage and with the reference file talib/wti-indicators.csv:
 *   SMA(n)            running-sum simple mean; first value at index n-1.
 *   EMA(n)            k = 2/(n+1), seeded with the SMA of the first n values (TA-Lib's default).
 *   RSI(n)            Wilder smoothing; first value at index n; 0 when average gain + loss is 0.
 *   MACD(f,s,sig)     TA-Lib seeds the fast EMA at the slow EMA's first index (not at f-1), so
 *                     macd is NOT ema12 - ema26 before convergence; first value at s-1 + sig-1.
 *   Bollinger(n,k)    SMA middle, population standard deviation from a running sum of squares.
 * Every function takes an array of numbers and returns an array of the same length holding null
 * where TA-Lib has no value yet (its lookback). Pure functions: no DOM, no globals beyond the export,
 * so node tests load this very file. */
(function (root) {
  'use strict';

  const TA_EPSILON = 0.00000001;
  const isZero = (v) => -TA_EPSILON < v && v < TA_EPSILON;
  const perToK = (period) => 2.0 / (period + 1);
  const empty = (n) => new Array(n).fill(null);

  function sma(values, period) {
    const out = empty(values.length);
    const start = period - 1;
    if (values.length <= start) return out;
    let total = 0;
    let i = 0;
    let trailing = 0;
    while (i < start) total += values[i++];
    while (i < values.length) {
      total += values[i++];
      const windowTotal = total;
      total -= values[trailing++];
      out[i - 1] = windowTotal / period;
    }
    return out;
  }

  /* TA-Lib's INT_EMA: the first output is at startIdx (at least period-1), seeded with the mean of the
   * period values starting at startIdx-(period-1), then smoothed up to startIdx. */
  function emaFrom(values, period, startIdx, k) {
    const out = empty(values.length);
    const lookback = period - 1;
    if (startIdx < lookback) startIdx = lookback;
    if (startIdx >= values.length) return out;
    let today = startIdx - lookback;
    let seed = 0;
    for (let i = 0; i < period; i++) seed += values[today++];
    let prev = seed / period;
    while (today <= startIdx) prev = (values[today++] - prev) * k + prev;
    out[startIdx] = prev;
    while (today < values.length) {
      prev = (values[today] - prev) * k + prev;
      out[today++] = prev;
    }
    return out;
  }

  function ema(values, period) {
    return emaFrom(values, period, period - 1, perToK(period));
  }

  function rsi(values, period) {
    const out = empty(values.length);
    if (values.length <= period) return out;
    let prevValue = values[0];
    let gain = 0;
    let loss = 0;
    let today = 1;
    for (let i = period; i > 0; i--) {
      const v = values[today++];
      const change = v - prevValue;
      prevValue = v;
      if (change < 0) loss -= change;
      else gain += change;
    }
    loss /= period;
    gain /= period;
    const ratio = () => (isZero(gain + loss) ? 0.0 : 100.0 * (gain / (gain + loss)));
    out[period] = ratio();
    while (today < values.length) {
      const v = values[today];
      const change = v - prevValue;
      prevValue = v;
      loss *= period - 1;
      gain *= period - 1;
      if (change < 0) loss -= change;
      else gain += change;
      loss /= period;
      gain /= period;
      out[today++] = ratio();
    }
    return out;
  }

  function macd(values, fast, slow, signal) {
    if (slow < fast) [fast, slow] = [slow, fast];
    const n = values.length;
    const result = { macd: empty(n), signal: empty(n), hist: empty(n) };
    const signalLookback = signal - 1;
    const first = signalLookback + (slow - 1);
    if (n <= first) return result;
    const emaStart = first - signalLookback;
    const slowEma = emaFrom(values, slow, emaStart, perToK(slow));
    const fastEma = emaFrom(values, fast, emaStart, perToK(fast));
    const line = [];
    for (let i = emaStart; i < n; i++) line.push(fastEma[i] - slowEma[i]);
    const signalLine = emaFrom(line, signal, signalLookback, perToK(signal));
    for (let j = signalLookback; j < line.length; j++) {
      const i = emaStart + j;
      result.macd[i] = line[j];
      result.signal[i] = signalLine[j];
      result.hist[i] = line[j] - signalLine[j];
    }
    return result;
  }

  function bollinger(values, period, deviations) {
    const n = values.length;
    const middle = sma(values, period);
    const result = { middle, upper: empty(n), lower: empty(n) };
    const first = period - 1;
    if (n <= first) return result;
    let squares = 0;
    for (let i = 0; i < first; i++) squares += values[i] * values[i];
    for (let end = first, start = 0; end < n; end++, start++) {
      squares += values[end] * values[end];
      let variance = squares / period;
      squares -= values[start] * values[start];
      variance -= middle[end] * middle[end];
      const sd = variance < TA_EPSILON ? 0.0 : Math.sqrt(variance);
      result.upper[end] = middle[end] + sd * deviations;
      result.lower[end] = middle[end] - sd * deviations;
    }
    return result;
  }

  const api = { sma, ema, rsi, macd, bollinger };
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
  else root.OcIndicators = api;
})(typeof self !== 'undefined' ? self : this);
