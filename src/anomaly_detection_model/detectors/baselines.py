"""Baseline univariate detectors that NAB results are compared with.

A windowed Gaussian (NAB's own baseline, written here), and wrappers around PyOD's
Isolation Forest and river's HalfSpaceTrees. PyOD and river are imported inside the
detectors, so importing this module stays cheap and works without the benchmark extra.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np
import numpy.typing as npt

from anomaly_detection_model.base import Detector
from anomaly_detection_model.detectors.catalogue import CatalogueEntry


def _as_float(x: float | None) -> float:
    return math.nan if x is None else float(x)


class WindowedGaussian(Detector[float]):
    """Score = two-sided Gaussian tail mass of the value against the last `window` values."""

    def __init__(self, window: int = 6400, min_history: int = 10) -> None:
        self.window = window
        self.min_history = min_history
        self._buffer = np.zeros(window, dtype=np.float64)
        self._count = 0
        self._sum = 0.0
        self._sum_sq = 0.0

    def score_one(self, x: float | None) -> float:
        value = _as_float(x)
        filled = min(self._count, self.window)
        if math.isnan(value) or filled < self.min_history:
            return 0.0
        mean = self._sum / filled
        variance = max(self._sum_sq / filled - mean * mean, 0.0)
        if variance <= 1e-12 * max(1.0, mean * mean):
            return 0.0 if abs(value - mean) <= 1e-9 * max(1.0, abs(mean)) else 1.0
        z = abs(value - mean) / math.sqrt(variance)
        return math.erf(z / math.sqrt(2.0))

    def learn_one(self, x: float | None) -> None:
        value = _as_float(x)
        if math.isnan(value):
            return
        slot = self._count % self.window
        if self._count >= self.window:
            old = self._buffer[slot]
            self._sum -= old
            self._sum_sq -= old * old
        self._buffer[slot] = value
        self._sum += value
        self._sum_sq += value * value
        self._count += 1
        if self._count % self.window == 0:
            # Re-sum once per window so floating-point drift of the running sums stays bounded.
            self._sum = float(self._buffer.sum())
            self._sum_sq = float((self._buffer * self._buffer).sum())


class IsolationForestBaseline(Detector[float]):
    """PyOD's Isolation Forest on (value, change), refitted every `refit_every` points
    on the last `history` values; scores are PyOD's linear probability."""

    def __init__(
        self, history: int = 2000, refit_every: int = 500, n_estimators: int = 50, seed: int = 0
    ) -> None:
        self.history = history
        self.refit_every = refit_every
        self.n_estimators = n_estimators
        self.seed = seed
        self._recent: deque[tuple[float, float]] = deque(maxlen=history)
        self._previous = math.nan
        self._seen = 0
        self._model: Any = None

    def _features(self, value: float) -> tuple[float, float]:
        change = 0.0 if math.isnan(self._previous) else value - self._previous
        return value, change

    def score_one(self, x: float | None) -> float:
        value = _as_float(x)
        if math.isnan(value) or self._model is None:
            return 0.0
        row = np.asarray([self._features(value)], dtype=np.float64)
        return float(self._model.predict_proba(row, method="linear")[0, 1])

    def learn_one(self, x: float | None) -> None:
        value = _as_float(x)
        if math.isnan(value):
            return
        self._recent.append(self._features(value))
        self._previous = value
        self._seen += 1
        if self._seen % self.refit_every == 0 or (self._model is None and self._seen >= 100):
            from pyod.models.iforest import IForest

            model = IForest(n_estimators=self.n_estimators, random_state=self.seed, n_jobs=1)
            model.fit(np.asarray(self._recent, dtype=np.float64))
            self._model = model

    def score(self, xs: Any) -> npt.NDArray[np.float64]:
        # Same results as scoring one by one; PyOD is fast only on batches, so the rows that
        # one fitted model scores (everything up to the row that triggers the next refit)
        # are scored together, then learnt.
        values = np.array([_as_float(x) for x in xs], dtype=np.float64)
        out = np.zeros(values.size, dtype=np.float64)
        i = 0
        while i < values.size:
            if self._model is None:
                out[i] = self.score_then_learn(values[i])
                i += 1
                continue
            end, seen = i, self._seen
            while end < values.size - 1:
                if not math.isnan(values[end]):
                    seen += 1
                    if seen % self.refit_every == 0:
                        break
                end += 1
            rows: list[tuple[float, float]] = []
            positions: list[int] = []
            previous = self._previous
            for j in range(i, end + 1):
                if not math.isnan(values[j]):
                    rows.append((values[j], 0.0 if math.isnan(previous) else values[j] - previous))
                    positions.append(j)
                    previous = values[j]
            if rows:
                batch = np.asarray(rows, dtype=np.float64)
                out[positions] = self._model.predict_proba(batch, method="linear")[:, 1]
            for j in range(i, end + 1):
                self.learn_one(values[j])
            i = end + 1
        return out


class HalfSpaceTreesBaseline(Detector[float]):
    """river's HalfSpaceTrees on the value scaled to [0, 1] by a running min-max scaler."""

    def __init__(
        self, n_trees: int = 10, height: int = 8, window_size: int = 250, seed: int = 0
    ) -> None:
        from river import anomaly, preprocessing

        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.seed = seed
        self._scaler: Any = preprocessing.MinMaxScaler()
        self._model: Any = anomaly.HalfSpaceTrees(
            n_trees=n_trees, height=height, window_size=window_size, seed=seed
        )

    def score_one(self, x: float | None) -> float:
        value = _as_float(x)
        if math.isnan(value):
            return 0.0
        scaled = self._scaler.transform_one({"x": value})
        return float(self._model.score_one(scaled))

    def learn_one(self, x: float | None) -> None:
        value = _as_float(x)
        if math.isnan(value):
            return
        self._scaler.learn_one({"x": value})
        self._model.learn_one(self._scaler.transform_one({"x": value}))


CATALOGUE_ENTRIES = (
    CatalogueEntry(
        "windowed_gaussian",
        "univariate",
        WindowedGaussian,
        threshold=0.999999,  # about 5 standard deviations
        description="Gaussian tail mass against a sliding window (NAB's baseline)",
    ),
    CatalogueEntry(
        "pyod_iforest",
        "univariate",
        IsolationForestBaseline,
        threshold=0.98,
        description="PyOD Isolation Forest, refitted on a sliding history",
    ),
    CatalogueEntry(
        "river_hst",
        "univariate",
        HalfSpaceTreesBaseline,
        threshold=0.995,
        description="river HalfSpaceTrees on min-max scaled values",
    ),
)
