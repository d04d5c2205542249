"""ChatOps test set-up.

Real: uvicorn HTTP servers on 127.0.0.1 (random ports) for the ChatOps app, the local chat
sink (chatops.sink, SQLite) and the healing API; slack_sdk and httpx talking real HTTP to them;
SQLite files in tmp_path. Faked: only the self-healing service, by `healing_stand_in.py`, a
test-only server implementing contract §7 (swap in the real service through the `healing`
fixture once it can be started by tests). Flakiness comes from the sink's fault plan.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))

from healing_stand_in import create_stand_in
from servers import RunningServer

from chatops.app import create_app
from chatops.settings import ChatOpsSettings
from chatops.sink.app import create_sink_app
from chatops.sink.faults import FaultPlan

HEALING_TOKEN = "healing-token-s3cret-value"
NOTIFY_TOKEN = "notify-token-s3cret-value"
BOT_TOKEN = "xoxb-bot-token-s3cret-value"
SIGNING_SECRET = "slack-signing-s3cret-value"
TEAMS_SECRET = "dGVhbXMtaG1hYy1zM2NyZXQtdmFsdWU="  # base64 of "teams-hmac-s3cret-value"


@dataclass
class Sink:
    url: str
    app: FastAPI

    @property
    def faults(self) -> FaultPlan:
        plan: FaultPlan = self.app.state.faults
        return plan

    def requests(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.app.state.records.requests()
        return rows

    def messages(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.app.state.records.messages()
        return rows


@dataclass
class Healing:
    url: str
    token: str
    app: FastAPI


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Sink]:
    app = create_sink_app(tmp_path / "sink.sqlite3", bot_token=BOT_TOKEN)
    with RunningServer(app) as server:
        yield Sink(server.url, app)


@pytest.fixture
def healing() -> Iterator[Healing]:
    """The self-healing API. Today the test-only stand-in; the real service goes here later."""
    app = create_stand_in(HEALING_TOKEN)
    with RunningServer(app) as server:
        yield Healing(server.url, HEALING_TOKEN, app)


def make_settings(
    tmp_path: Path, sink: Sink, healing_url: str = "http://127.0.0.1:9", **extra: Any
) -> ChatOpsSettings:
    values: dict[str, Any] = {
        "healing_url": healing_url,
        "healing_token": SecretStr(HEALING_TOKEN),
        "auth": "token",
        "notify_token": SecretStr(NOTIFY_TOKEN),
        "slack_bot_token": SecretStr(BOT_TOKEN),
        "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_channel": "C0INCIDENTS",
        "slack_api_url": f"{sink.url}/api/",
        "teams_webhook_url": SecretStr(f"{sink.url}/teams/workflows/wf-secret-sig"),
        "teams_hmac_secret": SecretStr(TEAMS_SECRET),
        "db_path": tmp_path / "chatops.sqlite3",
        "delivery_backoff_seconds": 0.05,
        "delivery_backoff_max_seconds": 2.0,
        "delivery_timeout_seconds": 1.0,
        "sequence_gap_wait_seconds": 2.0,
        "permissions": {
            "*": ["help", "status", "incidents", "show", "history"],
            "group:oncall": ["*"],
            "slack:UBOSS": ["approve", "deny"],
        },
        "groups": {"oncall": ["slack:UONCALL", "slack:UONCALL2", "teams:aad-oncall"]},
        "slack_charts": True,
    }
    values.update(extra)
    return ChatOpsSettings(**values)


@pytest.fixture
def chatops_factory(tmp_path: Path, sink: Sink) -> Iterator[Callable[..., RunningServer]]:
    """Start a ChatOps app (real uvicorn) with settings pointing at the sink; stopped at the end."""
    started: list[RunningServer] = []

    def start(healing_url: str = "http://127.0.0.1:9", **extra: Any) -> RunningServer:
        settings = make_settings(tmp_path, sink, healing_url, **extra)
        server = RunningServer(create_app(settings)).__enter__()
        server.app = server.server.config.app  # type: ignore[attr-defined]
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__()
