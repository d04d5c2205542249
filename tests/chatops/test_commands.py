"""Parsing of the /heal words and who may run them: tables of cases with one-line reasons."""

from __future__ import annotations

import pytest

from chatops.commands import Authoriser, Command, CommandError, parse, parse_duration

PARSED = [
    ("", Command("help"), "nothing typed: help"),
    ("help", Command("help"), "help"),
    ("STATUS", Command("status"), "words are case-insensitive"),
    ("<at>heal</at> incidents", Command("incidents"), "Teams mention is ignored"),
    ("/heal show 0.abc", Command("show", incident_id="0.abc"), "leading /heal is ignored"),
    (
        "approve 0.abc looks fine",
        Command("approve", incident_id="0.abc", comment="looks fine"),
        "comment",
    ),
    ("deny 0.abc", Command("deny", incident_id="0.abc"), "deny"),
    ("pause", Command("pause"), "pause"),
    ("resume", Command("resume"), "resume"),
    ("mode Enforce", Command("mode", mode="enforce"), "mode value is lower-cased"),
    (
        "silence shop/cart 1h30m",
        Command("silence", workload="shop/cart", duration_seconds=5400),
        "silence",
    ),
    ("history shop/cart", Command("history", workload="shop/cart"), "history"),
]


@pytest.mark.parametrize(("text", "expected", "why"), PARSED, ids=[p[2] for p in PARSED])
def test_parse(text: str, expected: Command, why: str) -> None:
    assert parse(text) == expected, why


REFUSED = [
    ("reboot everything", "unknown command"),
    ("show", "needs an incident ID"),
    ("approve", "needs an incident ID"),
    ("approve ../../etc", "needs an incident ID"),
    ("mode chaos", "observe, recommend, enforce"),
    ("silence cart 1h", "NAMESPACE/NAME"),
    ("silence shop/cart", "a workload and a duration"),
    ("silence shop/cart forever", "not a duration"),
    ("silence shop/cart 30d", "between 1 second and 7 days"),
    ("history", "NAMESPACE/NAME"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_parse_refuses_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        parse(text)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("2h", 7200), ("1d", 86400), ("90s", 90)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


AUTHORISER = Authoriser(
    permissions={
        "*": ["status", "incidents"],
        "group:oncall": ["*"],
        "slack:UBOSS": ["approve"],
    },
    groups={"oncall": ["slack:UONCALL"]},
)
DECISIONS = [
    ("slack:UANYONE", "status", True, "everyone may read the status"),
    ("slack:UANYONE", "help", True, "help is always allowed"),
    ("slack:UANYONE", "approve", False, "not granted to everyone"),
    ("slack:UBOSS", "approve", True, "granted to the user"),
    ("slack:UBOSS", "mode", False, "the user has approve only"),
    ("slack:UONCALL", "mode", True, "the group has every word"),
    ("teams:UONCALL", "approve", False, "identities are per platform"),
]


@pytest.mark.parametrize(("user", "word", "ok", "why"), DECISIONS, ids=[d[3] for d in DECISIONS])
def test_authorisation(user: str, word: str, ok: bool, why: str) -> None:
    refusal = AUTHORISER.refusal(user, word)
    assert (refusal is None) is ok, why
    if not ok:
        assert refusal is not None and user in refusal and f"`{word}`" in refusal
