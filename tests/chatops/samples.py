"""Notifications of every kind (docs/contracts.md §8), as the self-healing service sends them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from chatops.notification import KINDS

T0 = datetime(2026, 11, 29, 3, 0, 0, tzinfo=UTC)


def signal_points(n: int = 30) -> list[list[Any]]:
    return [[(T0 + timedelta(minutes=i)).isoformat(), round(0.55 + 0.015 * i, 3)] for i in range(n)]


def notification(
    kind: str = "incident_opened",
    incident_id: str = "0.abc",
    sequence: int = 1,
    event_id: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A full notification of `kind`, deterministic unless `event_id` is left out."""
    body: dict[str, Any] = {
        "schema": "gke-heal.notification/v1",
        "event_id": event_id or f"{incident_id}-{sequence}-{kind}",
        "incident_id": incident_id,
        "sequence": sequence,
        "kind": kind,
        "occurred_at": (T0 + timedelta(minutes=sequence)).isoformat(),
        "cluster": "demo-cluster",
        "issue": "memory_leak",
        "severity": "critical",
        "mode": "recommend",
        "workload": {"namespace": "shop", "kind": "Deployment", "name": "cart"},
        "summary": "cart memory at 95% of its limit and climbing",
        "links": {
            "incident": f"https://heal.example.com/incidents/{incident_id}",
            "dashboard": "http://127.0.0.1:8080/",
        },
    }
    if kind in ("incident_opened", "verified", "escalated"):
        body["signal"] = {
            "metric": "memory_limit_utilization",
            "threshold": 0.9,
            "points": signal_points(),
        }
    if kind in ("action_planned", "approval_requested", "action_taken", "verified", "escalated"):
        status = {"action_taken": "done", "verified": "done", "escalated": "failed"}.get(
            kind, "planned"
        )
        body["action"] = {
            "name": "rollout_restart",
            "params": {"deployment": "cart"},
            "status": status,
            "dry_run": "ok",
        }
    if kind == "approval_requested":
        body["approval"] = {
            "id": f"appr-{incident_id}",
            "expires_at": (T0 + timedelta(hours=1)).isoformat(),
            "approvers_required": 1,
        }
        body["reasons"] = ["policy: rollout_restart needs approval in recommend mode"]
    if kind in ("action_taken", "verified", "closed", "escalated"):
        body["before"] = {"ready": "2/3", "restarts": 4}
        body["after"] = {"ready": "3/3", "restarts": 0} if kind != "escalated" else {"ready": "1/3"}
    if kind == "escalated":
        body["details"] = "Memory climbed again 3 minutes after the restart.\n*Needs a human.*"
        body["reasons"] = ["verification: signal did not recover within 5 min"]
    if kind == "mode_changed":
        body["mode"] = "enforce"
        body["summary"] = "mode changed from recommend to enforce by slack:U123"
        body.pop("workload")
    body.update(overrides)
    return body


def all_kinds() -> list[str]:
    return list(KINDS)


def random_event(kind: str, incident_id: str, sequence: int) -> dict[str, Any]:
    return notification(kind, incident_id, sequence, event_id=str(uuid.uuid4()))
