"""Learned normal behaviour per feature: a global profile from training rows, refined per entity.

The global profile (robust centre and scale of each model feature over the training rows)
gives every entity, even one never seen in training, a baseline from its first window. Each
entity then keeps exponentially weighted statistics of its own, so a pod that normally runs
hot is not flagged for being itself. An entity's statistics learn slowly while it is
anomalous, so a sustained problem does not quickly become the new normal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from anomaly_detection_model.features import LOG_SCALED, MODEL_FEATURES, FeatureRow, transform

# +1: only a rise is anomalous; -1: only a fall; 0: both directions.
DIRECTION: dict[str, int] = {
    "cpu_limit_utilization": 1,
    "memory_limit_utilization": 1,
    "memory_growth_per_hour": 1,
    "restarts": 1,
    "network_rx_bytes_per_s": 0,
    "network_tx_bytes_per_s": 0,
    "request_rate": 0,
    "latency_p95_ms": 1,
    "log_lines": 0,
    "error_log_lines": 1,
    "new_log_templates": 1,
    "ready": -1,
    "node_not_ready": 1,
    "error_fraction": 1,
    "error_log_fraction": 1,
}

# Smallest scale (in the transformed unit) a deviation is measured against: a flat training
# series must not make a tiny wobble look like a 50-sigma event.
SCALE_FLOOR: dict[str, float] = {
    "cpu_limit_utilization": 0.05,
    "memory_limit_utilization": 0.05,
    "memory_growth_per_hour": 0.05,
    "restarts": 0.25,
    "ready": 0.1,
    "node_not_ready": 0.25,
    "error_fraction": 0.02,
    "error_log_fraction": 0.05,
}
LOG_SCALE_FLOOR = 0.15  # about a 15 % change of a log1p-scaled magnitude


@dataclass
class FeatureNormal:
    """The global robust centre and scale of one model feature."""

    center: float
    scale: float


@dataclass
class NormalProfile:
    """Global per-feature normal learned from training rows, plus the streaming settings."""

    features: dict[str, FeatureNormal]
    alpha: float = 0.05
    warmup: int = 10
    anomalous_learning_factor: float = 0.1

    @classmethod
    def fit(cls, rows: Iterable[FeatureRow], **settings: Any) -> NormalProfile:
        """Robust centre (median) and scale (MAD, IQR fallback) of each feature over `rows`."""
        columns: dict[str, list[float]] = {name: [] for name in MODEL_FEATURES}
        for row in rows:
            for name in MODEL_FEATURES:
                value = row.get(name)
                if value is not None:
                    columns[name].append(transform(name, value))
        features: dict[str, FeatureNormal] = {}
        for name, values in columns.items():
            floor = scale_floor(name)
            if not values:
                features[name] = FeatureNormal(0.0, floor)
                continue
            arr = np.asarray(values, dtype=np.float64)
            center = float(np.median(arr))
            mad = float(np.median(np.abs(arr - center))) * 1.4826
            iqr = float(np.subtract(*np.quantile(arr, [0.75, 0.25]))) / 1.349
            features[name] = FeatureNormal(center, max(mad, iqr, float(np.std(arr)) * 0.5, floor))
        return cls(features=features, **settings)

    @classmethod
    def untrained(cls) -> NormalProfile:
        """A profile with no training: every entity starts from its own first windows."""
        return cls(features={n: FeatureNormal(0.0, scale_floor(n)) for n in MODEL_FEATURES})

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": {n: [f.center, f.scale] for n, f in self.features.items()},
            "alpha": self.alpha,
            "warmup": self.warmup,
            "anomalous_learning_factor": self.anomalous_learning_factor,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NormalProfile:
        features = {n: FeatureNormal(float(c), float(s)) for n, (c, s) in data["features"].items()}
        return cls(
            features=features,
            alpha=float(data["alpha"]),
            warmup=int(data["warmup"]),
            anomalous_learning_factor=float(data["anomalous_learning_factor"]),
        )

    def raw_center(self, name: str) -> float | None:
        """The fleet-wide normal of a feature in raw units (None when never seen in training)."""
        feature = self.features.get(name)
        if feature is None:
            return None
        return math.expm1(feature.center) if name in LOG_SCALED else feature.center


def directional(signed: Mapping[str, float]) -> dict[str, float]:
    """Keep only deviations in each feature's anomalous direction, as sizes (>= 0)."""
    out: dict[str, float] = {}
    for name, z in signed.items():
        direction = DIRECTION.get(name, 0)
        out[name] = max(z * direction, 0.0) if direction else abs(z)
    return out


