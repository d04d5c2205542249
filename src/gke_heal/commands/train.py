"""`gke-heal train ...`: train and register the anomaly model (wraps `anomaly_detection_model.train`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(help="Train and register the anomaly model.", no_args_is_help=True)


@app.command("run")
def run(
    source: str = typer.Option(..., "--source", help="warehouse or parquet"),
    warehouse: str | None = typer.Option(
        None, "--warehouse", help="DuckDB file or bq://project.dataset"
    ),
    parquet: str | None = typer.Option(None, "--parquet", help="Parquet file or glob"),
    out: str = typer.Option(..., "--out", help="Registry: a folder or gs://bucket/prefix"),
    holdout: float = typer.Option(0.2, "--holdout", help="Newest fraction of time held back"),
) -> None:
    """Fit on the features, evaluate on the held-back range, register a new version."""
    from anomaly_detection_model import train as training

    argv = ["--source", source, "--out", out, "--holdout", str(holdout)]
    if warehouse:
        argv += ["--warehouse", warehouse]
    if parquet:
        argv += ["--parquet", parquet]
    with Console(stderr=True).status("training"):
        code = training.main(argv)
    raise typer.Exit(code)


@app.command("versions")
def versions(
    registry: str = typer.Option(..., "--registry", help="Folder or gs:// registry"),
) -> None:
    """List registered model versions (newest last) and which one is `latest`."""
    from anomaly_detection_model.registry import Registry, RegistryError

    console = Console()
    reg = Registry(registry)
    try:
        latest = reg.resolve()
    except RegistryError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    for version in reg.versions():
        console.print(f"{version}{'  (latest)' if version == latest else ''}")


@app.command("pipeline")
def pipeline(out: Path = typer.Option(Path("training_pipeline.yaml"), "--out")) -> None:
    """Compile the Vertex AI training pipeline (KFP v2) to YAML, offline."""
    from anomaly_detection_model.vertex.pipeline import compile_pipeline

    Console().print(f"compiled {compile_pipeline(out)}")
