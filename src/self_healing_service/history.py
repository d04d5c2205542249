"""What the store remembers that decisions depend on, as plain frozen data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["observe", "recommend", "enforce"]


@dataclass(frozen=True)
class ActionRecord:
    """An action the service started (any incident), as the guardrails see it."""

    incident_id: str
    rung: int
    action: str
    target: str  # workload `ns/name` or node name
    status: str  # started | done | failed
    at: float
    pool: str = ""


@dataclass(frozen=True)
class ApprovalRecord:
    id: str
    incident_id: str
    rung: int
    action: str
    status: str  # pending | approved | denied
    requested_at: float
    expires_at: float
    decided_by: str = ""

    def valid(self, now: float) -> bool:
        return self.status == "approved" and now < self.expires_at


@dataclass(frozen=True)
class History:
    """Everything `decide` needs besides the incident and the cluster view."""

    mode: Mode = "observe"
    paused: bool = False
    attempted_rungs: int = 0  # rungs of this incident already tried
    actions: tuple[ActionRecord, ...] = ()  # recent actions, all incidents, newest first
    outcomes: tuple[str, ...] = ()  # recent verification outcomes, newest first
    approval: ApprovalRecord | None = None  # for this incident's current rung
    silenced_until: float | None = None
