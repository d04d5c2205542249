"""Secrets (tokens, signing secrets, webhook URLs) never appear in logs, error answers, stored
errors or chat messages, even when deliveries and commands fail."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from chatops_harness import (
    BOT_TOKEN,
    HEALING_TOKEN,
    NOTIFY_TOKEN,
    SIGNING_SECRET,
    TEAMS_SECRET,
    Sink,
    make_settings,
)
from pydantic import SecretStr
from samples import notification
from servers import RunningServer, wait_until

from chatops.signatures import slack_signature
from chatops.sink.faults import Fault

WEBHOOK_SECRET_PART = "T000/B000/hook-s3cret-part"


def test_secrets_stay_out_of_logs_errors_and_messages(
    chatops_factory: Callable[..., RunningServer],
    sink: Sink,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    sink.faults.add(
        Fault(path_prefix="/api/chat.postMessage", status=429, retry_after=0.2),
        Fault(path_prefix="/teams/", status=500),
        Fault(path_prefix="/teams/", status=403),
    )
    server = chatops_factory(slack_charts=False, delivery_attempts=3)
    webhook_only = chatops_factory(
        slack_bot_token=None,
        slack_webhook_url=SecretStr(f"{sink.url}/slack/webhook/{WEBHOOK_SECRET_PART}"),
        teams_webhook_url=None,
        db_path=tmp_path / "webhook.sqlite3",
    )
    sink.faults.add(Fault(path_prefix="/slack/webhook/", status=500))
    answers = []
    for target in (server, webhook_only):
        body = notification("incident_opened", "0.sec", 1)
        answers.append(httpx.post(target.url + "/notify", json=body, timeout=5))
        answers.append(
            httpx.post(target.url + "/notify", json=body, headers={"Authorization": "Bearer guess"})
        )
        ok = httpx.post(
            target.url + "/notify", json=body, headers={"Authorization": f"Bearer {NOTIFY_TOKEN}"}
        )
        assert ok.status_code == 202
    # A command while the healing API is unreachable (its token is in a header, not the error).
    form = urllib.parse.urlencode(
        {"user_id": "UONCALL", "text": "status", "response_url": f"{sink.url}/slack/responses/k"}
    ).encode()
    ts = str(int(time.time()))
    answers.append(
        httpx.post(
            server.url + "/slack/commands",
            content=form,
            headers={
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": slack_signature(SIGNING_SECRET, ts, form),
            },
        )
    )
    answers.append(httpx.post(server.url + "/slack/commands", content=form))
    for target in (server, webhook_only):
        wait_until(lambda t=target: httpx.get(t.url + "/healthz").json()["outbox"]["pending"] == 0)
    wait_until(lambda: any(r["method"] == "response" for r in sink.requests()))

    errors = []
    for target in (server, webhook_only):
        store = target.app.state.store  # type: ignore[attr-defined]
        errors += [r["last_error"] for r in store.execute("SELECT last_error FROM outbox")]
    assert any(errors), "some deliveries failed, so there are errors to inspect"
    settings = make_settings(tmp_path, sink)
    seen = "\n".join(
        [
            caplog.text,
            *errors,
            *(a.text for a in answers),
            # What reached the chat platform (the sink's own fault log names its URL paths).
            json.dumps([r["body"] for r in sink.requests() if r["platform"] != "fault"]),
            repr(settings),
            str(settings),
        ]
    )
    for secret in (
        BOT_TOKEN,
        HEALING_TOKEN,
        NOTIFY_TOKEN,
        SIGNING_SECRET,
        TEAMS_SECRET,
        "wf-secret-sig",
        WEBHOOK_SECRET_PART,
    ):
        assert secret not in seen, f"a secret leaked: {secret[:6]}…"
    assert "Could not reach the self-healing service" in seen  # the failure was reported
