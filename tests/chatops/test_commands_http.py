"""Chat commands through real HTTP: Slack slash commands and buttons and Teams outgoing-webhook
messages reach the running ChatOps app, which calls the running healing API (contract §7) and
answers through Slack's response_url (the sink) or the Teams reply."""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from chatops_harness import SIGNING_SECRET, TEAMS_SECRET, Healing, Sink
from healing_stand_in import seed_pending
from servers import RunningServer, wait_until

from chatops.signatures import slack_signature, teams_signature

SLACK_DEADLINE = 3.0


def slack_post(url: str, path: str, fields: dict[str, str]) -> tuple[httpx.Response, float]:
    body = urllib.parse.urlencode(fields).encode()
    ts = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack_signature(SIGNING_SECRET, ts, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    started = time.monotonic()
    response = httpx.post(url + path, content=body, headers=headers, timeout=10)
    return response, time.monotonic() - started


def slash(server: RunningServer, sink: Sink, user: str, text: str) -> tuple[httpx.Response, str]:
    """Run `/heal text` as `user`; return the ack and the response_url key."""
    key = uuid.uuid4().hex
    response, elapsed = slack_post(
        server.url,
        "/slack/commands",
        {
            "command": "/heal",
            "text": text,
            "user_id": user,
            "user_name": user.lower(),
            "channel_id": "C0INCIDENTS",
            "response_url": f"{sink.url}/slack/responses/{key}",
            "trigger_id": "1.2",
        },
    )
    assert response.status_code == 200
    assert elapsed < SLACK_DEADLINE, f"ack took {elapsed:.2f}s, Slack waits {SLACK_DEADLINE}s"
    return response, key


def later_reply(sink: Sink, key: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        rows = [r for r in sink.requests() if r["method"] == "response" and r["delivery_id"] == key]
        return rows[0] if rows else None

    row = wait_until(found, timeout=10)
    assert row["problems"] == [], row["problems"]
    body: dict[str, Any] = row["body"]
    return body


@pytest.fixture
def server(chatops_factory: Callable[..., RunningServer], healing: Healing) -> RunningServer:
    return chatops_factory(healing_url=healing.url)


def test_approve_requests_the_action_with_the_approvers_identity(
    server: RunningServer, sink: Sink, healing: Healing
) -> None:
    seed_pending(healing.app, "0.abc")
    ack, key = slash(server, sink, "UONCALL", "approve 0.abc restart is safe")
    assert "Working on" in ack.json()["text"]
    reply = later_reply(sink, key)
    assert "Approved by slack:UONCALL" in reply["text"]
    audit = healing.app.state.audit
    assert {"decision": "approve", "user": "slack:UONCALL", "incident": "0.abc"} in audit
    assert {"decision": "act", "action": "rollout_restart", "incident": "0.abc"} in audit
    assert healing.app.state.incidents["0.abc"]["pending"] is False


def test_risky_action_waits_for_a_second_different_approver(
    server: RunningServer, sink: Sink, healing: Healing
) -> None:
    seed_pending(healing.app, "0.risky", approvers_required=2)
    _, first = slash(server, sink, "UONCALL", "approve 0.risky")
    assert "second, different approver" in later_reply(sink, first)["text"]
    assert not any(r.get("decision") == "act" for r in healing.app.state.audit)
    _, again = slash(server, sink, "UONCALL", "approve 0.risky")
    assert "already approved" in later_reply(sink, again)["text"]
    _, second = slash(server, sink, "UONCALL2", "approve 0.risky")
    assert "Approved by slack:UONCALL2" in later_reply(sink, second)["text"]
    acts = [r for r in healing.app.state.audit if r.get("decision") == "act"]
    assert acts == [{"decision": "act", "action": "rollout_restart", "incident": "0.risky"}]


def test_unauthorised_user_is_refused_clearly_and_nothing_happens(
    server: RunningServer, sink: Sink, healing: Healing
) -> None:
    seed_pending(healing.app, "0.abc")
    ack, _ = slash(server, sink, "UINTERN", "approve 0.abc")
    text = ack.json()["text"]
    assert "slack:UINTERN is not allowed to run `approve`" in text
    assert "status" in text  # says what they may do instead
    assert healing.app.state.audit == []
    assert healing.app.state.incidents["0.abc"]["pending"] is True


@pytest.mark.parametrize("text", ["reboot the cluster", "approve", "mode chaos"])
def test_unknown_or_malformed_commands_get_help(
    server: RunningServer, sink: Sink, healing: Healing, text: str
) -> None:
    ack, _ = slash(server, sink, "UONCALL", text)
    answer = ack.json()["text"]
    assert "*/heal* commands:" in answer and "`approve ID [comment]`" in answer
    assert healing.app.state.audit == []


def test_read_and_steer_commands(server: RunningServer, sink: Sink, healing: Healing) -> None:
    seed_pending(healing.app, "0.abc")
    cases = [
        ("status", "Mode *recommend*, running; 1 open incidents, 1 waiting for approval"),
        ("incidents", "`0.abc` critical memory_leak on shop/cart (open)"),
        ("show 0.abc", "cart memory at 95% of its limit"),
        ("show 0.nope", "No such incident"),
        ("mode enforce", "Mode set to *enforce* by slack:UONCALL"),
        ("pause", "Paused by slack:UONCALL"),
        ("silence shop/cart 30m", "Silenced shop/cart for 1800 s"),
        ("history shop/cart", "History of shop/cart"),
        ("deny 0.abc", "Denied by slack:UONCALL"),
        ("deny 0.abc", "Nothing to do"),
    ]
    for text, expected in cases:
        _, key = slash(server, sink, "UONCALL", text)
        assert expected in later_reply(sink, key)["text"], text
    assert healing.app.state.state == {"mode": "enforce", "paused": True}


def test_approve_button_on_the_card(server: RunningServer, sink: Sink, healing: Healing) -> None:
    seed_pending(healing.app, "0.abc")
    key = uuid.uuid4().hex
    payload = {
        "type": "block_actions",
        "user": {"id": "UBOSS"},
        "channel": {"id": "C0INCIDENTS"},
        "response_url": f"{sink.url}/slack/responses/{key}",
        "actions": [{"action_id": "heal_approve", "value": "0.abc", "type": "button"}],
    }
    response, elapsed = slack_post(
        server.url, "/slack/interactions", {"payload": json.dumps(payload)}
    )
    assert response.status_code == 200 and elapsed < SLACK_DEADLINE
    reply = later_reply(sink, key)
    assert "Approved by slack:UBOSS" in reply["text"] and reply["response_type"] == "in_channel"
    assert {
        "decision": "approve",
        "user": "slack:UBOSS",
        "incident": "0.abc",
    } in healing.app.state.audit


def test_teams_outgoing_webhook_command(server: RunningServer, healing: Healing) -> None:
    seed_pending(healing.app, "0.abc")

    def say(who: str, text: str) -> str:
        activity = json.dumps(
            {
                "type": "message",
                "text": f"<at>heal</at> {text}",
                "from": {"id": "29:x", "aadObjectId": who},
            }
        ).encode()
        response = httpx.post(
            server.url + "/teams/messages",
            content=activity,
            headers={"Authorization": teams_signature(TEAMS_SECRET, activity)},
            timeout=10,
        )
        assert response.status_code == 200
        body = response.json()
        assert body["type"] == "message"
        return str(body["text"])

    assert "teams:aad-stranger is not allowed to run `approve`" in say(
        "aad-stranger", "approve 0.abc"
    )
    assert "Approved by teams:aad-oncall" in say("aad-oncall", "approve 0.abc")
    assert "*/heal* commands:" in say("aad-stranger", "dance")
    assert {
        "decision": "approve",
        "user": "teams:aad-oncall",
        "incident": "0.abc",
    } in healing.app.state.audit


def test_healing_service_down_gives_a_clear_answer(
    chatops_factory: Callable[..., RunningServer], sink: Sink
) -> None:
    server = chatops_factory(healing_url="http://127.0.0.1:9")  # nothing listens on port 9
    _, key = slash(server, sink, "UONCALL", "status")
    assert "Could not reach the self-healing service" in later_reply(sink, key)["text"]
