"""Google identity in the cloud (the only chatops module importing google.*): checks the OIDC
token the healing service's service account sends to POST /notify, and fetches our own ID token
for calls to the healing service behind Cloud Run IAM."""

from __future__ import annotations

from typing import Any

from google.auth import exceptions as google_exceptions
from google.auth import jwt
from google.auth.transport import requests as google_requests
from google.oauth2 import id_token

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"


class IdentityError(Exception):
    """The caller did not prove it is the expected service account; the message says why."""


def verify_caller(
    authorization: str | None,
    audience: str,
    service_account: str,
    certs_url: str = GOOGLE_CERTS_URL,
) -> dict[str, Any]:
    """Claims of a valid Google ID token for `audience` issued to `service_account`."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise IdentityError("missing bearer token")
    try:
        claims = id_token.verify_token(
            token, google_requests.Request(), audience=audience or None, certs_url=certs_url
        )
    except (ValueError, google_exceptions.GoogleAuthError) as exc:
        raise IdentityError(f"invalid identity token ({type(exc).__name__})") from None
    if claims.get("iss") not in ("https://accounts.google.com", "accounts.google.com"):
        raise IdentityError("identity token not issued by Google")
    if service_account and (
        claims.get("email") != service_account or not claims.get("email_verified")
    ):
        raise IdentityError("identity token is not the healing service's service account")
    return dict(claims)


def fetch_identity_token(audience: str) -> tuple[str, float]:
    """An ID token of our service account for `audience` and its expiry (Unix seconds)."""
    try:
        token = id_token.fetch_id_token(  # type: ignore[no-untyped-call]
            google_requests.Request(), audience
        )
        # Only to learn `exp`: Google minted the token and Cloud Run verifies it.
        claims = jwt.decode(token, verify=False)  # type: ignore[no-untyped-call]
    except (ValueError, google_exceptions.GoogleAuthError) as exc:
        raise IdentityError(f"no identity token ({type(exc).__name__})") from None
    return str(token), float(claims["exp"])
