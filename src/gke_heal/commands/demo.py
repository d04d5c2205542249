"""`gke-heal demo` and `gke-heal scenario run FILE`: the whole loop on the embedded local cloud."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from gke_heal.scenario import Scenario, load_scenario, parse_scenario
from gke_heal.yamlfile import YamlModelError

scenario_app = typer.Typer(help="Run game-day scenarios.", no_args_is_help=True)


def demo_scenario() -> Scenario:
    """The scenario shipped with the package, which `gke-heal demo` runs."""
    text = resources.files("gke_heal.scenarios").joinpath("demo.yaml").read_text(encoding="utf-8")
    return parse_scenario(text, "demo.yaml")


def run_and_report(scenario: Scenario, out: Path, data_dir: Path, speed: float) -> bool:
    """Run `scenario` with a progress display, write the report to `out`; True when it passed."""
    from gke_heal.datadir import DataDirError
    from gke_heal.report import terminal_table, write_report
    from gke_heal.runner import Progress as RunnerProgress
    from gke_heal.runner import ScenarioRunner

    console = Console()
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    progress = Progress(*columns, console=console, transient=False)
    task = progress.add_task("starting", total=1.0)

    def phase(text: str) -> None:
        progress.update(task, description=text, completed=0, total=1.0)

    def tick(done: float, total: float) -> None:
        progress.update(task, completed=done, total=max(total, 1e-9))

    try:  # the runner empties the data folder first, or refuses it
        runner = ScenarioRunner(
            scenario, data_dir, speed=speed, progress=RunnerProgress(phase=phase, tick=tick)
        )
    except (DataDirError, OSError) as exc:
        Console(stderr=True).print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    with progress:
        report = runner.run()
    console.print(terminal_table(report))
    files = write_report(report, out)
    console.print(f"report: {files['markdown']} and {files['html']}")
    for line in report.harmful_actions:
        console.print(f"[red]harmful action:[/red] {line}")
    return report.passed


def register(app: typer.Typer) -> None:
    """Attach `demo` and the `scenario` group."""

    @app.command()
    def demo(
        out: Path = typer.Option(Path("gke-heal-demo"), help="Folder for the report."),
        data_dir: Path = typer.Option(Path(".gke-heal/demo"), help="Folder for local state."),
        speed: float = typer.Option(60.0, min=1.0, help="Simulated seconds per wall second."),
    ) -> None:
        """Bring up the local stack on a fast clock, inject faults, heal them, write a report."""
        passed = run_and_report(demo_scenario(), out, data_dir, speed)
        raise typer.Exit(0 if passed else 1)

    @scenario_app.command("run")
    def run(
        file: Path = typer.Argument(..., help="Scenario YAML file."),
        out: Path = typer.Option(Path("gke-heal-scenario"), help="Folder for the report."),
        data_dir: Path = typer.Option(Path(".gke-heal/scenario"), help="Folder for local state."),
        speed: float = typer.Option(60.0, min=1.0, help="Simulated seconds per wall second."),
    ) -> None:
        """Run a scenario from FILE; exit 1 when an expectation fails."""
        try:
            scenario = load_scenario(file)
        except YamlModelError as exc:
            for line in str(exc).splitlines():
                Console(stderr=True).print(f"[red]error[/red] {line}", highlight=False)
            raise typer.Exit(2) from None
        passed = run_and_report(scenario, out, data_dir, speed)
        raise typer.Exit(0 if passed else 1)

    app.add_typer(scenario_app, name="scenario")
