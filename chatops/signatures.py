"""Verification of inbound chat requests: Slack's v0 signature (HMAC-SHA256 over timestamp and
raw body, 5-minute replay window) and the Teams outgoing-webhook HMAC."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

SLACK_REPLAY_WINDOW_SECONDS = 300


class SignatureError(Exception):
    """The request is not proven to come from the chat platform; the message says why."""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Slack-Signature` value Slack would send for this timestamp and body."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Raise SignatureError unless the request carries a fresh, valid Slack v0 signature."""
    timestamp = _header(headers, "X-Slack-Request-Timestamp")
    signature = _header(headers, "X-Slack-Signature")
    if not timestamp or not signature:
        raise SignatureError("missing X-Slack-Request-Timestamp or X-Slack-Signature header")
    try:
        sent = int(timestamp)
    except ValueError:
        raise SignatureError("X-Slack-Request-Timestamp is not a number") from None
    if abs(now - sent) > SLACK_REPLAY_WINDOW_SECONDS:
        raise SignatureError("stale X-Slack-Request-Timestamp (more than 5 minutes off)")
    expected = slack_signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SignatureError("X-Slack-Signature does not match the body")


def teams_signature(secret_b64: str, body: bytes) -> str:
    """The `Authorization` value Teams sends: HMAC-SHA256 keyed with the base64-decoded token."""
    key = base64.b64decode(secret_b64)
    digest = hmac.new(key, body, hashlib.sha256).digest()
    return "HMAC " + base64.b64encode(digest).decode("ascii")


def verify_teams(secret_b64: str, headers: Mapping[str, str], body: bytes) -> None:
    """Raise SignatureError unless `Authorization: HMAC <base64>` matches the raw body.

    Teams signs no timestamp, so there is no replay window; activities carry an id and a
    timestamp that the caller may also check.
    """
    given = _header(headers, "Authorization")
    if not given:
        raise SignatureError("missing Authorization header")
    scheme, _, value = given.partition(" ")
    if scheme != "HMAC" or not value:
        raise SignatureError("Authorization is not 'HMAC <base64>'")
    try:
        expected = teams_signature(secret_b64, body)
    except (binascii.Error, ValueError):
        raise SignatureError("the configured Teams security token is not base64") from None
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureError("Authorization HMAC does not match the body")
