"""Prometheus text exposition of the cluster's state (cAdvisor and kube-state-metrics names),
and a small loopback HTTP endpoint serving it at `/metrics`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local_cloud.gke.kubelet import Kubelet
from local_cloud.gke.objects import get_condition

Obj = dict[str, Any]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_FAMILIES = (
    ("container_cpu_usage_seconds_total", "counter", "Cumulative CPU time consumed, seconds."),
    ("container_memory_working_set_bytes", "gauge", "Current working set, bytes."),
    ("container_spec_memory_limit_bytes", "gauge", "Memory limit of the container, bytes."),
    ("kube_pod_container_resource_limits", "gauge", "Resource limit of the container."),
    ("kube_pod_container_status_restarts_total", "counter", "Container restarts."),
    ("kube_pod_container_status_ready", "gauge", "Whether the container's readiness check passes."),
    ("http_server_requests_total", "counter", "HTTP requests served by the container."),
    ("http_server_errors_total", "counter", "HTTP requests that failed (5xx)."),
    ("http_server_latency_p95_milliseconds", "gauge", "95th percentile request latency, ms."),
    ("kube_node_status_condition", "gauge", "The condition of a cluster node."),
)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def render(kubelets: Iterable[Kubelet], nodes: list[Obj]) -> str:
    """The exposition text for every live container and every node."""
    rows: dict[str, list[str]] = {name: [] for name, _, _ in _FAMILIES}
    for kubelet in sorted(kubelets, key=lambda k: k.node):
        if not kubelet.alive:
            continue
        for (namespace, pod), state in sorted(kubelet.pods.items()):
            for c in state.containers:
                if c.instance == 0:
                    continue
                lab = _labels(namespace=namespace, pod=pod, container=c.name, node=kubelet.node)
                rows["kube_pod_container_status_restarts_total"].append(f"{lab} {c.restart_count}")
                rows["kube_pod_container_status_ready"].append(f"{lab} {int(c.ready)}")
                if c.memory_limit:
                    rows["container_spec_memory_limit_bytes"].append(f"{lab} {c.memory_limit}")
                if c.cpu_limit:
                    cpu = _labels(namespace=namespace, pod=pod, container=c.name, node=kubelet.node,
                                  resource="cpu", unit="core")  # fmt: skip
                    rows["kube_pod_container_resource_limits"].append(f"{cpu} {c.cpu_limit:g}")
                s = c.last_sample
                if s is None:
                    continue
                rows["container_cpu_usage_seconds_total"].append(f"{lab} {c.cpu_seconds:.6f}")
                rows["container_memory_working_set_bytes"].append(f"{lab} {s.memory_bytes}")
                rows["http_server_requests_total"].append(f"{lab} {int(c.requests_total)}")
                rows["http_server_errors_total"].append(f"{lab} {int(c.errors_total)}")
                rows["http_server_latency_p95_milliseconds"].append(f"{lab} {s.latency_p95_ms:.3f}")
    for node in nodes:
        status = (get_condition(node, "Ready") or {}).get("status", "Unknown")
        for option in ("true", "false", "unknown"):
            lab = _labels(node=node["metadata"]["name"], condition="Ready", status=option)
            rows["kube_node_status_condition"].append(f"{lab} {int(status.lower() == option)}")
    out: list[str] = []
    for name, kind, help_text in _FAMILIES:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(f"{name}{row}" for row in rows[name])
    return "\n".join(out) + "\n"


class PrometheusEndpoint:
    """Serves `render()` at `GET /metrics` on loopback, for a Prometheus to scrape."""

    def __init__(
        self, render_text: Callable[[], str], host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._render = render_text
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        render_text = self._render

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != "/metrics":
                    self.send_error(404, "only /metrics is served here")
                    return
                body = render_text().encode()
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return  # scrapes every few seconds would flood the terminal

        return Handler

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/metrics"

    def start(self) -> str:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="prometheus", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
