"""Sub-command groups of `gke-heal`, one module each, registered in one place."""

from __future__ import annotations

import typer

from gke_heal.commands import chaos, cluster, config_cmd, demo, evaluate, train, up


def register_all(app: typer.Typer) -> None:
    """Attach every sub-command group to the root application."""
    app.add_typer(config_cmd.app, name="config")
    app.add_typer(cluster.app, name="cluster", help="Run the local GKE cluster simulator.")
    app.add_typer(chaos.app, name="chaos", help="Inject faults into a cluster.")
    app.add_typer(evaluate.app, name="evaluate", help="Evaluate detectors on labelled data.")
    app.add_typer(train.app, name="train", help="Train and register the anomaly model.")
    demo.register(app)
    up.register(app)
