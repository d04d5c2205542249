"""One `Incident`, whichever way it arrived: Cloud Monitoring 1.2 (webhook or Pub/Sub push) or
Alertmanager v4. Parsers validate at the edge and name the offending field in `IntakeError`."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

ISSUES = (
    "memory_leak",
    "cpu_saturation",
    "crash_loop",
    "bad_rollout",
    "error_burst",
    "node_failure",
    "unschedulable",
    "latency_regression",
)
ZERO_TIME = "0001-01-01T00:00:00Z"


class IntakeError(ValueError):
    """A notice we cannot use; `field` names what was wrong."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class Incident:
    """A critical incident about one workload (Deployment) or one node."""

    id: str
    state: Literal["open", "closed"]
    issue: str
    severity: str
    namespace: str
    kind: Literal["Deployment", "Node"]
    name: str
    source: str
    started_at: float
    ended_at: float | None = None
    pod: str = ""
    summary: str = ""
    observed: float | None = None
    threshold: float | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def workload(self) -> str:
        """`ns/name` for a deployment, the node name for a node."""
        return self.name if self.kind == "Node" else f"{self.namespace}/{self.name}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class MonitoringResource(_Model):
    type: str = ""
    labels: dict[str, str] = {}


class MonitoringMetric(_Model):
    type: str = ""
    labels: dict[str, str] = {}


class MonitoringIncident(_Model):
    incident_id: str
    state: str
    started_at: int | None = None
    ended_at: int | None = None
    resource: MonitoringResource = MonitoringResource()
    metric: MonitoringMetric = MonitoringMetric()
    policy_user_labels: dict[str, str] = {}
    severity: str | None = None
    summary: str = ""
    threshold_value: str | None = None
    observed_value: str | None = None

    @field_validator("incident_id")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip() or len(value) > 200:
            raise ValueError("must be 1..200 characters")
        return value

    @field_validator("state")
    @classmethod
    def _state(cls, value: str) -> str:
        if value.lower() not in ("open", "closed"):
            raise ValueError("must be open or closed")
        return value.lower()


class MonitoringNotice(_Model):
    incident: MonitoringIncident
    version: str = "1.2"


class AlertmanagerAlert(_Model):
    status: str
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: datetime  # noqa: N815 - Alertmanager's field names
    endsAt: str = ZERO_TIME  # noqa: N815
    fingerprint: str

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        if value not in ("firing", "resolved"):
            raise ValueError("must be firing or resolved")
        return value


class AlertmanagerNotice(_Model):
    version: str
    status: str = "firing"
    alerts: list[AlertmanagerAlert]

    @field_validator("version")
    @classmethod
    def _v4(cls, value: str) -> str:
        if value != "4":
            raise ValueError("only Alertmanager webhook version 4 is understood")
        return value


def _first_error(error: ValidationError) -> IntakeError:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return IntakeError(where, first["msg"])


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _target(labels: dict[str, str], resource: dict[str, str]) -> tuple[str, str, str, str]:
    """(kind, namespace, name, pod) from the metric labels (`workload`) and resource labels."""
    issue = labels.get("issue", "")
    node = resource.get("node_name") or labels.get("node", "")
    workload = labels.get("workload") or labels.get("deployment", "")
    namespace = resource.get("namespace_name") or labels.get("namespace", "")
    if issue == "node_failure" or (node and not workload):
        name = node or workload
        if not name:
            raise IntakeError("resource.labels.node_name", "a node incident must name the node")
        return "Node", "", name, ""
    if "/" in workload:
        namespace, _, workload = workload.partition("/")
    if not workload or not namespace:
        raise IntakeError("metric.labels.workload", "must name the workload as namespace/name")
    return "Deployment", namespace, workload, resource.get("pod_name", labels.get("pod", ""))


