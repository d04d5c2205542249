"""`gke-heal evaluate multivariate` and `gke-heal evaluate logs`: detectors on labelled data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table


def _metrics_row(name: str, m: Any) -> list[str]:
    delay = "-" if m.mean_delay != m.mean_delay else f"{m.mean_delay:.1f}"
    return [
        name,
        f"{m.point_f1:.3f}",
        f"{m.event_recall:.3f}",
        f"{m.event_precision:.3f}",
        f"{m.event_f1:.3f}",
        delay,
        f"{m.point_adjusted_f1:.3f}",
    ]


def _metrics_table(title: str) -> Table:
    table = Table(title=title)
    for column in (
        "entity",
        "point F1",
        "event recall",
        "event precision",
        "event F1",
        "mean delay (steps)",
        "point-adjusted F1 (inflated)",
    ):
        table.add_column(column, justify="left" if column == "entity" else "right")
    return table


def multivariate(
    data: Path = typer.Option(
        ..., "--data", help="Folder of .npz entities (train, test, test_label)."
    ),
    detector: str = typer.Option(
        "lagged_reconstruction", "--detector", help="Multivariate detector."
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Write the report as JSON here."),
) -> None:
    """Fit on train, threshold from train scores, report per entity and macro-averaged."""
    from anomaly_detection_model.evaluation.multivariate import DataError, evaluate_folder, report

    console = Console()
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console) as bar:
            task = bar.add_task("loading", total=None)
            results, macro = evaluate_folder(
                data,
                detector,
                progress=lambda name: bar.update(task, description=f"{detector}: {name}"),
            )
    except DataError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    table = _metrics_table(f"{detector} on {data} (threshold: 99.5 % quantile of train scores)")
    for r in results:
        table.add_row(*_metrics_row(r.entity, r.metrics))
    table.add_row(*_metrics_row("macro average", macro), style="bold")
    console.print(table)
    if json_out is not None:
        json_out.write_text(json.dumps(report(results, macro, detector), indent=2))


def logs(
    data: Path = typer.Option(..., "--data", help="CSV with a label column and a content column."),
    label_column: str = typer.Option("Label", "--label-column", help="BGL style: '-' is normal."),
    content_column: str = typer.Option("Content", "--content-column"),
    json_out: Path | None = typer.Option(None, "--json", help="Write the report as JSON here."),
) -> None:
    """Event-level precision/recall/F1 of the log detector beside the new-template baseline."""
    from anomaly_detection_model.evaluation.logs import (
        LOG_DETECTORS,
        LogDataError,
        evaluate_logs,
        read_labelled,
    )

    console = Console()
    try:
        lines = read_labelled(data, label_column, content_column)
        results = {name: evaluate_logs(lines, name) for name in LOG_DETECTORS}
    except LogDataError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    table = Table(title=f"log detectors on {data} ({len(lines.contents)} lines)")
    for column in (
        "detector",
        "event precision",
        "event recall",
        "event F1",
        "incidents",
        "alarms",
    ):
        table.add_column(column, justify="left" if column == "detector" else "right")
    for name, m in results.items():
        table.add_row(
            name,
            f"{m.event_precision:.3f}",
            f"{m.event_recall:.3f}",
            f"{m.event_f1:.3f}",
            str(m.segments),
            str(m.alarms),
        )
    console.print(table)
    if json_out is not None:
        payload = {name: m.as_dict() for name, m in results.items()}
        json_out.write_text(json.dumps({"data": str(data), "detectors": payload}, indent=2))


def register(app: typer.Typer) -> None:
    """Attach this module's commands to `gke-heal evaluate`."""
    app.command("multivariate")(multivariate)
    app.command("logs")(logs)
