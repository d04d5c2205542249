"""Verdicts → the anomaly metric of contracts §4 (`custom.googleapis.com/anomaly/score`).

One GAUGE DOUBLE point per entity per window, labelled with issue, severity, workload, entity
type and model version, on a `k8s_pod` resource (pods, containers and deployments: the pod the
verdict names) or a `k8s_node` resource.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ANOMALY_METRIC = "custom.googleapis.com/anomaly/score"


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


def anomaly_series(verdict: dict[str, Any], cluster: ClusterIdentity) -> dict[str, Any] | None:
    """The TimeSeries JSON of one verdict, or None when it names no pod or node to attach to."""
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
    return {
        "metric": {
            "type": ANOMALY_METRIC,
            "labels": {
                "issue": str(verdict.get("issue", "none")),
                "severity": str(verdict.get("severity", "info")),
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
                "value": {"doubleValue": float(verdict["score"])},
            }
        ],
    }


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
