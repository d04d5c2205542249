"""`gke-heal evaluate nab`: score a univariate detector on a NAB-layout corpus."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from anomaly_detection_model.nab.evaluation import GroupScore

DEFAULT_DETECTOR = "univariate"


def _profiles_path(data: Path, profiles: Path | None) -> Path | None:
    if profiles is not None:
        return profiles
    beside = data.parent / "config" / "profiles.json"
    return beside if beside.is_file() else None


def _cell(group: GroupScore) -> str:
    # A category without windows cannot be normalised (null = perfect): show its false alarms.
    if group.tp + group.fn == 0:
        return f"[dim]no windows, {group.fp} FP[/dim]"
    return f"{group.score:.1f}"


def nab(
    data: Path = typer.Option(..., "--data", help="NAB data folder: <category>/<file>.csv."),
    labels: Path = typer.Option(..., "--labels", help="NAB windows file (combined_windows.json)."),
    detector: str = typer.Option(DEFAULT_DETECTOR, "--detector", help="Catalogued detector name."),
    profiles: Path | None = typer.Option(
        None,
        "--profiles",
        help="NAB profiles.json (default: <data>/../config/profiles.json, else NAB's three).",
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Write the report as JSON here."),
    scores_dir: Path | None = typer.Option(
        None, "--scores-dir", help="Write raw scores in NAB's results layout here."
    ),
) -> None:
    """Run a detector over every NAB file in order and print the three profile scores."""
    from anomaly_detection_model.detectors import catalogue
    from anomaly_detection_model.nab.corpus import CorpusError, load_corpus
    from anomaly_detection_model.nab.evaluation import run_detector, score_corpus
    from anomaly_detection_model.nab.results import write_results
    from anomaly_detection_model.nab.scoring import load_profiles

    console = Console()
    try:
        entry = catalogue.get(detector, kind="univariate")
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="--detector") from None
    try:
        files = load_corpus(data, labels)
        cost_profiles = load_profiles(_profiles_path(data, profiles))
    except CorpusError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None

    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[file]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(f"{detector}", total=len(files), file="")
        scores = run_detector(
            files, entry.make, lambda f: progress.update(task, advance=1, file=f.key)
        )
    elapsed = time.perf_counter() - started
    report = score_corpus(detector, files, scores, cost_profiles, entry.threshold)

    for title, results in (
        ("optimised threshold", report.optimised),
        ("fixed threshold", report.fixed),
    ):
        table = Table(title=f"NAB scores of {detector}, {title}")
        table.add_column("category")
        for result in results:
            table.add_column(f"{result.profile}\n(t={result.threshold:.4g})", justify="right")
        categories = list(results[0].categories) if results else []
        for category in categories:
            table.add_row(category, *(_cell(r.categories[category]) for r in results))
        table.add_row("[bold]total[/bold]", *(f"[bold]{r.total.score:.1f}[/bold]" for r in results))
        console.print(table)
    console.print(
        f"{report.files} files, {report.windows} windows, detector ran in {elapsed:.1f} s"
    )

    if json_out is not None:
        body = report.as_dict() | {"seconds": round(elapsed, 2)}
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(body, indent=2))
    if scores_dir is not None:
        written = write_results(scores_dir, detector, files, scores)
        console.print(f"wrote {len(written)} score files under {scores_dir}")


def register(app: typer.Typer) -> None:
    """Attach this module's commands to `gke-heal evaluate`."""
    app.command("nab")(nab)
