"""ChatOps test helpers shared by the test modules (a uniquely named module: `from conftest
import` is ambiguous when several test folders run together)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import SecretStr

from chatops.settings import ChatOpsSettings
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
