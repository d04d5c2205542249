"""Runs an authorised chat command against the healing API and words the answer a person reads.
The user's chat identity (`slack:U123`, `teams:<id>`) travels with every change for the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chatops.commands import HELP, Authoriser, CommandError, parse
from chatops.healing_client import HealingClient, HealingError


def _incident_line(item: dict[str, Any]) -> str:
    workload = item.get("workload")
    if isinstance(workload, dict):
        workload = f"{workload.get('namespace', '?')}/{workload.get('name', '?')}"
    parts = [
        f"`{item.get('id', item.get('incident_id', '?'))}`",
        str(item.get("severity", "")),
        str(item.get("issue", "")),
        f"on {workload}" if workload else "",
        f"({item.get('state', item.get('status', ''))})",
    ]
    return " ".join(p for p in parts if p and p != "()")


def _status_text(status: dict[str, Any]) -> str:
    always = [str(a) for a in status.get("approval_actions") or []]
    return (
        f"Mode *{status.get('mode')}*, {'paused' if status.get('paused') else 'running'}; "
        f"{status.get('open_incidents', 0)} open incidents, "
        f"{status.get('pending_approvals', 0)} waiting for approval; "
        f"circuit breaker {status.get('circuit_breaker', 'unknown')}."
        + (f" Always asks before: {', '.join(always)}." if always else "")
    )


async def answer(text: str, user: str, client: HealingClient, authoriser: Authoriser) -> str:
    """The reply to `text` typed by `user`: help, a refusal, the result, or why it failed."""
    try:
        command = parse(text)
    except CommandError as exc:
        return f"{exc}.\n\n{HELP}"
    refusal = authoriser.refusal(user, command.word)
    if refusal is not None:
        return refusal
    try:
        return await _run(command.word, command, user, client)
    except HealingError as exc:
        if exc.status == 404:
            return f"No such incident or workload: {exc.message}"
        if exc.status == 409:
            return f"Nothing to do: {exc.message}"
        if exc.status == 0:
            return f"Could not reach the self-healing service: {exc.message}. Try again shortly."
        return f"The self-healing service refused ({exc.status}): {exc.message}"


async def _run(word: str, command: Any, user: str, client: HealingClient) -> str:
    if word == "help":
        return HELP
    if word == "status":
        return _status_text(await client.status())
    if word == "incidents":
        items = await client.incidents("open")
        if not items:
            return "No open incidents."
        return "Open incidents:\n" + "\n".join(_incident_line(i) for i in items[:30])
    if word == "show":
        item = await client.incident(command.incident_id)
        lines = [_incident_line(item)]
        if item.get("summary"):
            lines.append(str(item["summary"]))
        return "\n".join(lines)
    if word == "approve":
        result = await client.approve(command.incident_id, user, command.comment)
        if result.get("status") == "waiting_second_approver":
            return (
                f"Approved by {user}. Incident `{command.incident_id}` needs a second, "
                "different approver before the action runs."
            )
        return f"Approved by {user}: the action for `{command.incident_id}` is requested."
    if word == "deny":
        await client.deny(command.incident_id, user, command.comment)
        return f"Denied by {user}: nothing will be done for `{command.incident_id}`."
    if word == "pause":
        await client.pause(user)
        return f"Paused by {user}: no automatic actions until `resume`."
    if word == "resume":
        await client.resume(user)
        return f"Resumed by {user}."
    if word == "mode":
        await client.set_mode(command.mode, user)
        return f"Mode set to *{command.mode}* by {user}."
    if word == "silence":
        await client.silence(command.workload, command.duration_seconds, user)
        return f"Silenced {command.workload} for {command.duration_seconds} s ({user})."
    records = await client.history(command.workload)
    if not records:
        return f"No history for {command.workload}."
    return f"History of {command.workload}:\n" + "\n".join(_record_line(r) for r in records[-20:])


def _record_line(record: dict[str, Any]) -> str:
    """One audit record: when, what, and the detail that explains it."""
    at = record.get("at", record.get("time", ""))
    if isinstance(at, int | float):
        at = datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    what = record.get("kind", record.get("decision", record.get("action", "")))
    data = record.get("data") if isinstance(record.get("data"), dict) else record
    detail = [
        f"{key}={data[key]}"
        for key in ("action", "status", "reason", "outcome", "user", "mode")
        if isinstance(data, dict) and data.get(key) not in (None, "")
    ]
    return " ".join(str(p) for p in (at, what, ", ".join(detail)) if p)