def scale_floor(name: str) -> float:
    return SCALE_FLOOR.get(name, LOG_SCALE_FLOOR)


@dataclass
class EntityNormal:
    """One entity's exponentially weighted mean and variance of each model feature."""

    mean: dict[str, float] = field(default_factory=dict)
    var: dict[str, float] = field(default_factory=dict)
    count: dict[str, int] = field(default_factory=dict)

    def deviations(self, row: FeatureRow, profile: NormalProfile) -> dict[str, float]:
        """Deviation in the anomalous direction (in robust sigmas, >= 0) of each present feature."""
        return directional(self.signed_deviations(row, profile))

    def warmed_up(self, profile: NormalProfile) -> bool:
        """True once most features have their own normal (not the global profile's)."""
        return (
            sum(1 for n in self.count.values() if n >= profile.warmup) >= len(self.count) // 2 > 0
        )

    def signed_deviations(self, row: FeatureRow, profile: NormalProfile) -> dict[str, float]:
        """(value - normal) / scale of each present feature, in the model's units."""
        out: dict[str, float] = {}
        for name in MODEL_FEATURES:
            raw = row.get(name)
            if raw is None:
                continue
            value = transform(name, raw)
            glob = profile.features.get(name) or FeatureNormal(0.0, scale_floor(name))
            n = self.count.get(name, 0)
            if n >= profile.warmup:
                center = self.mean[name]
                scale = max(math.sqrt(self.var[name]), scale_floor(name))
            elif n > 0:
                # Few own observations: blend own mean with the global profile.
                w = n / profile.warmup
                center = w * self.mean[name] + (1 - w) * glob.center
                scale = max(glob.scale, scale_floor(name))
            else:
                center, scale = glob.center, max(glob.scale, scale_floor(name))
            out[name] = (value - center) / scale
        return out

    def learn(self, row: FeatureRow, profile: NormalProfile, *, anomalous: bool) -> None:
        """Fold one row into the entity's statistics."""
        for name in MODEL_FEATURES:
            raw = row.get(name)
            if raw is None:
                continue
            value = transform(name, raw)
            n = self.count.get(name, 0)
            if n == 0:
                self.mean[name], self.var[name] = value, 0.0
            else:
                # Plain averaging while warming up, exponential forgetting afterwards.
                alpha = max(profile.alpha, 1.0 / (n + 1))
                delta = value - self.mean[name]
                if n >= profile.warmup:
                    if anomalous:
                        alpha *= profile.anomalous_learning_factor
                    # Winsorised update: one wild window moves the normal by a bounded step
                    # and does not blow up the variance (which would hide the next ones).
                    bound = 3.0 * max(math.sqrt(self.var[name]), scale_floor(name))
                    delta = min(max(delta, -bound), bound)
                self.mean[name] += alpha * delta
                self.var[name] = (1 - alpha) * (self.var[name] + alpha * delta * delta)
            self.count[name] = n + 1

    def baseline(self, name: str, profile: NormalProfile) -> float | None:
        """The entity's learned normal of a feature in raw units (None before warm-up)."""
        if self.count.get(name, 0) < max(profile.warmup // 2, 1):
            return None
        value = self.mean[name]
        return math.expm1(value) if name in LOG_SCALED else value
