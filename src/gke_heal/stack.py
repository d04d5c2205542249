"""The whole local stack in one process: every unit on loopback, talking real HTTP.

cluster simulator (Kubernetes API) ─► in-process pipeline ─► warehouse (DuckDB)
                                              └─► monitoring (anomaly metric, alert policies)
monitoring ─webhook─► self-healing service ─► Kubernetes API (the simulator)
self-healing service ─/notify─► ChatOps ─► local chat sink (Slack and Teams shaped)

Only this module (and the commands) import several units: it is the composer.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from anomaly_detection_model.scoring import Scorer
from chatops.app import create_app as create_chatops_app
from chatops.settings import ChatOpsSettings
from chatops.sink.app import create_sink_app
from gke_heal.servers import ServiceThread, free_port
from local_cloud.clock import ScaledClock
from local_cloud.gke.api import ApiServer
from local_cloud.gke.cluster import Cluster
from local_cloud.gke.demo_cluster import build_demo
from local_cloud.gke.kubeconfig import write_kubeconfig
from local_cloud.gke.telemetry import ClusterIdentity as SimIdentity
from local_cloud.gke.telemetry import FanOutSink
from local_cloud.monitoring.app import create_app as create_monitoring_app
from local_cloud.monitoring.channels import WebhookChannel
from local_cloud.monitoring.service import Monitoring
from local_cloud.warehouse.store import Warehouse
from telemetry_pipeline.anomaly import ClusterIdentity as PipelineIdentity
from telemetry_pipeline.inprocess import InProcessPipeline, PipelineSettings
from telemetry_pipeline.schemas import table_specs
from telemetry_pipeline.scoring import RowScorer
from telemetry_pipeline.sinks import HttpMonitoringWriter

PROJECT = "local-project"
LOCATION = "us-central1"
CLUSTER = "demo-cluster"


@dataclass
class StackOptions:
    """How to build the local stack."""

    data_dir: Path = Path(".gke-heal")
    seed: int = 7
    speed: float = 60.0
    mode: str = "enforce"
    host: str = "127.0.0.1"
    kubernetes_port: int = 0
    monitoring_port: int = 0
    healing_port: int = 0
    chatops_port: int = 0
    chat_sink_port: int = 0
    dashboard_port: int = 0
    window_seconds: float = 60.0
    telemetry_interval: float = 10.0
    demo_scale: int = 1
    healing_overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class StackUrls:
    """Where each local service listens."""

    kubernetes: str = ""
    monitoring: str = ""
    healing: str = ""
    chatops: str = ""
    chat_sink: str = ""
    dashboard: str = ""
    kubeconfig: Path = Path()


class SwappableScorer:
    """The pipeline's scorer, replaceable while running (untrained during warm-up, then trained)."""

    def __init__(self, scorer: RowScorer) -> None:
        self._scorer = scorer
        self._lock = threading.Lock()

    def swap(self, replace: Callable[[RowScorer], RowScorer]) -> None:
        """Replace the scorer with `replace(current)`, with no window scored in between."""
        with self._lock:
            self._scorer = replace(self._scorer)

    def score(self, rows: Any) -> Any:
        with self._lock:
            return self._scorer.score(rows)


