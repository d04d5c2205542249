"""Google-signed ID tokens the service presents to ChatOps (`HEAL_CHATOPS_AUTH=oidc`): fetched
with google-auth from the metadata server (Cloud Run) or the local credentials."""

from __future__ import annotations

import google.auth.exceptions
import google.auth.transport.requests
from google.auth import jwt
from google.oauth2 import id_token


class IdentityUnavailable(RuntimeError):
    """No ID token could be obtained; the message names the cause, never a credential."""


def fetch_identity_token(audience: str) -> tuple[str, float]:
    """An ID token for `audience` and its expiry (Unix seconds, the token's `exp`)."""
    try:
        request = google.auth.transport.requests.Request()
        token = id_token.fetch_id_token(request, audience)  # type: ignore[no-untyped-call]
        # Only to learn `exp`: we minted the token, ChatOps (and Cloud Run) verify it.
        claims = jwt.decode(token, verify=False)  # type: ignore[no-untyped-call]
    except (ValueError, google.auth.exceptions.GoogleAuthError) as error:
        raise IdentityUnavailable(f"no ID token for ChatOps ({type(error).__name__})") from None
    return str(token), float(claims["exp"])
