"""The alert policies, read from the one definition that Terraform also reads (`policies.json`).

`terraform/modules/alerting/policies.json` is the source of truth (docs/contracts.md §5). In a
checkout it is found relative to the repository; in a wheel it is packaged beside this module.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Comparison = Literal["COMPARISON_GT", "COMPARISON_GE", "COMPARISON_LT", "COMPARISON_LE"]
Severity = Literal["critical", "error", "warning"]

POLICIES_IN_REPO = Path("terraform") / "modules" / "alerting" / "policies.json"

# Google Cloud label rules: lower-case letters, digits, `_` and `-`; keys start with a letter.
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


class PolicyError(ValueError):
    """The policy definition is malformed; the message names the file and the field."""


class _PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Short name, used in resource names with the prefix.")
    display_name: str
    issue_kinds: list[str] = Field(min_length=1)
    severity: Severity
    comparison: Comparison = "COMPARISON_GT"
    threshold: float
    duration_seconds: int = Field(ge=0)
    alignment_period_seconds: int = Field(ge=60)
    auto_close_seconds: int = Field(ge=1800, le=604800)
    user_labels: dict[str, str]
    documentation: str

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be lower-case letters, digits and '-', starting with a letter")
        return value

    @field_validator("duration_seconds", "alignment_period_seconds")
    @classmethod
    def _whole_minutes(cls, value: int) -> int:
        # Cloud Monitoring accepts condition durations and alignment periods in whole minutes.
        if value % 60:
            raise ValueError("must be a multiple of 60 seconds")
        return value

    @field_validator("user_labels")
    @classmethod
    def _label_shape(cls, labels: dict[str, str]) -> dict[str, str]:
        for key, value in labels.items():
            if not _LABEL_KEY.match(key) or not _LABEL_VALUE.match(value):
                raise ValueError(f"label {key}={value!r} breaks the Google Cloud label rules")
        return labels

    @model_validator(mode="after")
    def _labels_name_the_issue(self) -> _PolicyModel:
        for key in ("issue", "severity", "managed_by"):
            if key not in self.user_labels:
                raise ValueError(f"user_labels.{key} is required (docs/contracts.md §5)")
        if self.user_labels["issue"] not in self.issue_kinds:
            raise ValueError("user_labels.issue must be one of issue_kinds")
        if self.user_labels["severity"] != self.severity:
            raise ValueError("user_labels.severity must equal severity")
        return self


_GROUP_FIELD = re.compile(r"^(metric|resource)\.label\.[a-z][a-z0-9_]*$")


class _DefinitionModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    metric_type: str
    resource_types: list[str] = Field(min_length=1)
    # Series are reduced (max) across these labels before the condition is judged, so one
    # incident stands for one workload, not one per pod. Empty: one incident per series.
    group_by_fields: list[str] = Field(default_factory=list)
    policies: list[_PolicyModel] = Field(min_length=1)

    @field_validator("group_by_fields")
    @classmethod
    def _group_fields(cls, fields: list[str]) -> list[str]:
        for name in fields:
            if not _GROUP_FIELD.match(name):
                raise ValueError(f"{name!r} is not metric.label.NAME or resource.label.NAME")
        return fields

    @model_validator(mode="after")
    def _unique_names(self) -> _DefinitionModel:
        names = [p.name for p in self.policies]
        if len(names) != len(set(names)):
            raise ValueError("policy names must be unique")
        return self


@dataclass(frozen=True)
class AlertPolicy:
    """One alert policy with one threshold condition on the anomaly metric."""

    name: str
    display_name: str
    metric_type: str
    resource_types: tuple[str, ...]
    issue_kinds: tuple[str, ...]
    severity: str
    comparison: str
    threshold: float
    duration_seconds: int
    alignment_period_seconds: int
    auto_close_seconds: int
    user_labels: dict[str, str]
    documentation: str
    group_by_fields: tuple[str, ...] = ()

    @property
    def condition_display_name(self) -> str:
        return f"anomaly score {_SYMBOL[self.comparison]} {self.threshold:g}"

    @property
    def filter(self) -> str:
        """The Cloud Monitoring filter; the Terraform module builds the same string."""
        return " AND ".join(
            [
                f'metric.type = "{self.metric_type}"',
                f"resource.type = one_of({_quoted(self.resource_types)})",
                f"metric.label.issue = one_of({_quoted(self.issue_kinds)})",
                f'metric.label.severity = "{self.severity}"',
            ]
        )

    def matches(self, metric_type: str, resource_type: str, metric_labels: dict[str, str]) -> bool:
        return (
            metric_type == self.metric_type
            and resource_type in self.resource_types
            and metric_labels.get("issue") in self.issue_kinds
            and metric_labels.get("severity") == self.severity
        )

    def breaches(self, value: float) -> bool:
        if self.comparison == "COMPARISON_GT":
            return value > self.threshold
        if self.comparison == "COMPARISON_GE":
            return value >= self.threshold
        if self.comparison == "COMPARISON_LT":
            return value < self.threshold
        return value <= self.threshold


_SYMBOL = {"COMPARISON_GT": ">", "COMPARISON_GE": ">=", "COMPARISON_LT": "<", "COMPARISON_LE": "<="}


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f'"{v}"' for v in values)


@dataclass(frozen=True)
class PolicyDefinition:
    """The whole definition file: where it came from and its policies."""

    source: str
    metric_type: str
    policies: tuple[AlertPolicy, ...]


def default_policies_path() -> Path:
    """`policies.json` in the checkout (editable install), else the copy packaged in the wheel."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / POLICIES_IN_REPO
        if candidate.is_file():
            return candidate
    packaged = resources.files("local_cloud.monitoring") / "policies.json"
    if packaged.is_file():
        return Path(str(packaged))
    raise PolicyError(f"{POLICIES_IN_REPO} not found beside this package nor packaged with it")


def load_policies(path: Path | None = None) -> PolicyDefinition:
    """Read and validate the policy definition; errors name the file and the field."""
    source = path or default_policies_path()
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{source}: cannot read: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{source}: not JSON: line {exc.lineno}: {exc.msg}") from exc
    try:
        model = _DefinitionModel.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "<root>"
        raise PolicyError(f"{source}: {where}: {first['msg']}") from exc
    policies = tuple(
        AlertPolicy(
            name=p.name,
            display_name=p.display_name,
            metric_type=model.metric_type,
            resource_types=tuple(model.resource_types),
            issue_kinds=tuple(p.issue_kinds),
            severity=p.severity,
            comparison=p.comparison,
            threshold=p.threshold,
            duration_seconds=p.duration_seconds,
            alignment_period_seconds=p.alignment_period_seconds,
            auto_close_seconds=p.auto_close_seconds,
            user_labels=dict(p.user_labels),
            documentation=p.documentation,
            group_by_fields=tuple(model.group_by_fields),
        )
        for p in model.policies
    )
    return PolicyDefinition(source=str(source), metric_type=model.metric_type, policies=policies)
