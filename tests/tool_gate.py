"""Deciding what a missing external tool means: skip with the reason, or fail in CI.

Where GKE_HEAL_REQUIRE_TOOLS=1 (set by .ci/run) a missing tool fails the test: CI must not pass
by skipping what it could run. Importable from any test folder as `tool_gate`.
"""

from __future__ import annotations

import os
import shutil
import sysconfig

import pytest


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
