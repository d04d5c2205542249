"""`gke-heal evaluate ...`: score detectors on labelled data sets (NAB, multivariate, logs)."""

from __future__ import annotations

import typer

from gke_heal.commands import evaluate_nab, evaluate_other

app = typer.Typer(help="Evaluate detectors on labelled data.", no_args_is_help=True)
evaluate_nab.register(app)
evaluate_other.register(app)
