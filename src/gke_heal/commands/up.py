"""`gke-heal up` / `gke-heal down`: the whole local stack, in the foreground or in the background."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

PID_FILE = "stack.pid"
URLS_FILE = "stack-urls.txt"


def _status(stack: object) -> Group:
    from gke_heal.stack import LocalStack

    assert isinstance(stack, LocalStack)
    urls = Table(title="gke-heal local stack", show_header=False)
    for name in ("kubernetes", "monitoring", "healing", "chatops", "chat_sink", "dashboard"):
        value = getattr(stack.urls, name)
        if value:
            urls.add_row(name, value)
    urls.add_row("kubeconfig", str(stack.urls.kubeconfig))
    pods, _ = stack.cluster.store.list("pods")
    ready = sum(
        1
        for p in pods
        if any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in p.get("status", {}).get("conditions", [])
        )
    )
    state = Table(show_header=False)
    state.add_row(
        "simulated time", time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(stack.clock.now()))
    )
    state.add_row("pods ready", f"{ready}/{len(pods)}")
    state.add_row("open alerts", str(len(stack.monitoring.incidents("open"))))
    state.add_row("feature windows", str(stack.pipeline.counters.windows_closed))
    return Group(urls, state, "Ctrl-C stops everything.")


def register(app: typer.Typer) -> None:
    """Attach `up` and `down`."""

    @app.command()
    def up(
        data_dir: Path = typer.Option(Path(".gke-heal"), help="Folder for local state."),
        speed: float = typer.Option(10.0, min=0.1, help="Simulated seconds per wall second."),
        seed: int = typer.Option(7, help="Seed of the simulated cluster."),
        mode: str = typer.Option("recommend", help="observe | recommend | enforce"),
        kubernetes_port: int = typer.Option(0, help="Port of the Kubernetes API (0 = any)."),
        dashboard_port: int = typer.Option(0, help="Port of the dashboard (0 = any)."),
        background: bool = typer.Option(False, "--background", "-d", help="Run detached."),
        config: Path | None = typer.Option(
            None,
            help="gke-heal YAML file; its mode, seed, speed, ports, data folder, scope and "
            "guardrails apply (chat and model settings are for deployments).",
        ),
    ) -> None:
        """Start the whole local stack: cluster, pipeline, model, alerting, healing, ChatOps, dashboard."""
        overrides: dict[str, object] = {}
        if config is not None:
            from gke_heal.config import ConfigError, healing_overrides, load_config

            try:
                cfg = load_config(config)
            except ConfigError as exc:
                for line in str(exc).splitlines():
                    Console(stderr=True).print(f"[red]error[/red] {line}", highlight=False)
                raise typer.Exit(2) from None
            mode, seed, speed = cfg.mode, cfg.cluster.seed, cfg.cluster.speed
            data_dir = cfg.local.data_dir
            kubernetes_port = cfg.local.kubernetes_port or kubernetes_port
            dashboard_port = cfg.local.dashboard_port or dashboard_port
            overrides = healing_overrides(cfg)
        if mode not in ("observe", "recommend", "enforce"):
            raise typer.BadParameter("must be observe, recommend or enforce", param_hint="--mode")
        data_dir.mkdir(parents=True, exist_ok=True)
        if background:
            args = [
                sys.executable,
                "-m",
                "gke_heal.cli",
                "up",
                "--data-dir",
                str(data_dir),
                "--speed",
                str(speed),
                "--seed",
                str(seed),
                "--mode",
                mode,
                "--kubernetes-port",
                str(kubernetes_port),
                "--dashboard-port",
                str(dashboard_port),
                *(["--config", str(config.resolve())] if config is not None else []),
            ]
            log = (data_dir / "stack.log").open("ab")
            proc = subprocess.Popen(
                args, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
            )
            (data_dir / PID_FILE).write_text(str(proc.pid))
            Console().print(
                f"started in the background (pid {proc.pid}); logs: {data_dir / 'stack.log'}; "
                f"stop with: gke-heal down --data-dir {data_dir}"
            )
            return
        from gke_heal.stack import LocalStack, StackOptions

        options = StackOptions(
            data_dir=data_dir,
            speed=speed,
            seed=seed,
            mode=mode,
            kubernetes_port=kubernetes_port,
            dashboard_port=dashboard_port,
            healing_overrides=overrides,
        )
        console = Console()
        stack = LocalStack(options)
        stopping = False

        def on_term(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, on_term)
        try:
            with console.status("starting") as status:
                stack.start(on_progress=lambda what: status.update(f"starting {what}"))
            (data_dir / URLS_FILE).write_text(
                "\n".join(f"{k}={v}" for k, v in vars(stack.urls).items()) + "\n"
            )
            with Live(_status(stack), console=console, refresh_per_second=2) as live:
                while not stopping:
                    time.sleep(0.5)
                    live.update(_status(stack))
        except KeyboardInterrupt:
            pass
        finally:
            console.print("stopping…")
            stack.stop()
            (data_dir / PID_FILE).unlink(missing_ok=True)

    @app.command()
    def down(
        data_dir: Path = typer.Option(Path(".gke-heal"), help="Folder of the running stack."),
    ) -> None:
        """Stop a stack started with `gke-heal up --background`."""
        pid_file = data_dir / PID_FILE
        if not pid_file.exists():
            Console(stderr=True).print(
                f"no stack is running from {data_dir} ({pid_file} is missing)"
            )
            raise typer.Exit(1)
        pid = int(pid_file.read_text().strip())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pid_file.unlink(missing_ok=True)
            Console().print(f"pid {pid} was not running; cleaned up")
            return
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        pid_file.unlink(missing_ok=True)
        Console().print(f"stopped pid {pid}")
