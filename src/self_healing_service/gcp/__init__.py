"""The only package importing google.*: Pub/Sub push OIDC verification (`oidc`) and the
Firestore store (`firestore`), so Google's libraries can be faked at this one boundary."""

from self_healing_service.gcp.oidc import OidcRejected, OidcVerifier

__all__ = ["OidcRejected", "OidcVerifier"]
