"""Inbound request verification: only a valid signature is accepted, both as a function and
through the running app (Slack slash commands and Teams outgoing webhooks)."""

from __future__ import annotations

import base64
import time
import urllib.parse
from collections.abc import Callable

import httpx
import pytest
from chatops_harness import SIGNING_SECRET, TEAMS_SECRET
from servers import RunningServer

from chatops.signatures import (
    SignatureError,
    slack_signature,
    teams_signature,
    verify_slack,
    verify_teams,
)

NOW = 1_780_000_000.0
BODY = urllib.parse.urlencode({"user_id": "U1", "text": "help", "response_url": ""}).encode()


def slack_headers(secret: str, body: bytes, timestamp: float) -> dict[str, str]:
    ts = str(int(timestamp))
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slack_signature(secret, ts, body)}


# (case, headers, body) -> only "valid" is accepted.
SLACK_CASES = [
    ("valid", slack_headers(SIGNING_SECRET, BODY, NOW), BODY, True),
    ("tampered body", slack_headers(SIGNING_SECRET, BODY, NOW), BODY + b"&x=1", False),
    ("wrong secret", slack_headers("another-secret", BODY, NOW), BODY, False),
    ("stale timestamp", slack_headers(SIGNING_SECRET, BODY, NOW - 301), BODY, False),
    ("future timestamp", slack_headers(SIGNING_SECRET, BODY, NOW + 301), BODY, False),
    ("missing signature", {"X-Slack-Request-Timestamp": str(int(NOW))}, BODY, False),
    ("missing timestamp", {"X-Slack-Signature": "v0=00"}, BODY, False),
    ("no headers", {}, BODY, False),
]


@pytest.mark.parametrize(
    ("case", "headers", "body", "ok"), SLACK_CASES, ids=[c[0] for c in SLACK_CASES]
)
def test_slack_signature(case: str, headers: dict[str, str], body: bytes, ok: bool) -> None:
    if ok:
        verify_slack(SIGNING_SECRET, headers, body, NOW)
    else:
        with pytest.raises(SignatureError):
            verify_slack(SIGNING_SECRET, headers, body, NOW)


def test_slack_signature_matches_slack_sdk_verifier() -> None:
    from slack_sdk.signature import SignatureVerifier

    headers = slack_headers(SIGNING_SECRET, BODY, NOW)
    verifier = SignatureVerifier(SIGNING_SECRET, clock=type("C", (), {"now": lambda self: NOW})())
    assert verifier.is_valid_request(BODY, headers)


ACTIVITY = b'{"type":"message","text":"<at>heal</at> status","from":{"aadObjectId":"aad-1"}}'
TEAMS_CASES = [
    ("valid", {"Authorization": teams_signature(TEAMS_SECRET, ACTIVITY)}, ACTIVITY, True),
    (
        "tampered body",
        {"Authorization": teams_signature(TEAMS_SECRET, ACTIVITY)},
        ACTIVITY + b" ",
        False,
    ),
    (
        "wrong secret",
        {"Authorization": teams_signature(base64.b64encode(b"other").decode(), ACTIVITY)},
        ACTIVITY,
        False,
    ),
    (
        "hex instead of base64",
        {"Authorization": "HMAC " + teams_signature(TEAMS_SECRET, ACTIVITY)[5:].encode().hex()},
        ACTIVITY,
        False,
    ),
    (
        "wrong scheme",
        {"Authorization": "Bearer " + teams_signature(TEAMS_SECRET, ACTIVITY)[5:]},
        ACTIVITY,
        False,
    ),
    ("missing header", {}, ACTIVITY, False),
]


@pytest.mark.parametrize(
    ("case", "headers", "body", "ok"), TEAMS_CASES, ids=[c[0] for c in TEAMS_CASES]
)
def test_teams_signature(case: str, headers: dict[str, str], body: bytes, ok: bool) -> None:
    if ok:
        verify_teams(TEAMS_SECRET, headers, body)
    else:
        with pytest.raises(SignatureError):
            verify_teams(TEAMS_SECRET, headers, body)


def test_teams_hmac_uses_the_decoded_key() -> None:
    import hashlib
    import hmac

    key = base64.b64decode(TEAMS_SECRET)
    expected = base64.b64encode(hmac.new(key, ACTIVITY, hashlib.sha256).digest()).decode()
    assert teams_signature(TEAMS_SECRET, ACTIVITY) == f"HMAC {expected}"


def test_only_signed_requests_reach_the_app(chatops_factory: Callable[..., RunningServer]) -> None:
    server = chatops_factory()
    now = time.time()
    with httpx.Client(base_url=server.url, timeout=5) as http:
        results = {}
        for case, headers_at_now in {
            "valid": slack_headers(SIGNING_SECRET, BODY, now),
            "wrong secret": slack_headers("nope", BODY, now),
            "stale": slack_headers(SIGNING_SECRET, BODY, now - 600),
            "missing": {},
        }.items():
            response = http.post(
                "/slack/commands",
                content=BODY,
                headers={**headers_at_now, "Content-Type": "application/x-www-form-urlencoded"},
            )
            results[case] = response.status_code
        tampered = http.post(
            "/slack/commands",
            content=BODY + b"&a=b",
            headers=slack_headers(SIGNING_SECRET, BODY, now),
        )
        results["tampered"] = tampered.status_code
        teams_ok = http.post(
            "/teams/messages",
            content=ACTIVITY,
            headers={"Authorization": teams_signature(TEAMS_SECRET, ACTIVITY)},
        )
        teams_bad = http.post(
            "/teams/messages",
            content=ACTIVITY + b" ",
            headers={"Authorization": teams_signature(TEAMS_SECRET, ACTIVITY)},
        )
        teams_missing = http.post("/teams/messages", content=ACTIVITY)
    assert results == {
        "valid": 200,
        "wrong secret": 401,
        "stale": 401,
        "missing": 401,
        "tampered": 401,
    }
    assert (teams_ok.status_code, teams_bad.status_code, teams_missing.status_code) == (
        200,
        401,
        401,
    )
    assert "signature" in teams_bad.json()["detail"]
