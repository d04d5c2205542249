"""Range novelty: how far a standardised metric vector lies outside the range seen in training.

Reconstruction error is blind to a move that stays inside the principal subspace: metrics
that rise together as they always do, only much further (a batch job, a traffic surge). Range
novelty is the complementary evidence. For each metric the range is the band between its
`1 - quantile` and `quantile` training quantiles (a robust range: a training set that already
holds a few such excursions must not stretch the band over them); a value inside it scores 0,
a value beyond it scores its excess in units of that metric's training spread (the
standardised units the detector works in). The row's novelty is the `metrics`-th largest
excess over its metrics: with 1, one metric far outside its range is enough; with 2, at least
two must leave their ranges together (a joint excursion, as a surge drives several metrics,
rather than one metric drifting on its own).

Used by `LaggedReconstruction(range_quantile=..., range_metrics=...)`, which smooths and calibrates this series
like its reconstruction errors (divided by its own high training quantile, so 1.0 sits at the
training threshold) and combines the calibrated series by their maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
# The novelty series is 0 on most training rows, so its high quantile can be 0 or tiny: one
# training spread beyond the band is the least excess that counts as evidence on its own.
MIN_NORMALISER = 1.0


@dataclass
class RangeNovelty:
    """Each metric's robust training band (standardised units) and the series' normaliser."""

    low: Array
    high: Array
    metrics: int = 1
    normaliser: float = MIN_NORMALISER

    @classmethod
    def fit(cls, z: Array, quantile: float, metrics: int = 1) -> RangeNovelty:
        """The band between the `1 - quantile` and `quantile` quantiles of each column."""
        if not 0.5 < quantile <= 1.0:
            raise ValueError("range_quantile: must be in (0.5, 1.0]")
        if metrics < 1:
            raise ValueError("range_metrics: must be at least 1")
        low, high = np.quantile(z, [1.0 - quantile, quantile], axis=0)
        return cls(np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64), metrics)

    def excess(self, z: Array) -> Array:
        """Each row's `metrics`-th largest excess beyond the bands (0 when fewer lie outside)."""
        beyond = np.maximum(np.maximum(z - self.high, self.low - z), 0.0)
        rank = min(self.metrics, beyond.shape[1])
        kth = np.partition(beyond, beyond.shape[1] - rank, axis=1)[:, beyond.shape[1] - rank]
        return np.asarray(kth, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "metrics": self.metrics,
            "normaliser": self.normaliser,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RangeNovelty:
        return cls(
            np.asarray(data["low"], dtype=np.float64),
            np.asarray(data["high"], dtype=np.float64),
            int(data["metrics"]),
            float(data["normaliser"]),
        )
