"""`gke-heal cluster up`: run the local GKE cluster simulator behind a real Kubernetes API."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from local_cloud.clock import ScaledClock, rfc3339
from local_cloud.gke.api import ApiServer
from local_cloud.gke.cluster import Cluster
from local_cloud.gke.demo_cluster import build_demo
from local_cloud.gke.kubeconfig import write_kubeconfig
from local_cloud.gke.prometheus import PrometheusEndpoint
from local_cloud.gke.telemetry import JsonlSink, TelemetrySink

app = typer.Typer(help="Run the local GKE cluster simulator.", no_args_is_help=True)
Obj = dict[str, Any]


def status_view(cluster: Cluster) -> Group:
    """A snapshot of the cluster for the live display: time, nodes, workloads, warnings."""
    store = cluster.store
    nodes = store.list("nodes")[0]
    pods = store.list("pods")[0]
    ready_nodes = sum(
        1 for n in nodes
        if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))
    )  # fmt: skip
    phases = Counter(
        "Terminating" if p["metadata"].get("deletionTimestamp") else p["status"].get("phase", "?")
        for p in pods
    )
    head = Table.grid(padding=(0, 2))
    head.add_row(
        f"[bold]simulated time[/bold] {rfc3339(cluster.clock.now())}",
        f"[bold]nodes[/bold] {ready_nodes}/{len(nodes)} ready",
        "[bold]pods[/bold] " + ", ".join(f"{n} {phase}" for phase, n in sorted(phases.items())),
    )
    workloads = Table(title="Deployments", expand=False)
    for column in ("namespace", "name", "ready", "up-to-date", "restarts", "fault"):
        workloads.add_column(column)
    restarts: Counter[tuple[str, str]] = Counter()
    for pod in pods:
        app_name = pod["metadata"].get("labels", {}).get("app") or pod["metadata"].get(
            "labels", {}
        ).get("k8s-app")
        for status in pod["status"].get("containerStatuses") or []:
            restarts[(pod["metadata"]["namespace"], str(app_name))] += int(
                status.get("restartCount", 0)
            )
    for d in store.list("deployments")[0]:
        meta, status = d["metadata"], d.get("status", {})
        want = d["spec"].get("replicas", 1)
        ready = status.get("readyReplicas", 0)
        colour = "green" if ready >= want else "yellow" if ready else "red"
        workloads.add_row(
            meta["namespace"], meta["name"], f"[{colour}]{ready}/{want}[/{colour}]",
            str(status.get("updatedReplicas", 0)), str(restarts[(meta["namespace"], meta["name"])]),
            (meta.get("annotations") or {}).get("chaos.gke-heal.io/fault", ""),
        )  # fmt: skip
    warnings = sorted(
        (e for e in store.list("events")[0] if e.get("type") == "Warning"),
        key=lambda e: e.get("lastTimestamp", ""),
    )[-5:]
    recent = Table(title="Recent warnings", expand=False)
    for column in ("last seen", "reason", "object", "message"):
        recent.add_column(column, overflow="fold")
    for e in warnings:
        obj = e["involvedObject"]
        recent.add_row(e.get("lastTimestamp", ""), e["reason"], f"{obj['kind'].lower()}/{obj['name']}",
                       e["message"][:100])  # fmt: skip
    return Group(head, workloads, recent)


@app.command("up")
def up(
    port: int = typer.Option(
        0, min=0, max=65535, help="API server port on 127.0.0.1 (0: any free port)."
    ),
    kubeconfig: Path = typer.Option(
        Path(".gke-heal/kubeconfig"), help="Where to write the kubeconfig."
    ),
    speed: float = typer.Option(
        1.0,
        min=0.01,
        help="Simulated seconds per wall-clock second. Above 1 the cluster's clock runs ahead of "
        "yours, so kubectl shows recent ages as <invalid>.",
    ),
    seed: int = typer.Option(7, help="Seed of the simulation, for reproducible runs."),
    telemetry_dir: Path | None = typer.Option(
        None, help="Also write metrics.jsonl and logs.jsonl here."
    ),
    metrics_port: int | None = typer.Option(
        None, min=0, max=65535, help="Serve Prometheus /metrics on this port (0: any)."
    ),
    duration: float | None = typer.Option(None, min=0, help="Stop after this many wall seconds."),
) -> None:
    """Start the demo cluster and its Kubernetes API; Ctrl-C stops it."""
    console = Console()
    sink: TelemetrySink | None = JsonlSink(telemetry_dir) if telemetry_dir else None
    cluster = Cluster(clock=ScaledClock(speed), seed=seed, sink=sink)
    with console.status("building the demo cluster"):
        build_demo(cluster)
    server = ApiServer(cluster.store, runtime=cluster, port=port)
    try:
        url = server.start()
    except OSError as exc:
        console.print(
            f"[red]error[/red] --port {port}: cannot listen on 127.0.0.1:{port}: {exc.strerror}"
        )
        raise typer.Exit(1) from None
    prometheus = (
        PrometheusEndpoint(cluster.prometheus_text, port=metrics_port)
        if metrics_port is not None
        else None
    )
    try:
        config = write_kubeconfig(kubeconfig, url)
        cluster.start()
        console.print(
            f"API server [bold]{url}[/bold], kubeconfig [bold]{config}[/bold], speed x{speed:g}"
        )
        console.print(f"try: kubectl --kubeconfig {config} get pods -A")
        if prometheus is not None:
            console.print(f"Prometheus metrics at [bold]{prometheus.start()}[/bold]")
        started = time.monotonic()
        with Live(
            status_view(cluster), console=console, refresh_per_second=2, transient=False
        ) as live:
            while duration is None or time.monotonic() - started < duration:
                time.sleep(min(1.0, duration or 1.0))
                live.update(status_view(cluster))
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        cluster.stop()
        server.stop()
        if prometheus is not None:
            prometheus.stop()
    console.print("\ncluster stopped")
