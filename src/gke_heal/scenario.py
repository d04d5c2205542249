"""Game-day scenarios: which faults to inject, when, and what must happen; loaded from YAML.

The demo, `gke-heal scenario run FILE` and the healing benchmark all run scenarios through
the same runner; this module is only the typed description and its loading.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gke_heal.yamlfile import YamlModelError, parse_mapping, validate
from local_cloud.gke.faults import FAULTS

FaultKind = Literal[
    "memory_leak",
    "cpu_saturation",
    "crash_loop",
    "bad_rollout",
    "error_burst",
    "node_not_ready",
    "unschedulable",
    "dependency_latency",
]
FAULT_KINDS: tuple[str, ...] = FaultKind.__args__  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expectation(_Strict):
    """What must happen after a fault is injected; every field is optional."""

    detected_within_minutes: float | None = Field(
        None, gt=0, description="An incident must open within this many simulated minutes."
    )
    issue: str | None = Field(None, description="The issue the model must name, e.g. memory_leak.")
    action: str | None = Field(
        None, description="The action the service must take (or propose), e.g. rollout_restart."
    )
    recovered_within_minutes: float | None = Field(
        None, gt=0, description="The workload must be healthy again within this many minutes."
    )
    outcome: Literal["healed", "escalated", "detected", "any"] = Field(
        "any", description="`healed`, `escalated` (handed to a human), `detected`, or `any`."
    )


class FaultStep(_Strict):
    """One fault: what, where, for how long, and what is expected."""

    kind: FaultKind = Field(description="Fault kind, as `gke-heal chaos list` shows.")
    target: str = Field(description="`NAMESPACE/DEPLOYMENT`, or `node/NAME` for node faults.")
    duration_minutes: float = Field(
        20, gt=0, description="Simulated minutes to observe before moving on."
    )
    clear_after_minutes: float | None = Field(
        None,
        gt=0,
        description="Remove the fault this long after injection (the 'fix shipped'); "
        "default: when the step ends.",
    )
    params: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="Fault parameters, as `gke-heal chaos inject --params` takes them "
        "(`gke-heal chaos list` shows each kind's), e.g. {cause: rollout} for crash_loop.",
    )
    expect: Expectation = Field(default_factory=Expectation, description="Expectations.")

    @field_validator("target")
    @classmethod
    def _target_has_namespace(cls, value: str) -> str:
        parts = value.split("/")
        if len(parts) != 2 or not all(parts):
            raise ValueError("must be NAMESPACE/DEPLOYMENT or node/NAME")
        return value

    @model_validator(mode="after")
    def _known_params(self) -> FaultStep:
        unknown = sorted(set(self.params) - set(FAULTS[self.kind].default_params))
        if unknown:
            known = ", ".join(FAULTS[self.kind].default_params) or "none"
            raise ValueError(f"params: {unknown[0]!r} is not a {self.kind} parameter ({known})")
        bad = FAULTS[self.kind].bad_choice(self.params)
        if bad:
            raise ValueError(f"params: {bad}")
        return self


class Scenario(_Strict):
    """A whole game day."""

    name: str = Field("game day", description="Shown in the report.")
    seed: int = Field(7, description="Seed of the simulated cluster.")
    mode: Literal["observe", "recommend", "enforce"] = Field(
        "enforce", description="Mode of the self-healing service during the scenario."
    )
    auto_approve: bool = Field(
        True, description="Approve pending actions from chat, as an on-call human would."
    )
    warmup_minutes: float = Field(
        45, ge=0, description="Fault-free minutes the model learns from before the first fault."
    )
    settle_minutes: float = Field(5, ge=0, description="Quiet minutes between two faults.")
    control_minutes: float = Field(
        0, ge=0, description="Fault-free minutes at the end; any action there is harmful."
    )
    faults: list[FaultStep] = Field(default_factory=list, description="Faults, in order.")


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate YAML text into a `Scenario`; errors name the field and line."""
    return validate(Scenario, parse_mapping(text, source), text, source)


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise YamlModelError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_scenario(text, str(path))
