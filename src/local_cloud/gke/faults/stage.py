"""What a fault is: one small declarative stage that changes signals, a template, or a node.

A stage never acts by itself. The cluster reads the `chaos.gke-heal.io/fault` annotation,
looks the kind up in the catalogue and applies whichever of the three hooks the stage has:
an `Effect` on every container of the workload, a one-off change of the pod template (a
new revision, as a bad deploy would be), or a node whose kubelet stops reporting.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Obj = dict[str, Any]
FAULT_ANNOTATION = "chaos.gke-heal.io/fault"
PARAMS_ANNOTATION = "chaos.gke-heal.io/params"


@dataclass(frozen=True)
class LogTemplate:
    """One kind of log line: severity, a `str.format` template and a relative weight."""

    severity: str
    text: str
    weight: float = 1.0


@dataclass(frozen=True)
class Effect:
    """How a fault bends one container's behaviour; the neutral effect changes nothing."""

    traffic_factor: float = 1.0
    cpu_per_request_factor: float = 1.0
    latency_add_ms: float = 0.0
    error_rate: float = 0.0  # a floor on the error rate
    leak_seconds_to_limit: float | None = None  # memory reaches the limit this long after start
    leak_bytes_per_second: float | None = None  # used when the container has no memory limit
    exit_after_seconds: float | None = None  # the process exits (code 1) this long after start
    readiness_fails: bool = False
    logs: tuple[LogTemplate, ...] = ()
    log_lines_per_minute: float = 0.0
    exit_logs: tuple[LogTemplate, ...] = ()  # written just before the process exits


NEUTRAL = Effect()
Params = dict[str, Any]


@dataclass(frozen=True)
class FaultStage:
    """One fault kind: what it targets, what it does, and what a person would do about it."""

    kind: str
    target: Literal["Deployment", "Node"]
    summary: str
    remedy: str
    effect: Callable[[Params], Effect] | None = None
    template_change: Callable[[Obj, Params], None] | None = None
    stops_heartbeat: bool = False
    default_params: Params = field(default_factory=dict)
    # Parameters that take one of a few words (crash_loop's `cause`).
    param_choices: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def bad_choice(self, given: Params) -> str | None:
        """Why a worded parameter in `given` is not one of its choices, or None."""
        for name, choices in self.param_choices.items():
            if name in given and given[name] not in choices:
                return f"{name} must be one of {', '.join(choices)}, not {given[name]!r}"
        return None


@dataclass(frozen=True)
class ActiveFault:
    """A stage as annotated on one object, with its parameters."""

    stage: FaultStage
    params: Params

    def effect(self) -> Effect:
        return self.stage.effect(self.params) if self.stage.effect else NEUTRAL


def read_params(annotations: dict[str, str], defaults: Params) -> Params:
    """Defaults overlaid with the JSON object in the params annotation (bad JSON is ignored,
    as a real controller would ignore a malformed optional annotation)."""
    params = dict(defaults)
    raw = annotations.get(PARAMS_ANNOTATION)
    if raw:
        try:
            given = json.loads(raw)
        except ValueError:
            given = None
        if isinstance(given, dict):
            params.update(given)
    return params
