"""The local chat sink behaves like the platforms for the calls ChatOps makes: the official
slack_sdk clients work against it, invalid payloads are refused as Slack/Workflows would, and
the page shows what a team would see."""

from __future__ import annotations

import httpx
import pytest
from chatops_harness import BOT_TOKEN, Sink
from samples import notification
from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from chatops.notification import Notification
from chatops.render import adaptive_card, slack_blocks
from chatops.render.chart import signal_png
from chatops.render.view import incident_view


def message() -> dict[str, object]:
    view = incident_view(Notification.model_validate(notification("approval_requested")))
    return slack_blocks.incident_message(view)


def test_slack_web_api_post_update_reply_and_upload(sink: Sink) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=f"{sink.url}/api/")
    root = client.chat_postMessage(channel="C1", **message())  # type: ignore[arg-type]
    ts = root["ts"]
    client.chat_update(channel="C1", ts=ts, text="updated", blocks=[])
    client.chat_postMessage(channel="C1", thread_ts=ts, text="a reply")
    n = Notification.model_validate(notification("incident_opened"))
    assert n.signal is not None
    client.files_upload_v2(
        content=signal_png(n.signal), filename="s.png", channel="C1", thread_ts=ts
    )
    messages = sink.messages()
    assert [m["thread_ts"] for m in messages] == [None, ts, ts]
    assert messages[0]["revisions"] == 2 and messages[0]["body"]["text"] == "updated"
    assert messages[2]["body"]["files"][0]["title"] == "s.png"

    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(
            channel="C1",
            text="x",
            blocks=[{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        )
    assert refused.value.response["error"] == "invalid_blocks"
    with pytest.raises(SlackApiError) as unknown:
        client.chat_update(channel="C1", ts="1.999999", text="x")
    assert unknown.value.response["error"] == "message_not_found"
    stranger = WebClient(token="xoxb-other", base_url=f"{sink.url}/api/")
    with pytest.raises(SlackApiError) as auth:
        stranger.chat_postMessage(channel="C1", text="x")
    assert auth.value.response["error"] == "invalid_auth"


def test_slack_webhook_and_teams_workflow_validate(sink: Sink) -> None:
    webhook = WebhookClient(f"{sink.url}/slack/webhook/T/B/X")
    assert webhook.send_dict(message()).body == "ok"
    bad = webhook.send_dict({"blocks": [{"type": "carousel"}]})
    assert (bad.status_code, bad.body) == (400, "invalid_blocks")

    view = incident_view(Notification.model_validate(notification("escalated")))
    accepted = httpx.post(f"{sink.url}/teams/workflows/wf", json=adaptive_card.incident_card(view))
    assert accepted.status_code == 202
    legacy = {"@type": "MessageCard", "text": "old connector format"}
    refused = httpx.post(f"{sink.url}/teams/workflows/wf", json=legacy)
    assert refused.status_code == 400 and refused.json()["problems"]
    assert len(sink.messages()) == 2


def test_page_shows_threads_and_escapes_content(sink: Sink) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=f"{sink.url}/api/")
    ts = client.chat_postMessage(channel="C1", **message())["ts"]  # type: ignore[arg-type]
    client.chat_postMessage(channel="C1", thread_ts=ts, text="<script>alert(1)</script>")
    view = incident_view(Notification.model_validate(notification("verified")))
    httpx.post(f"{sink.url}/teams/workflows/wf", json=adaptive_card.incident_card(view))
    page = httpx.get(sink.url + "/").text
    assert "Approval needed: memory leak on shop/cart" in page
    assert "Recovered: memory leak on shop/cart" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert page.index("Approval needed") < page.index("&lt;script&gt;"), "reply under its root"
    assert "3 messages" in page
