"""Remediation policy as configuration: rules map an issue (and severity, namespaces, whether a
rollout is recent) to an escalation ladder of actions. Built-in defaults; YAML overrides."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from self_healing_service.incidents import Incident
from self_healing_service.view import ClusterView

ACTION_NAMES = ("delete_pod", "rollout_restart", "scale", "rollout_undo", "cordon", "drain")


def known_actions(names: list[str]) -> list[str]:
    """`names` when each is an action of the catalogue; else a ValueError naming the first not."""
    unknown = [a for a in names if a not in ACTION_NAMES]
    if unknown:
        raise ValueError(f"unknown action {unknown[0]!r}; known: {', '.join(ACTION_NAMES)}")
    return names


@dataclass(frozen=True)
class Step:
    """One rung of a ladder: an action, its parameters, and whether a human must approve."""

    action: str
    params: dict[str, Any] = field(default_factory=dict)
    approval: bool = False


@dataclass(frozen=True)
class Rule:
    issue: str
    ladder: tuple[Step, ...]
    severities: tuple[str, ...] = ("critical",)
    namespaces: tuple[str, ...] = ()
    recent_rollout: bool | None = None  # None: either way

    def matches(self, incident: Incident, recent: bool) -> bool:
        if self.issue not in (incident.issue, "*"):
            return False
        if self.severities and incident.severity not in self.severities:
            return False
        if self.namespaces and incident.namespace not in self.namespaces:
            return False
        return self.recent_rollout is None or self.recent_rollout == recent


class _StepModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(pattern="^(" + "|".join(ACTION_NAMES) + ")$")
    params: dict[str, Any] = {}
    approval: bool = False


class _RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    issue: str
    ladder: list[_StepModel]
    severities: list[str] = ["critical"]
    namespaces: list[str] = []
    recent_rollout: bool | None = None


class _PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[_RuleModel]


SCALE_OUT: dict[str, Any] = {"factor": 2.0, "min_added": 4, "target_cpu": 0.6, "pinned_factor": 3.0}

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("memory_leak", (Step("rollout_restart"),)),
    Rule("crash_loop", (Step("rollout_undo"),), recent_rollout=True),
    Rule("crash_loop", (Step("delete_pod"), Step("rollout_restart"))),
    Rule("bad_rollout", (Step("rollout_undo"),)),
    Rule("unschedulable", (Step("rollout_undo"),), recent_rollout=True),
    # Scale out as the HPA does by default (double or add four pods, whichever is more, and
    # enough for the measured demand at 60 % of the limit; pods pinned at the limit hide their
    # demand, so triple them): a half-measure leaves the pods saturated. If they are still
    # saturated once the new ones are ready, once more.
    Rule("cpu_saturation", (Step("scale", SCALE_OUT), Step("scale", SCALE_OUT))),
    Rule("node_failure", (Step("drain"),)),
)


@dataclass(frozen=True)
class Policy:
    """First matching rule wins; no match means notify only."""

    rules: tuple[Rule, ...] = DEFAULT_RULES

    def ladder(
        self, incident: Incident, view: ClusterView, now: float, recent_seconds: float
    ) -> tuple[Step, ...]:
        recent = is_recent_rollout(view, now, recent_seconds)
        for rule in self.rules:
            if rule.matches(incident, recent):
                return rule.ladder
        return ()

    @classmethod
    def from_yaml(cls, text: str) -> Policy:
        """Parse `rules: [{issue, ladder: [{action, params, approval}], ...}]`."""
        model = _PolicyModel.model_validate(yaml.safe_load(text))
        return cls(
            tuple(
                Rule(
                    issue=r.issue,
                    ladder=tuple(Step(s.action, dict(s.params), s.approval) for s in r.ladder),
                    severities=tuple(r.severities),
                    namespaces=tuple(r.namespaces),
                    recent_rollout=r.recent_rollout,
                )
                for r in model.rules
            )
        )

    @classmethod
    def load(cls, path: Path | None) -> Policy:
        return cls() if path is None else cls.from_yaml(path.read_text())


def is_recent_rollout(view: ClusterView, now: float, recent_seconds: float) -> bool:
    """A second revision created within `recent_seconds`."""
    workload = view.workload
    if workload is None or workload.previous_revision is None:
        return False
    created = workload.revision_created_at
    return created is not None and now - created <= recent_seconds
