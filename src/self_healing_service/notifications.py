"""Notifications to ChatOps in the `gke-heal.notification/v1` shape (contracts §8); the store's
outbox adds `event_id` and the per-incident `sequence`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from self_healing_service.decision import PlannedAction
from self_healing_service.history import ApprovalRecord
from self_healing_service.incidents import Incident

SCHEMA = "gke-heal.notification/v1"
KINDS = (
    "incident_opened", "action_planned", "approval_requested", "action_taken", "verified",
    "escalated", "closed", "mode_changed",
)  # fmt: skip


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def notification(
    kind: str,
    incident: Incident,
    *,
    now: float,
    cluster: str,
    mode: str,
    summary: str,
    base_url: str,
    action: PlannedAction | None = None,
    action_status: str = "planned",
    dry_run: str = "",
    reasons: tuple[str, ...] = (),
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    approval: ApprovalRecord | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schema": SCHEMA,
        "incident_id": incident.id,
        "kind": kind,
        "occurred_at": rfc3339(now),
        "cluster": cluster,
        "issue": incident.issue,
        "severity": incident.severity,
        "mode": mode,
        "workload": {
            "namespace": incident.namespace,
            "kind": incident.kind,
            "name": incident.name,
        },
        "summary": summary[:300],
        "reasons": list(reasons),
        "links": {
            "incident": f"{base_url.rstrip('/')}/incidents/{incident.id}",
            "dashboard": f"{base_url.rstrip('/')}/",
        },
    }
    if incident.observed is not None:
        body["signal"] = {
            "metric": "custom.googleapis.com/anomaly/score",
            "threshold": incident.threshold,
            "points": [[rfc3339(incident.started_at or now), incident.observed]],
        }
    if action is not None:
        params = {k: v for k, v in action.params.items() if k != "uid"}
        body["action"] = {"name": action.name, "params": params, "status": action_status}
        if dry_run:
            body["action"]["dry_run"] = dry_run
    if before is not None:
        body["before"] = before
    if after is not None:
        body["after"] = after
    if approval is not None:
        body["approval"] = {
            "id": approval.id,
            "expires_at": rfc3339(approval.expires_at),
            "approvers_required": 1,
        }
    return body


CONTROL_STREAM = "control"  # the `incident_id` of notifications about the service itself


def control_notification(
    kind: str, *, now: float, cluster: str, mode: str, summary: str, base_url: str
) -> dict[str, Any]:
    """A notification about the service rather than an incident (`mode_changed`)."""
    return {
        "schema": SCHEMA,
        "incident_id": CONTROL_STREAM,
        "kind": kind,
        "occurred_at": rfc3339(now),
        "cluster": cluster,
        "severity": "info",
        "mode": mode,
        "summary": summary[:300],
        "reasons": [],
        "links": {"dashboard": f"{base_url.rstrip('/')}/"},
    }
