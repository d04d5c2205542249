"""Contract: the pipeline's anomaly metric (contracts §4) is accepted and alerted on as intended.

Real on both sides: `telemetry_pipeline.anomaly.anomaly_series` renders verdicts as TimeSeries
JSON; the stand-in stores them, evaluates the shared policies, and the healing service's intake
reads the incident's workload back.
"""

from __future__ import annotations

from typing import Any

import pytest

from local_cloud.clock import ManualClock, rfc3339
from local_cloud.monitoring import Monitoring, load_policies

anomaly = pytest.importorskip("telemetry_pipeline.anomaly")
intake = pytest.importorskip("self_healing_service.incidents")
POLICIES = {p.user_labels["issue"]: p for p in load_policies().policies}


def _verdict(t: float, issue: str, score: float, **entity: Any) -> dict[str, Any]:
    return {
        "window_end": rfc3339(t),
        "score": score,
        "issue": issue,
        "severity": "critical",
        "critical": True,
        "evidence": {},
        "model_version": "v7",
        **entity,
    }


@pytest.mark.parametrize(
    ("issue", "entity", "workload"),
    [
        (
            "memory_leak",
            {
                "entity_type": "deployment",
                "namespace": "shop",
                "deployment": "cart",
                "pod": "cart-1",
            },
            ("Deployment", "shop", "cart"),
        ),
        (
            "node_failure",
            {"entity_type": "node", "node": "gke-pool-1-x", "entity_id": "gke-pool-1-x"},
            ("Node", "", "gke-pool-1-x"),
        ),
    ],
)
def test_pipeline_series_open_an_incident_the_service_understands(
    clock: ManualClock, issue: str, entity: dict[str, Any], workload: tuple[str, str, str]
) -> None:
    policy = POLICIES[issue]
    monitoring = Monitoring(clock)
    cluster = anomaly.ClusterIdentity(project_id="local-project")
    t0 = clock.now()
    windows = int(policy.duration_seconds // 60) + 1
    series = [
        anomaly.anomaly_series(
            _verdict(t0 + 60 * i, issue, policy.threshold + 0.05, **entity), cluster
        )
        for i in range(windows)
    ]
    assert monitoring.write(series) == []
    clock.advance(60 * windows)
    changes, _ = monitoring.tick()
    assert [c.kind for c in changes] == ["opened"]
    parsed = intake.from_monitoring(monitoring.payload(changes[0].incident))
    assert (parsed.kind, parsed.namespace, parsed.name) == workload
    assert parsed.issue == issue


def test_scores_under_the_threshold_or_without_an_issue_stay_quiet(clock: ManualClock) -> None:
    monitoring = Monitoring(clock)
    cluster = anomaly.ClusterIdentity()
    entity = {
        "entity_type": "deployment",
        "namespace": "shop",
        "deployment": "cart",
        "pod": "cart-1",
    }
    t0 = clock.now()
    series = []
    for i in range(10):
        series.append(
            anomaly.anomaly_series(_verdict(t0 + 60 * i, "none", 0.99, **entity), cluster)
        )
        low = POLICIES["memory_leak"].threshold - 0.1
        series.append(
            anomaly.anomaly_series(_verdict(t0 + 60 * i, "memory_leak", low, **entity), cluster)
        )
    assert monitoring.write(series) == []
    clock.advance(600)
    assert monitoring.tick()[0] == []
    assert len(monitoring.store.series()) == 2
