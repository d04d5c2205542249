"""The multivariate detector: linear reconstruction of standardised metrics with temporal context.

Two views of each observation are reconstructed from their principal subspaces, learnt on
normal (training) data: the metric vector alone, and the vector stacked with its `lags`
predecessors (so a break in how the metrics move together over time shows, not only an odd
mix at one instant). Each view's reconstruction error is smoothed (EWMA, so one noisy row
does not alarm and a sustained deviation builds up; with `fast_attack`, only on the way down:
a rise is taken at once, so a short incident shows at full height without delay, and the slow
decay afterwards keeps one incident one alarm run) and divided by its own high quantile
over the training data; the score is the larger of the two, mapped to [0, 1] so that the
training quantile sits at 0.5, and then held at its highest over the last `hold` steps (as
Prometheus' `keep_firing_for`: one incident whose evidence flickers around the threshold stays
one alarm, and the onset is not delayed). With `in_subspace`, a third error is the vector's
distance inside its principal subspace, each component in units of its training spread
(Hotelling's T², the classic partner of reconstruction error in process control): it sees
metrics that move together as they always do, only much further than they ever did. With
`range_quantile`, another is range novelty (`detectors.multivariate_range`): how far the
`range_metrics`-th most novel metric lies beyond its robust training band.
Deterministic (an eigendecomposition, no sampling).

`SELECTED` is the setting that the label-free rule of
`anomaly_detection_model.evaluation.multivariate_selection` picks on the training halves of
`shared/datasets/asd` and `smd` (`benchmarks/multivariate.py` re-runs the rule and checks it);
`gke-heal evaluate multivariate` uses it. The constructor's defaults are the settings the
entity model (`anomaly_detection_model.model`) was validated with on the simulator.

Batch `fit` learns from a training array. Fed one row at a time with no `fit`, the detector
keeps the first `warmup` rows, fits on them, then scores (0 until then).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from anomaly_detection_model.base import Detector
from anomaly_detection_model.detectors.catalogue import CatalogueEntry
from anomaly_detection_model.detectors.multivariate_range import MIN_NORMALISER, RangeNovelty

Vector = Sequence[float] | npt.NDArray[np.floating[Any]]
Array = npt.NDArray[np.float64]
CLIP = 20.0  # standardised values beyond this are one broken sensor, not more evidence
# Chosen on training data only, by the rule of evaluation.multivariate_selection; never by
# looking at test labels. Change it only by re-running that rule (benchmarks/multivariate.py).
SELECTED: dict[str, Any] = {
    "lags": 1,
    "smoothing": 0.5,
    "variance": 0.95,
    "in_subspace": False,
    "fast_attack": False,
    "range_quantile": 0.999,
    "range_metrics": 2,
}


@dataclass
class _Subspace:
    """One view's principal subspace and the scale of its residuals on training data."""

    mean: Array
    components: Array  # (k, d)
    residual_scale: Array  # (d,)
    normaliser: float = 1.0
    component_scale: Array | None = None  # (k,) spread of each component on training data
    distance_normaliser: float = 1.0

    @classmethod
    def fit(cls, data: Array, variance: float, normalise_residuals: bool) -> _Subspace:
        mean = data.mean(axis=0)
        centred = data - mean
        # Eigen-decomposition of the covariance: deterministic, and cheap for d in the 100s.
        cov = centred.T @ centred / max(len(data) - 1, 1)
        values, vectors = np.linalg.eigh(cov)
        order = np.argsort(values)[::-1]
        values, vectors = np.clip(values[order], 0.0, None), vectors[:, order]
        total = float(values.sum())
        if total <= 0:
            k = 0
        else:
            k = int(np.searchsorted(np.cumsum(values) / total, variance) + 1)
            k = min(k, data.shape[1] - 1) if data.shape[1] > 1 else 0
        components = vectors[:, :k].T
        subspace = cls(mean, components, np.ones(data.shape[1]))
        subspace.component_scale = np.sqrt(values[:k]) + 1e-6
        if normalise_residuals:
            residuals = subspace.residuals(data)
            subspace.residual_scale = np.sqrt((residuals**2).mean(axis=0)) + 1e-2
        return subspace

    def residuals(self, data: Array) -> Array:
        centred = data - self.mean
        if self.components.size == 0:
            return centred
        return centred - (centred @ self.components.T) @ self.components

    def error(self, data: Array) -> Array:
        """Root-mean-square scaled residual of each row."""
        scaled = self.residuals(data) / self.residual_scale
        return np.asarray(np.sqrt((scaled**2).mean(axis=1)), dtype=np.float64)

    def distance(self, data: Array) -> Array:
        """Root-mean-square of each row's principal components in training-spread units."""
        if self.components.size == 0:
            return np.zeros(len(data))
        scale = self.component_scale if self.component_scale is not None else 1.0
        inside = ((data - self.mean) @ self.components.T) / scale
        return np.asarray(np.sqrt((inside**2).mean(axis=1)), dtype=np.float64)


