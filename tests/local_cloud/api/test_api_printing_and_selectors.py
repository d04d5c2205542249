"""Selectors, PodDisruptionBudget arithmetic and Table cells, case by case (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from local_cloud.gke.api.eviction import budget
from local_cloud.gke.api.selectors import field_selector, label_selector, matches_label_selector
from local_cloud.gke.api.status import ApiError
from local_cloud.gke.api.tables import human_duration, table

LABELS = {"app": "web", "tier": "front", "canary": "true"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("app=web", True),
        ("app==web,tier=front", True),
        ("app!=web", False),
        ("app in (web, api)", True),
        ("app notin (web)", False),
        ("canary", True),
        ("!canary", False),
        ("!missing,tier in (front)", True),
        ("tier=back", False),
    ],
)
def test_label_selectors(selector: str, matches: bool) -> None:
    predicate = label_selector(selector)
    assert predicate is not None and predicate(LABELS) is matches


def test_structured_selector() -> None:
    selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]}],
    }
    assert matches_label_selector(selector, LABELS)
    assert not matches_label_selector(
        {"matchExpressions": [{"key": "x", "operator": "Exists"}]}, LABELS
    )


def test_field_selectors() -> None:
    pod = {
        "metadata": {"name": "a", "namespace": "n"},
        "spec": {"nodeName": "node-1"},
        "status": {"phase": "Running"},
    }
    assert field_selector("spec.nodeName=node-1,status.phase!=Pending", "pods")(pod)  # type: ignore[misc]
    assert not field_selector("metadata.name=b", "pods")(pod)  # type: ignore[misc]
    with pytest.raises(ApiError) as error:
        field_selector("spec.hostname=x", "pods")
    assert error.value.code == 400 and "field label not supported" in error.value.message


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5s"),
        (119, "119s"),
        (200, "3m20s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (10 * 3600, "10h"),
        (3 * 86400 + 4 * 3600, "3d4h"),
        (30 * 86400, "30d"),
        (800 * 86400, "2y70d"),
    ],
)
def test_human_duration(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def _ready_pod(ready: bool) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "web"}},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": str(ready)}]},
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"minAvailable": 2}, (2, 2, 3)),
        ({"minAvailable": "50%"}, (2, 2, 3)),
        ({"maxUnavailable": 1}, (2, 2, 3)),
        ({"maxUnavailable": "34%"}, (1, 2, 3)),
    ],
)
def test_disruption_budget(spec: dict[str, Any], expected: tuple[int, int, int]) -> None:
    pods = [_ready_pod(True), _ready_pod(True), _ready_pod(False)]
    pdb = {"spec": {**spec, "selector": {"matchLabels": {"app": "web"}}}}
    assert budget(pdb, pods) == expected


NOW = 1_767_225_600.0


def _status_cell(status: dict[str, Any], meta: dict[str, Any] | None = None) -> list[Any]:
    pod = {
        "metadata": {"name": "p", "creationTimestamp": "2026-01-01T00:00:00Z", **(meta or {})},
        "spec": {"containers": [{"name": "c"}]},
        "status": status,
    }
    cells: list[Any] = table("pods", [pod], NOW + 300, "1")["rows"][0]["cells"]
    return cells[1:4]


@pytest.mark.parametrize(
    ("status", "meta", "expected"),
    [
        ({"phase": "Pending"}, None, ["0/1", "Pending", "0"]),
        (
            {
                "phase": "Running",
                "containerStatuses": [{"ready": True, "restartCount": 0, "state": {"running": {}}}],
            },
            None,
            ["1/1", "Running", "0"],
        ),
        (
            {
                "phase": "Running",
                "containerStatuses": [
                    {
                        "ready": False,
                        "restartCount": 4,
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                        "lastState": {
                            "terminated": {"finishedAt": "2026-01-01T00:03:00Z", "exitCode": 1}
                        },
                    }
                ],
            },
            None,
            ["0/1", "CrashLoopBackOff", "4 (2m ago)"],
        ),
        (
            {
                "phase": "Running",
                "containerStatuses": [
                    {
                        "ready": False,
                        "restartCount": 1,
                        "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
                    }
                ],
            },
            None,
            ["0/1", "OOMKilled", "1"],
        ),
        (
            {"phase": "Running"},
            {"deletionTimestamp": "2026-01-01T00:05:00Z"},
            ["0/1", "Terminating", "0"],
        ),
        ({"phase": "Failed", "reason": "Evicted"}, None, ["0/1", "Evicted", "0"]),
    ],
)
def test_pod_status_cell(
    status: dict[str, Any], meta: dict[str, Any] | None, expected: list[Any]
) -> None:
    assert _status_cell(status, meta) == expected
