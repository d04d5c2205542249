"""The outbox in the cloud (`HEAL_CHATOPS_AUTH=oidc`) authenticates to ChatOps with Google ID
tokens from an injected identity source (faked here; google-auth is behind it in production):
the token is reused while valid, fetched anew shortly before it expires, a failing source only
delays delivery, and no token reaches the logs. ChatOps is a real HTTP receiver. The google-auth
source itself runs against a local stand-in for Google's token endpoint."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt, jwt
from heal_harness import ChatOps

from self_healing_service.app import create_app
from self_healing_service.gcp.identity import IdentityUnavailable, fetch_identity_token
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


@dataclass
class TokenEndpoint:
    """A local stand-in for Google's OAuth token endpoint: answers the service-account JWT grant
    with an ID token for the requested `target_audience` (or refuses while `refusing`)."""

    key_file: Path
    audiences: list[str] = field(default_factory=list)
    refusing: bool = False


@pytest.fixture
def token_endpoint(tmp_path: Path) -> Iterator[TokenEndpoint]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    signer = crypt.RSASigner.from_string(pem, "k1")
    state = TokenEndpoint(tmp_path / "sa.json")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            form = urllib.parse.parse_qs(
                self.rfile.read(int(self.headers["Content-Length"])).decode()
            )
            grant = jwt.decode(form["assertion"][0], verify=False)
            state.audiences.append(grant["target_audience"])
            now = int(time.time())
            claims = {"aud": grant["target_audience"], "iat": now, "exp": now + 3600}
            status, body = (400, {"error": "invalid_grant"}) if state.refusing else (
                200, {"id_token": jwt.encode(signer, claims).decode()}
            )  # fmt: skip
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.key_file.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "p",
                "private_key_id": "k1",
                "private_key": pem,
                "client_email": "heal@p.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": f"http://127.0.0.1:{server.server_address[1]}/token",
            }
        )
    )
    yield state
    server.shutdown()
    server.server_close()


def test_google_identity_fetches_a_token_for_the_chatops_audience(
    token_endpoint: TokenEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(token_endpoint.key_file))
    token, expires_at = fetch_identity_token("https://chatops.example.run.app")
    assert token_endpoint.audiences == ["https://chatops.example.run.app"]
    claims = jwt.decode(token, verify=False)
    assert claims["aud"] == "https://chatops.example.run.app"
    assert expires_at == claims["exp"] and expires_at > time.time() + 3000
    token_endpoint.refusing = True
    with pytest.raises(IdentityUnavailable, match=r"no ID token for ChatOps \(RefreshError\)"):
        fetch_identity_token("https://chatops.example.run.app")
