"""`gke-heal config ...`: check and explain the configuration file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from gke_heal.config import ConfigError, load_config

app = typer.Typer(help="Check the configuration file.", no_args_is_help=True)


@app.command("check")
def check(file: Path = typer.Argument(..., help="The gke-heal YAML configuration file.")) -> None:
    """Validate FILE; print a one-line reason per problem and exit 1 if it is not usable."""
    err = Console(stderr=True)
    try:
        config = load_config(file)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            err.print(f"[red]error[/red] {line}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    Console().print(
        f"[green]ok[/green] {file}: mode={config.mode}, cluster={config.cluster.kind}",
        highlight=False,
    )
