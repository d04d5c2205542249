"""`gke-heal demo`: the whole loop on the embedded local cloud, with a report at the end."""

from __future__ import annotations

import typer
from rich.console import Console


def register(app: typer.Typer) -> None:
    """Attach the `demo` command."""

    @app.command()
    def demo() -> None:
        """Bring up the local stack on a fast clock, inject faults, heal them, write a report."""
        Console(stderr=True).print(
            "gke-heal demo will start the embedded cluster simulator, train the anomaly model on a "
            "normal period, inject faults one after another, let the self-healing service fix "
            "them and write a report to ./gke-heal-demo/. It is not wired up yet.",
        )
        raise typer.Exit(2)
