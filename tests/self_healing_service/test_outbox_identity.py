"""The outbox in the cloud (`HEAL_CHATOPS_AUTH=oidc`) authenticates to ChatOps with Google ID
tokens from an injected identity source (faked here; google-auth is behind it in production):
the token is reused while valid, fetched anew shortly before it expires, a failing source only
delays delivery, and no token reaches the logs. ChatOps is a real HTTP receiver."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from heal_harness import ChatOps

from self_healing_service.app import create_app
from self_healing_service.outbox import Outbox
from self_healing_service.settings import Settings
from self_healing_service.store.sqlite import SqliteStore

T0 = 1_767_225_600.0


class StepClock:
    def __init__(self, now: float = T0) -> None:
        self.t = now

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


class FakeIdentity:
    """Mints distinct tokens valid for `lifetime` seconds; can be told to fail."""

    def __init__(self, clock: StepClock, lifetime: float = 3600.0) -> None:
        self.clock, self.lifetime = clock, lifetime
        self.minted: list[str] = []
        self.failing = False

    def __call__(self) -> tuple[str, float]:
        if self.failing:
            raise RuntimeError("metadata server unreachable")
        token = f"id-token-{len(self.minted) + 1}-secretpart"
        self.minted.append(token)
        return token, self.clock.now() + self.lifetime


def enqueue(store: SqliteStore, n: int, now: float) -> None:
    store.enqueue(f"0.{n}", {"incident_id": f"0.{n}", "kind": "closed"}, now)


def test_oidc_outbox_sends_the_id_token_and_refreshes_it_before_expiry(
    tmp_path: Path, chatops: ChatOps
) -> None:
    store, clock = SqliteStore(tmp_path / "s.db"), StepClock()
    identity = FakeIdentity(clock)
    outbox = Outbox(store, clock, chatops.url, "static-token", identity=identity)
    for n in range(3):
        enqueue(store, n, clock.now())
    assert outbox.deliver_due() == 3
    assert identity.minted == ["id-token-1-secretpart"]  # one fetch serves every delivery
    assert chatops.authorizations == ["Bearer id-token-1-secretpart"] * 3  # never the static one

    clock.sleep(3000.0)  # still well inside the token's hour
    enqueue(store, 3, clock.now())
    assert outbox.deliver_due() == 1
    assert chatops.authorizations[-1] == "Bearer id-token-1-secretpart"

    clock.sleep(500.0)  # within the refresh margin of the expiry: a new token is fetched
    enqueue(store, 4, clock.now())
    assert outbox.deliver_due() == 1
    assert identity.minted == ["id-token-1-secretpart", "id-token-2-secretpart"]
    assert chatops.authorizations[-1] == "Bearer id-token-2-secretpart"
    outbox.close()


def test_a_failing_identity_source_delays_delivery_and_logs_no_secret(
    tmp_path: Path, chatops: ChatOps, caplog: pytest.LogCaptureFixture
) -> None:
    store, clock = SqliteStore(tmp_path / "s.db"), StepClock()
    identity = FakeIdentity(clock)
    outbox = Outbox(store, clock, chatops.url, identity=identity, backoff=1.0)
    identity.failing = True
    enqueue(store, 0, clock.now())
    with caplog.at_level(logging.DEBUG):
        assert outbox.deliver_due() == 0
        assert chatops.received == [] and store.outbox_counts() == {"pending": 1}
        assert "no identity token (RuntimeError)" in caplog.text
        identity.failing = False
        clock.sleep(5.0)
        assert outbox.deliver_due() == 1
    assert chatops.authorizations == ["Bearer id-token-1-secretpart"]
    assert "secretpart" not in caplog.text
    outbox.close()


def test_create_app_wires_the_identity_source_when_chatops_auth_is_oidc(
    tmp_path: Path, chatops: ChatOps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEAL_CHATOPS_AUTH", "oidc")
    monkeypatch.setenv("HEAL_CHATOPS_URL", chatops.url)
    settings = Settings()
    assert settings.chatops_auth == "oidc"
    store, clock = SqliteStore(tmp_path / "s.db"), StepClock()
    identity = FakeIdentity(clock)
    app = create_app(
        settings,
        None,
        store,
        clock,
        chatops_identity=identity,
        run_workers=False,  # type: ignore[arg-type]
    )
    enqueue(store, 0, clock.now())
    assert app.state.outbox.deliver_due() == 1
    assert chatops.authorizations == ["Bearer id-token-1-secretpart"]
    app.state.outbox.close()
