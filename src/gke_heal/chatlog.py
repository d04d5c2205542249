"""Reading the local chat sink's messages back as the team saw them (Slack and Teams)."""

from __future__ import annotations

from typing import Any


def message_text(message: dict[str, Any]) -> str:
    """The headline of a stored Slack message or Teams Adaptive Card, one line."""
    body = message.get("body") or {}
    if isinstance(body, dict):
        if body.get("text"):
            return str(body["text"]).splitlines()[0][:300]
        for attachment in body.get("attachments") or []:
            content = attachment.get("content") if isinstance(attachment, dict) else None
            for element in (content or {}).get("body") or []:
                if isinstance(element, dict) and element.get("text"):
                    return str(element["text"]).splitlines()[0][:300]
    return str(message.get("kind") or "message")


def platform_of(message: dict[str, Any]) -> str:
    """`slack` or `teams`, with the channel."""
    return f"{message.get('platform', '?')} {message.get('channel', '')}".strip()
