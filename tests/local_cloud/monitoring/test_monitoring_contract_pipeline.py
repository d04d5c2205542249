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


def _latency_episodes(clock: ManualClock, render: Any) -> list[tuple[str, int]]:
    """Two latency faults on one workload, 15 windows apart, rendered by `render(verdicts)`;
    returns the (change, minute) the policy went through."""
    monitoring = Monitoring(clock)
    entity = {"entity_type": "pod", "namespace": "shop", "deployment": "checkout", "pod": "c-1"}
    t0 = clock.now()
    changes: list[tuple[str, int]] = []
    for minute in range(30):
        faulty = minute < 3 or 15 <= minute < 18
        verdict = _verdict(
            t0 + 60 * minute, "latency_regression" if faulty else "none", 0.95, **entity
        )
        if not faulty:
            verdict.update(score=0.1, severity="info", critical=False)
        assert monitoring.write(render([verdict])) == []
        clock.advance(60)
        for change in monitoring.tick()[0]:
            changes.append((change.kind, round((change.incident.started_at - t0) / 60)))
    return changes


def test_the_pipeline_closes_a_latency_alert_so_the_next_fault_alerts_again(
    clock: ManualClock,
) -> None:
    metric = anomaly.AnomalyMetric(anomaly.ClusterIdentity())
    assert _latency_episodes(clock, metric.series) == [
        ("opened", 0), ("closed", 0), ("opened", 15), ("closed", 15)
    ]  # fmt: skip


def test_without_the_clearing_points_the_silent_series_swallows_the_second_fault(
    clock: ManualClock,
) -> None:
    """Why `AnomalyMetric` exists: as in Cloud Monitoring, an incident on a series that went
    silent stays open until auto-close (30 min), so the second fault raises no alert."""
    cluster = anomaly.ClusterIdentity()

    def bare(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [s for v in verdicts if (s := anomaly.anomaly_series(v, cluster))]

    assert _latency_episodes(clock, bare) == [("opened", 0)]


def test_every_evident_verdict_scores_past_every_policy_threshold() -> None:
    """The model floors an evident verdict's score (`EVIDENT_SCORE`); the policies filter on
    severity and compare the score, so each threshold must lie under that floor."""
    from anomaly_detection_model.model import EVIDENT_SCORE

    for policy in POLICIES.values():
        assert policy.severity == "critical"
        assert policy.breaches(EVIDENT_SCORE), (policy.name, policy.threshold)
