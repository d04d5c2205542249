"""The issue classifier, table-driven: feature patterns → issue kind, severity and entity."""

from __future__ import annotations

from typing import Any

import pytest

from anomaly_detection_model.features import FeatureRow
from anomaly_detection_model.issue_rules import IssueRules
from anomaly_detection_model.issues import classify

MB = 1024 * 1024


def row(i: int, **features: Any) -> FeatureRow:
    base: dict[str, Any] = {
        "entity_type": "pod",
        "entity_id": "shop/cart-1",
        "namespace": "shop",
        "pod": "cart-1",
        "deployment": "cart",
        "node": "node-a",
        "window_end": f"2026-01-01T00:{i:02d}:00Z",
        "cpu_limit_utilization": 0.3,
        "memory_bytes": 200 * MB,
        "memory_limit_utilization": 200 / 512,
        "memory_slope_bytes_per_s": 0.0,
        "restarts": 0,
        "request_rate": 50.0,
        "error_rate": 0.1,
        "latency_p95_ms": 80.0,
        "error_log_lines": 1,
        "log_lines": 1000,
        "ready": 1.0,
        "node_not_ready": 0,
    }
    base.update(features)
    return FeatureRow.parse(base)


NORMALS = {"latency_p95_ms": 80.0, "error_fraction": 0.002, "error_log_lines": 1.0}


def baseline(name: str) -> float | None:
    return NORMALS.get(name)


def series(n: int, **features: Any) -> list[FeatureRow]:
    return [row(i, **features) for i in range(n)]


def leak(n: int, util_end: float) -> list[FeatureRow]:
    rows = []
    for i in range(n):
        util = util_end - (n - 1 - i) * 0.02
        rows.append(
            row(
                i,
                memory_limit_utilization=util,
                memory_bytes=util * 512 * MB,
                memory_slope_bytes_per_s=512 * MB * 0.02 / 60,
            )
        )
    return rows


def fast_leak(n: int, util_end: float, per_minute: float = 0.08) -> list[FeatureRow]:
    """Normal windows, then memory growing `per_minute` of the limit in the last `n`."""
    steady = util_end - n * per_minute  # where the leak began
    rows = series(6 - n, memory_limit_utilization=steady, memory_bytes=steady * 512 * MB)
    for i in range(n):
        util = util_end - (n - 1 - i) * per_minute
        rows.append(
            row(
                6 - n + i,
                memory_limit_utilization=util,
                memory_bytes=util * 512 * MB,
                memory_slope_bytes_per_s=512 * MB * per_minute / 60,
            )
        )
    return rows


def onset_then_fast(
    util_end: float, onset_per_hour: float, before_per_hour: float = 0.0, fast_per_hour: float = 4.8
) -> list[FeatureRow]:
    """Three windows: growing at `before_per_hour`, at `onset_per_hour`, at `fast_per_hour`."""
    rates = (before_per_hour, onset_per_hour, fast_per_hour)
    rows = []
    for i, per_hour in enumerate(rates):
        util = util_end - sum(rates[i + 1 :]) / 60
        rows.append(
            row(
                10 + i,
                memory_limit_utilization=util,
                memory_bytes=util * 512 * MB,
                memory_slope_bytes_per_s=512 * MB * per_hour / 3600,
            )
        )
    return rows


def swinging(levels: tuple[float, ...], per_hour: tuple[float, ...]) -> list[FeatureRow]:
    """Windows at these shares of the limit, with slopes of these shares of it per hour."""
    return [
        row(
            i,
            memory_limit_utilization=util,
            memory_bytes=util * 512 * MB,
            memory_slope_bytes_per_s=512 * MB * rate / 3600,
        )
        for i, (util, rate) in enumerate(zip(levels, per_hour, strict=True))
    ]


