"""The telemetry record types (contracts §1): where a point came from, a metric point, a log
record, and the dead letter a message becomes when it cannot be used; each knows its
warehouse row. `records` parses messages into them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from telemetry_pipeline.timestamps import format_rfc3339

Row = dict[str, Any]
PAYLOAD_LIMIT = 8_192

RESOURCE_LABELS: dict[str, tuple[str, ...]] = {
    "k8s_container": ("namespace_name", "pod_name", "container_name"),
    "k8s_pod": ("namespace_name", "pod_name"),
    "k8s_node": ("node_name",),
}
LOG_RESOURCES = frozenset({*RESOURCE_LABELS, "k8s_cluster"})
ERROR_SEVERITIES = frozenset({"ERROR", "CRITICAL", "ALERT", "EMERGENCY"})


class SourceKey(NamedTuple):
    """The monitored resource a message is about: a container, a pod or a node."""

    namespace: str
    pod: str
    container: str
    node: str

    @property
    def kind(self) -> str:
        if self.container:
            return "container"
        if self.pod:
            return "pod"
        return "node" if self.node else "cluster"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message the pipeline could not use, with why."""

    kind: str  # "metric" or "log"
    reason: str
    payload: str
    received_at: float

    def to_row(self) -> Row:
        return {
            "received_at": format_rfc3339(self.received_at),
            "kind": self.kind,
            "reason": self.reason,
            "payload": self.payload[:PAYLOAD_LIMIT],
        }


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which costs a
# third of the parse time at 100,000 points/s. Treat points as read-only all the same.
@dataclass(slots=True)
class MetricPoint:
    """One point of one Cloud Monitoring time series, normalised."""

    metric_type: str
    metric_kind: str
    value: float
    time: float
    start: float | None
    source: SourceKey
    deployment: str | None
    node: str | None
    labels: dict[str, str]
    resource_type: str
    resource_labels: dict[str, str]
    end_text: str
    start_text: str | None

    def to_row(self) -> Row:
        """The `raw_metrics` row."""
        return {
            "timestamp": self.end_text,
            "start_time": self.start_text,
            "metric_type": self.metric_type,
            "metric_kind": self.metric_kind,
            "value": self.value,
            "resource_type": self.resource_type,
            "project_id": self.resource_labels.get("project_id"),
            "location": self.resource_labels.get("location"),
            "cluster_name": self.resource_labels.get("cluster_name"),
            "namespace": self.source.namespace or None,
            "pod": self.source.pod or None,
            "container": self.source.container or None,
            "node": self.node,
            "deployment": self.deployment,
            "metric_labels": _labels_json(self.labels),
        }


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One Cloud Logging entry, normalised; `row` is the entry in the log-sink schema."""

    time: float
    severity: str
    source: SourceKey
    deployment: str | None
    node: str | None
    message: str
    event_reason: str | None
    row: Row

    @property
    def is_error(self) -> bool:
        return self.severity in ERROR_SEVERITIES

    def to_row(self) -> Row:
        return self.row


_LABELS_JSON: dict[tuple[tuple[str, str], ...], str] = {}


def _labels_json(labels: dict[str, str]) -> str:
    """Labels as sorted JSON text; memoised because a few label sets repeat endlessly."""
    if not labels:
        return "{}"
    key = tuple(sorted(labels.items()))
    text = _LABELS_JSON.get(key)
    if text is None:
        if len(_LABELS_JSON) > 10_000:
            _LABELS_JSON.clear()
        text = _LABELS_JSON[key] = json.dumps(labels, sort_keys=True)
    return text
