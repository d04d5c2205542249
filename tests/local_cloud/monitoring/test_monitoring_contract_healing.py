"""Contract: what the Monitoring stand-in emits, the self-healing service's intake accepts.

Real on both sides: the stand-in renders the notices, `self_healing_service.incidents` parses
them (webhook JSON and Pub/Sub push envelope), as the two processes meet on the wire.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from monitoring_fixtures import SeriesFactory

from local_cloud.clock import ManualClock, rfc3339
from local_cloud.monitoring import Monitoring, PubSubPushChannel, load_policies

incidents = pytest.importorskip("self_healing_service.incidents")
POLICIES = {p.name: p for p in load_policies().policies}


class Recorder:
    """A channel that keeps what it is given (the HTTP side is covered by the delivery tests)."""

    name = "recorder"

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def deliver(self, payload: dict[str, Any], client: httpx.Client, now: float) -> int:
        self.sent.append(payload)
        return 200


def _notices(clock: ManualClock, series: list[dict[str, Any]], policy: str) -> list[dict[str, Any]]:
    recorder = Recorder()
    monitoring = Monitoring(clock, channels=[recorder])
    monitoring.write(series)
    clock.advance(len(series) * 60)
    monitoring.tick()
    clock.advance(POLICIES[policy].auto_close_seconds + 60)
    monitoring.tick()
    return recorder.sent


def test_pod_incident_parses_with_workload_and_state(
    clock: ManualClock, score_series: SeriesFactory
) -> None:
    t0 = clock.now()
    policy = POLICIES["memory-leak"]
    points = int(policy.duration_seconds // 60) + 1
    series = [score_series(t0 + 60 * i, policy.threshold + 0.12) for i in range(points)]
    opened, closed = _notices(clock, series, "memory-leak")
    first = incidents.from_monitoring(opened)
    last = incidents.from_monitoring(closed)
    assert (first.id, first.state, last.state) == (last.id, "open", "closed")
    assert first.issue == "memory_leak" and first.severity == "critical"
    assert (first.kind, first.namespace, first.name) == ("Deployment", "shop", "cart")
    assert first.pod == ""  # reduced to the workload: the service picks the pod to act on
    assert first.threshold == pytest.approx(policy.threshold)
    assert first.observed == pytest.approx(policy.threshold + 0.12, abs=1e-3)
    assert last.ended_at is not None and last.ended_at > last.started_at
    envelope = PubSubPushChannel(endpoint="http://unused").envelope(opened, clock.now())
    assert incidents.from_pubsub(envelope) == dataclasses.replace(first, source="pubsub")


def test_node_incident_names_the_node(clock: ManualClock) -> None:
    policy = POLICIES["node-failure"]
    t0 = clock.now()
    series = [
        {
            "metric": {
                "type": "custom.googleapis.com/anomaly/score",
                "labels": {
                    "issue": "node_failure",
                    "severity": "critical",
                    "workload": "gke-pool-1-abcd",
                    "entity_type": "node",
                    "model_version": "v3",
                },
            },
            "resource": {
                "type": "k8s_node",
                "labels": {
                    "project_id": "p",
                    "location": "europe-west1",
                    "cluster_name": "demo",
                    "node_name": "gke-pool-1-abcd",
                },
            },
            "points": [
                {
                    "interval": {"endTime": rfc3339(t0 + 60 * i)},
                    "value": {"doubleValue": policy.threshold + 0.1},
                }
            ],
        }
        for i in range(int(policy.duration_seconds // 60) + 1)
    ]
    opened, _ = _notices(clock, series, "node-failure")
    parsed = incidents.from_monitoring(opened)
    assert (parsed.kind, parsed.name, parsed.issue) == ("Node", "gke-pool-1-abcd", "node_failure")
    assert opened["incident"]["resource_type_display_name"] == "Kubernetes Node"
