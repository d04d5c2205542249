"""Closing the anomaly-metric series a workload stopped reporting (`AnomalyMetric`).

Alert policies pick series by `issue` and `severity`; when a workload's verdicts move on, the
old series goes silent and Cloud Monitoring would keep its incident open until auto-close. The
pipeline writes 0s to it once it has been quiet for `QUIET_WINDOWS` windows. The same logic
runs in the in-process pipeline and, with keyed state, in the Beam transform.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from local_cloud.clock import rfc3339
from telemetry_pipeline.anomaly import (
    CLEAR_WINDOWS,
    QUIET_WINDOWS,
    AnomalyMetric,
    ClusterIdentity,
)
from telemetry_pipeline.beam.transforms import AnomalyPoints

T0 = 1_767_225_600.0
CLUSTER = ClusterIdentity("p", "l", "c")
LATENCY = ("latency_regression", "critical")
NONE = ("none", "info")


def _verdict(
    minute: int, labels: tuple[str, str], *, pod: str = "checkout-1", deployment: str = "checkout"
) -> dict[str, Any]:
    issue, severity = labels
    return {
        "entity_type": "pod",
        "entity_id": f"shop/{pod}",
        "namespace": "shop",
        "deployment": deployment,
        "pod": pod,
        "window_end": rfc3339(T0 + 60 * minute),
        "score": 0.95 if issue != "none" else 0.1,
        "issue": issue,
        "severity": severity,
        "model_version": "v1",
    }


def _points(series: list[dict[str, Any]]) -> list[tuple[str, str, str, float]]:
    return [
        (
            s["points"][0]["interval"]["endTime"],
            s["metric"]["labels"]["issue"],
            s["metric"]["labels"]["severity"],
            s["points"][0]["value"]["doubleValue"],
        )
        for s in series
    ]


def _fault_then_quiet() -> list[dict[str, Any]]:
    """Three windows of critical latency, then twelve without an issue."""
    return [_verdict(m, LATENCY if m < 3 else NONE) for m in range(15)]


def _zeros(series: list[dict[str, Any]]) -> list[int]:
    """The minutes at which a 0 was written to the latency series."""
    return [
        round((_epoch(end) - T0) / 60)
        for end, issue, _, value in _points(series)
        if issue == "latency_regression" and value == 0.0
    ]


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_a_series_quiet_for_the_quiet_time_gets_zeros_for_the_clearing_windows() -> None:
    series = AnomalyMetric(CLUSTER).series(_fault_then_quiet())
    last_breach = 2
    expected = list(range(last_breach + QUIET_WINDOWS, last_breach + QUIET_WINDOWS + CLEAR_WINDOWS))
    assert _zeros(series) == expected
    zero = next(s for s in series if s["points"][0]["value"]["doubleValue"] == 0.0)
    # Same workload, pod and model: only the issue and severity differ from the verdict's own.
    assert zero["metric"]["labels"]["workload"] == "shop/checkout"
    assert zero["resource"]["labels"]["pod_name"] == "checkout-1"
    assert zero["metric"]["labels"]["model_version"] == "v1"
    # Every verdict still has its own point, at its own score.
    own = [p for p in _points(series) if p[1] == "none"]
    assert len(own) == 12 and all(p[3] == 0.1 for p in own)


def test_a_brief_flip_during_a_fault_writes_no_zero() -> None:
    flip = [LATENCY, LATENCY, ("latency_regression", "warning"), NONE, LATENCY, LATENCY]
    series = AnomalyMetric(CLUSTER).series([_verdict(m, labels) for m, labels in enumerate(flip)])
    assert [p for p in _points(series) if p[3] == 0.0] == []


def test_another_pod_still_reporting_the_issue_keeps_the_series_alive() -> None:
    verdicts = []
    for m in range(12):
        verdicts.append(_verdict(m, NONE, pod="checkout-1"))
        verdicts.append(_verdict(m, LATENCY, pod="checkout-2"))
    assert _zeros(AnomalyMetric(CLUSTER).series(verdicts)) == []


def test_workloads_are_remembered_apart_and_within_a_bound() -> None:
    metric = AnomalyMetric(CLUSTER, max_workloads=1)
    verdicts = []
    for m in range(12):
        verdicts.append(_verdict(m, LATENCY if m < 1 else NONE))
        verdicts.append(_verdict(m, LATENCY, pod="cart-1", deployment="cart"))
    # cart's memory pushes checkout's out: checkout's series is left to the policy's auto-close.
    series = metric.series(verdicts)
    assert _zeros(series) == []
    assert len(series) == 24
    # Two workloads within the bound: checkout's series is closed, cart's left open.
    series = AnomalyMetric(CLUSTER, max_workloads=2).series(verdicts)
    assert _zeros(series) == list(range(QUIET_WINDOWS, QUIET_WINDOWS + CLEAR_WINDOWS))


def test_the_beam_transform_writes_what_the_in_process_pipeline_writes() -> None:
    verdicts = _fault_then_quiet() + [
        _verdict(m, ("memory_leak", "critical") if m < 2 else NONE, pod="cart-1", deployment="cart")
        for m in range(10)
    ]
    expected = _points(AnomalyMetric(CLUSTER).series(verdicts))
    assert any(value == 0.0 for *_, value in expected)
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        # Elements of one key arrive in order here; in streaming they arrive as windows close.
        points = (
            pipeline
            | beam.Create(sorted(verdicts, key=lambda v: v["window_end"]), reshuffle=False)
            | AnomalyPoints(CLUSTER)
        )
        assert_that(points | beam.Map(lambda s: _points([s])[0]), equal_to(expected))
