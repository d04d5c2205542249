"""Every produced Block Kit message and Adaptive Card passes the structural validator, even for
oversized input (truncated with a link, never failing); the validator rejects broken payloads."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from samples import all_kinds, notification

from chatops.notification import Notification
from chatops.render import adaptive_card, slack_blocks
from chatops.render import limits as lim
from chatops.render.chart import data_uri, signal_png
from chatops.render.validation import slack_message_problems, teams_message_problems
from chatops.render.view import StormView, incident_view

HUGE = "x" * 50_000


def oversized(kind: str) -> dict[str, Any]:
    return notification(
        kind,
        issue="memory_leak_" + "y" * 180,
        summary="s" * 10_000,
        details="d" * 100_000,
        reasons=[f"reason {i}: " + "r" * 400 for i in range(300)],
        before={f"key{i}": "v" * 300 for i in range(60)},
        after={f"key{i}": "w" * 300 for i in range(60)},
        links={f"link_{i}": f"https://example.com/{i}" for i in range(40)},
        workload={"namespace": "n" * 60, "kind": "Deployment", "name": "w" * 200},
    )


def produced() -> list[tuple[str, str, dict[str, Any]]]:
    """(name, format, payload) for every message the renderers can make from the samples."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    for kind in all_kinds():
        for label, body in (("normal", notification(kind)), ("oversized", oversized(kind))):
            n = Notification.model_validate(body)
            view = incident_view(n, [f"03:0{i}:00 event" for i in range(15)], "https://c.example")
            chart = data_uri(signal_png(n.signal)) if n.signal else None
            out.append((f"{kind}/{label}", "slack", slack_blocks.incident_message(view)))
            out.append((f"{kind}/{label}/reply", "slack", slack_blocks.timeline_reply(view)))
            out.append((f"{kind}/{label}", "teams", adaptive_card.incident_card(view, chart)))
    storm = StormView(
        "s",
        [(f"0.{i}", "", "Incident opened: " + "z" * 200) for i in range(400)],
        "https://d.example",
    )
    out.append(("storm", "slack", slack_blocks.storm_message(storm)))
    out.append(("storm", "teams", adaptive_card.storm_card(storm)))
    out.append(("reply", "slack", slack_blocks.reply_message(HUGE)))
    out.append(("reply", "teams", adaptive_card.reply_card(HUGE)))
    return out


@pytest.mark.parametrize(
    ("name", "fmt", "payload"), produced(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_produced_payload_is_valid(name: str, fmt: str, payload: dict[str, Any]) -> None:
    problems = (
        slack_message_problems(payload) if fmt == "slack" else teams_message_problems(payload)
    )
    assert problems == [], f"{name} ({fmt}): {problems}"


def test_oversized_text_is_cut_with_a_link_to_the_full_incident() -> None:
    n = Notification.model_validate(oversized("escalated"))
    view = incident_view(n, public_url="https://chatops.example")
    message = slack_blocks.incident_message(view)
    text = json.dumps(message)
    assert "(full text: https://chatops.example/incidents/0.abc)" in text
    card = adaptive_card.incident_card(view, data_uri(signal_png(n.signal)) if n.signal else None)
    assert adaptive_card.size_of(card) <= lim.TEAMS_MAX_PAYLOAD_BYTES
    assert "full text: https://chatops.example/incidents/0.abc" in json.dumps(card)


def test_chart_is_kept_on_cards_that_have_room() -> None:
    n = Notification.model_validate(notification("incident_opened"))
    card = adaptive_card.incident_card(incident_view(n), data_uri(signal_png(n.signal)))  # type: ignore[arg-type]
    images = [e for e in card["attachments"][0]["content"]["body"] if e["type"] == "Image"]
    assert len(images) == 1 and images[0]["url"].startswith("data:image/png;base64,iVBOR")


def test_user_text_cannot_forge_slack_links_or_mentions() -> None:
    n = Notification.model_validate(notification(summary="<!channel> see <https://evil|here>"))
    text = json.dumps(slack_blocks.incident_message(incident_view(n)))
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


def _valid_slack() -> dict[str, Any]:
    view = incident_view(Notification.model_validate(notification("approval_requested")))
    return slack_blocks.incident_message(view)


def _valid_card() -> dict[str, Any]:
    view = incident_view(Notification.model_validate(notification("approval_requested")))
    return adaptive_card.incident_card(view)


def _break_slack(change: str) -> dict[str, Any]:
    m = copy.deepcopy(_valid_slack())
    if change == "51 blocks":
        m["blocks"] = [{"type": "divider"}] * 51
    elif change == "header over 150":
        m["blocks"][0]["text"]["text"] = "h" * 151
    elif change == "header in mrkdwn":
        m["blocks"][0]["text"]["type"] = "mrkdwn"
    elif change == "section over 3000":
        m["blocks"][2]["text"]["text"] = "s" * 3001
    elif change == "11 fields":
        m["blocks"][1]["fields"] = [{"type": "mrkdwn", "text": "f"}] * 11
    elif change == "button text over 75":
        m["blocks"][-1]["elements"][0]["text"]["text"] = "b" * 76
    elif change == "duplicate action_id":
        m["blocks"][-1]["elements"][1]["action_id"] = "heal_approve"
    elif change == "unknown block":
        m["blocks"].append({"type": "carousel"})
    elif change == "empty text":
        m["blocks"][2]["text"]["text"] = ""
    elif change == "nothing to show":
        m = {}
    return m


@pytest.mark.parametrize(
    "change",
    [
        "51 blocks",
        "header over 150",
        "header in mrkdwn",
        "section over 3000",
        "11 fields",
        "button text over 75",
        "duplicate action_id",
        "unknown block",
        "empty text",
        "nothing to show",
    ],
)
def test_slack_validator_rejects(change: str) -> None:
    assert slack_message_problems(_valid_slack()) == []
    assert slack_message_problems(_break_slack(change)) != []


def _break_card(change: str) -> dict[str, Any]:
    m = copy.deepcopy(_valid_card())
    card = m["attachments"][0]["content"]
    if change == "version 1.5":
        card["version"] = "1.5"
    elif change == "legacy MessageCard":
        m["attachments"][0]["contentType"] = "application/vnd.microsoft.teams.card.o365connector"
    elif change == "over 28 KB":
        card["body"].append({"type": "TextBlock", "text": "x" * 30_000})
    elif change == "unknown element":
        card["body"].append({"type": "Table"})
    elif change == "fact without value":
        card["body"][1]["facts"][0].pop("value")
    elif change == "open url without url":
        card["actions"][0].pop("url")
    elif change == "not a message":
        m["type"] = "card"
    return m


@pytest.mark.parametrize(
    "change",
    [
        "version 1.5",
        "legacy MessageCard",
        "over 28 KB",
        "unknown element",
        "fact without value",
        "open url without url",
        "not a message",
    ],
)
def test_teams_validator_rejects(change: str) -> None:
    assert teams_message_problems(_valid_card()) == []
    assert teams_message_problems(_break_card(change)) != []
