"""Feature rows (contracts §2): which entities a source feeds, and one row per entity per window.

A container source feeds its container, its pod and its Deployment; a pod source (network
counters, pod events) feeds its pod and Deployment; a node source feeds its node. The row of an
entity is built from the `SourceStats` of all the sources that feed it in that window.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from telemetry_pipeline.records import SourceKey
from telemetry_pipeline.sources import SeriesStats, SourceStats
from telemetry_pipeline.timestamps import format_rfc3339

K = "kubernetes.io/"
W = "workload.googleapis.com/http/server/"


class EntityKey(NamedTuple):
    """An entity of contracts §2: its type and id (`ns/pod/container`, `ns/pod`, `ns/dep`, `node`)."""

    entity_type: str
    entity_id: str


def entities_of(source: SourceKey, stats: SourceStats) -> list[EntityKey]:
    """The entities whose features this source's statistics count towards."""
    if not stats.has_data:
        return []
    kind = source.kind
    if kind == "node":
        return [EntityKey("node", source.node)]
    if kind == "cluster":
        return []
    pod_id = f"{source.namespace}/{source.pod}"
    keys = [EntityKey("pod", pod_id)]
    if kind == "container":
        keys.append(EntityKey("container", f"{pod_id}/{source.container}"))
    if stats.deployment:
        keys.append(EntityKey("deployment", f"{source.namespace}/{stats.deployment}"))
    return keys


def window_start(seconds: float, size: float) -> float:
    """Start of the fixed window (aligned to the epoch) that holds this instant."""
    return seconds - (seconds % size)


def _sum(values: Iterable[float | None]) -> float | None:
    total: float | None = None
    for value in values:
        if value is not None:
            total = value if total is None else total + value
    return total


def _max(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


class _Series:
    """The series of one metric type across the sources of an entity."""

    def __init__(self, parts: list[tuple[SourceKey, SourceStats]]) -> None:
        self.parts = parts

    def each(self, metric: str) -> list[SeriesStats]:
        return [s for _, stats in self.parts if (s := stats.series.get(metric)) is not None]

    def rates(self, metric: str) -> list[float | None]:
        """Per-second rate of a cumulative metric in each source, from its baseline."""
        return [
            s.rate(stats.baselines.get(metric))
            for _, stats in self.parts
            if (s := stats.series.get(metric)) is not None
        ]

    def increases(self, metric: str) -> list[float | None]:
        return [
            s.increase(stats.baselines.get(metric))
            for _, stats in self.parts
            if (s := stats.series.get(metric)) is not None
        ]


def build_feature_row(
    entity: EntityKey,
    start: float,
    size: float,
    parts: list[tuple[SourceKey, SourceStats]],
) -> dict[str, Any]:
    """The contracts §2 row of `entity` for the window [start, start + size)."""
    parts = sorted(parts, key=lambda part: part[0])
    series = _Series(parts)
    first = parts[0][0]
    deployment = next((s.deployment for _, s in parts if s.deployment), None)
    node = next((s.node for _, s in parts if s.node), None)
    containers = [stats for key, stats in parts if key.kind == "container"]
    running = sum(1 for s in containers if K + "container/memory/used_bytes" in s.series)
    row: dict[str, Any] = {
        "entity_type": entity.entity_type,
        "entity_id": entity.entity_id,
        "namespace": first.namespace or None,
        # A deployment row names one of its pods so its anomaly point has a k8s_pod resource.
        "pod": first.pod or None,
        "container": first.container if entity.entity_type == "container" else None,
        "deployment": deployment,
        "node": node if entity.entity_type != "node" else entity.entity_id,
        "window_start": format_rfc3339(start),
        "window_end": format_rfc3339(start + size),
    }
    if entity.entity_type == "node":
        row.update(_node_features(parts))
    else:
        used = series.each(K + "container/memory/used_bytes")
        row.update(
            cpu_cores=_sum(series.rates(K + "container/cpu/core_usage_time")),
            cpu_limit_utilization=_max(
                s.mean_v for s in series.each(K + "container/cpu/limit_utilization")
            ),
            memory_bytes=_sum(s.mean_v for s in used),
            memory_limit_utilization=_max(
                s.last_v for s in series.each(K + "container/memory/limit_utilization")
            ),
            memory_slope_bytes_per_s=_sum(s.slope() for s in used),
            restarts=_sum(series.increases(K + "container/restart_count")),
            network_rx_bytes_per_s=_sum(series.rates(K + "pod/network/received_bytes_count")),
            network_tx_bytes_per_s=_sum(series.rates(K + "pod/network/sent_bytes_count")),
            request_rate=_sum(series.rates(W + "request_count")),
            error_rate=_sum(series.rates(W + "error_count")),
            latency_p95_ms=_max(s.mean_v for s in series.each(W + "latency_p95_ms")),
            ready=(running / len(containers)) if containers else None,
            node_not_ready=None,
        )
    templates: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for _, stats in parts:
        for key, count in stats.templates.items():
            templates[key] = templates.get(key, 0) + count
        for key, count in stats.event_reasons.items():
            reasons[key] = reasons.get(key, 0) + count
    log_sources = [s for _, s in parts if s.log_lines or s.templates]
    row["log_lines"] = float(sum(s.log_lines for _, s in parts)) if log_sources else 0.0
    row["error_log_lines"] = float(sum(s.error_log_lines for _, s in parts))
    # Filled in by the stateful step that remembers templates across windows.
    row["new_log_templates"] = None
    row["event_reasons"] = reasons
    row["log_templates"] = templates
    return row


def _node_features(parts: list[tuple[SourceKey, SourceStats]]) -> dict[str, Any]:
    series = _Series(parts)
    latest = max(
        (s.node_ready for _, s in parts if s.node_ready is not None),
        default=None,
    )
    return {
        "cpu_cores": None,
        "cpu_limit_utilization": _max(
            s.mean_v for s in series.each(K + "node/cpu/allocatable_utilization")
        ),
        "memory_bytes": None,
        "memory_limit_utilization": _max(
            s.last_v for s in series.each(K + "node/memory/allocatable_utilization")
        ),
        "memory_slope_bytes_per_s": None,
        "restarts": None,
        "network_rx_bytes_per_s": None,
        "network_tx_bytes_per_s": None,
        "request_rate": None,
        "error_rate": None,
        "latency_p95_ms": None,
        "ready": None if latest is None else (1.0 if latest[1] else 0.0),
        "node_not_ready": None if latest is None else (0.0 if latest[1] else 1.0),
    }


def group_by_entity(
    sources: Iterable[tuple[SourceKey, SourceStats]],
) -> dict[EntityKey, list[tuple[SourceKey, SourceStats]]]:
    """Sources of one window, gathered under each entity they feed."""
    grouped: dict[EntityKey, list[tuple[SourceKey, SourceStats]]] = {}
    for key, stats in sources:
        for entity in entities_of(key, stats):
            grouped.setdefault(entity, []).append((key, stats))
    return grouped
