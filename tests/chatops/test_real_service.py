"""ChatOps against the real self-healing service (src/self_healing_service) over HTTP: its
outbox posts notifications to our `/notify`, and `/heal` commands reach its API (contract §7).
Its workers are off (no cluster is needed): the incident and its pending approval are seeded
through its own store, as its engine would."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chatops_harness import NOTIFY_TOKEN, Sink
from servers import RunningServer, wait_until
from test_commands_http import later_reply, slash

heal_app = pytest.importorskip("self_healing_service.app")
from self_healing_service.incidents import Incident  # noqa: E402
from self_healing_service.settings import Settings  # noqa: E402
from self_healing_service.store.sqlite import SqliteStore  # noqa: E402

API_TOKEN = "real-service-api-token"


@dataclass
class RealService:
    url: str
    app: Any
    store: SqliteStore

    def open_with_pending_approval(self, incident_id: str) -> None:
        now = time.time()
        incident = Incident(
            id=incident_id,
            state="open",
            issue="memory_leak",
            severity="critical",
            namespace="shop",
            kind="Deployment",
            name="cart",
            source="test",
            started_at=now,
            observed=0.97,
            threshold=0.9,
        )
        assert self.app.state.healer.intake(incident) == "new"
        self.store.request_approval(incident_id, 0, "rollout_restart", now, 3600)


@pytest.fixture
def real(
    tmp_path: Path, chatops_factory: Callable[..., RunningServer]
) -> Iterator[tuple[RealService, RunningServer]]:
    # ChatOps first (the service's outbox needs its URL), pointed at the service's port later.
    store = SqliteStore(tmp_path / "heal.sqlite3")
    holder: dict[str, str] = {}
    settings = Settings(
        _env_file=None,
        mode="recommend",
        sqlite_path=tmp_path / "heal.sqlite3",
        api_token=API_TOKEN,
        webhook_token="webhook-token-x",
        push_auth="token",
        push_token="push-token-xyz",
        chatops_token=NOTIFY_TOKEN,
        chatops_url="http://placeholder",
        approval_actions=["rollout_undo", "drain"],
    )
    app = heal_app.create_app(settings, None, store, run_workers=False)
    with RunningServer(app) as server:
        holder["url"] = server.url
        chatops = chatops_factory(healing_url=server.url, healing_token=API_TOKEN)
        app.state.outbox.url = chatops.url + "/notify"
        yield RealService(server.url, app, store), chatops


def test_notifications_from_the_real_service_reach_chat(
    real: tuple[RealService, RunningServer], sink: Sink
) -> None:
    service, _ = real
    service.open_with_pending_approval("0.real")
    assert service.app.state.outbox.deliver_due() >= 1
    messages = wait_until(lambda: [m for m in sink.messages() if m["platform"] == "teams"])
    card_text = str(messages[0]["body"])
    assert "Incident opened: memory leak on shop/cart" in card_text
    assert all(r["problems"] == [] for r in sink.requests() if r["platform"] != "fault")


def test_approve_through_chat_reaches_the_real_service(
    real: tuple[RealService, RunningServer], sink: Sink
) -> None:
    service, chatops = real
    service.open_with_pending_approval("0.real")
    ack, _ = slash(chatops, sink, "UINTERN", "approve 0.real")
    assert "not allowed to run `approve`" in ack.json()["text"]
    # the refusal comes in the ack itself, and nothing reached the service
    assert service.store.pending_approvals(time.time())
    _, key = slash(chatops, sink, "UONCALL", "approve 0.real")
    assert "Approved by slack:UONCALL" in later_reply(sink, key)["text"]
    assert service.store.pending_approvals(time.time()) == []
    approvals = [
        r for r in service.store.audit_records(incident_id="0.real") if r["kind"] == "approval"
    ]
    assert approvals and approvals[-1]["data"]["user"] == "slack:UONCALL"
    for text, expected in [
        ("status", "Mode *recommend*, running; 1 open incidents, 0 waiting for approval"),
        ("status", "Always asks before: rollout_undo, drain."),
        ("incidents", "`0.real` critical memory_leak on shop/cart (open)"),
        ("approve 0.real", "Nothing to do"),
        ("show 0.missing", "No such incident"),
        ("mode enforce", "Mode set to *enforce*"),
    ]:
        _, key = slash(chatops, sink, "UONCALL", text)
        assert expected in later_reply(sink, key)["text"], text
    ack, _ = slash(chatops, sink, "UONCALL", "frobnicate")
    assert "*/heal* commands:" in ack.json()["text"]
