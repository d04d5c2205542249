"""The feature schema of contracts §2: which numeric features a row carries, and how to read a row.

Rows arrive as plain dicts from the telemetry pipeline (or the warehouse). `FeatureRow.parse`
checks the keys the model needs and names the offending field when a row is malformed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = "features/v1"

KEY_FIELDS: tuple[str, ...] = (
    "entity_type",
    "entity_id",
    "namespace",
    "pod",
    "container",
    "deployment",
    "node",
    "window_start",
    "window_end",
)

ENTITY_TYPES = frozenset({"container", "pod", "deployment", "node"})

NUMERIC_FEATURES: tuple[str, ...] = (
    "cpu_cores",
    "cpu_limit_utilization",
    "memory_bytes",
    "memory_limit_utilization",
    "memory_slope_bytes_per_s",
    "restarts",
    "network_rx_bytes_per_s",
    "network_tx_bytes_per_s",
    "request_rate",
    "error_rate",
    "latency_p95_ms",
    "log_lines",
    "error_log_lines",
    "new_log_templates",
    "ready",
    "node_not_ready",
)

# Optional extra of contracts §2: seconds since the workload's newest ReplicaSet revision appeared.
OPTIONAL_FEATURES: tuple[str, ...] = ("rollout_age_seconds",)

MAP_FEATURES: tuple[str, ...] = ("event_reasons", "log_templates")

# Features whose scale spans orders of magnitude: the model sees log1p of them.
LOG_SCALED = frozenset(
    {
        "cpu_cores",
        "memory_bytes",
        "network_rx_bytes_per_s",
        "network_tx_bytes_per_s",
        "request_rate",
        "error_rate",
        "latency_p95_ms",
        "log_lines",
        "error_log_lines",
        "new_log_templates",
        "restarts",
    }
)

# Derived by the model from the raw features (not in the wire format).
DERIVED_FEATURES: tuple[str, ...] = (
    "error_fraction",
    "error_log_fraction",
    "memory_growth_per_hour",
    "memory_limit_bytes",
)

# What the learned-normal part of the model scores: the wire features whose rise or fall is
# meaningful without context, plus the derived ratios. Memory slope is scaled by the limit.
MODEL_FEATURES: tuple[str, ...] = (
    "cpu_limit_utilization",
    "memory_limit_utilization",
    "memory_growth_per_hour",
    "restarts",
    "network_rx_bytes_per_s",
    "network_tx_bytes_per_s",
    "request_rate",
    "latency_p95_ms",
    "log_lines",
    "error_log_lines",
    "new_log_templates",
    "ready",
    "node_not_ready",
    "error_fraction",
    "error_log_fraction",
)


class FeatureRowError(ValueError):
    """A feature row is malformed; the message names the field."""


@dataclass(frozen=True)
class FeatureRow:
    """One entity's features over one window, as the model reads them."""

    entity_type: str
    entity_id: str
    window_end: str
    namespace: str | None = None
    pod: str | None = None
    container: str | None = None
    deployment: str | None = None
    node: str | None = None
    window_start: str | None = None
    values: dict[str, float | None] = field(default_factory=dict)
    event_reasons: dict[str, int] = field(default_factory=dict)
    log_templates: dict[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, row: Mapping[str, Any]) -> FeatureRow:
        """Read a contracts §2 row; raise `FeatureRowError` naming the bad field."""
        if not isinstance(row, Mapping):
            raise FeatureRowError(f"row: expected an object, got {type(row).__name__}")
        entity_type = _text(row, "entity_type", required=True)
        if entity_type not in ENTITY_TYPES:
            raise FeatureRowError(
                f"entity_type: {entity_type!r} is not one of {sorted(ENTITY_TYPES)}"
            )
        values: dict[str, float | None] = {}
        for name in (*NUMERIC_FEATURES, *OPTIONAL_FEATURES):
            values[name] = _number(row, name)
        return cls(
            entity_type=str(entity_type),
            entity_id=str(_text(row, "entity_id", required=True)),
            window_end=str(_text(row, "window_end", required=True)),
            namespace=_text(row, "namespace"),
            pod=_text(row, "pod"),
            container=_text(row, "container"),
            deployment=_text(row, "deployment"),
            node=_text(row, "node"),
            window_start=_text(row, "window_start"),
            values=values,
            event_reasons=_counts(row, "event_reasons"),
            log_templates=_counts(row, "log_templates"),
        )

    def get(self, name: str) -> float | None:
        """A numeric feature (wire or derived), or None when missing."""
        if name == "error_fraction":
            return _ratio(self.values.get("error_rate"), self.values.get("request_rate"))
        if name == "error_log_fraction":
            return _ratio(self.values.get("error_log_lines"), self.values.get("log_lines"))
        if name == "memory_limit_bytes":
            used = self.values.get("memory_bytes")
            util = self.values.get("memory_limit_utilization")
            return used / util if used is not None and util is not None and util > 0 else None
        if name == "memory_growth_per_hour":
            # Slope as a fraction of the limit per hour, so pods of any size compare.
            slope = self.values.get("memory_slope_bytes_per_s")
            if slope is None:
                return None
            limit = self.get("memory_limit_bytes") or self.values.get("memory_bytes")
            return slope * 3600.0 / limit if limit else None
        return self.values.get(name)

    def events(self, *reasons: str) -> int:
        """How many Kubernetes events with any of these reasons fell in the window."""
        return sum(self.event_reasons.get(r, 0) for r in reasons)

    @property
    def workload(self) -> str:
        """The workload the row concerns: `ns/deployment`, the node name, or the entity id."""
        if self.entity_type == "node":
            return self.node or self.entity_id
        if self.namespace and self.deployment:
            return f"{self.namespace}/{self.deployment}"
        return self.entity_id


def transform(name: str, value: float) -> float:
    """The model's view of a raw feature value (log1p for heavy-tailed magnitudes)."""
    if name in LOG_SCALED:
        return math.log1p(max(value, 0.0))
    return value


def _ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None:
        return None
    if den <= 0:
        return 0.0 if num <= 0 else 1.0
    return min(max(num / den, 0.0), 1.0)


def _text(row: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = row.get(name)
    if value is None or value == "":
        if required:
            raise FeatureRowError(f"{name}: required field is missing")
        return None
    if not isinstance(value, str):
        raise FeatureRowError(f"{name}: expected a string, got {type(value).__name__}")
    return value


def _number(row: Mapping[str, Any], name: str) -> float | None:
    value = row.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FeatureRowError(f"{name}: expected a number or null, got {type(value).__name__}")
    number = float(value)
    return number if math.isfinite(number) else None


def _counts(row: Mapping[str, Any], name: str) -> dict[str, int]:
    value = row.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise FeatureRowError(f"{name}: expected an object of counts, got {type(value).__name__}")
    counts: dict[str, int] = {}
    for key, count in value.items():
        if isinstance(count, bool) or not isinstance(count, int | float):
            raise FeatureRowError(f"{name}.{key}: expected a count, got {type(count).__name__}")
        counts[str(key)] = int(count)
    return counts
