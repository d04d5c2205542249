"""Calls to the healing API behind Cloud Run IAM (`CHATOPS_HEALING_IAM=true`): every call carries
the app's bearer token in `Authorization` and a Google ID token in `X-Serverless-Authorization`
(the identity source is faked at our own boundary, `chatops.gcp.fetch_identity_token`); the ID
token is reused until shortly before it expires; no token reaches logs or answers. The healing
API is the real-HTTP stand-in, fronted by a check that plays Cloud Run's IAM; the google-auth
source itself runs against a local stand-in for Google's token endpoint."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from chatops_harness import HEALING_TOKEN, TEAMS_SECRET
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Request
from fastapi.responses import JSONResponse
from google.auth import crypt, jwt
from healing_stand_in import create_stand_in
from pydantic import SecretStr
from servers import RunningServer

from chatops import gcp
from chatops.healing_client import HealingClient, HealingError
from chatops.settings import ChatOpsSettings
from chatops.signatures import teams_signature

T0 = 1_767_225_600.0


class FakeIdentity:
    """Mints distinct ID tokens valid for an hour on a manual clock; can be told to fail."""

    def __init__(self) -> None:
        self.now = T0
        self.minted: list[str] = []
        self.failing = False

    def clock(self) -> float:
        return self.now

    def __call__(self) -> tuple[str, float]:
        if self.failing:
            raise RuntimeError("metadata server unreachable")
        token = f"id-token-{len(self.minted) + 1}-s3cret"
        self.minted.append(token)
        return token, self.now + 3600.0


class IamHealing:
    """The healing API stand-in behind an IAM check: records both headers of every request."""

    def __init__(self) -> None:
        self.app = create_stand_in(HEALING_TOKEN)
        self.seen: list[tuple[str, str]] = []
        self.url = ""

        @self.app.middleware("http")
        async def iam(request: Request, call_next: Any) -> Any:
            serverless = request.headers.get("X-Serverless-Authorization", "")
            self.seen.append((request.headers.get("Authorization", ""), serverless))
            if not serverless.startswith("Bearer id-token-"):
                return JSONResponse({"detail": "forbidden by IAM"}, 403)
            return await call_next(request)


@pytest.fixture
def iam_healing() -> Iterator[IamHealing]:
    healing = IamHealing()
    with RunningServer(healing.app) as server:
        healing.url = server.url
        yield healing


def run(call: Callable[[], Any]) -> Any:
    return asyncio.run(call())


def test_both_headers_are_sent_and_the_id_token_is_refreshed_before_expiry(
    iam_healing: IamHealing,
) -> None:
    identity = FakeIdentity()

    async def calls() -> list[dict[str, Any]]:
        client = HealingClient(
            iam_healing.url, SecretStr(HEALING_TOKEN), identity=identity, clock=identity.clock
        )
        results = [await client.status(), await client.status()]
        identity.now += 3000.0  # still inside the hour: the same token
        results.append(await client.status())
        identity.now += 500.0  # within the refresh margin: a new token
        results.append(await client.status())
        await client.aclose()
        return results

    results = run(calls)
    assert all(r["mode"] == "recommend" for r in results)
    app_bearer = f"Bearer {HEALING_TOKEN}"
    assert iam_healing.seen == [
        (app_bearer, "Bearer id-token-1-s3cret"),
        (app_bearer, "Bearer id-token-1-s3cret"),
        (app_bearer, "Bearer id-token-1-s3cret"),
        (app_bearer, "Bearer id-token-2-s3cret"),
    ]
    assert identity.minted == ["id-token-1-s3cret", "id-token-2-s3cret"]


def test_without_iam_no_id_token_is_sent_and_iam_refuses(iam_healing: IamHealing) -> None:
    async def call() -> HealingError:
        client = HealingClient(iam_healing.url, SecretStr(HEALING_TOKEN))
        try:
            await client.status()
        except HealingError as exc:
            return exc
        finally:
            await client.aclose()
        raise AssertionError("IAM should have refused the call")

    error = run(call)
    assert error.status == 403 and "forbidden by IAM" in error.message
    assert iam_healing.seen == [(f"Bearer {HEALING_TOKEN}", "")]


def test_a_failing_identity_source_gives_a_clear_error_and_leaks_nothing(
    iam_healing: IamHealing, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    identity = FakeIdentity()
    identity.failing = True

    async def call() -> HealingError:
        client = HealingClient(
            iam_healing.url, SecretStr(HEALING_TOKEN), identity=identity, clock=identity.clock
        )
        try:
            await client.status()
        except HealingError as exc:
            return exc
        finally:
            await client.aclose()
        raise AssertionError("the call should have failed")

    error = run(call)
    assert error.status == 0
    assert "no identity token for the self-healing service (RuntimeError)" in error.message
    assert iam_healing.seen == []  # nothing went out without the IAM token
    assert HEALING_TOKEN not in error.message and HEALING_TOKEN not in caplog.text


def test_the_app_uses_google_identity_when_healing_iam_is_on(
    chatops_factory: Callable[..., RunningServer],
    iam_healing: IamHealing,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    audiences: list[str] = []

    def fake_fetch(audience: str) -> tuple[str, float]:
        audiences.append(audience)
        return "id-token-from-google-s3cret", 4_102_444_800.0

    monkeypatch.setattr(gcp, "fetch_identity_token", fake_fetch)
    server = chatops_factory(healing_url=iam_healing.url + "/", healing_iam=True)
    activity = json.dumps(
        {
            "type": "message",
            "text": "<at>heal</at> status",
            "from": {"id": "29:x", "aadObjectId": "aad-oncall"},
        }
    ).encode()
    response = httpx.post(
        server.url + "/teams/messages",
        content=activity,
        headers={"Authorization": teams_signature(TEAMS_SECRET, activity)},
        timeout=10,
    )
    assert response.status_code == 200 and "recommend" in response.json()["text"]
    assert audiences == [iam_healing.url]  # audience = the service URL, no trailing slash
    assert iam_healing.seen == [(f"Bearer {HEALING_TOKEN}", "Bearer id-token-from-google-s3cret")]
    assert "s3cret" not in caplog.text


def test_the_iam_flag_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ChatOpsSettings().healing_iam is False
    monkeypatch.setenv("CHATOPS_HEALING_IAM", "true")
    assert ChatOpsSettings().healing_iam is True


@pytest.fixture
def service_account_file(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    """A service-account key whose token_uri is a local stand-in for Google's token endpoint;
    it answers the JWT grant with an ID token for the asked `target_audience` (recorded)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    signer = crypt.RSASigner.from_string(pem, "k1")
    audiences: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            audience = jwt.decode(form["assertion"][0], verify=False)["target_audience"]
            audiences.append(audience)
            now = int(time.time())
            claims = {"aud": audience, "iat": now, "exp": now + 3600}
            data = json.dumps({"id_token": jwt.encode(signer, claims).decode()}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    path = tmp_path / "sa.json"
    info = {
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "chatops@p.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": f"http://127.0.0.1:{server.server_address[1]}/token",
    }
    path.write_text(json.dumps(info))
    yield path, audiences
    server.shutdown()
    server.server_close()


def test_google_identity_fetches_a_token_for_the_healing_audience(
    service_account_file: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, audiences = service_account_file
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    token, expires_at = gcp.fetch_identity_token("https://healing.example.run.app")
    assert audiences == ["https://healing.example.run.app"]
    claims = jwt.decode(token, verify=False)
    assert claims["aud"] == "https://healing.example.run.app"
    assert expires_at == claims["exp"] and expires_at > time.time() + 3000
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path.with_name("missing.json")))
    with pytest.raises(gcp.IdentityError, match="no identity token"):
        gcp.fetch_identity_token("https://healing.example.run.app")