CASES = [
    # (reason, windows, anomaly score, expected kind, severity, entity)
    (
        "memory filling the limit within minutes, two windows running: leak, far from the limit",
        fast_leak(2, 0.45),
        0.8,
        "memory_leak",
        "critical",
        "shop/cart",
    ),
    (
        "a pod growing fast since its first window is warming up, not leaking",
        fast_leak(2, 0.45)[-2:],
        0.8,
        "none",
        "info",
        "shop/cart",
    ),
    (
        "one window of fast growth after a steady past: a leak that began just now",
        fast_leak(1, 0.45),
        0.8,
        "memory_leak",
        "critical",
        "shop/cart",
    ),
    (
        "one window of fast growth on a pod too young for a steady past: not yet a leak",
        fast_leak(1, 0.45)[-2:],
        0.8,
        "none",
        "info",
        "shop/cart",
    ),
    (
        "one window whose slope is fast but whose level did not move: noise, not a leak",
        [*series(5), row(5, memory_slope_bytes_per_s=512 * MB * 0.08 / 60)],
        0.8,
        "none",
        "info",
        "shop/cart",
    ),
    (
        # As seen on a healthy worker whose windows got only a few samples: two steep slopes
        # while the level went from 0.397 to 0.400 and back to 0.393.
        "two windows of steep slope while the level stood still: too few samples, not a leak",
        [
            *series(4, memory_limit_utilization=0.397),
            row(4, memory_limit_utilization=0.400, memory_slope_bytes_per_s=651_627.0),
            row(5, memory_limit_utilization=0.393, memory_slope_bytes_per_s=400_771.0),
        ],
        0.9,
        "none",
        "info",
        "shop/cart",
    ),
    (
        "two windows of fast growth that moved the level by most of the slope's rise: a leak",
        [
            *series(4, memory_limit_utilization=0.40, memory_bytes=0.40 * 512 * MB),
            *[
                row(
                    4 + i,
                    memory_limit_utilization=0.40 + 0.05 * (i + 1),
                    memory_bytes=(0.40 + 0.05 * (i + 1)) * 512 * MB,
                    memory_slope_bytes_per_s=512 * MB * 0.08 / 60,
                )
                for i in range(2)
            ],
        ],
        0.8,
        "memory_leak",
        "critical",
        "shop/cart",
    ),
    (
        # As seen on a healthy queue worker in a fault-free benchmark hour: its memory swings
        # up to 1% of the limit a window, then one window rose 1.9% with a slope of 2.15x the
        # limit per hour. The level followed the slope, but the rise is only twice the swing.
        "one window rising fast on a pod whose memory swings: within its swing, not a leak",
        swinging(
            (0.3915, 0.3913, 0.3986, 0.3881, 0.3867, 0.4058),
            (-0.26, -0.19, 0.24, -0.36, -0.60, 2.15),
        ),
        0.9,
        "none",
        "info",
        "shop/cart",
    ),
    (
        # As seen at the start of a benchmark leak on a catalogue pod: the past swung up to
        # 1.2% a window, the leak's first window rose 5.6%.
        "one window rising far beyond a swinging pod's swing: a leak that began just now",
        swinging(
            (0.359, 0.354, 0.3466, 0.3582, 0.3504, 0.4067),
            (0.36, 0.01, -0.34, 0.34, -0.40, 4.2),
        ),
        0.8,
        "memory_leak",
        "critical",
        "shop/cart",
    ),
    (
        "a leak that began mid-window: that window grew at part of the rate, and is skipped",
        [*series(3, memory_limit_utilization=0.35), *onset_then_fast(0.45, onset_per_hour=1.2)],
        0.8,
        "memory_leak",
        "critical",
        "shop/cart",
    ),
    (
        "memory that was already creeping up before the fast window: not a sudden leak",
        [*series(3), *onset_then_fast(0.45, onset_per_hour=1.2, before_per_hour=1.1)],
        0.8,
        "none",
        "info",
        "shop/cart",
    ),
    (
        "memory jumping with a surge of requests in the same window: caches filling, not a leak",
        [
            *series(5),
            row(
                5,
                memory_limit_utilization=0.45,
                memory_bytes=0.45 * 512 * MB,
                memory_slope_bytes_per_s=512 * MB * 0.08 / 60,
                request_rate=300.0,
                cpu_limit_utilization=0.7,
            ),
        ],
        0.8,
        "none",
        "info",
        "shop/cart",
    ),
    (
        "fast growth heading for the limit is critical on the forecast, even on a weak score",
        fast_leak(2, 0.45),
        0.2,
        "memory_leak",
        "critical",
        "shop/cart",
    ),
    (
        "slow growth far from the limit on a weak anomaly stays a warning",
        leak(6, 0.75),
        0.2,
        "memory_leak",
        "warning",
        "shop/cart",
    ),
    ("healthy pod: nothing", series(6), 0.1, "none", "info", "shop/cart"),
    (
        "one NotReady window: warning only",
        series(1, node_not_ready=1),
        0.9,
        "node_failure",
        "warning",
        "node-a",
    ),
    (
        "two NotReady windows: critical on the node",
        series(2, node_not_ready=1),
        0.9,
        "node_failure",
        "critical",
        "node-a",
    ),
    (
        "NodeNotReady events before the status flips: node failure",
        series(2, event_reasons={"NodeNotReady": 1}),
        0.9,
        "node_failure",
        "critical",
        "node-a",
    ),
    (
        "clear node failure on a weak anomaly: warning",
        series(3, node_not_ready=1),
        0.3,
        "node_failure",
        "warning",
        "node-a",
    ),
    (
        "FailedScheduling once: warning",
        series(1, event_reasons={"FailedScheduling": 1}),
        0.8,
        "unschedulable",
        "warning",
        "shop/cart",
    ),
    (
        "FailedScheduling sustained: critical",
        series(3, event_reasons={"FailedScheduling": 2}),
        0.8,
        "unschedulable",
        "critical",
        "shop/cart",
    ),
    (
        "one restart without back-off: warning",
        [*series(4), row(4, restarts=1)],
        0.7,
        "crash_loop",
        "warning",
        "shop/cart",
    ),
    (
        "restarts with BackOff: crash loop",
        series(3, restarts=1, event_reasons={"BackOff": 2}, ready=0.0),
        0.95,
        "crash_loop",
        "critical",
        "shop/cart",
    ),
    (
        "crashes right after a rollout: bad rollout",
        series(3, restarts=1, event_reasons={"BackOff": 1}, rollout_age_seconds=120.0),
        0.95,
        "bad_rollout",
        "critical",
        "shop/cart",
    ),
    (
        "CPU pinned and timeouts after a rollout, nothing crashing: overload, not the rollout",
        series(
            3,
            cpu_limit_utilization=0.99,
            latency_p95_ms=400.0,
            error_rate=8.0,
            rollout_age_seconds=300.0,
        ),
        0.9,
        "cpu_saturation",
        "critical",
        "shop/cart",
    ),
    (
        "errors after the rollout window: not the rollout",
        series(3, error_rate=20.0, rollout_age_seconds=5000.0),
        0.9,
        "error_burst",
        "critical",
        "shop/cart",
    ),
    (
        "memory high and rising, OOM soon: leak",
        leak(6, 0.9),
        0.8,
        "memory_leak",
        "critical",
        "shop/cart",
    ),
    (
        "memory rising but far from the limit: nothing",
        leak(6, 0.5),
        0.8,
        "none",
        "info",
        "shop/cart",
    ),
    (
        "memory high but flat: nothing",
        series(6, memory_limit_utilization=0.93),
        0.6,
        "none",
        "info",
        "shop/cart",
    ),
    (
        "CPU pinned and latency up: saturation",
        series(3, cpu_limit_utilization=0.97, latency_p95_ms=300.0),
        0.9,
        "cpu_saturation",
        "critical",
        "shop/cart",
    ),
    (
        "CPU pinned, latency normal: warning",
        series(3, cpu_limit_utilization=0.97),
        0.9,
        "cpu_saturation",
        "warning",
        "shop/cart",
    ),
    (
        "CPU pinned at the limit for one window, responses slow: requests queue, critical",
        [*series(2), row(2, cpu_limit_utilization=0.97, latency_p95_ms=300.0)],
        0.9,
        "cpu_saturation",
        "critical",
        "shop/cart",
    ),
    (
        "CPU high but not pinned for one window, responses slow: warning",
        [*series(2), row(2, cpu_limit_utilization=0.92, latency_p95_ms=300.0)],
        0.9,
        "cpu_saturation",
        "warning",
        "shop/cart",
    ),
    (
        "CPU high two windows in a row, responses slow: critical",
        [*series(2), *(row(i, cpu_limit_utilization=0.92, latency_p95_ms=300.0) for i in (2, 3))],
        0.9,
        "cpu_saturation",
        "critical",
        "shop/cart",
    ),
    (
        "error spike sustained: error burst",
        series(2, error_rate=15.0),
        0.9,
        "error_burst",
        "critical",
        "shop/cart",
    ),
    (
        "error spike one window: warning",
        [row(0), row(1, error_rate=15.0)],
        0.9,
        "error_burst",
        "warning",
        "shop/cart",
    ),
    (
        "error logs flood: error burst",
        series(2, error_log_lines=200),
        0.9,
        "error_burst",
        "critical",
        "shop/cart",
    ),
    (
        "latency up, CPU idle: regression",
        series(3, latency_p95_ms=400.0),
        0.8,
        "latency_regression",
        "critical",
        "shop/cart",
    ),
    (
        "latency 2x up on a weak anomaly: warning",
        series(3, latency_p95_ms=160.0),
        0.2,
        "latency_regression",
        "warning",
        "shop/cart",
    ),
    (
        "latency 5x up for three windows, even on a weak anomaly: evident, critical",
        series(3, latency_p95_ms=400.0),
        0.2,
        "latency_regression",
        "critical",
        "shop/cart",
    ),
    (
        "latency 5x up for only two windows on a weak anomaly: warning",
        [row(0), row(1, latency_p95_ms=400.0), row(2, latency_p95_ms=400.0)],
        0.2,
        "latency_regression",
        "warning",
        "shop/cart",
    ),
    (
        "latency slightly up: nothing",
        series(3, latency_p95_ms=100.0),
        0.8,
        "none",
        "info",
        "shop/cart",
    ),
]


