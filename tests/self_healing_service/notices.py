"""Builders of the three intake formats for tests (shapes from contracts §6)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any


def monitoring(
    incident_id: str,
    issue: str,
    workload: str,
    state: str = "open",
    node: str | None = None,
    observed: float = 0.93,
) -> dict[str, Any]:
    now = int(time.time())
    if node is not None:
        resource = {"type": "k8s_node", "labels": {"project_id": "p", "node_name": node}}
        labels = {"issue": issue, "severity": "critical", "workload": node, "entity_type": "node"}
    else:
        ns, _, _name = workload.partition("/")
        resource = {
            "type": "k8s_pod",
            "labels": {"project_id": "p", "namespace_name": ns, "pod_name": ""},
        }
        labels = {
            "issue": issue,
            "severity": "critical",
            "workload": workload,
            "entity_type": "deployment",
            "model_version": "v1",
        }
    return {
        "incident": {
            "incident_id": incident_id, "scoping_project_id": "p", "started_at": now - 60,
            "ended_at": None if state == "open" else now, "state": state,
            "resource": resource,
            "metric": {"type": "custom.googleapis.com/anomaly/score", "labels": labels},
            "policy_user_labels": {"issue": issue, "severity": "critical", "managed_by": "gke-heal"},
            "threshold_value": "0.8", "observed_value": f"{observed}", "summary": f"{issue} test",
        },
        "version": "1.2",
    }  # fmt: skip


def pubsub(notice: dict[str, Any]) -> dict[str, Any]:
    data = base64.b64encode(json.dumps(notice).encode()).decode()
    return {
        "message": {"data": data, "messageId": "1", "publishTime": "2026-01-01T00:00:00Z"},
        "subscription": "projects/p/subscriptions/s",
    }


def alertmanager(
    fingerprint: str, issue: str, workload: str, status: str = "firing", node: str | None = None
) -> dict[str, Any]:
    labels = {"alertname": issue, "issue": issue, "severity": "critical"}
    labels.update({"node": node} if node else {"workload": workload})
    ends = "0001-01-01T00:00:00Z" if status == "firing" else "2026-01-01T00:05:00Z"
    return {
        "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": status,
        "receiver": "gke-heal", "groupLabels": {}, "commonLabels": labels,
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
        "alerts": [{"status": status, "labels": labels, "annotations": {"summary": issue},
                    "startsAt": "2026-01-01T00:00:00Z", "endsAt": ends,
                    "generatorURL": "http://prometheus", "fingerprint": fingerprint}],
    }  # fmt: skip
