"""Equality-based label selectors: what they match, and clear refusals of what they cannot be."""

from __future__ import annotations

import pytest

from self_healing_service.selector import SelectorError, matches, parse_selector

LABELS = {"app": "cart", "tier": "web", "heal.gke.io/enabled": "true"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("app=cart", True),
        ("app==cart", True),
        ("app=search", False),
        ("app!=search", True),
        ("tier!=web", False),
        ("heal.gke.io/enabled=true,tier=web", True),
        ("heal.gke.io/enabled=true, tier=batch", False),
        ("canary", False),
        ("!canary", True),
        ("app", True),
        ("!app", False),
        ("team!=payments", True),  # a label that is absent is not equal to anything
    ],
)
def test_matches(selector: str, expected: bool) -> None:
    assert matches(parse_selector(selector), LABELS) is expected


@pytest.mark.parametrize(
    ("selector", "reason"),
    [
        ("tier in (web,api)", "set-based requirements (in, notin) are not supported"),
        ("app=cart,,tier=web", "empty requirement"),
        ("app=has space", "is not a valid label value"),
        ("-bad=x", "is not a valid label key"),
    ],
)
def test_refusals_name_the_part(selector: str, reason: str) -> None:
    with pytest.raises(SelectorError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_selector(selector)
