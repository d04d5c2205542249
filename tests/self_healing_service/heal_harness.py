"""Harness for the self-healing service's tests (imported by name: a unique module name, so
it never collides with other folders' conftest modules).

Real: the cluster simulator (`local_cloud.gke`: store, controllers, kubelets, faults) serving
the Kubernetes API over HTTP on loopback, the official Kubernetes client, SQLite files, the
FastAPI app under uvicorn on a free port, and a ChatOps receiver that is a real HTTP server.
Faked: nothing but what our own boundaries allow — the simulated cluster runs on a clock ten
times faster than real time, and OIDC tokens are signed with a key generated here.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from local_cloud.clock import ScaledClock
from local_cloud.gke.api import ApiServer
from local_cloud.gke.cluster import Cluster
from local_cloud.gke.demo_cluster import NAMESPACE, build_demo
from local_cloud.gke.kubeconfig import write_kubeconfig
from local_cloud.gke.rbac import Rbac
from local_cloud.gke.store import ObjectStore
from self_healing_service.kube.gateway import KubernetesGateway, api_client
from self_healing_service.settings import Settings

FAULT = "chaos.gke-heal.io/fault"
REPO_ROOT = Path(__file__).resolve().parents[2]


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Sim:
    """The simulated cluster with the demo shop, and a way to change it behind the API."""

    store: ObjectStore
    cluster: Cluster
    server: ApiServer
    kubeconfig: Path

    def deployment(self, name: str, ns: str = NAMESPACE) -> dict[str, Any]:
        return self.store.get("deployments", ns, name)

    def annotate(self, name: str, annotations: dict[str, str | None], ns: str = NAMESPACE) -> None:
        def change(obj: dict[str, Any]) -> None:
            current = obj["metadata"].setdefault("annotations", {})
            for key, value in annotations.items():
                if value is None:
                    current.pop(key, None)
                else:
                    current[key] = value

        self.store.mutate("deployments", ns, name, change)

    def pods(self, app: str, ns: str = NAMESPACE) -> list[dict[str, Any]]:
        items, _ = self.store.list(
            "pods", ns, lambda p: p["metadata"].get("labels", {}).get("app") == app
        )
        return items

    def ready(self, app: str) -> bool:
        dep = self.deployment(app)
        status, replicas = dep.get("status", {}), dep["spec"]["replicas"]
        return bool(
            status.get("readyReplicas") == replicas
            and status.get("updatedReplicas") == replicas
            and status.get("availableReplicas") == replicas
            and status.get("observedGeneration", 0) >= dep["metadata"]["generation"]
        )

    def gateway(self, **kw: Any) -> KubernetesGateway:
        return KubernetesGateway(api_client(self.kubeconfig), **kw)


def start_sim(
    tmp: Path, speed: float = 10.0, rbac: Rbac | None = None, token: str | None = None
) -> Sim:
    store = ObjectStore(ScaledClock(speed))
    cluster = Cluster(store)
    build_demo(cluster)
    server = ApiServer(store, runtime=cluster, rbac=rbac)
    url = server.start()
    cluster.start()
    config = write_kubeconfig(tmp / "kubeconfig", url, token=token, ca_pem=server.ca_pem)
    sim = Sim(store, cluster, server, config)
    wait_for(lambda: all(sim.ready(a) for a in ("cart", "frontend", "checkout")), 60, "the shop")
    return sim


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    running = start_sim(tmp_path_factory.mktemp("sim"))
    yield running
    running.cluster.stop()
    running.server.stop()


@dataclass
class ChatOps:
    """A ChatOps stand-in: records `POST /notify` bodies; refuses while `refusing`."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)  # Authorization header per POST
    refusing: bool = False
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def kinds(self, incident_id: str) -> list[str]:
        with self.lock:
            events = [e for e in self.received if e["incident_id"] == incident_id]
        return [e["kind"] for e in sorted(events, key=lambda e: e["sequence"])]


@pytest.fixture
def chatops() -> Iterator[ChatOps]:
    state = ChatOps()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if state.refusing:
                state.refused += 1
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with state.lock:
                state.authorizations.append(self.headers.get("Authorization") or "")
                state.received.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def fast_settings(tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "mode": "enforce",
        "sqlite_path": tmp / "heal.sqlite3",
        "webhook_token": "hook-secret",
        "alertmanager_token": "am-secret",
        "api_token": "api-secret",
        "push_auth": "token",
        "push_token": "push-secret",
        "verify_timeout_seconds": 30.0,
        "verify_rollout_timeout_seconds": 45.0,
        "verify_interval_seconds": 0.3,
        "verify_stable_seconds": 1.0,
        "sweep_interval_seconds": 0.3,
        "outbox_interval_seconds": 0.1,
        "outbox_backoff_seconds": 0.2,
        "outbox_max_backoff_seconds": 1.0,
        "kube_backoff_seconds": 0.05,
        "cooldown_seconds": 0.0,
        "drain_deadline_seconds": 20.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)


class Served:
    """An app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        wait_for(lambda: self.server.started, 10, "uvicorn")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
