"""Alert evaluation: threshold over duration, one incident per policy and series, auto-close."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from monitoring_fixtures import SeriesFactory

from local_cloud.clock import ManualClock
from local_cloud.monitoring import Monitoring, load_policies

DEFINITION = load_policies()
# A policy that holds a breach for a while before it opens (the duration rules need one).
POLICY = next(p for p in DEFINITION.policies if p.duration_seconds >= 60)
ISSUE = POLICY.issue_kinds[0]
STEP = 60.0  # one point per entity per window, as the pipeline writes them


def _run(
    clock: ManualClock, score_series: SeriesFactory, values: list[float], **labels: Any
) -> Monitoring:
    monitoring = Monitoring(clock)
    t0 = clock.now()
    labels.setdefault("issue", ISSUE)
    for i, value in enumerate(values):
        assert monitoring.write([score_series(t0 + i * STEP, value, **labels)]) == []
        clock.advance(STEP)
        monitoring.tick()
    return monitoring


def _points_to_cover(duration: float) -> int:
    return int(duration // STEP) + 1


@pytest.mark.parametrize(
    ("case", "values", "incidents"),
    [
        ("breach held for the duration opens one", "above*cover", 1),
        ("breach held much longer still opens one", "above*cover*4", 1),
        ("breach one point short of the duration opens none", "above*(cover-1)", 0),
        ("values at the threshold do not breach a GT condition", "at*cover*2", 0),
        (
            "a dip below the threshold restarts the duration",
            "above*(cover-1),below,above*(cover-1)",
            0,
        ),
    ],
)
def test_threshold_and_duration(
    clock: ManualClock, score_series: SeriesFactory, case: str, values: str, incidents: int
) -> None:
    cover = _points_to_cover(POLICY.duration_seconds)
    assert cover >= 2, "the memory-leak policy should need more than one point"
    above, at, below = POLICY.threshold + 0.1, POLICY.threshold, POLICY.threshold - 0.3
    series: list[float] = []
    for part in values.split(","):
        name, _, count = part.partition("*")
        n = eval(count, {"cover": cover}) if count else 1  # the table's own small arithmetic
        series += [{"above": above, "at": at, "below": below}[name]] * n
    monitoring = _run(clock, score_series, series)
    assert len(monitoring.incidents()) == incidents, case


def test_one_incident_per_policy_and_workload(
    clock: ManualClock, score_series: SeriesFactory
) -> None:
    monitoring = Monitoring(clock)
    t0 = clock.now()
    cover = _points_to_cover(POLICY.duration_seconds) + 2
    crash = {p.name: p for p in DEFINITION.policies}["crash-loop"]
    for i in range(cover):
        t = t0 + i * STEP
        monitoring.write(
            [
                score_series(t, POLICY.threshold + 0.1, issue=ISSUE, pod="cart-a"),
                score_series(t, POLICY.threshold + 0.1, issue=ISSUE, pod="cart-b"),
                score_series(t, crash.threshold + 0.1, issue="crash_loop", pod="cart-a"),
                score_series(t, 0.99, issue=ISSUE, pod="cart-c", severity="warning"),
                score_series(
                    t, POLICY.threshold + 0.1, issue=ISSUE, pod="search-a", workload="shop/search"
                ),
            ]
        )
        clock.advance(STEP)
        monitoring.tick()
    opened = monitoring.incidents("open")
    keys = sorted((i.policy.name, i.series.metric_labels["workload"]) for i in opened)
    assert keys == [
        ("crash-loop", "shop/cart"),
        (POLICY.name, "shop/cart"),
        (POLICY.name, "shop/search"),
    ]
    assert len({i.id for i in opened}) == 3


def test_the_group_breaches_on_the_max_of_its_pods(
    clock: ManualClock, score_series: SeriesFactory
) -> None:
    """REDUCE_MAX: one pod above the threshold is enough, and the observed value is its."""
    monitoring = Monitoring(clock)
    t0 = clock.now()
    cover = _points_to_cover(POLICY.duration_seconds)
    high = POLICY.threshold + 0.15
    for i in range(cover):
        t = t0 + i * STEP
        # the breaching pod alternates: no single pod holds the breach for the duration
        hot, cold = ("cart-a", "cart-b") if i % 2 == 0 else ("cart-b", "cart-a")
        monitoring.write(
            [
                score_series(t, high, issue=ISSUE, pod=hot),
                score_series(t, 0.1, issue=ISSUE, pod=cold),
            ]
        )
        clock.advance(STEP)
        monitoring.tick()
    (incident,) = monitoring.incidents("open")
    assert incident.observed_value == pytest.approx(high)
    assert incident.series.resource_labels == {"project_id": "local-project"}


def test_without_group_by_each_series_is_its_own_incident(
    clock: ManualClock, score_series: SeriesFactory
) -> None:
    ungrouped = dataclasses.replace(
        DEFINITION,
        policies=tuple(dataclasses.replace(p, group_by_fields=()) for p in DEFINITION.policies),
    )
    monitoring = Monitoring(clock, definition=ungrouped)
    t0 = clock.now()
    for i in range(_points_to_cover(POLICY.duration_seconds)):
        monitoring.write(
            [
                score_series(t0 + i * STEP, POLICY.threshold + 0.1, issue=ISSUE, pod=pod)
                for pod in ("cart-a", "cart-b")
            ]
        )
        clock.advance(STEP)
        monitoring.tick()
    pods = sorted(i.series.resource_labels["pod_name"] for i in monitoring.incidents("open"))
    assert pods == ["cart-a", "cart-b"]


def test_auto_close_sends_closed_notice(clock: ManualClock, score_series: SeriesFactory) -> None:
    cover = _points_to_cover(POLICY.duration_seconds)
    monitoring = _run(clock, score_series, [POLICY.threshold + 0.1] * cover)
    (incident,) = monitoring.incidents("open")
    last_breach = incident.last_breach_at
    # Quiet (no breaching data) for one second less than auto-close: still open.
    clock.advance(last_breach + POLICY.auto_close_seconds - 1 - clock.now())
    changes, _ = monitoring.tick()
    assert changes == [] and incident.state == "open"
    clock.advance(1)
    changes, _ = monitoring.tick()
    assert [(c.kind, c.incident.id) for c in changes] == [("closed", incident.id)]
    assert incident.ended_at == int(last_breach + POLICY.auto_close_seconds)
    # A new breach after the close is a new incident, with a new id.
    t = clock.now()
    for i in range(cover):
        monitoring.write([score_series(t + i * STEP, POLICY.threshold + 0.2, issue=ISSUE)])
    clock.advance(cover * STEP)
    monitoring.tick()
    ids = [i.id for i in monitoring.incidents()]
    assert len(ids) == 2 and len(set(ids)) == 2


def test_a_point_back_under_the_threshold_closes_the_incident(
    clock: ManualClock, score_series: SeriesFactory
) -> None:
    """The condition no longer met closes it at once, as in Cloud Monitoring (auto-close is
    for a series that goes silent), so the next breach of the same workload alerts again."""
    cover = _points_to_cover(POLICY.duration_seconds)
    t0 = clock.now()
    values = [POLICY.threshold + 0.1] * cover + [0.1] + [POLICY.threshold + 0.2] * cover
    monitoring = _run(clock, score_series, values)
    first, second = monitoring.incidents()
    assert first.state == "closed" and first.ended_at == int(t0 + cover * STEP)
    assert first.observed_value == pytest.approx(0.1)
    assert second.state == "open" and second.id != first.id


def test_outcome_does_not_depend_on_evaluation_cadence(
    clock: ManualClock, score_series: SeriesFactory
) -> None:
    values = [0.1, 0.95, 0.95, 0.95, 0.2, 0.9, 0.95, 0.97] + [0.1] * 40
    often = _run(clock, score_series, values)
    rarely = Monitoring(ManualClock())
    t0 = rarely.clock.now()
    rarely.write([score_series(t0 + i * STEP, v, issue=ISSUE) for i, v in enumerate(values)])
    rarely.tick(t0 + len(values) * STEP)
    seen = [(i.id, i.started_at, i.ended_at, i.state) for i in often.incidents()]
    assert seen, "the series should have opened an incident"
    assert seen == [(i.id, i.started_at, i.ended_at, i.state) for i in rarely.incidents()]


def test_points_out_of_order_are_rejected_with_reason(
    clock: ManualClock, score_series: SeriesFactory
) -> None:
    monitoring = Monitoring(clock)
    t = clock.now()
    assert monitoring.write([score_series(t, 0.5)]) == []
    errors = monitoring.write([score_series(t - 60, 0.5), score_series(t + 60, 0.5)])
    assert len(errors) == 1 and "in order" in str(errors[0])
    assert len(monitoring.store.series()[0].times) == 2
