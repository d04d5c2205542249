"""The only package importing google.*: Pub/Sub push OIDC verification (`oidc`), the ID tokens
sent to ChatOps (`identity`) and the Firestore store (`firestore`), so Google's libraries can be
faked at this one boundary."""

from self_healing_service.gcp.identity import IdentityUnavailable, fetch_identity_token
from self_healing_service.gcp.oidc import OidcRejected, OidcVerifier

__all__ = ["IdentityUnavailable", "OidcRejected", "OidcVerifier", "fetch_identity_token"]
