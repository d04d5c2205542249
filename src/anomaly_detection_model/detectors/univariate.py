"""The streaming univariate detector used for every metric series (and for NAB).

It tracks a few features of the stream (the value, a short rolling mean, a rolling spread)
and scores how far the current observation pushes any of them past every value seen
before, relative to that feature's range: a never-seen extreme. A refractory period keeps
it from repeating itself right after a detection.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from anomaly_detection_model.base import Detector
from anomaly_detection_model.detectors.catalogue import CatalogueEntry
from anomaly_detection_model.detectors.univariate_kernel import new_state, process


def _as_array(xs: Sequence[float | None] | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    if isinstance(xs, np.ndarray):
        return np.ascontiguousarray(xs, dtype=np.float64)
    return np.array([math.nan if x is None else float(x) for x in xs], dtype=np.float64)


class RecordDetector(Detector[float]):
    """Scores never-seen extremes of the value, its rolling mean and its rolling spread.

    `mean_window` and `std_window` are the rolling windows (observations), `warmup` the
    observations learnt before anything is scored, `refractory` how many steps a raw score
    silences lower ones. Missing values (None, NaN) score 0 and are not learnt.
    """

    def __init__(
        self, mean_window: int = 20, std_window: int = 40, warmup: int = 10, refractory: int = 50
    ) -> None:
        if min(mean_window, std_window) < 1 or warmup < 0 or refractory < 0:
            raise ValueError("windows must be >= 1, warmup and refractory >= 0")
        self.mean_window = mean_window
        self.std_window = std_window
        self.warmup = warmup
        self.refractory = refractory
        self._state, self._ring, self._recent = new_state(max(mean_window, std_window), refractory)

    def _run(self, xs: npt.NDArray[np.float64], learn: bool) -> npt.NDArray[np.float64]:
        out = np.zeros(xs.shape[0], dtype=np.float64)
        process(
            self._state,
            self._ring,
            self._recent,
            xs,
            out,
            self.mean_window,
            self.std_window,
            self.warmup,
            self.refractory,
            learn,
        )
        return out

    def score_one(self, x: float | None) -> float:
        xs = _as_array([x])
        out = np.zeros(1, dtype=np.float64)
        # Scoring must not change state: run on copies.
        process(
            self._state.copy(),
            self._ring.copy(),
            self._recent.copy(),
            xs,
            out,
            self.mean_window,
            self.std_window,
            self.warmup,
            self.refractory,
            False,
        )
        return float(out[0])

    def learn_one(self, x: float | None) -> None:
        self._run(_as_array([x]), learn=True)

    def score_then_learn(self, x: float | None) -> float:
        return float(self._run(_as_array([x]), learn=True)[0])

    def score(
        self, xs: Sequence[float | None] | npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        return self._run(_as_array(xs), learn=True)

    def fit(self, xs: Sequence[float | None] | npt.NDArray[np.float64]) -> RecordDetector:
        self._run(_as_array(xs), learn=True)
        return self


CATALOGUE_ENTRIES = (
    CatalogueEntry(
        "univariate",
        "univariate",
        RecordDetector,
        threshold=0.05,
        description="never-seen extremes of value, rolling mean and spread, with a refractory period",
    ),
)
