"""The `gke-heal` command's top level."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from gke_heal import __version__
from gke_heal.cli import app

runner = CliRunner()


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("version", "config", "demo"):
        assert command in result.output


def test_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_console_script_is_installed() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gke_heal.cli", "version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert __version__ in result.stdout
