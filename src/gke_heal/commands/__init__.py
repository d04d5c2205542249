"""Sub-command groups of `gke-heal`, one module each, registered in one place."""

from __future__ import annotations

import typer

from gke_heal.commands import config_cmd, demo


def register_all(app: typer.Typer) -> None:
    """Attach every sub-command group to the root application."""
    app.add_typer(config_cmd.app, name="config")
    demo.register(app)
