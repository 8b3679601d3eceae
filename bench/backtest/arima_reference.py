#!/usr/bin/python3
"""Peer for bench/backtest: statsmodels ARIMA(1,1,1) on log price, walk-forward over the same origins
and refit schedule as `oilcast backtest` (origins = trading days in [start, end] with `horizon`
observations after them; refit every `refit_every` origins on the history up to the origin, filtered
with fixed parameters in between via results.extend: the Kalman filter continues from its last
state, the fairest equivalent of oilcast's update). Non-positive prices are dropped
before taking logs, as oilcast's log-space models do. Prints the wall and CPU time and the same summary
metrics (relMAE against the no-change forecast, 80%/95% coverage, mean 80% width).
Usage: arima_reference.py FILE.csv START END HORIZON REFIT_EVERY"""
import sys
import time
import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.arima.model import ARIMA

warnings.filterwarnings("ignore")


def main():
    path, start, end, horizon, refit_every = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    df = pd.read_csv(path)
    dates = df["Date"].to_numpy()
    prices = df["Price"].to_numpy(dtype=float)
    origins = [i for i in range(len(prices) - horizon) if start <= dates[i] <= end]
    t0, c0 = time.perf_counter(), time.process_time()
    fc = np.empty((len(origins), horizon))
    lo80, hi80, lo95, hi95 = (np.empty_like(fc) for _ in range(4))
    res = None
    for k, i in enumerate(origins):
        if k % refit_every == 0:
            hist = prices[: i + 1]
            y = np.log(hist[hist > 0])
            res = ARIMA(y, order=(1, 1, 1)).fit()
        elif prices[i] > 0:
            res = res.extend([np.log(prices[i])])
        f = res.get_forecast(horizon)
        fc[k] = np.exp(f.predicted_mean)
        ci80 = np.exp(f.conf_int(alpha=0.2))
        ci95 = np.exp(f.conf_int(alpha=0.05))
        lo80[k], hi80[k], lo95[k], hi95[k] = ci80[:, 0], ci80[:, 1], ci95[:, 0], ci95[:, 1]
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    idx = np.array(origins)
    actual = np.stack([prices[idx + h] for h in range(1, horizon + 1)], axis=1)
    naive = prices[idx][:, None]
    rel_mae = np.abs(actual - fc).sum() / np.abs(actual - naive).sum()
    cov80 = ((actual >= lo80) & (actual <= hi80)).mean()
    cov95 = ((actual >= lo95) & (actual <= hi95)).mean()
    width80 = (hi80 - lo80).mean()
    print(f"statsmodels_seconds {seconds:.4f} cpu_seconds {cpu:.4f} origins {len(origins)}")
    print(f"statsmodels ARIMA(1,1,1) relMAE {rel_mae:.4f} cov80 {cov80:.3f} cov95 {cov95:.3f} width80 {width80:.3f}")


if __name__ == "__main__":
    main()
