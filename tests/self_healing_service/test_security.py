"""Who may call what: every intake path and the API refuse wrong or missing credentials (and
then record nothing); bad bodies get a 4xx naming the problem. OIDC tokens are signed here with
a freshly generated RSA key whose certificate a local HTTP server publishes."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt
from heal_harness import Served, fast_settings
from notices import alertmanager, monitoring, pubsub

from self_healing_service.app import create_app
from self_healing_service.gcp import OidcVerifier
from self_healing_service.kube.gateway import KubernetesGateway
from self_healing_service.store.sqlite import SqliteStore

AUDIENCE = "https://heal.example.run.app"
PUSHER = "push@p.iam.gserviceaccount.com"


def _key_and_cert() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-signer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem, cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def signer() -> Iterator[tuple[crypt.RSASigner, crypt.RSASigner, str]]:
    """(trusted signer, untrusted signer, certs URL serving the trusted certificate)."""
    trusted_key, trusted_cert = _key_and_cert()
    forged_key, _ = _key_and_cert()
    certs = json.dumps({"kid1": trusted_cert.decode()}).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(certs)))
            self.end_headers()
            self.wfile.write(certs)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield (
        crypt.RSASigner.from_string(trusted_key, "kid1"),
        crypt.RSASigner.from_string(forged_key, "kid1"),
        f"http://127.0.0.1:{server.server_address[1]}/certs",
    )
    server.shutdown()


def token(signer: crypt.RSASigner, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": "https://accounts.google.com", "aud": AUDIENCE, "azp": "1", "sub": "1",
        "email": PUSHER, "email_verified": True, "iat": now, "exp": now + 600, **claims,
    }  # fmt: skip
    return jwt.encode(signer, payload).decode()


@pytest.fixture
def served(tmp_path: Path, signer: tuple[Any, Any, str]) -> Iterator[tuple[str, SqliteStore]]:
    settings = fast_settings(
        tmp_path, mode="observe", push_auth="oidc", push_audience=AUDIENCE,
        push_service_account=PUSHER, max_body_bytes=8192,
    )  # fmt: skip
    store = SqliteStore(settings.sqlite_path)
    from kubernetes import client

    nowhere = KubernetesGateway(client.ApiClient(client.Configuration(host="http://127.0.0.1:9")))
    verifier = OidcVerifier(AUDIENCE, PUSHER, signer[2])
    app = create_app(settings, nowhere, store, verifier=verifier, run_workers=False)
    with Served(app) as running:
        yield running.url, store


def _post(url: str, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(url + path, json=body, headers=headers or {}, timeout=10)


def test_oidc_push(served: tuple[str, SqliteStore], signer: tuple[Any, Any, str]) -> None:
    url, store = served
    trusted, forged, _ = signer
    body = pubsub(monitoring("0.push", "memory_leak", "shop/cart"))
    cases = [
        ({}, 401),
        ({"Authorization": "Bearer not-a-jwt"}, 401),
        ({"Authorization": f"Bearer {token(forged)}"}, 401),
        ({"Authorization": f"Bearer {token(trusted, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)}"}, 401),
        ({"Authorization": f"Bearer {token(trusted, aud='https://other.run.app')}"}, 401),
        ({"Authorization": f"Bearer {token(trusted, email='evil@p.iam.gserviceaccount.com')}"}, 403),
        ({"Authorization": f"Bearer {token(trusted, iss='https://evil.example')}"}, 401),
    ]  # fmt: skip
    for headers, status in cases:
        response = _post(url, "/alerts/pubsub", body, headers)
        assert response.status_code == status, (headers, response.text)
        assert response.json()["detail"]
    assert store.incidents() == [] and store.audit_records() == []
    ok = _post(url, "/alerts/pubsub", body, {"Authorization": f"Bearer {token(trusted)}"})
    assert ok.status_code == 200 and ok.json()["accepted"][0]["result"] == "new"


def test_webhook_alertmanager_and_api_credentials(served: tuple[str, SqliteStore]) -> None:
    url, store = served
    notice = monitoring("0.hook", "memory_leak", "shop/cart")

    def basic(user: str, pw: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}

    refused = [
        ("/alerts/monitoring", notice, {}),
        ("/alerts/monitoring?auth_token=wrong", notice, {}),
        ("/alerts/monitoring", notice, basic("monitoring", "wrong")),
        ("/alerts/monitoring", notice, basic("someone", "hook-secret")),
        ("/alerts/monitoring", notice, {"Authorization": "Basic !!!"}),
        ("/alerts/alertmanager", alertmanager("f1", "memory_leak", "shop/cart"), {}),
        ("/alerts/alertmanager", alertmanager("f1", "memory_leak", "shop/cart"), {"Authorization": "Bearer hook-secret"}),
    ]  # fmt: skip
    for path, body, headers in refused:
        assert _post(url, path, body, headers).status_code == 401, path
    assert store.incidents() == []
    for path in ("/api/v1/status", "/api/v1/incidents"):
        assert httpx.get(url + path).status_code == 401
        assert httpx.get(url + path, headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = _post(url, "/alerts/monitoring", notice, basic("monitoring", "hook-secret"))
    assert ok.status_code == 200
    assert (
        _post(url, "/alerts/monitoring?auth_token=hook-secret", notice).json()["accepted"][0][
            "result"
        ]
        == "duplicate"
    )
    status = httpx.get(url + "/api/v1/status", headers={"Authorization": "Bearer api-secret"})
    assert status.json()["open_incidents"] == 1 and status.json()["mode"] == "observe"


def test_bad_bodies_get_a_reason(served: tuple[str, SqliteStore]) -> None:
    url, store = served
    hook = "/alerts/monitoring?auth_token=hook-secret"
    raw = httpx.post(url + hook, content=b"{not json", headers={"Content-Type": "application/json"})
    assert raw.status_code == 400 and "JSON" in raw.json()["detail"]
    big = httpx.post(url + hook, content=b"[" + b"1," * 10_000 + b"1]")
    assert big.status_code == 413
    missing = _post(url, hook, {"incident": {"state": "open"}, "version": "1.2"})
    assert (
        missing.status_code == 422 and missing.json()["detail"]["field"] == "incident.incident_id"
    )
    bad_state = monitoring("0.x", "memory_leak", "shop/cart")
    bad_state["incident"]["state"] = "exploded"
    assert _post(url, hook, bad_state).json()["detail"]["field"] == "incident.state"
    no_workload = monitoring("0.y", "memory_leak", "shop/cart")
    no_workload["incident"]["metric"]["labels"].pop("workload")
    assert _post(url, hook, no_workload).json()["detail"]["field"] == "metric.labels.workload"
    bad_data = {"message": {"data": "%%%"}}
    response = _post(url, "/alerts/pubsub", bad_data, {"Authorization": "Bearer x"})
    assert response.status_code == 401  # authentication comes before parsing
    am = alertmanager("f2", "memory_leak", "shop/cart")
    am["version"] = "3"
    got = _post(url, "/alerts/alertmanager", am, {"Authorization": "Bearer am-secret"})
    assert got.status_code == 422 and got.json()["detail"]["field"] == "version"
    assert store.incidents() == []
    api = {"Authorization": "Bearer api-secret"}
    assert (
        httpx.put(url + "/api/v1/mode", json={"mode": "yolo", "user": "u"}, headers=api).status_code
        == 422
    )
    assert (
        httpx.post(
            url + "/api/v1/incidents/none/approve", json={"user": "u"}, headers=api
        ).status_code
        == 404
    )
