"""The arithmetic of the streaming univariate detector, as one loop over plain arrays.

It is compiled with numba when numba is installed (the same code runs as plain Python
otherwise), so scoring one observation and scoring a million go through the same lines
and give identical results. All state lives in two fixed-size arrays: memory is bounded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt

F = TypeVar("F", bound=Callable[..., Any])

# Layout of the float state vector. The features whose records are tracked are, in order:
# the value, its negation, the rolling mean and its negation, and the rolling spread.
SEEN = 0  # observations learnt
CURSOR = 1  # next slot of the value ring
SUM = 2  # sum of the last `mean_window` values
SUM_SPREAD = 3  # sum of the last `std_window` values
SUM_SQ_SPREAD = 4  # sum of squares of the last `std_window` values
SINCE_RESUM = 5  # steps since the running sums were last recomputed from the ring
FEATURES = 5
MAX_OF = 6  # FEATURES running maxima
MIN_OF = MAX_OF + FEATURES  # FEATURES running minima
RECENT_CURSOR = MIN_OF + FEATURES
STATE_SIZE = RECENT_CURSOR + 1


def new_state(
    ring: int, refractory: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Fresh state: the scalars, the ring of recent values, the ring of recent raw scores."""
    state = np.zeros(STATE_SIZE, dtype=np.float64)
    state[MAX_OF : MAX_OF + FEATURES] = -np.inf
    state[MIN_OF : MIN_OF + FEATURES] = np.inf
    return (
        state,
        np.zeros(max(ring, 1), dtype=np.float64),
        np.zeros(max(refractory, 1), dtype=np.float64),
    )


def _process(
    state: npt.NDArray[np.float64],
    ring: npt.NDArray[np.float64],
    recent: npt.NDArray[np.float64],
    xs: npt.NDArray[np.float64],
    out: npt.NDArray[np.float64],
    mean_window: int,
    std_window: int,
    warmup: int,
    refractory: int,
    learn: bool,
) -> None:
    """Score each of `xs` in order, learning each one after scoring it when `learn` is set."""
    size = ring.shape[0]
    features = np.empty(FEATURES, dtype=np.float64)
    for i in range(xs.shape[0]):
        x = xs[i]
        if math.isnan(x) or math.isinf(x):
            out[i] = 0.0
            continue
        seen = int(state[SEEN])
        cursor = int(state[CURSOR])
        # Rolling sums as they would be with x appended to the ring.
        n_mean = min(seen + 1, mean_window)
        n_std = min(seen + 1, std_window)
        total = state[SUM] + x
        spread_total = state[SUM_SPREAD] + x
        spread_sq = state[SUM_SQ_SPREAD] + x * x
        if seen >= mean_window:
            old = ring[(cursor - mean_window) % size]
            total -= old
        if seen >= std_window:
            old = ring[(cursor - std_window) % size]
            spread_total -= old
            spread_sq -= old * old
        mean = total / n_mean
        spread_mean = spread_total / n_std
        features[0] = x
        features[1] = -x
        features[2] = mean
        features[3] = -mean
        features[4] = math.sqrt(max(spread_sq / n_std - spread_mean * spread_mean, 0.0))

        # A record: how far a feature goes past everything seen so far, in units of the
        # feature's own range. A never-seen extreme is what most labelled anomalies are.
        excess = 0.0
        if seen >= warmup:
            for f in range(FEATURES):
                top = state[MAX_OF + f]
                if features[f] > top:
                    span = top - state[MIN_OF + f]
                    if span <= 0.0:
                        span = abs(top) if top != 0.0 else 1.0
                    excess = max(excess, (features[f] - top) / span)
        raw = excess / (1.0 + excess)

        # Refractory period: within `refractory` steps of a higher raw score, stay quiet.
        # NAB counts only the first detection in a window and charges for every other one.
        quiet = 0.0
        for j in range(recent.shape[0] if refractory > 0 else 0):
            quiet = max(quiet, recent[j])
        out[i] = raw if raw > quiet else 0.0

        if not learn:
            continue
        if refractory > 0:
            slot = int(state[RECENT_CURSOR])
            recent[slot] = raw
            state[RECENT_CURSOR] = (slot + 1) % recent.shape[0]
        for f in range(FEATURES):
            state[MAX_OF + f] = max(state[MAX_OF + f], features[f])
            state[MIN_OF + f] = min(state[MIN_OF + f], features[f])
        ring[cursor] = x
        state[CURSOR] = (cursor + 1) % size
        state[SEEN] = seen + 1
        state[SUM] = total
        state[SUM_SPREAD] = spread_total
        state[SUM_SQ_SPREAD] = spread_sq
        state[SINCE_RESUM] += 1
        if state[SINCE_RESUM] >= size:
            # Recompute the running sums from the ring so rounding error cannot accumulate.
            state[SINCE_RESUM] = 0
            total = 0.0
            spread_total = 0.0
            spread_sq = 0.0
            filled = min(seen + 1, size)
            for k in range(1, filled + 1):
                value = ring[(cursor + 1 - k) % size]
                if k <= mean_window:
                    total += value
                if k <= std_window:
                    spread_total += value
                    spread_sq += value * value
            state[SUM] = total
            state[SUM_SPREAD] = spread_total
            state[SUM_SQ_SPREAD] = spread_sq


def _compile(function: F) -> F:
    try:
        import numba
    except ImportError:  # pragma: no cover - numba comes with the bench extra
        return function
    return cast(F, numba.njit(cache=True, nogil=True)(function))


process = _compile(_process)
