"""Golden files: every notification kind rendered as Slack Block Kit and as a Teams Adaptive
Card. Regenerate after an intended change with `CHATOPS_UPDATE_GOLDEN=1 pytest tests/chatops`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from samples import all_kinds, notification

from chatops.notification import Notification
from chatops.render import adaptive_card, slack_blocks
from chatops.render.view import StormView, incident_view

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CHATOPS_UPDATE_GOLDEN") == "1"
TIMELINE = ["03:00:00 Incident opened", "03:01:00 Action planned"]


def _check(name: str, payload: Any) -> None:
    path = GOLDEN / name
    text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if UPDATE or not path.exists():
        if not UPDATE and os.environ.get("CI"):
            pytest.fail(f"golden file {path.name} is missing")
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from the golden file"


@pytest.mark.parametrize("kind", all_kinds())
def test_slack_message_matches_golden(kind: str) -> None:
    view = incident_view(Notification.model_validate(notification(kind)), TIMELINE)
    _check(f"{kind}.slack.json", slack_blocks.incident_message(view))


@pytest.mark.parametrize("kind", all_kinds())
def test_slack_thread_reply_matches_golden(kind: str) -> None:
    view = incident_view(Notification.model_validate(notification(kind)), TIMELINE)
    _check(f"{kind}.slack-reply.json", slack_blocks.timeline_reply(view))


@pytest.mark.parametrize("kind", all_kinds())
def test_teams_card_matches_golden(kind: str) -> None:
    view = incident_view(Notification.model_validate(notification(kind)), TIMELINE)
    _check(f"{kind}.teams.json", adaptive_card.incident_card(view))


def test_storm_messages_match_golden() -> None:
    view = StormView(
        "storm-0.a",
        [(f"0.{i}", "", f"Incident opened: memory leak on shop/cart-{i}") for i in range(7)],
        "http://127.0.0.1:8080/",
    )
    _check("storm.slack.json", slack_blocks.storm_message(view))
    _check("storm.teams.json", adaptive_card.storm_card(view))


def test_golden_files_show_what_a_person_needs() -> None:
    """Goldens are only worth having if they say the right things; check the key facts."""
    card = json.loads((GOLDEN / "approval_requested.teams.json").read_text())
    text = json.dumps(card)
    for fact in ("memory leak on shop/cart", "critical", "rollout_restart", "@heal approve 0.abc"):
        assert fact in text
    slack = json.loads((GOLDEN / "approval_requested.slack.json").read_text())
    actions = next(b for b in slack["blocks"] if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions[:2]] == ["heal_approve", "heal_deny"]
    assert actions[0]["value"] == "0.abc"
    taken = (GOLDEN / "action_taken.slack.json").read_text()
    assert "2/3 → 3/3" in taken and "rollout_restart(deployment=cart): done" in taken
