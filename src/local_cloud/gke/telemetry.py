"""Telemetry in the shapes GKE produces (contract §1): Cloud Monitoring `TimeSeries` JSON and
Cloud Logging `LogEntry` JSON, handed to a `TelemetrySink`.

Builders share the `resource`, `metadata` and interval dicts between series, to keep
a large cluster cheap to simulate: sinks and consumers must treat what they get as read-only.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from local_cloud.clock import rfc3339

Obj = dict[str, Any]


class TelemetrySink(Protocol):
    """Where the cluster's metrics and logs go (Pub/Sub, the pipeline's source, a file)."""

    def publish_metrics(self, series: list[Obj]) -> None: ...

    def publish_logs(self, entries: list[Obj]) -> None: ...


class MemorySink:
    """Keeps everything in lists; for tests and in-process consumers."""

    def __init__(self) -> None:
        self.metrics: list[Obj] = []
        self.logs: list[Obj] = []
        self._lock = threading.Lock()

    def publish_metrics(self, series: list[Obj]) -> None:
        with self._lock:
            self.metrics.extend(series)

    def publish_logs(self, entries: list[Obj]) -> None:
        with self._lock:
            self.logs.extend(entries)

    def drain(self) -> tuple[list[Obj], list[Obj]]:
        """Take and forget what arrived so far."""
        with self._lock:
            metrics, logs = self.metrics, self.logs
            self.metrics, self.logs = [], []
            return metrics, logs


class CountingSink:
    """Counts and drops; for benchmarks that measure the simulator, not a consumer."""

    def __init__(self) -> None:
        self.metric_count = 0
        self.log_count = 0

    def publish_metrics(self, series: list[Obj]) -> None:
        self.metric_count += len(series)

    def publish_logs(self, entries: list[Obj]) -> None:
        self.log_count += len(entries)


class JsonlSink:
    """Appends one JSON document per line to `metrics.jsonl` and `logs.jsonl` (for backfill)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.metrics_path = directory / "metrics.jsonl"
        self.logs_path = directory / "logs.jsonl"
        self._lock = threading.Lock()

    def _append(self, path: Path, docs: list[Obj]) -> None:
        if not docs:
            return
        text = "".join(json.dumps(d, separators=(",", ":")) + "\n" for d in docs)
        with self._lock, path.open("a", encoding="utf-8") as f:
            f.write(text)

    def publish_metrics(self, series: list[Obj]) -> None:
        self._append(self.metrics_path, series)

    def publish_logs(self, entries: list[Obj]) -> None:
        self._append(self.logs_path, entries)


class FanOutSink:
    """Publishes to several sinks in turn."""

    def __init__(self, *sinks: TelemetrySink) -> None:
        self.sinks = sinks

    def publish_metrics(self, series: list[Obj]) -> None:
        for sink in self.sinks:
            sink.publish_metrics(series)

    def publish_logs(self, entries: list[Obj]) -> None:
        for sink in self.sinks:
            sink.publish_logs(entries)


@dataclass(frozen=True)
class ClusterIdentity:
    """The labels every GKE monitored resource carries."""

    project_id: str = "local-project"
    location: str = "us-central1"
    cluster_name: str = "demo-cluster"

    def container(self, namespace: str, pod: str, container: str) -> Obj:
        return {"type": "k8s_container", "labels": {
            "project_id": self.project_id, "location": self.location,
            "cluster_name": self.cluster_name, "namespace_name": namespace,
            "pod_name": pod, "container_name": container,
        }}  # fmt: skip

    def pod(self, namespace: str, pod: str) -> Obj:
        return {"type": "k8s_pod", "labels": {
            "project_id": self.project_id, "location": self.location,
            "cluster_name": self.cluster_name, "namespace_name": namespace, "pod_name": pod,
        }}  # fmt: skip

    def node(self, node: str) -> Obj:
        return {"type": "k8s_node", "labels": {
            "project_id": self.project_id, "location": self.location,
            "cluster_name": self.cluster_name, "node_name": node,
        }}  # fmt: skip

    def cluster(self) -> Obj:
        return {"type": "k8s_cluster", "labels": {
            "project_id": self.project_id, "location": self.location,
            "cluster_name": self.cluster_name,
        }}  # fmt: skip


def interval(end: str, start: str | None = None) -> Obj:
    """A point's interval; build one per instant (and start) and share it between series."""
    return {"startTime": start, "endTime": end} if start else {"endTime": end}


def gauge(metric: str, resource: Obj, value: float, at: Obj, *, double: bool,
          labels: Obj | None = None, metadata: Obj | None = None) -> Obj:  # fmt: skip
    return _series(metric, resource, value, at, "GAUGE", double, labels, metadata)


def cumulative(metric: str, resource: Obj, value: float, since: Obj, *, double: bool,
               labels: Obj | None = None, metadata: Obj | None = None) -> Obj:  # fmt: skip
    """`since` is an interval with the counter's start time (`interval(end, start)`)."""
    return _series(metric, resource, value, since, "CUMULATIVE", double, labels, metadata)


_UNLABELLED: dict[str, Obj] = {}


def _metric(metric: str, labels: Obj | None) -> Obj:
    """The `metric` part; shared between all unlabelled series of one type."""
    if labels:
        return {"type": metric, "labels": labels}
    found = _UNLABELLED.get(metric)
    if found is None:
        found = _UNLABELLED[metric] = {"type": metric, "labels": {}}
    return found


def _series(metric: str, resource: Obj, value: float, at: Obj, kind: str,
            double: bool, labels: Obj | None, metadata: Obj | None) -> Obj:  # fmt: skip
    series: Obj = {
        "metric": _metric(metric, labels),
        "resource": resource,
        "metricKind": kind,
        "valueType": "DOUBLE" if double else "INT64",
        "points": [{
            "interval": at,
            "value": {"doubleValue": float(value)} if double else {"int64Value": str(int(value))},
        }],
    }  # fmt: skip
    if metadata is not None:
        series["metadata"] = metadata
    return series


def precise(ts: float) -> str:
    """RFC 3339 with microseconds, as Cloud Logging timestamps are written."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def log_entry(project: str, resource: Obj, *, stream: str, severity: str, message: str,
              structured: bool, timestamp: float, received: float, insert_id: str,
              labels: Obj) -> Obj:  # fmt: skip
    """A container log line as the GKE logging agent writes it."""
    entry: Obj = {
        "logName": f"projects/{project}/logs/{stream}",
        "resource": resource,
        "timestamp": precise(timestamp),
        "receiveTimestamp": precise(received),
        "severity": severity,
        "insertId": insert_id,
        "labels": labels,
    }
    if structured:
        entry["jsonPayload"] = {"message": message}
    else:
        entry["textPayload"] = message
    return entry


def event_entry(identity: ClusterIdentity, event: Obj, insert_id: str) -> Obj:
    """A Kubernetes Event as GKE exports it to the `events` log."""
    involved = event.get("involvedObject") or {}
    kind = involved.get("kind")
    if kind == "Pod":
        resource = identity.pod(involved.get("namespace", ""), involved.get("name", ""))
    elif kind == "Node":
        resource = identity.node(involved.get("name", ""))
    else:
        resource = identity.cluster()
    stamp = event.get("lastTimestamp") or rfc3339(0)
    return {
        "logName": f"projects/{identity.project_id}/logs/events",
        "resource": resource,
        "timestamp": stamp,
        "receiveTimestamp": stamp,
        "severity": "WARNING" if event.get("type") == "Warning" else "INFO",
        "insertId": insert_id,
        "jsonPayload": event,
    }
