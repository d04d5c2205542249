"""The one signature every guardrail stage has, and what it reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from self_healing_service.history import History
from self_healing_service.incidents import Incident
from self_healing_service.policy import Step
from self_healing_service.view import ClusterView

Outcome = Literal["skip", "postpone", "await_approval", "escalate"]


@dataclass(frozen=True)
class Limits:
    """The numbers guardrails enforce (from settings)."""

    allowed_namespaces: tuple[str, ...] = ()
    allow_kube_system: bool = False
    excluded_namespaces: tuple[str, ...] = ()
    label_selector: str = ""
    approval_actions: tuple[str, ...] = ()
    cooldown_seconds: float = 600.0
    target_actions_per_hour: int = 3
    global_actions_per_hour: int = 20
    max_workload_share: float = 0.34
    max_node_pool_share: float = 0.34
    max_not_ready_share: float = 0.55
    breaker_failures: int = 3
    recent_rollout_seconds: float = 900.0
    max_scale_replicas: int = 10


@dataclass(frozen=True)
class StageInput:
    incident: Incident
    view: ClusterView
    history: History
    step: Step
    rung: int
    now: float
    limits: Limits


@dataclass(frozen=True)
class Stop:
    """Stop, because `reason`."""

    stage: str
    reason: str
    outcome: Outcome = "skip"


class Stage(Protocol):
    @property
    def name(self) -> str: ...

    def __call__(self, given: StageInput) -> Stop | None: ...
