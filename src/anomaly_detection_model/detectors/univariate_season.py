"""The seasonal evidence of the streaming univariate detector: a broken daily rhythm.

Many operational series repeat every day, and one kind of anomaly breaks that rhythm
without leaving the range the value has always covered (a daily peak that does not come,
a trough at the wrong hour). A record of the value cannot see it; the difference from the
value one period earlier can.

The detector is not told the sampling interval, so it follows one candidate lag per
common daily period (a day at 1-hour, 30-, 15-, 10-, 5- and 1-minute sampling) and
uses the lag whose difference `x[t] - x[t - lag]` is smallest relative to the value's own
spread, and only when that ratio says the series really repeats (`SEASON_GATE`). For the
chosen lag, the seasonal residual is smoothed (a short exponential mean, so a lasting
break counts and a single noisy step does not), and its surprise against its own local
regime is scored as a record against the largest such surprise seen so far, like the
detector's other records.

All of it is arithmetic over fixed-size arrays (the longest lag's history plus a few
numbers per lag), compiled with numba when it is installed, like the kernel.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from anomaly_detection_model.detectors.jit import compile_kernel

# A day at 1-hour, 30-, 15-, 10-, 5- and 1-minute sampling.
DAILY_PERIODS = (24, 48, 96, 144, 288, 1440)

# Rows of the per-lag state.
D2 = 0  # exponentially weighted mean of the squared lag difference
SMOOTH = 1  # the smoothed seasonal residual
RES_MEAN, RES_VAR = 2, 3  # its local regime
RES_HI = 4  # the largest surprise of the smoothed residual seen so far
SEASON_ROWS = 5

# A lag counts as the series' period only when the lag difference's mean square is below
# this fraction of twice the value's variance (1 - autocorrelation, for a stationary series):
# 0.3 and 0.5 score alike on NAB.
SEASON_GATE = 0.3
# Weight of the newest residual in the smoothed residual: about 30 steps, long enough that
# one noisy step is not a broken rhythm (0.03 and 0.1 score alike on NAB).
SEASON_SMOOTHING = 0.03
# Periods learnt before a lag may be chosen: the first period has no lagged value, the
# second gives the residual its regime.
SEASON_WARM_PERIODS = 2


def new_season(periods: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.float64], ...]:
    """Fresh per-lag state and a history ring long enough for the longest lag."""
    longest = int(periods.max()) if periods.size else 0
    return (
        np.zeros((SEASON_ROWS, max(periods.size, 1)), dtype=np.float64),
        np.zeros(longest + 1, dtype=np.float64),
    )


def _seasonal_evidence(
    season: npt.NDArray[np.float64],
    history: npt.NDArray[np.float64],
    periods: npt.NDArray[np.int64],
    x: float,
    seen: int,
    variance: float,
) -> float:
    """The record excess of the smoothed residual's surprise at the best lag (state unchanged)."""
    best = -1
    ratio_best = SEASON_GATE
    if variance > 0.0:
        for k in range(periods.shape[0]):
            if seen >= SEASON_WARM_PERIODS * periods[k]:
                ratio = season[D2, k] / (2.0 * variance)
                if ratio < ratio_best:
                    ratio_best = ratio
                    best = k
    if best < 0:
        return 0.0
    lag = periods[best]
    residual = x - history[(seen - lag) % history.shape[0]]
    smooth = season[SMOOTH, best] + SEASON_SMOOTHING * (residual - season[SMOOTH, best])
    spread = season[RES_VAR, best]
    top = season[RES_HI, best]
    if not (spread > 0.0 and top > 0.0):
        return 0.0
    surprise = abs(smooth - season[RES_MEAN, best]) / math.sqrt(spread)
    # A NaN (from values too large to square) is no evidence.
    return (surprise - top) / top if surprise > top else 0.0


def _learn_seasonal(
    season: npt.NDArray[np.float64],
    history: npt.NDArray[np.float64],
    periods: npt.NDArray[np.int64],
    x: float,
    seen: int,
    rate: float,
) -> None:
    """Learn `x`, the `seen`-th observation (0-based): every lag's state and the history."""
    size = history.shape[0]
    for k in range(periods.shape[0]):
        lag = periods[k]
        if seen < lag:
            continue
        residual = x - history[(seen - lag) % size]
        smooth = season[SMOOTH, k] + SEASON_SMOOTHING * (residual - season[SMOOTH, k])
        deviation = smooth - season[RES_MEAN, k]
        if seen >= SEASON_WARM_PERIODS * lag and season[RES_VAR, k] > 0.0:
            surprise = abs(deviation) / math.sqrt(season[RES_VAR, k])
            season[RES_HI, k] = max(season[RES_HI, k], surprise)
        season[SMOOTH, k] = smooth
        season[RES_MEAN, k] += rate * deviation
        season[RES_VAR, k] = (1.0 - rate) * (season[RES_VAR, k] + rate * deviation * deviation)
        season[D2, k] += rate * (residual * residual - season[D2, k])
    history[seen % size] = x


seasonal_evidence = compile_kernel(_seasonal_evidence)
learn_seasonal = compile_kernel(_learn_seasonal)
