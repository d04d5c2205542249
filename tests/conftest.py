"""Shared test set-up. Fakes nothing: it only finds external tools and decides what a missing one means.

A test that needs a tool the machine may lack asks `require_tool(name)`. Where the tool is
absent the test is skipped with the reason, unless GKE_HEAL_REQUIRE_TOOLS=1 (set by .ci/run),
in which case the absence is a failure: CI must not pass by skipping what it could run.
"""

from __future__ import annotations

import os
import shutil
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def tools_required() -> bool:
    """True where a missing tool must fail the test instead of skipping it."""
    return os.environ.get("GKE_HEAL_REQUIRE_TOOLS") == "1"


def find_tool(name: str) -> str | None:
    """Find a tool on PATH or in this environment's scripts folder (pip-installed binaries)."""
    scripts = sysconfig.get_path("scripts")
    return shutil.which(name, path=os.pathsep.join([scripts, os.environ.get("PATH", "")]))


def missing_tool(name: str, reason: str) -> None:
    """Skip (or, where tools are required, fail) because `name` cannot be used."""
    message = f"{name} is not available: {reason}"
    if tools_required():
        pytest.fail(f"GKE_HEAL_REQUIRE_TOOLS=1 and {message}")
    pytest.skip(message)


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