@dataclass
class StreamState:
    """One stream's recent standardised rows, smoothed errors and scores still held."""

    recent: deque[Array]
    smoothed: list[float] | None
    held: deque[float] = field(default_factory=deque)


class LaggedReconstruction(Detector[Vector]):
    """Reconstruction error of the metric vector and of its recent trajectory, smoothed."""

    def __init__(
        self,
        lags: int = 2,
        variance: float = 0.9,
        smoothing: float = 0.5,
        quantile: float = 0.995,
        warmup: int = 500,
        hold: int = 1,
        in_subspace: bool = False,
        fast_attack: bool = False,
        range_quantile: float | None = None,
        range_metrics: int = 1,
    ) -> None:
        if hold < 1:
            raise ValueError("hold: must be at least 1 step")
        if range_quantile is not None and not 0.5 < range_quantile <= 1.0:
            raise ValueError("range_quantile: must be in (0.5, 1.0], or None for no range novelty")
        if range_metrics < 1:
            raise ValueError("range_metrics: must be at least 1")
        self.lags = lags
        self.variance = variance
        self.smoothing = smoothing
        self.quantile = quantile
        self.warmup = warmup
        self.hold = hold
        self.in_subspace = in_subspace
        self.fast_attack = fast_attack
        self.range_quantile = range_quantile
        self.range_metrics = range_metrics
        self._range: RangeNovelty | None = None
        self._center: Array | None = None
        self._scale: Array | None = None
        self._views: list[_Subspace] = []
        self._context: deque[Array] = deque(maxlen=max(lags, 1))
        self._smoothed: list[float] | None = None
        self._held: deque[float] = deque(maxlen=hold - 1)
        self._buffer: list[Array] = []
        self.threshold_: float = 0.5

    # ---- batch -------------------------------------------------------------------------
    def fit(self, xs: Sequence[Vector] | Array) -> LaggedReconstruction:
        """Learn standardisation, subspaces and score normalisers from (normal) rows."""
        data = np.asarray(xs, dtype=np.float64)
        if data.ndim != 2 or len(data) < 2:
            raise ValueError("fit: expected at least two rows of equal length")
        filled = np.where(np.isfinite(data), data, np.nan)
        center = np.nanmean(filled, axis=0)
        center = np.where(np.isfinite(center), center, 0.0)
        scale = np.nanstd(filled, axis=0)
        # A constant metric in training has no scale: any change is measured in its own units.
        scale = np.where(np.isfinite(scale) & (scale > 1e-4), scale, 1.0)
        self._center, self._scale = center, scale
        z = self._standardise(filled)
        lagged = self._stack(z)
        self._views = [
            _Subspace.fit(z, self.variance, normalise_residuals=False),
            _Subspace.fit(lagged, self.variance, normalise_residuals=True),
        ]
        if self.range_quantile is not None:
            self._range = RangeNovelty.fit(z, self.range_quantile, self.range_metrics)
        raw = self._errors(z, lagged)
        levels = [max(float(np.quantile(self._ewma(e, None), self.quantile)), 1e-9) for e in raw]
        for view, level in zip(self._views, levels, strict=False):
            view.normaliser = level
        if self.in_subspace:
            self._views[0].distance_normaliser = levels[2]
        if self._range is not None:
            self._range.normaliser = max(levels[-1], MIN_NORMALISER)
        self._context.clear()
        self._smoothed = None
        self._held.clear()
        self._buffer = []
        combined = self._held_max(self._combine([self._ewma(e, None) for e in raw]), [])
        self.threshold_ = float(np.quantile(combined, self.quantile))
        return self

    def score(self, xs: Sequence[Vector] | Array) -> Array:
        """Prequential scores of a batch; equal to scoring the rows one by one."""
        data = np.asarray(xs, dtype=np.float64)
        if self._views and data.ndim == 2 and len(data):
            z = self._standardise(data)
            history = list(self._context)
            lagged = self._stack(z, history)
            raw = self._errors(z, lagged)
            smoothed = [self._ewma(e, s) for e, s in zip(raw, self._state(), strict=True)]
            for row in z[-self.lags :] if self.lags else []:
                self._context.append(row)
            self._smoothed = [float(s[-1]) for s in smoothed]
            combined = self._combine(smoothed)
            held = self._held_max(combined, list(self._held))
            self._held.extend(combined[-(self.hold - 1) :] if self.hold > 1 else [])
            return held
        return super().score(list(data))

    # ---- streaming ---------------------------------------------------------------------
    def score_one(self, x: Vector) -> float:
        if not self._views:
            return 0.0
        z = self._standardise(np.asarray(x, dtype=np.float64)[None, :])
        lagged = self._stack(z, list(self._context))
        smoothed = self._next_smoothed(z, lagged)
        return max([self._combined_one(smoothed), *self._held])

    def learn_one(self, x: Vector) -> None:
        row = np.asarray(x, dtype=np.float64)
        if not self._views:
            self._buffer.append(row)
            if len(self._buffer) >= self.warmup:
                self.fit(np.vstack(self._buffer))
            return
        z = self._standardise(row[None, :])
        lagged = self._stack(z, list(self._context))
        self._smoothed = self._next_smoothed(z, lagged)
        if self.hold > 1:
            self._held.append(self._combined_one(self._smoothed))
        if self.lags:
            self._context.append(z[0])

    # ---- many streams, one fitted model ------------------------------------------------
    @property
    def fitted(self) -> bool:
        return bool(self._views)

    def new_stream(self) -> StreamState:
        """Temporal state for one more stream (an entity) scored with this fitted model."""
        return StreamState(deque(maxlen=max(self.lags, 1)), None, deque(maxlen=self.hold - 1))

    def score_in(self, x: Vector, stream: StreamState, *, learn: bool = False) -> float:
        """`score_one` against another stream's temporal state; with `learn`, also advance that
        state by `x` (as `score_then_learn`). The fitted model never changes."""
        if not self._views:
            return 0.0
        z = self._standardise(np.asarray(x, dtype=np.float64)[None, :])
        lagged = self._stack(z, list(stream.recent))
        smoothed = self._next_smoothed(z, lagged, self._stream_levels(stream))
        combined = self._combined_one(smoothed)
        score = max([combined, *stream.held])
        if learn:
            stream.smoothed = smoothed
            if self.lags:
                stream.recent.append(z[0])
            if self.hold > 1:
                stream.held.append(combined)
        return score

    def learn_in(self, x: Vector, stream: StreamState) -> None:
        """Advance another stream's temporal state by `x` (the fitted model is unchanged)."""
        self.score_in(x, stream, learn=True)

    def _stream_levels(self, stream: StreamState) -> list[float | None]:
        if stream.smoothed is None:
            return [None] * len(self._normalisers())
        return list(stream.smoothed)

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as plain JSON-able data (no temporal state)."""
        if self._center is None or self._scale is None:
            raise ValueError("to_dict: the detector is not fitted")
        return {
            "params": self.get_params(),
            "center": self._center.tolist(),
            "scale": self._scale.tolist(),
            "threshold": self.threshold_,
            "views": [
                {
                    "mean": v.mean.tolist(),
                    "components": v.components.tolist(),
                    "residual_scale": v.residual_scale.tolist(),
                    "normaliser": v.normaliser,
                    "component_scale": (
                        None if v.component_scale is None else v.component_scale.tolist()
                    ),
                    "distance_normaliser": v.distance_normaliser,
                }
                for v in self._views
            ],
            "range": None if self._range is None else self._range.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LaggedReconstruction:
        detector = cls(**data["params"])
        detector._center = np.asarray(data["center"], dtype=np.float64)
        detector._scale = np.asarray(data["scale"], dtype=np.float64)
        detector.threshold_ = float(data["threshold"])
        width = len(detector._center)
        detector._views = [
            _Subspace(
                mean=np.asarray(v["mean"], dtype=np.float64),
                components=np.asarray(v["components"], dtype=np.float64).reshape(
                    -1, width * (1 + (detector.lags if i else 0))
                ),
                residual_scale=np.asarray(v["residual_scale"], dtype=np.float64),
                normaliser=float(v["normaliser"]),
                component_scale=(
                    None
                    if v.get("component_scale") is None
                    else np.asarray(v["component_scale"], dtype=np.float64)
                ),
                distance_normaliser=float(v.get("distance_normaliser", 1.0)),
            )
            for i, v in enumerate(data["views"])
        ]
        if data.get("range") is not None:
            detector._range = RangeNovelty.from_dict(data["range"])
        return detector

    # ---- internals ---------------------------------------------------------------------
    def _state(self) -> list[float | None]:
        if self._smoothed is not None:
            return list(self._smoothed)
        return [None] * len(self._normalisers())

    def _errors(self, z: Array, lagged: Array) -> list[Array]:
        """The raw error series: reconstruction of each view, in-subspace distance, range."""
        errors = [view.error(x) for view, x in zip(self._views, (z, lagged), strict=True)]
        if self.in_subspace:
            errors.append(self._views[0].distance(z))
        if self._range is not None:
            errors.append(self._range.excess(z))
        return errors

    def _normalisers(self) -> list[float]:
        levels = [view.normaliser for view in self._views]
        if self.in_subspace:
            levels.append(self._views[0].distance_normaliser)
        if self._range is not None:
            levels.append(self._range.normaliser)
        return levels

    def _next_smoothed(
        self, z: Array, lagged: Array, previous: list[float | None] | None = None
    ) -> list[float]:
        errors = [float(e[0]) for e in self._errors(z, lagged)]
        previous = self._state() if previous is None else previous
        return [self._smooth_step(e, p) for e, p in zip(errors, previous, strict=True)]

    def _smooth_step(self, error: float, level: float | None) -> float:
        """One EWMA step; with `fast_attack`, a rise above the level is taken whole."""
        if level is None or (self.fast_attack and error > level):
            return error
        return self.smoothing * error + (1 - self.smoothing) * level

    def _standardise(self, data: Array) -> Array:
        assert self._center is not None and self._scale is not None
        if data.shape[-1] != self._center.shape[0]:
            raise ValueError(
                f"observation has {data.shape[-1]} values, the detector was fitted on "
                f"{self._center.shape[0]}"
            )
        z = (data - self._center) / self._scale
        # Missing values are read as normal (the training mean) rather than guessed at.
        return np.clip(np.where(np.isfinite(z), z, 0.0), -CLIP, CLIP)

    def _stack(self, z: Array, history: list[Array] | None = None) -> Array:
        """Each row followed by its `lags` predecessors (the first row stands in for missing ones)."""
        if not self.lags:
            return z
        before = np.vstack(history) if history else np.repeat(z[:1], self.lags, axis=0)
        if len(before) < self.lags:
            before = np.vstack([np.repeat(before[:1], self.lags - len(before), axis=0), before])
        full = np.vstack([before[-self.lags :], z])
        n = len(z)
        parts = [full[self.lags - j : self.lags - j + n] for j in range(self.lags + 1)]
        return np.hstack(parts)

    def _ewma(self, errors: Array, start: float | None) -> Array:
        out = np.empty_like(errors)
        level = start
        for i, e in enumerate(errors):
            level = self._smooth_step(float(e), level)
            out[i] = level
        return out

    def _combined_one(self, smoothed: list[float]) -> float:
        return float(self._combine([np.array([v]) for v in smoothed])[0])

    def _held_max(self, combined: Array, before: list[float]) -> Array:
        """Each score raised to the highest of it and the `hold - 1` scores before it."""
        if self.hold <= 1:
            return combined
        padded = np.concatenate([np.zeros(self.hold - 1), before[-(self.hold - 1) :], combined])
        window = np.lib.stride_tricks.sliding_window_view(padded, self.hold)
        return np.asarray(window.max(axis=1)[-len(combined) :], dtype=np.float64)

    def _combine(self, smoothed: Sequence[Array]) -> Array:
        ratio = np.max(
            [s / level for s, level in zip(smoothed, self._normalisers(), strict=True)], axis=0
        )
        return np.asarray(1.0 - 0.5 ** (ratio * ratio), dtype=np.float64)


def multivariate_sample(n: int, seed: int) -> list[Any]:
    """Correlated 4-metric rows (CPU, memory, network in/out) with a few broken correlations."""
    rng = np.random.default_rng(seed)
    load = 1.0 + 0.3 * np.sin(np.arange(n) * 2 * np.pi / 288) + 0.05 * rng.standard_normal(n)
    rows = np.column_stack(
        [
            0.5 * load + 0.02 * rng.standard_normal(n),
            0.4 + 0.01 * rng.standard_normal(n),
            2.0 * load + 0.05 * rng.standard_normal(n),
            3.0 * load + 0.05 * rng.standard_normal(n),
        ]
    )
    for i in rng.choice(n, size=max(n // 300, 1), replace=False):
        rows[i, 2] *= 3.0
    return [list(map(float, r)) for r in rows]


def blank_vector(x: Any) -> Any:
    return [float("nan")] * len(x)


CATALOGUE_ENTRIES = (
    CatalogueEntry(
        "lagged_reconstruction",
        "multivariate",
        lambda: LaggedReconstruction(warmup=200),
        sample=multivariate_sample,
        missing=blank_vector,
        threshold=0.5,
        description="PCA reconstruction of the metric vector and its lagged trajectory, EWMA",
    ),
)
