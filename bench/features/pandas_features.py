"""The peer of bench_features: the same 49 features with pandas/numpy, on the inputs bench_features
dumped (dates.i32: days since 1970-01-01, close.f64, exog.f64). Warm-up conventions differ slightly
(pandas' ewm has no SMA seed) but the work per row is the same. Prints one line: features, rows,
seconds, rows/s (best of the given number of runs)."""
import sys
import time

import numpy as np
import pandas as pd


def features(days, close, exog):
    out = {}
    c = pd.Series(close)
    # calendar
    wd = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    out["dow_sin"] = np.sin(2 * np.pi * wd / 7)
    out["dow_cos"] = np.cos(2 * np.pi * wd / 7)
    d = days.astype("datetime64[D]")
    year = d.astype("datetime64[Y]")
    doy = (d - year.astype("datetime64[D]")).astype(np.int64)
    ylen = ((year + 1).astype("datetime64[D]") - year.astype("datetime64[D]")).astype(np.int64)
    out["doy_sin"] = np.sin(2 * np.pi * doy / ylen)
    out["doy_cos"] = np.cos(2 * np.pi * doy / ylen)
    out["month"] = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    # returns, lags, rolling statistics
    r = np.log(c).diff()
    out["logret"] = r
    for k in range(1, 6):
        out[f"logret_lag{k}"] = r.shift(k)
    for w in (5, 10, 20, 60):
        roll = r.rolling(w)
        out[f"ret_mean_{w}"] = roll.mean()
        out[f"ret_std_{w}"] = roll.std()
        out[f"ret_min_{w}"] = roll.min()
        out[f"ret_max_{w}"] = roll.max()
    # indicators
    delta = c.diff()
    gain = delta.clip(lower=0).ewm(alpha=1 / 14, adjust=False).mean()
    loss = (-delta.clip(upper=0)).ewm(alpha=1 / 14, adjust=False).mean()
    out["rsi14"] = 100 * gain / (gain + loss)
    ema12 = c.ewm(span=12, adjust=False).mean()
    ema26 = c.ewm(span=26, adjust=False).mean()
    macd = ema12 - ema26
    signal = macd.ewm(span=9, adjust=False).mean()
    out["macd"], out["macd_signal"], out["macd_hist"] = macd, signal, macd - signal
    sma = {k: c.rolling(k).mean() for k in (5, 10, 20, 60)}
    sd20 = c.rolling(20).std(ddof=0)
    upper, lower = sma[20] + 2 * sd20, sma[20] - 2 * sd20
    out["bb_pctb"] = (c - lower) / (upper - lower)
    out["bb_bandwidth"] = (upper - lower) / sma[20]
    out["roc10"] = c.pct_change(10) * 100
    out["mom10"] = c.diff(10)
    out["stddev20"] = sd20
    out["atr14"] = delta.abs().ewm(alpha=1 / 14, adjust=False).mean()
    for k in (5, 10, 20, 60):
        out[f"price_rel_sma{k}"] = c / sma[k] - 1
    out["sma20"], out["ema12"], out["ema26"] = sma[20], ema12, ema26
    out["bb_upper"], out["bb_middle"], out["bb_lower"] = upper, sma[20], lower
    # exogenous spread
    spread = pd.Series(exog) - c
    out["spread_EXOG"] = spread
    out["spread_EXOG_chg"] = spread.diff()
    return out


def main():
    folder, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1
    days = np.fromfile(f"{folder}/dates.i32", dtype="<i4")
    close = np.fromfile(f"{folder}/close.f64", dtype="<f8")
    exog = np.fromfile(f"{folder}/exog.f64", dtype="<f8")
    best, count = float("inf"), 0
    for _ in range(runs):
        t0 = time.perf_counter()
        out = features(days, close, exog)
        best = min(best, time.perf_counter() - t0)
        count = len(out)
        del out
    n = len(close)
    print(f"pandas features={count} rows={n} seconds={best:.3f} rows_per_s={n / best:.0f}")


if __name__ == "__main__":
    main()
