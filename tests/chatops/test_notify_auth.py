"""POST /notify authentication in the cloud: a Google OIDC token of the healing service's
service account, checked against certificates served by a local HTTP server (no network)."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from google.auth import crypt, jwt
from samples import notification
from servers import RunningServer

from chatops.gcp import IdentityError, verify_caller

AUDIENCE = "https://gke-heal-chatops-123.europe-west1.run.app"
ACCOUNT = "gke-heal-healing@project.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def certs_url(key_pair: tuple[str, str]) -> Any:
    app = FastAPI()

    @app.get("/certs")
    async def certs() -> dict[str, str]:
        return {"kid1": key_pair[1]}

    with RunningServer(app) as server:
        yield f"{server.url}/certs"


def token(key_pair: tuple[str, str], **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "email": ACCOUNT,
        "email_verified": True,
        "sub": "1234",
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    signer = crypt.RSASigner.from_string(key_pair[0], key_id="kid1")
    return jwt.encode(signer, payload).decode()


CASES = [
    ("valid", {}, None),
    ("wrong audience", {"aud": "https://elsewhere"}, "invalid identity token"),
    ("other account", {"email": "intruder@x.iam.gserviceaccount.com"}, "service account"),
    ("unverified email", {"email_verified": False}, "service account"),
    ("expired", {"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, "invalid"),
    ("not Google", {"iss": "https://evil.example"}, "not issued by Google"),
]


@pytest.mark.parametrize(("case", "claims", "error"), CASES, ids=[c[0] for c in CASES])
def test_oidc_caller(
    key_pair: tuple[str, str], certs_url: str, case: str, claims: dict[str, Any], error: str | None
) -> None:
    header = f"Bearer {token(key_pair, **claims)}"
    if error is None:
        assert verify_caller(header, AUDIENCE, ACCOUNT, certs_url)["email"] == ACCOUNT
    else:
        with pytest.raises(IdentityError, match=error):
            verify_caller(header, AUDIENCE, ACCOUNT, certs_url)


def test_oidc_missing_or_garbage_token(certs_url: str) -> None:
    for header in (None, "", "Basic abc", "Bearer not-a-jwt"):
        with pytest.raises(IdentityError):
            verify_caller(header, AUDIENCE, ACCOUNT, certs_url)


def test_notify_with_oidc_through_the_app(
    chatops_factory: Callable[..., RunningServer], key_pair: tuple[str, str], certs_url: str
) -> None:
    server = chatops_factory(
        auth="oidc",
        notify_audience=AUDIENCE,
        notify_service_account=ACCOUNT,
        notify_certs_url=certs_url,
    )
    body = notification("incident_opened", "0.oidc", 1)
    good = httpx.post(
        server.url + "/notify", json=body, headers={"Authorization": f"Bearer {token(key_pair)}"}
    )
    bad = httpx.post(
        server.url + "/notify",
        json={**body, "event_id": "other"},
        headers={"Authorization": f"Bearer {token(key_pair, email='x@y.z')}"},
    )
    assert (good.status_code, bad.status_code) == (202, 401)