class LocalStack:
    """Builds, starts and stops every local service; see the module docstring."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.clock = ScaledClock(options.speed)
        self.data_dir = options.data_dir
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.urls = StackUrls()
        self.tokens = {
            name: secrets.token_urlsafe(24) for name in ("webhook", "api", "chatops", "slack")
        }
        self.signing_secret = secrets.token_hex(16)
        self.services: list[ServiceThread] = []
        self._stoppers: list[Callable[[], None]] = []
        self._stop = threading.Event()
        self.scorer = SwappableScorer(Scorer.untrained())
        self.warehouse = Warehouse(self.data_dir / "warehouse.duckdb", table_specs())
        self.monitoring = Monitoring(self.clock, project=PROJECT)
        self.pipeline = InProcessPipeline(
            self.scorer,
            self.warehouse,
            _LateBoundWriter(),
            PipelineSettings(
                window_seconds=options.window_seconds,
                cluster=PipelineIdentity(PROJECT, LOCATION, CLUSTER),
            ),
            wall_clock=self.clock.now,
        )
        self.cluster = Cluster(
            clock=self.clock,
            seed=options.seed,
            sink=FanOutSink(self.pipeline),
            identity=SimIdentity(PROJECT, LOCATION, CLUSTER),
            telemetry_interval=options.telemetry_interval,
        )
        self.api = ApiServer(
            self.cluster.store,
            runtime=self.cluster,
            host=options.host,
            port=options.kubernetes_port,
        )
        self.healing_app: Any = None

    # -- life cycle ----------------------------------------------------------------------
    def start(self, on_progress: Callable[[str], None] = lambda _: None) -> StackUrls:
        o = self.options
        on_progress("cluster simulator")
        build_demo(self.cluster, scale=o.demo_scale)
        self.urls.kubernetes = self.api.start()
        self._stoppers.append(self.api.stop)
        self.urls.kubeconfig = write_kubeconfig(self.data_dir / "kubeconfig", self.urls.kubernetes)

        on_progress("chat sink")
        sink = ServiceThread(
            "chat-sink",
            create_sink_app(self.data_dir / "chat-sink.sqlite3", bot_token=self.tokens["slack"]),
            o.host,
            o.chat_sink_port,
        )
        self.urls.chat_sink = self._serve(sink)

        on_progress("monitoring")
        monitoring = ServiceThread(
            "monitoring", create_monitoring_app(self.monitoring), o.host, o.monitoring_port
        )
        self.urls.monitoring = self._serve(monitoring)
        writer = HttpMonitoringWriter(self.urls.monitoring, PROJECT)
        assert isinstance(self.pipeline.metrics, _LateBoundWriter)
        self.pipeline.metrics.bind(writer)
        self._stoppers.append(writer.close)

        healing_port = o.healing_port or free_port(o.host)
        self.urls.healing = f"http://{o.host}:{healing_port}"
        on_progress("ChatOps")
        chatops = ServiceThread(
            "chatops", create_chatops_app(self._chatops_settings()), o.host, o.chatops_port
        )
        self.urls.chatops = self._serve(chatops)

        on_progress("self-healing service")
        self.monitoring.add_channel(
            WebhookChannel(
                url=f"{self.urls.healing}/alerts/monitoring",
                name="self-healing webhook",
                auth_token=SecretStr(self.tokens["webhook"]),
            )
        )
        self._start_healing(healing_port)

        on_progress("dashboard")
        from gke_heal.dashboard import DashboardSources, create_dashboard

        dashboard = create_dashboard(
            DashboardSources(
                healing_url=self.urls.healing,
                healing_token=self.tokens["api"],
                monitoring_url=self.urls.monitoring,
                chat_sink_url=self.urls.chat_sink,
                project=PROJECT,
            )
        )
        self.urls.dashboard = self._serve(
            ServiceThread("dashboard", dashboard, o.host, o.dashboard_port)
        )

        on_progress("clock, cluster and alerting loops")
        self.cluster.start()
        self._stoppers.append(self.cluster.stop)
        # Check the watermark every 5 simulated seconds (60 s windows): windows close promptly.
        self._loop("pipeline", self._pipeline_tick, o.window_seconds / 12)
        self._loop("monitoring", lambda: self.monitoring.tick(), o.telemetry_interval)
        return self.urls

    def stop(self) -> None:
        self._stop.set()
        for stopper in reversed(self._stoppers):
            with contextlib.suppress(Exception):
                stopper()
        for service in reversed(self.services):
            service.stop()
        with contextlib.suppress(Exception):
            self.monitoring.close()
        with contextlib.suppress(Exception):
            self.warehouse.close()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- pieces --------------------------------------------------------------------------
    def _serve(self, service: ServiceThread) -> str:
        url = service.start()
        self.services.append(service)
        return url

    def _loop(self, name: str, tick: Callable[[], object], sim_interval: float) -> None:
        def run() -> None:
            while not self._stop.is_set():
                with contextlib.suppress(Exception):
                    tick()
                # Wait in short wall-clock slices so a change of speed (slow while the model
                # trains, fast again after) takes effect within 0.1 s, not after a long nap.
                until = self.clock.now() + sim_interval
                while not self._stop.is_set() and (left := until - self.clock.now()) > 0:
                    self._stop.wait(min(left / self.clock.speed, 0.1))

        thread = threading.Thread(target=run, name=f"loop-{name}", daemon=True)
        thread.start()
        self._stoppers.append(lambda: thread.join(5))

    def _pipeline_tick(self) -> None:
        self.pipeline.advance(self.clock.now())

    def _chatops_settings(self) -> ChatOpsSettings:
        return ChatOpsSettings(
            healing_url=self.urls.healing,
            healing_token=SecretStr(self.tokens["api"]),
            auth="token",
            notify_token=SecretStr(self.tokens["chatops"]),
            slack_bot_token=SecretStr(self.tokens["slack"]),
            slack_signing_secret=SecretStr(self.signing_secret),
            slack_channel="C0SREALERTS",
            slack_api_url=f"{self.urls.chat_sink}/api/",
            teams_webhook_url=SecretStr(f"{self.urls.chat_sink}/teams/workflows/sre"),
            public_url=f"http://{self.options.host}:{self.options.chatops_port}",
            db_path=self.data_dir / "chatops.sqlite3",
            permissions={
                "*": [
                    "status",
                    "incidents",
                    "show",
                    "history",
                    "help",
                    "approve",
                    "deny",
                    "pause",
                    "resume",
                    "mode",
                    "silence",
                ]
            },
        )

    def _start_healing(self, port: int) -> None:
        from self_healing_service.app import create_app as create_healing_app
        from self_healing_service.kube.gateway import KubernetesGateway, api_client
        from self_healing_service.settings import Settings as HealingSettings
        from self_healing_service.store.sqlite import SqliteStore

        o = self.options
        fields: dict[str, Any] = {
            "mode": o.mode,
            "project_id": PROJECT,
            "cluster_name": CLUSTER,
            "cluster_location": LOCATION,
            "kubeconfig": self.urls.kubeconfig,
            "sqlite_path": self.data_dir / "heal.sqlite3",
            "webhook_token": SecretStr(self.tokens["webhook"]),
            "push_auth": "none",
            "api_token": SecretStr(self.tokens["api"]),
            "chatops_url": self.urls.chatops,
            "chatops_token": SecretStr(self.tokens["chatops"]),
            "public_url": self.urls.healing,
            **o.healing_overrides,
        }
        settings = HealingSettings(**fields)
        gateway = KubernetesGateway(api_client(self.urls.kubeconfig))
        store = SqliteStore(settings.sqlite_path)
        self.healing_app = create_healing_app(settings, gateway, store, self.clock)
        self._serve(ServiceThread("self-healing", self.healing_app, o.host, port))

    def http(self) -> httpx.Client:
        return httpx.Client(timeout=10.0)


class _LateBoundWriter:
    """The pipeline's metric writer, bound once monitoring's URL is known."""

    def __init__(self) -> None:
        self._writer: Any = None

    def bind(self, writer: Any) -> None:
        self._writer = writer

    def write(self, series: list[dict[str, Any]]) -> None:
        if self._writer is not None:
            self._writer.write(series)
