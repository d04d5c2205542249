"""What a person should see about an incident, decided once and then drawn by each platform's
renderer: title, facts, what was done, before/after, reasons, links, approval buttons."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chatops.notification import Notification

KIND_TITLES = {
    "incident_opened": "Incident opened",
    "action_planned": "Action planned",
    "approval_requested": "Approval needed",
    "action_taken": "Action taken",
    "verified": "Recovered",
    "escalated": "Escalated to a human",
    "closed": "Closed",
    "mode_changed": "Mode changed",
}
# Slack emoji shortcodes; Teams shows the word only (emoji codes are Slack's own).
KIND_EMOJI = {
    "incident_opened": ":rotating_light:",
    "action_planned": ":memo:",
    "approval_requested": ":raised_hand:",
    "action_taken": ":wrench:",
    "verified": ":white_check_mark:",
    "escalated": ":sos:",
    "closed": ":heavy_check_mark:",
    "mode_changed": ":gear:",
}
ATTENTION_SEVERITIES = {"critical", "error", "emergency", "alert"}


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class IncidentView:
    """Platform-neutral content of one incident message (the latest state of the incident)."""

    incident_id: str
    kind: str
    title: str
    emoji: str
    attention: bool
    facts: list[tuple[str, str]]
    summary: str
    details: str
    done: str
    changes: list[tuple[str, str, str]]
    reasons: list[str]
    timeline: list[str]
    links: list[Link]
    full_text_link: str | None
    approval_id: str | None
    approvers_required: int = 1
    fallback: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


def describe_action(n: Notification) -> str:
    """One line saying what was (or will be) done and how it went."""
    if n.action is None:
        return ""
    params = ", ".join(f"{k}={_plain(v)}" for k, v in sorted(n.action.params.items()))
    words = f"{n.action.name}({params})" if params else n.action.name
    line = f"{words}: {n.action.status}"
    if n.action.dry_run:
        line += f" (server-side dry run: {n.action.dry_run})"
    return line


def incident_view(
    n: Notification, timeline: list[str] | None = None, public_url: str = ""
) -> IncidentView:
    """The view of incident `n.incident_id` as of notification `n`."""
    where = n.workload_ref
    issue = n.issue.replace("_", " ") if n.issue else "anomaly"
    title = (
        f"{KIND_TITLES[n.kind]}: mode is now {n.mode}"
        if n.kind == "mode_changed"
        else f"{KIND_TITLES[n.kind]}: {issue} on {where}"
    )
    facts = [
        ("Severity", n.severity),
        ("Workload", f"{n.workload.kind} {where}" if n.workload else where),
        ("Cluster", n.cluster or "-"),
        ("Mode", n.mode),
        ("Incident", n.incident_id),
    ]
    if n.signal is not None:
        latest = n.signal.points[-1][1] if n.signal.points else None
        shown = f"{n.signal.metric}"
        if latest is not None:
            shown += f" = {latest:g}"
        if n.signal.threshold is not None:
            shown += f" (threshold {n.signal.threshold:g})"
        facts.append(("Signal", shown))
    keys = list(dict.fromkeys([*n.before.keys(), *n.after.keys()]))
    changes = [(k, _plain(n.before.get(k, "-")), _plain(n.after.get(k, "-"))) for k in keys]
    links = [Link(title.replace("_", " ").capitalize(), url) for title, url in n.links.items()]
    full = n.links.get("incident") or (
        f"{public_url.rstrip('/')}/incidents/{n.incident_id}" if public_url else None
    )
    approval = n.approval.id if (n.kind == "approval_requested" and n.approval) else None
    return IncidentView(
        incident_id=n.incident_id,
        kind=n.kind,
        title=title,
        emoji=KIND_EMOJI[n.kind],
        attention=n.severity.lower() in ATTENTION_SEVERITIES or n.kind == "escalated",
        facts=facts,
        summary=n.summary,
        details=n.details or "",
        done=describe_action(n),
        changes=changes,
        reasons=list(n.reasons),
        timeline=list(timeline or []),
        links=links,
        full_text_link=full,
        approval_id=approval,
        approvers_required=n.approval.approvers_required if n.approval else 1,
        fallback=f"{KIND_TITLES[n.kind]}: {issue} on {where} ({n.severity}). {n.summary}",
    )


@dataclass(frozen=True)
class StormView:
    """Many incidents opened at once, shown as one grouped message."""

    storm_id: str
    incidents: list[tuple[str, str, str]]  # (incident id, severity, one line)
    link: str | None

    @property
    def title(self) -> str:
        return f"Alert storm: {len(self.incidents)} incidents opened"
