"""Verification of Pub/Sub push OIDC tokens (signature, expiry, audience, issuer and
service-account email) with google-auth."""

from __future__ import annotations

from typing import Any

import google.auth.exceptions
import google.auth.transport.requests
from google.oauth2 import id_token

ISSUERS = ("accounts.google.com", "https://accounts.google.com")


class OidcRejected(Exception):
    """The token is not acceptable; `status` is 401 (bad token) or 403 (wrong identity)."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.status = status


class OidcVerifier:
    """`certs_url` is injectable so tests can serve their own signing certificates."""

    def __init__(self, audience: str, service_account: str, certs_url: str) -> None:
        self.audience = audience
        self.service_account = service_account
        self.certs_url = certs_url
        self.request = google.auth.transport.requests.Request()

    def verify(self, token: str) -> dict[str, Any]:
        try:
            claims = dict(
                id_token.verify_token(
                    token, self.request, audience=self.audience, certs_url=self.certs_url
                )
            )
        except (ValueError, google.auth.exceptions.GoogleAuthError) as error:
            raise OidcRejected(f"invalid token: {str(error)[:200]}") from None
        if claims.get("iss") not in ISSUERS:
            raise OidcRejected("unexpected issuer")
        if self.service_account and (
            claims.get("email") != self.service_account or not claims.get("email_verified")
        ):
            raise OidcRejected("unexpected push identity", 403)
        return claims
