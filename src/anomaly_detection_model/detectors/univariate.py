"""The streaming univariate detector used for every metric series (and for NAB).

It scores records: how far the current observation pushes a feature of the stream past
everything that feature did before (the value itself, a slow level, how long the value
stays in one band, the highs of the recent window, the value's surprise against the local
regime, and the surprise of its difference from one day earlier, when the series repeats
daily). Given the row times, a rare missing row is evidence too. A refractory period keeps
it from repeating itself right after a detection.

Row times are optional everywhere (`time=` on the streaming methods, `times=` on the batch
ones), in seconds on any fixed origin (the Unix epoch, say); without them the detector
scores the values alone, exactly as before times existed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import numpy as np
import numpy.typing as npt

from anomaly_detection_model.base import Detector
from anomaly_detection_model.detectors.catalogue import CatalogueEntry
from anomaly_detection_model.detectors.univariate_kernel import Arrays, new_state, process
from anomaly_detection_model.detectors.univariate_season import DAILY_PERIODS


def _as_array(xs: Sequence[float | None] | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    if isinstance(xs, np.ndarray):
        return np.ascontiguousarray(xs, dtype=np.float64)
    return np.array([math.nan if x is None else float(x) for x in xs], dtype=np.float64)


def _one(x: float | None) -> npt.NDArray[np.float64]:
    # The per-call paths: one small array, no list or shape checks (they dominate the cost).
    return np.array((math.nan if x is None else float(x),), dtype=np.float64)


def _as_times(
    times: Sequence[float | None] | npt.NDArray[np.float64] | None, rows: int
) -> npt.NDArray[np.float64]:
    if times is None:
        return np.full(rows, math.nan, dtype=np.float64)
    array = _as_array(times)
    if array.shape != (rows,):
        raise ValueError(f"times: expected {rows} row times, got {array.shape[0]}")
    return array


class RecordDetector(Detector[float]):
    """Scores never-seen extremes of a stream's value, levels, runs, recent window and surprise.

    Hyperparameters: `mean_window` (fast rolling mean), `level_window` (slow rolling mean,
    whose new lows mean a level drop), `rise_window` (the half-day mean whose new highs are
    weak evidence, scored just under the fixed threshold), `bins` (value bands for run lengths), `horizon`
    (the recent window, as a fraction of the history seen so far), `warmup` (observations
    learnt before anything is scored), `refractory` (steps a raw score silences lower ones)
    and `periods` (candidate seasonal lags in observations, by default a day at common
    sampling intervals; empty turns the seasonal evidence off).
    Missing values (None, NaN) score 0 and are not learnt; a missing time only means no gap
    evidence for that row.
    """

    def __init__(
        self,
        mean_window: int = 10,
        level_window: int = 200,
        rise_window: int = 144,
        bins: int = 6,
        horizon: float = 0.5,
        warmup: int = 10,
        refractory: int = 100,
        periods: Sequence[int] = DAILY_PERIODS,
    ) -> None:
        if min(mean_window, level_window, rise_window, bins) < 1 or warmup < 0 or refractory < 0:
            raise ValueError("windows and bins must be >= 1; warmup and refractory >= 0")
        if any(int(p) < 2 for p in periods):
            raise ValueError("periods must be >= 2 observations")
        if not 0.0 < horizon <= 1.0:
            raise ValueError("horizon must be in (0, 1]")
        self.mean_window = mean_window
        self.level_window = level_window
        self.rise_window = rise_window
        self.bins = bins
        self.horizon = horizon
        self.warmup = warmup
        self.refractory = refractory
        self.periods = tuple(int(p) for p in periods)
        self._periods = np.array(self.periods, dtype=np.int64)
        ring = max(mean_window, level_window, rise_window)
        self._arrays = new_state(ring, refractory, bins, self._periods)

    def _process(
        self,
        arrays: Arrays,
        xs: npt.NDArray[np.float64],
        times: npt.NDArray[np.float64],
        learn: bool,
    ) -> npt.NDArray[np.float64]:
        out = np.zeros(xs.shape[0], dtype=np.float64)
        state, ring, recent, blocks, runs, season, history, clock = arrays
        process(
            state,
            ring,
            recent,
            blocks,
            runs,
            season,
            history,
            clock,
            self._periods,
            xs,
            times,
            out,
            self.mean_window,
            self.level_window,
            self.rise_window,
            self.bins,
            self.horizon,
            self.warmup,
            self.refractory,
            learn,
        )
        return out

    def score_one(self, x: float | None, time: float | None = None) -> float:
        # Scoring must not change state: run on copies.
        copies = tuple(array.copy() for array in self._arrays)
        return float(self._process(cast(Arrays, copies), _one(x), _one(time), False)[0])

    def learn_one(self, x: float | None, time: float | None = None) -> None:
        self._process(self._arrays, _one(x), _one(time), learn=True)

    def score_then_learn(self, x: float | None, time: float | None = None) -> float:
        return float(self._process(self._arrays, _one(x), _one(time), learn=True)[0])

    def score(
        self,
        xs: Sequence[float | None] | npt.NDArray[np.float64],
        times: Sequence[float | None] | npt.NDArray[np.float64] | None = None,
    ) -> npt.NDArray[np.float64]:
        values = _as_array(xs)
        return self._process(self._arrays, values, _as_times(times, values.shape[0]), learn=True)

    def score_with_times(
        self, xs: npt.NDArray[np.float64], times: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """`score` with every row's time: what the NAB runner calls (`nab.evaluation`)."""
        return self.score(xs, times)

    def fit(
        self,
        xs: Sequence[float | None] | npt.NDArray[np.float64],
        times: Sequence[float | None] | npt.NDArray[np.float64] | None = None,
    ) -> RecordDetector:
        values = _as_array(xs)
        self._process(self._arrays, values, _as_times(times, values.shape[0]), learn=True)
        return self


CATALOGUE_ENTRIES = (
    CatalogueEntry(
        "univariate",
        "univariate",
        RecordDetector,
        threshold=0.051,
        description=(
            "never-seen extremes of value, rolling mean and spread, of surprise against the"
            " local regime, of a broken daily rhythm and rare missing rows, with a refractory"
            " period"
        ),
    ),
)
