"""Shared test set-up. Fakes nothing: it only finds external tools and decides what a missing one means.

A test that needs a tool the machine may lack asks `require_tool(name)`. Where the tool is
absent the test is skipped with the reason, unless GKE_HEAL_REQUIRE_TOOLS=1 (set by .ci/run),
in which case the absence is a failure: CI must not pass by skipping what it could run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tool_gate import find_tool, missing_tool

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture
def require_tool() -> Callable[[str], str]:
    """Return a function that gives the path of a tool, or skips/fails with the reason."""

    def need(name: str) -> str:
        path = find_tool(name)
        if path is None:
            missing_tool(name, "not found on PATH")
        assert path is not None
        return path

    return need


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The `shared/` folder beside the checkout (data sets, notes)."""
    if not SHARED.is_dir():
        missing_tool("shared/", f"{SHARED} is not beside the checkout")
    return SHARED
