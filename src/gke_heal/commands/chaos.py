"""`gke-heal chaos ...` (filled in by later work)."""

from __future__ import annotations

import typer

app = typer.Typer(help="chaos commands.", no_args_is_help=True)
