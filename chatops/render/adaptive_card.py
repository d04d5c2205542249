"""Teams Adaptive Cards (schema 1.4, the envelope a Workflows webhook accepts) for incidents,
storms and command answers, kept under the payload size limit by shrinking, never failing."""

from __future__ import annotations

import json
from typing import Any

from chatops.render import limits as lim
from chatops.render.view import IncidentView, StormView

Element = dict[str, Any]
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def envelope(body: list[Element], actions: list[Element]) -> dict[str, Any]:
    """The `message` with one Adaptive Card attachment that Workflows and Teams accept."""
    card: dict[str, Any] = {
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": lim.TEAMS_CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _text(text: str, link: str | None, **style: Any) -> Element:
    return {
        "type": "TextBlock",
        "text": lim.truncate(text, lim.TEAMS_TEXT, link),
        "wrap": True,
        **style,
    }


def size_of(payload: dict[str, Any]) -> int:
    """Bytes of the JSON body as it is sent."""
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def _incident_parts(
    view: IncidentView, chart_data_uri: str | None, detail_limit: int, reason_limit: int
) -> tuple[list[Element], list[Element]]:
    link = view.full_text_link
    body: list[Element] = [
        _text(
            view.title,
            None,
            size="Medium",
            weight="Bolder",
            color="Attention" if view.attention else "Default",
        ),
        {
            "type": "FactSet",
            "facts": [
                {"title": name, "value": lim.truncate(value, 500, None)}
                for name, value in view.facts[: lim.TEAMS_MAX_FACTS]
            ],
        },
    ]
    if view.summary:
        body.append(_text(view.summary, link))
    if view.details and detail_limit > 0:
        body.append(_text(lim.truncate(view.details, detail_limit, link), link, isSubtle=True))
    if view.done:
        body.append(_text(f"**What was done:** {view.done}", link))
    if view.changes:
        body.append(_text("**Before → after**", None))
        body.append(
            {
                "type": "FactSet",
                "facts": [
                    {"title": k, "value": lim.truncate(f"{before} → {after}", 500, None)}
                    for k, before, after in view.changes[: lim.TEAMS_MAX_FACTS]
                ],
            }
        )
    if view.reasons and reason_limit > 0:
        shown = view.reasons[:reason_limit]
        more = len(view.reasons) - len(shown)
        lines = [f"- {r}" for r in shown] + ([f"- …and {more} more"] if more > 0 else [])
        body.append(_text("\n".join(lines), link, isSubtle=True))
    if view.timeline:
        body.append(_text("\n".join(f"- {t}" for t in view.timeline), link, isSubtle=True))
    if chart_data_uri:
        body.append({"type": "Image", "url": chart_data_uri, "altText": "Signal chart"})
    if view.approval_id is not None:
        # Workflows post as the flow bot, which cannot receive Action.Submit; the team answers
        # with the outgoing-webhook command instead (chatops/README.md, "Teams").
        who = " Two different approvers are needed." if view.approvers_required > 1 else ""
        body.append(
            _text(
                f"Approve with `@heal approve {view.incident_id}` or deny with "
                f"`@heal deny {view.incident_id}`.{who}",
                None,
                weight="Bolder",
            )
        )
    actions: list[Element] = [
        {"type": "Action.OpenUrl", "title": lim.truncate(item.title, 75), "url": item.url}
        for item in view.links
        if item.url.startswith(("http://", "https://"))
    ]
    return body, actions[:6]


def incident_card(view: IncidentView, chart_data_uri: str | None = None) -> dict[str, Any]:
    """The card for an incident; drops the chart, then shortens details and reasons to fit."""
    attempts = [
        (chart_data_uri, lim.TEAMS_TEXT, 20),
        (None, lim.TEAMS_TEXT, 20),
        (None, 1000, 10),
        (None, 0, 5),
        (None, 0, 0),
    ]
    payload: dict[str, Any] = {}
    for chart, detail_limit, reason_limit in attempts:
        payload = envelope(*_incident_parts(view, chart, detail_limit, reason_limit))
        if size_of(payload) <= lim.TEAMS_MAX_PAYLOAD_BYTES:
            return payload
    return payload


def storm_card(view: StormView) -> dict[str, Any]:
    """One card listing the incidents of a storm (the newest first when it must be cut)."""
    items = list(view.incidents)
    while True:
        lines = [f"- **{i}** ({sev}) {text}" for i, sev, text in items]
        hidden = len(view.incidents) - len(items)
        if hidden:
            lines.append(f"- …and {hidden} more")
        body = [
            _text(view.title, None, size="Medium", weight="Bolder", color="Attention"),
            _text("\n".join(lines), view.link),
        ]
        actions = (
            [{"type": "Action.OpenUrl", "title": "Open incidents", "url": view.link}]
            if view.link
            else []
        )
        payload = envelope(body, actions)
        if size_of(payload) <= lim.TEAMS_MAX_PAYLOAD_BYTES or len(items) <= 1:
            return payload
        items = items[: len(items) // 2]


def reply_card(text: str) -> dict[str, Any]:
    """An answer to a command, as an outgoing-webhook reply (a message with text)."""
    return {"type": "message", "text": lim.truncate(text, lim.TEAMS_TEXT)}
