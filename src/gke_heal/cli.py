"""Entry point of the `gke-heal` command; each sub-command group lives in `gke_heal.commands`."""

from __future__ import annotations

import typer

from gke_heal import __version__
from gke_heal.commands import register_all

app = typer.Typer(
    name="gke-heal",
    help="Watch a GKE cluster, detect anomalies, heal what is safe to heal, tell the team.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def version() -> None:
    """Print the version of gke-self-healing."""
    typer.echo(f"gke-self-healing {__version__}")


register_all(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
