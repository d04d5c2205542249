"""Verdicts → the anomaly metric of contracts §4 (`custom.googleapis.com/anomaly/score`).

One GAUGE DOUBLE point per entity per window, labelled with issue, severity, workload, entity
type and model version, on a `k8s_pod` resource (pods, containers and deployments: the pod the
verdict names) or a `k8s_node` resource.

Alert policies select series by `issue` and `severity`, so a workload whose verdicts move from
`latency_regression`/`critical` to `none` leaves that series silent; Cloud Monitoring keeps an
incident on a silent series open until its auto-close (30 minutes at least), and a second fault
of the same kind on the same workload within that time raises no new alert. `AnomalyMetric`
therefore remembers, per workload, when each (issue, severity) series last had a point, and once
one has been quiet for `QUIET_WINDOWS` windows it writes a 0 to it for `CLEAR_WINDOWS` windows:
the incident closes like one whose condition is no longer met. The quiet time keeps an incident
open through a brief flip of the verdict during a fault.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ANOMALY_METRIC = "custom.googleapis.com/anomaly/score"
QUIET_WINDOWS = 5  # windows without a point before a series is closed with a 0
CLEAR_WINDOWS = 4  # windows in a row the 0 is written (a lost write does not keep it open)
DEFAULT_MAX_WORKLOADS = 50_000

# (issue, severity): the labels that pick a series out for the alert policies.
SeriesLabels = tuple[str, str]


@dataclass(frozen=True)
class ClusterIdentity:
    """The labels every monitored resource of the cluster carries."""

    project_id: str = "local-project"
    location: str = "us-central1"
    cluster_name: str = "demo-cluster"


def workload_of(verdict: dict[str, Any]) -> str | None:
    """`ns/deployment`, or the node name, or `ns/pod` for a bare pod."""
    if verdict.get("entity_type") == "node":
        node = verdict.get("node") or verdict.get("entity_id")
        return str(node) if node else None
    namespace = verdict.get("namespace")
    name = verdict.get("deployment") or verdict.get("pod")
    return f"{namespace}/{name}" if namespace and name else None


def anomaly_series(
    verdict: dict[str, Any], cluster: ClusterIdentity, labels: SeriesLabels | None = None
) -> dict[str, Any] | None:
    """The TimeSeries JSON of one verdict, or None when it names no pod or node to attach to.

    With `labels` (issue, severity) other than the verdict's own: a 0 point on that series of
    the same workload, at the verdict's time, to close it (see `AnomalyMetric`).
    """
    workload = workload_of(verdict)
    if workload is None:
        return None
    base = {
        "project_id": cluster.project_id,
        "location": cluster.location,
        "cluster_name": cluster.cluster_name,
    }
    if verdict.get("entity_type") == "node":
        resource = {"type": "k8s_node", "labels": {**base, "node_name": workload}}
    else:
        if not verdict.get("pod"):
            return None
        resource = {
            "type": "k8s_pod",
            "labels": {
                **base,
                "namespace_name": str(verdict["namespace"]),
                "pod_name": str(verdict["pod"]),
            },
        }
    issue, severity = labels or series_labels(verdict)
    score = float(verdict["score"]) if labels is None else 0.0
    return {
        "metric": {
            "type": ANOMALY_METRIC,
            "labels": {
                "issue": issue,
                "severity": severity,
                "workload": workload,
                "entity_type": str(verdict.get("entity_type")),
                "model_version": str(verdict.get("model_version", "")),
            },
        },
        "resource": resource,
        "metricKind": "GAUGE",
        "valueType": "DOUBLE",
        "points": [
            {
                "interval": {"endTime": verdict["window_end"]},
                "value": {"doubleValue": score},
            }
        ],
    }


def series_labels(verdict: dict[str, Any]) -> SeriesLabels:
    """The (issue, severity) labels of the verdict's own point."""
    return str(verdict.get("issue", "none")), str(verdict.get("severity", "info"))


def quiet_series(
    last_seen: dict[SeriesLabels, float], verdict: dict[str, Any], window_seconds: float
) -> list[SeriesLabels]:
    """The series of the verdict's workload to close with a 0 now; updates `last_seen`.

    `last_seen` maps each (issue, severity) series of one workload that carried an issue to the
    end of the last window it had a point; series quiet for longer than the clearing period
    are forgotten.
    """
    now = _epoch(verdict["window_end"])
    own = series_labels(verdict)
    if own[0] != "none":
        last_seen[own] = max(now, last_seen.get(own, now))
    due: list[SeriesLabels] = []
    for labels, seen in list(last_seen.items()):
        quiet = round((now - seen) / window_seconds)
        if quiet >= QUIET_WINDOWS + CLEAR_WINDOWS:
            del last_seen[labels]
        elif quiet >= QUIET_WINDOWS and labels != own:
            due.append(labels)
    return sorted(due)


class AnomalyMetric:
    """Verdicts → anomaly metric TimeSeries, closing the series a workload stopped reporting.

    Keeps what it needs per workload in memory (bounded: the workload silent for longest is
    forgotten first); a restarted pipeline forgets it, and a series it had left open then
    closes by the policy's auto-close as before.
    """

    def __init__(
        self,
        cluster: ClusterIdentity,
        window_seconds: float = 60.0,
        *,
        max_workloads: int = DEFAULT_MAX_WORKLOADS,
    ) -> None:
        self.cluster = cluster
        self.window_seconds = window_seconds
        self.max_workloads = max_workloads
        self._seen: OrderedDict[str, dict[SeriesLabels, float]] = OrderedDict()

    def series(self, verdicts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The TimeSeries to write for `verdicts` (in time order), clearing points included."""
        out: list[dict[str, Any]] = []
        for verdict in verdicts:
            own = anomaly_series(verdict, self.cluster)
            if own is None:
                continue
            out.append(own)
            workload = str(own["metric"]["labels"]["workload"])
            seen = self._seen.setdefault(workload, {})
            self._seen.move_to_end(workload)
            if len(self._seen) > self.max_workloads:
                self._seen.popitem(last=False)
            out += clearing_series(
                verdict, self.cluster, quiet_series(seen, verdict, self.window_seconds)
            )
            if not seen:
                del self._seen[workload]
        return out


def clearing_series(
    verdict: dict[str, Any], cluster: ClusterIdentity, due: Sequence[SeriesLabels]
) -> list[dict[str, Any]]:
    """0 points at the verdict's time on the `due` series of its workload."""
    return [s for labels in due if (s := anomaly_series(verdict, cluster, labels)) is not None]


def _epoch(text: str) -> float:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()


def anomaly_row(verdict: dict[str, Any]) -> dict[str, Any]:
    """The `anomalies` warehouse row of a verdict."""
    return {
        "window_end": verdict["window_end"],
        "entity_type": verdict.get("entity_type"),
        "entity_id": verdict.get("entity_id"),
        "namespace": verdict.get("namespace"),
        "deployment": verdict.get("deployment"),
        "pod": verdict.get("pod"),
        "node": verdict.get("node"),
        "score": float(verdict["score"]),
        "issue": verdict.get("issue"),
        "severity": verdict.get("severity"),
        "critical": bool(verdict.get("critical")),
        "evidence": json.dumps(verdict.get("evidence") or {}, sort_keys=True, default=str),
        "model_version": verdict.get("model_version"),
    }
