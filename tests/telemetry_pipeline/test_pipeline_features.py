"""Window statistics and feature rows: exact merges, rates, restarts in the window, slopes."""

from __future__ import annotations

import random
from typing import Any

import pytest

from telemetry_pipeline.features import EntityKey, build_feature_row, group_by_entity
from telemetry_pipeline.records import MetricPoint, SourceKey, parse_log, parse_metric
from telemetry_pipeline.sources import SeriesStats, SourceStats
from telemetry_pipeline.templates import TemplateMemory, template_id

T0 = 1_767_225_600.0


def test_merged_series_stats_equal_sequential_ones() -> None:
    rng = random.Random(3)
    points = [(T0 + rng.uniform(0, 60), rng.uniform(0, 100)) for _ in range(40)]
    whole = SeriesStats()
    for t, v in points:
        whole.add(t, v)
    left, right = SeriesStats(), SeriesStats()
    for i, (t, v) in enumerate(points):
        (left if i % 3 else right).add(t, v)
    left.merge(right)
    assert left.n == whole.n == 40
    # Epoch-sized times leave ~1e-8 relative rounding in the running covariance: plenty.
    assert left.slope() == pytest.approx(whole.slope(), rel=1e-6)
    assert left.rate() == pytest.approx(whole.rate(), rel=1e-12)
    assert (left.first_t, left.last_t, left.max_v) == (whole.first_t, whole.last_t, whole.max_v)


def test_slope_of_a_line_is_its_gradient() -> None:
    stats = SeriesStats()
    for dt in (50.0, 5.0, 35.0, 20.0):  # out of order on purpose
        stats.add(T0 + dt, 1_000.0 + 250.0 * dt)
    assert stats.slope() == pytest.approx(250.0)
    assert stats.rate() == pytest.approx(250.0)


def _window(telemetry: Any, docs: list[dict[str, Any]]) -> dict[EntityKey, dict[str, Any]]:
    sources: dict[SourceKey, SourceStats] = {}
    for doc in docs:
        item = parse_metric(doc) if "metric" in doc else parse_log(doc)
        assert not hasattr(item, "reason"), item
        stats = sources.setdefault(item.source, SourceStats())  # type: ignore[union-attr]
        if isinstance(item, MetricPoint):
            stats.add_metric(item)
        else:
            stats.add_log(item)  # type: ignore[arg-type]
    return {
        entity: build_feature_row(entity, T0, 60.0, parts)
        for entity, parts in group_by_entity(sources.items()).items()
    }


def test_features_of_one_container_window(telemetry: Any) -> None:
    docs = telemetry.window(T0, memory_util=0.75, restarts_before=3, restarts_after=5)
    docs += [
        telemetry.log("GET /cart 200 in 12ms", T0 + 3),
        telemetry.log("GET /cart 500 in 80ms", T0 + 9, severity="ERROR"),
        telemetry.log("payment 42 failed for user 'bob'", T0 + 40, severity="ERROR"),
        telemetry.event("BackOff", T0 + 30),
        telemetry.event("BackOff", T0 + 31),
    ]
    rows = _window(telemetry, docs)
    container = rows[EntityKey("container", "shop/cart-7d9f8c6b5-x2kqp/cart")]
    assert container["cpu_cores"] == pytest.approx(0.5)
    assert container["memory_slope_bytes_per_s"] == pytest.approx(1000.0)
    assert container["memory_limit_utilization"] == 0.75
    assert container["restarts"] == 2.0  # the increase inside the window, not the count
    assert (container["log_lines"], container["error_log_lines"]) == (3.0, 2.0)
    assert len(container["log_templates"]) == 2  # the two GET lines share a template
    assert container["ready"] == 1.0
    assert (container["window_start"], container["window_end"]) == (
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:01:00Z",
    )
    pod = rows[EntityKey("pod", "shop/cart-7d9f8c6b5-x2kqp")]
    assert pod["event_reasons"] == {"BackOff": 2}  # pod events count towards the pod
    deployment = rows[EntityKey("deployment", "shop/cart")]
    assert deployment["event_reasons"] == {"BackOff": 2}
    assert deployment["pod"] == "cart-7d9f8c6b5-x2kqp" and deployment["node"] == "node-a"
    assert deployment["restarts"] == 2.0


def test_two_pods_add_up_in_their_deployment(telemetry: Any) -> None:
    docs = [
        telemetry.metric("kubernetes.io/container/memory/used_bytes", 1000, T0 + 5, pod=pod)
        for pod in ("cart-7d9f8c6b5-aaaaa", "cart-7d9f8c6b5-bbbbb")
    ]
    rows = _window(telemetry, docs)
    assert rows[EntityKey("deployment", "shop/cart")]["memory_bytes"] == 2000.0
    assert rows[EntityKey("pod", "shop/cart-7d9f8c6b5-aaaaa")]["memory_bytes"] == 1000.0


def test_node_condition_becomes_node_not_ready(telemetry: Any) -> None:
    rows = _window(
        telemetry,
        [telemetry.node_condition("node-b", True, T0 + 5),
         telemetry.node_condition("node-b", False, T0 + 45)],
    )  # fmt: skip
    node = rows[EntityKey("node", "node-b")]
    assert (node["node_not_ready"], node["ready"], node["node"]) == (1.0, 0.0, "node-b")


def test_templates_mask_variables_and_memory_counts_only_new_ones() -> None:
    assert template_id("user 12 logged in from 10.0.0.1") == template_id(
        "user 99 logged in from 10.2.3.4"
    )
    assert template_id("user 12 logged in") != template_id("user 12 logged out")
    memory = TemplateMemory()
    assert memory.count_new("e", {"a": 3, "b": 1}) == 2
    assert memory.count_new("e", {"a": 1, "c": 1}) == 1
    assert memory.count_new("other", {"a": 1}) == 1
