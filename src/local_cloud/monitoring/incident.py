"""Incidents and their notification JSON, Cloud Monitoring schema 1.2 (docs/contracts.md §6).

The payload shape follows Google's webhook example field by field (shared notes §1.1):
integer Unix seconds for `started_at`/`ended_at` (`null` while open), lower-case `state`,
string `threshold_value`/`observed_value`, the condition embedded in camelCase.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from typing import Any

from local_cloud.monitoring.policies import AlertPolicy
from local_cloud.monitoring.timeseries import TimeSeries

SCHEMA_VERSION = "1.2"

_RESOURCE_DISPLAY = {
    "k8s_pod": ("Kubernetes Pod", "pod_name"),
    "k8s_node": ("Kubernetes Node", "node_name"),
    "k8s_container": ("Kubernetes Container", "container_name"),
}
_VARIABLE = re.compile(r"\$\{([a-z_]+(?:\.[A-Za-z0-9_./-]+)*)\}")


def incident_id(policy: AlertPolicy, series: TimeSeries, started_at: int) -> str:
    """Stable id of the shape Cloud uses (`0.` + base-36), the same for the open and close notice."""
    digest = hashlib.sha256(repr((policy.name, series.key, started_at)).encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while number and len(text) < 12:
        number, digit = divmod(number, 36)
        text += alphabet[digit]
    return "0." + text


def policy_id(policy: AlertPolicy) -> str:
    """Numeric id, as Cloud gives alert policies, derived from the policy name."""
    return str(zlib.crc32(policy.name.encode()) * 1_000_003 + 10**15)


@dataclass
class Incident:
    """One incident of one policy on one series (resource and metric labels)."""

    id: str
    policy: AlertPolicy
    series: TimeSeries
    project: str
    started_at: int
    observed_value: float
    last_breach_at: float
    ended_at: int | None = None

    @property
    def state(self) -> str:
        return "open" if self.ended_at is None else "closed"

    def payload(self, project_number: int, url_base: str) -> dict[str, Any]:
        """The notification body, `{"incident": {...}, "version": "1.2"}`."""
        policy, series = self.policy, self.series
        display, name_label = _RESOURCE_DISPLAY.get(
            series.resource_type, (series.resource_type, "")
        )
        # A series reduced to its workload has no pod left to name: the workload names it.
        resource_display_name = (
            series.resource_labels.get(name_label)
            or series.metric_labels.get("workload")
            or series.resource_type
        )
        condition_id = str(zlib.crc32(policy.filter.encode()))
        policy_name = f"projects/{self.project}/alertPolicies/{policy_id(policy)}"
        variables = {
            "project": self.project,
            "policy.display_name": policy.display_name,
            "condition.display_name": policy.condition_display_name,
            "metric.type": series.metric_type,
            "metric.display_name": "Anomaly score",
            "resource.type": series.resource_type,
            "resource.project": self.project,
            **{f"metric.label.{k}": v for k, v in series.metric_labels.items()},
            **{f"resource.label.{k}": v for k, v in series.resource_labels.items()},
            **{f"policy.user_labels.{k}": v for k, v in policy.user_labels.items()},
        }
        content = _VARIABLE.sub(
            lambda m: variables.get(m.group(1), m.group(0)), policy.documentation
        )
        severity = policy.severity.capitalize()
        return {
            "incident": {
                "incident_id": self.id,
                "scoping_project_id": self.project,
                "scoping_project_number": project_number,
                "url": f"{url_base.rstrip('/')}/{self.id}?project={self.project}",
                "started_at": self.started_at,
                "ended_at": self.ended_at,
                "state": self.state,
                "resource_id": "",
                "resource_name": f"{self.project} {resource_display_name}",
                "resource_display_name": resource_display_name,
                "resource_type_display_name": display,
                "resource": {"type": series.resource_type, "labels": dict(series.resource_labels)},
                "metric": {
                    "type": series.metric_type,
                    "displayName": "Anomaly score",
                    "labels": dict(series.metric_labels),
                },
                "metadata": {
                    "system_labels": dict(series.system_labels),
                    "user_labels": dict(series.user_labels),
                },
                "policy_name": policy.display_name,
                "policy_user_labels": dict(policy.user_labels),
                "condition_name": policy.condition_display_name,
                "threshold_value": f"{policy.threshold:g}",
                "observed_value": f"{self.observed_value:.3f}",
                "condition": {
                    "name": f"{policy_name}/conditions/{condition_id}",
                    "displayName": policy.condition_display_name,
                    "conditionThreshold": {
                        "filter": policy.filter,
                        "aggregations": [_aggregation(policy)],
                        "comparison": policy.comparison,
                        "thresholdValue": policy.threshold,
                        "duration": f"{policy.duration_seconds}s",
                        "trigger": {"count": 1},
                    },
                },
                "documentation": {
                    "content": content,
                    "mime_type": "text/markdown",
                    "subject": f"[ALERT - {severity}] {policy.display_name} on {resource_display_name}",
                },
                "severity": severity,
                "summary": self.summary(resource_display_name),
            },
            "version": SCHEMA_VERSION,
        }

    def summary(self, resource_display_name: str) -> str:
        series = self.series
        labels = ", ".join(f"{k}={v}" for k, v in sorted(series.metric_labels.items()))
        subject = f"Anomaly score for {resource_display_name} with metric labels {{{labels}}}"
        if self.state == "open":
            side = (
                "above" if self.policy.comparison in ("COMPARISON_GT", "COMPARISON_GE") else "below"
            )
            return (
                f"{subject} is {side} the threshold of {self.policy.threshold:g} "
                f"with a value of {self.observed_value:.3f}."
            )
        return f"{subject} returned to normal with a value of {self.observed_value:.3f}."


def _aggregation(policy: AlertPolicy) -> dict[str, Any]:
    """The condition's aggregation as Cloud shows it in the incident's condition."""
    aggregation: dict[str, Any] = {
        "alignmentPeriod": f"{policy.alignment_period_seconds}s",
        "perSeriesAligner": "ALIGN_MAX",
    }
    if policy.group_by_fields:
        aggregation["crossSeriesReducer"] = "REDUCE_MAX"
        aggregation["groupByFields"] = list(policy.group_by_fields)
    return aggregation
