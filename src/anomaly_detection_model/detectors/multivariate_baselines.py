"""Plain multivariate baselines the benchmark runs beside our detector (batch fit, batch score).

PCA reconstruction error of z-scored metrics and PyOD's Isolation Forest: the two published
baselines of `shared/datasets/README.md`. They are not catalogued streaming detectors; they
exist to be beaten in the same benchmark, with the same training-quantile thresholds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


class PcaReconstruction:
    """Squared reconstruction error from the principal subspace holding `variance` of the data."""

    def __init__(self, variance: float = 0.9) -> None:
        self.variance = variance
        self._mean: Array | None = None
        self._std: Array | None = None
        self._components: Array | None = None

    def fit(self, train: npt.ArrayLike) -> PcaReconstruction:
        data = np.nan_to_num(np.asarray(train, dtype=np.float64))
        self._mean = data.mean(axis=0)
        std = data.std(axis=0)
        self._std = np.where(std > 1e-6, std, 1.0)
        z = (data - self._mean) / self._std
        values, vectors = np.linalg.eigh(np.cov(z, rowvar=False))
        order = np.argsort(values)[::-1]
        values, vectors = np.clip(values[order], 0, None), vectors[:, order]
        k = int(np.searchsorted(np.cumsum(values) / max(values.sum(), 1e-12), self.variance) + 1)
        self._components = vectors[:, : min(k, z.shape[1])].T
        return self

    def score(self, rows: npt.ArrayLike) -> Array:
        assert self._mean is not None and self._std is not None and self._components is not None
        z = (np.nan_to_num(np.asarray(rows, dtype=np.float64)) - self._mean) / self._std
        residual = z - (z @ self._components.T) @ self._components
        return np.asarray((residual**2).sum(axis=1), dtype=np.float64)


class IsolationForest:
    """PyOD's Isolation Forest (the `bench` extra), seeded."""

    def __init__(self, n_estimators: int = 100, seed: int = 0) -> None:
        self.n_estimators = n_estimators
        self.seed = seed
        self._model: Any = None

    def fit(self, train: npt.ArrayLike) -> IsolationForest:
        from pyod.models.iforest import IForest

        self._model = IForest(n_estimators=self.n_estimators, random_state=self.seed)
        self._model.fit(np.nan_to_num(np.asarray(train, dtype=np.float64)))
        return self

    def score(self, rows: npt.ArrayLike) -> Array:
        scores = self._model.decision_function(np.nan_to_num(np.asarray(rows, dtype=np.float64)))
        return np.asarray(scores, dtype=np.float64)
