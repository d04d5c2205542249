"""Evaluation sub-commands (filled in by the model work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach this module's commands to `gke-heal evaluate`."""