def from_monitoring(payload: object, source: str = "monitoring") -> Incident:
    """Parse Cloud Monitoring incident JSON, schema 1.2."""
    try:
        notice = MonitoringNotice.model_validate(payload)
    except ValidationError as error:
        raise _first_error(error) from None
    raw = notice.incident
    labels = {**raw.metric.labels, **raw.policy_user_labels}
    issue = raw.policy_user_labels.get("issue") or raw.metric.labels.get("issue") or "unknown"
    kind, namespace, name, pod = _target({**labels, "issue": issue}, raw.resource.labels)
    severity = (
        raw.policy_user_labels.get("severity")
        or raw.metric.labels.get("severity")
        or raw.severity
        or "critical"
    ).lower()
    started = float(raw.started_at or 0)
    return Incident(
        id=raw.incident_id,
        state="open" if raw.state == "open" else "closed",
        issue=issue,
        severity=severity,
        namespace=namespace,
        kind="Node" if kind == "Node" else "Deployment",
        name=name,
        source=source,
        started_at=started,
        ended_at=float(raw.ended_at) if raw.ended_at is not None else None,
        pod=pod,
        summary=raw.summary[:500],
        observed=_number(raw.observed_value),
        threshold=_number(raw.threshold_value),
        labels=labels,
    )


class PushMessage(_Model):
    data: str


class PushEnvelope(_Model):
    message: PushMessage
    subscription: str = ""


def from_pubsub(payload: object) -> Incident:
    """Parse a Pub/Sub push envelope whose `message.data` is base64 incident JSON."""
    try:
        envelope = PushEnvelope.model_validate(payload)
    except ValidationError as error:
        raise _first_error(error) from None
    try:
        decoded = json.loads(base64.b64decode(envelope.message.data, validate=True))
    except (binascii.Error, ValueError):
        raise IntakeError("message.data", "must be base64 of incident JSON") from None
    return from_monitoring(decoded, source="pubsub")


def from_alertmanager(payload: object) -> list[Incident]:
    """Parse an Alertmanager v4 webhook; one incident per alert, keyed by its fingerprint."""
    try:
        notice = AlertmanagerNotice.model_validate(payload)
    except ValidationError as error:
        raise _first_error(error) from None
    incidents = []
    for index, alert in enumerate(notice.alerts):
        labels = dict(alert.labels)
        issue = labels.get("issue", "unknown")
        try:
            kind, namespace, name, pod = _target(labels, {})
        except IntakeError as error:
            where = f"alerts.{index}.labels.{error.field.split('.')[-1]}"
            raise IntakeError(where, error.reason) from None
        ended = None
        if alert.status == "resolved" and alert.endsAt != ZERO_TIME:
            try:
                ended = datetime.fromisoformat(alert.endsAt.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise IntakeError(f"alerts.{index}.endsAt", "must be RFC3339") from None
        incidents.append(
            Incident(
                id=f"am-{alert.fingerprint}",
                state="open" if alert.status == "firing" else "closed",
                issue=issue,
                severity=labels.get("severity", "critical").lower(),
                namespace=namespace,
                kind="Node" if kind == "Node" else "Deployment",
                name=name,
                source="alertmanager",
                started_at=alert.startsAt.timestamp(),
                ended_at=ended,
                pod=pod,
                summary=alert.annotations.get("summary", "")[:500],
                labels=labels,
            )
        )
    return incidents


def to_record(incident: Incident) -> dict[str, Any]:
    """The incident as stored JSON."""
    return {
        "id": incident.id,
        "state": incident.state,
        "issue": incident.issue,
        "severity": incident.severity,
        "namespace": incident.namespace,
        "kind": incident.kind,
        "name": incident.name,
        "source": incident.source,
        "started_at": incident.started_at,
        "ended_at": incident.ended_at,
        "pod": incident.pod,
        "summary": incident.summary,
        "observed": incident.observed,
        "threshold": incident.threshold,
        "labels": dict(incident.labels),
    }


def from_record(data: dict[str, Any]) -> Incident:
    """Inverse of `to_record`."""
    return Incident(**{**data, "labels": dict(data.get("labels") or {})})
