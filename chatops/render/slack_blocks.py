"""Slack Block Kit messages for incidents, storms and command answers, kept within Slack's
limits by truncation with a link to the full text."""

from __future__ import annotations

from typing import Any

from chatops.render import limits as lim
from chatops.render.view import IncidentView, StormView

Block = dict[str, Any]

APPROVE_ACTION = "heal_approve"
DENY_ACTION = "heal_deny"


def escape(text: str) -> str:
    """Slack mrkdwn control characters (&, <, >) escaped, so input cannot forge links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str, limit: int, link: str | None) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": lim.truncate(text, limit, link)}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": lim.truncate(text, limit), "emoji": True}


def _section(text: str, link: str | None) -> Block:
    return {"type": "section", "text": _mrkdwn(text, lim.SLACK_SECTION_TEXT, link)}


def _cap_blocks(blocks: list[Block], link: str | None) -> list[Block]:
    """At most SLACK_MAX_BLOCKS blocks; the last one says where the rest is."""
    if len(blocks) <= lim.SLACK_MAX_BLOCKS:
        return blocks
    note = "More in the full incident" + (f": <{link}|open>" if link else ".")
    kept = blocks[: lim.SLACK_MAX_BLOCKS - 1]
    kept.append({"type": "context", "elements": [_mrkdwn(note, lim.SLACK_CONTEXT_TEXT, None)]})
    return kept


def incident_blocks(view: IncidentView) -> list[Block]:
    """The blocks of one incident message (the thread's root, updated in place)."""
    link = view.full_text_link
    blocks: list[Block] = [
        {"type": "header", "text": _plain(f"{view.emoji} {view.title}", lim.SLACK_HEADER_TEXT)}
    ]
    fields = [
        _mrkdwn(f"*{name}:*\n{escape(value)}", lim.SLACK_FIELD_TEXT, link)
        for name, value in view.facts[: lim.SLACK_SECTION_FIELDS]
    ]
    blocks.append({"type": "section", "fields": fields})
    if view.summary:
        blocks.append(_section(escape(view.summary), link))
    if view.details:
        # Details are markdown already; only the control characters are escaped.
        blocks.append(_section(escape(view.details), link))
    if view.done:
        blocks.append(_section(f"*What was done:* {escape(view.done)}", link))
    if view.changes:
        rows = "\n".join(
            f"{escape(k)}: {escape(before)} → {escape(after)}" for k, before, after in view.changes
        )
        blocks.append(_section(f"*Before → after*\n```{rows}```", link))
    if view.reasons:
        shown = view.reasons[: lim.SLACK_CONTEXT_ELEMENTS]
        notes = [_mrkdwn(f"• {escape(r)}", lim.SLACK_CONTEXT_TEXT, link) for r in shown]
        hidden = len(view.reasons) - len(shown)
        if hidden > 0:
            notes[-1] = _mrkdwn(f"…and {hidden + 1} more reasons", lim.SLACK_CONTEXT_TEXT, None)
        blocks.append({"type": "context", "elements": notes})
    if view.timeline:
        lines = "\n".join(escape(line) for line in view.timeline)
        blocks.append(
            {"type": "context", "elements": [_mrkdwn(lines, lim.SLACK_CONTEXT_TEXT, link)]}
        )
    elements: list[Block] = []
    if view.approval_id is not None:
        value = view.incident_id[: lim.SLACK_BUTTON_VALUE]
        second = " (2 approvers)" if view.approvers_required > 1 else ""
        elements += [
            {
                "type": "button",
                "action_id": APPROVE_ACTION,
                "style": "primary",
                "text": _plain(f"Approve{second}", lim.SLACK_BUTTON_TEXT),
                "value": value,
            },
            {
                "type": "button",
                "action_id": DENY_ACTION,
                "style": "danger",
                "text": _plain("Deny", lim.SLACK_BUTTON_TEXT),
                "value": value,
            },
        ]
    for index, item in enumerate(view.links):
        if len(item.url) > lim.SLACK_URL or not item.url.startswith(("http://", "https://")):
            continue
        elements.append(
            {
                "type": "button",
                "action_id": f"link_{index}",
                "text": _plain(item.title, lim.SLACK_BUTTON_TEXT),
                "url": item.url,
            }
        )
    if elements:
        block_id = f"incident_{view.incident_id}"[: lim.SLACK_ID]
        blocks.append(
            {
                "type": "actions",
                "block_id": block_id,
                "elements": elements[: lim.SLACK_ACTIONS_ELEMENTS],
            }
        )
    return _cap_blocks(blocks, link)


def incident_message(view: IncidentView) -> dict[str, Any]:
    """`text` (notification fallback) and `blocks` of an incident message."""
    return {
        "text": lim.truncate(escape(view.fallback), lim.SLACK_FALLBACK_TEXT, view.full_text_link),
        "blocks": incident_blocks(view),
    }


def timeline_reply(view: IncidentView) -> dict[str, Any]:
    """The short reply posted in the incident's thread for an event worth a notification."""
    line = f"{view.emoji} *{escape(view.title)}*"
    if view.done:
        line += f"\n{escape(view.done)}"
    elif view.summary:
        line += f"\n{escape(view.summary)}"
    return {
        "text": lim.truncate(escape(view.fallback), lim.SLACK_FALLBACK_TEXT, view.full_text_link),
        "blocks": [_section(line, view.full_text_link)],
    }


def storm_message(view: StormView) -> dict[str, Any]:
    """One message listing every incident of a storm (updated in place as the storm grows)."""
    header = {"type": "header", "text": _plain(f":thunder_cloud_and_rain: {view.title}", 150)}
    lines = [f"• `{escape(i)}` ({escape(sev)}) {escape(text)}" for i, sev, text in view.incidents]
    blocks: list[Block] = [header]
    chunk: list[str] = []
    size = 0
    for line in lines:
        if chunk and size + len(line) + 1 > lim.SLACK_SECTION_TEXT:
            blocks.append(_section("\n".join(chunk), view.link))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        blocks.append(_section("\n".join(chunk), view.link))
    blocks.append(
        {
            "type": "context",
            "elements": [
                _mrkdwn(
                    "Grouped to keep the channel readable; approvals and escalations still "
                    "get their own message.",
                    lim.SLACK_CONTEXT_TEXT,
                    None,
                )
            ],
        }
    )
    return {"text": view.title, "blocks": _cap_blocks(blocks, view.link)}


def reply_message(text: str, ephemeral: bool = True) -> dict[str, Any]:
    """An answer to a slash command or button (via response_url)."""
    return {
        "response_type": "ephemeral" if ephemeral else "in_channel",
        "text": lim.truncate(text, lim.SLACK_FALLBACK_TEXT),
        "blocks": [_section(text, None)],
    }