@pytest.mark.parametrize(
    ("reason", "windows", "anomaly", "kind", "severity", "entity"), CASES, ids=[c[0] for c in CASES]
)
def test_classifier(
    reason: str, windows: list[FeatureRow], anomaly: float, kind: str, severity: str, entity: str
) -> None:
    issue = classify(windows[-1], windows[:-1], baseline, anomaly, IssueRules())
    assert (issue.kind, issue.severity, issue.entity) == (kind, severity, entity), reason


def test_memory_leak_predicts_time_to_oom() -> None:
    windows = leak(6, 0.9)
    issue = classify(windows[-1], windows[:-1], baseline, 0.9)
    # 10 % of 512 MB left, growing 2 % of 512 MB per minute: about five minutes to OOM.
    assert issue.evidence["time_to_oom_seconds"] == pytest.approx(300, rel=0.01)


def test_evident_latency_says_so() -> None:
    windows = series(3, latency_p95_ms=400.0)
    assert classify(windows[-1], windows[:-1], baseline, 0.2).evident
    slower = series(3, latency_p95_ms=200.0)  # 2.5x: clear, but not evident
    assert not classify(slower[-1], slower[:-1], baseline, 0.9).evident


def test_unknown_latency_baseline_never_claims_regression() -> None:
    windows = series(3, latency_p95_ms=900.0)
    issue = classify(windows[-1], windows[:-1], lambda name: None, 0.9)
    assert issue.kind == "none"
