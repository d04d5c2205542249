"""The notification the self-healing service posts to `POST /notify` (docs/contracts.md §8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal[
    "incident_opened",
    "action_planned",
    "approval_requested",
    "action_taken",
    "verified",
    "escalated",
    "closed",
    "mode_changed",
]
KINDS: tuple[Kind, ...] = (
    "incident_opened",
    "action_planned",
    "approval_requested",
    "action_taken",
    "verified",
    "escalated",
    "closed",
    "mode_changed",
)


class _Wire(BaseModel):
    # Unknown fields are tolerated so that the sender may add fields without breaking us.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Workload(_Wire):
    namespace: str = Field("", max_length=253)  # empty for a Node
    kind: str = Field("Deployment", max_length=63)
    name: str = Field(min_length=1, max_length=253)

    @property
    def ref(self) -> str:
        """`namespace/name` (a node: its name), the form the healing API uses (§7)."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


class Action(_Wire):
    name: str = Field(min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)
    status: Literal["planned", "done", "failed"] = "planned"
    dry_run: str | None = None


class Signal(_Wire):
    metric: str = Field(min_length=1, max_length=200)
    threshold: float | None = None
    points: list[tuple[datetime, float]] = Field(default_factory=list, max_length=10_000)


class Approval(_Wire):
    id: str = Field(min_length=1, max_length=200)
    expires_at: datetime | None = None
    approvers_required: int = Field(1, ge=1, le=5)


class Notification(_Wire):
    """One event in the life of an incident."""

    schema_: Literal["gke-heal.notification/v1"] = Field(alias="schema")
    event_id: str = Field(min_length=1, max_length=200)
    incident_id: str = Field(min_length=1, max_length=200)
    sequence: int = Field(ge=0)
    kind: Kind
    occurred_at: datetime
    cluster: str = Field("", max_length=200)
    issue: str = Field("", max_length=200)
    severity: str = Field("warning", max_length=50)
    mode: str = Field("observe", max_length=50)
    workload: Workload | None = None
    summary: str = Field("", max_length=20_000)
    details: str | None = Field(None, max_length=200_000)
    action: Action | None = None
    reasons: list[str] = Field(default_factory=list, max_length=500)
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    signal: Signal | None = None
    approval: Approval | None = None
    links: dict[str, str] = Field(default_factory=dict)

    @property
    def workload_ref(self) -> str:
        return self.workload.ref if self.workload else "(cluster)"
