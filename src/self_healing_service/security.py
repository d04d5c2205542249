"""Authentication of every caller: Monitoring webhook (token or Basic), Pub/Sub push (OIDC,
shared token, or none for the emulator), Alertmanager (bearer) and the API (bearer)."""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Protocol

from fastapi import HTTPException, Request
from pydantic import SecretStr

from self_healing_service.settings import Settings


class TokenVerifier(Protocol):
    def verify(self, token: str) -> dict[str, object]: ...


def _same(given: str, secret: SecretStr | None) -> bool:
    if secret is None:
        return False
    return hmac.compare_digest(given.encode(), secret.get_secret_value().encode())


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    return token.strip()


def require_bearer(request: Request, secret: SecretStr | None, what: str) -> None:
    if secret is None:
        raise HTTPException(403, f"{what} is not configured")
    if not _same(_bearer(request), secret):
        raise HTTPException(401, "wrong token", {"WWW-Authenticate": "Bearer"})


def require_webhook(request: Request, settings: Settings) -> None:
    """Cloud Monitoring sends `?auth_token=` (token auth) or HTTP Basic (basic auth)."""
    secret = settings.webhook_token
    if secret is None:
        raise HTTPException(403, "webhook authentication is not configured")
    token = request.query_params.get("auth_token")
    if token is not None:
        if _same(token, secret):
            return
        raise HTTPException(401, "wrong auth_token")
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise HTTPException(401, "malformed Basic credentials") from None
        if hmac.compare_digest(user.encode(), settings.webhook_user.encode()) and _same(
            password, secret
        ):
            return
        raise HTTPException(401, "wrong credentials", {"WWW-Authenticate": "Basic"})
    raise HTTPException(401, "missing credentials", {"WWW-Authenticate": "Basic"})


def require_push(request: Request, settings: Settings, verifier: TokenVerifier | None) -> None:
    if settings.push_auth == "none":
        return
    token = _bearer(request)
    if settings.push_auth == "token":
        if not _same(token, settings.push_token):
            raise HTTPException(401, "wrong token")
        return
    if verifier is None:
        raise HTTPException(403, "OIDC verification is not configured")
    try:
        verifier.verify(token)
    except Exception as error:
        status = int(getattr(error, "status", 401))
        raise HTTPException(status, str(error)) from None
