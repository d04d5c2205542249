"""Fixtures for the pipeline's tests.

Fakes: only the scorer, at our own `RowScorer` boundary (`FakeScorer`: score = memory limit
utilisation, so a test can predict it). Real: JSON parsing, windowing, features, Beam's
FnApiRunner and DirectRunner, an HTTP server on 127.0.0.1 standing in for the Monitoring
endpoint (`MonitoringReceiver`: records what was posted), the Pub/Sub emulator where gcloud is
installed, and the DuckDB warehouse.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z, the start of a 60 s window


def rfc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Telemetry:
    """Builds contracts §1 messages for one small cluster: namespace shop, deployment cart."""

    project = "test-project"

    def resource(
        self, pod: str = "cart-7d9f8c6b5-x2kqp", container: str = "cart"
    ) -> dict[str, Any]:
        return {
            "type": "k8s_container",
            "labels": {
                "project_id": self.project, "location": "us-central1",
                "cluster_name": "demo-cluster", "namespace_name": "shop",
                "pod_name": pod, "container_name": container,
            },
        }  # fmt: skip

    def metric(self, metric_type: str, value: float, t: float, *, pod: str = "cart-7d9f8c6b5-x2kqp",
               kind: str = "GAUGE", start: float | None = None, node: str = "node-a",
               labels: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        interval = {"endTime": rfc(t)}
        if start is not None:
            interval["startTime"] = rfc(start)
        is_int = metric_type.endswith(("used_bytes", "restart_count", "limit_bytes"))
        return {
            "metric": {"type": metric_type, "labels": labels or {}},
            "resource": self.resource(pod),
            "metricKind": kind,
            "valueType": "INT64" if is_int else "DOUBLE",
            "points": [{
                "interval": interval,
                "value": {"int64Value": str(int(value))} if is_int else {"doubleValue": value},
            }],
            "metadata": {"systemLabels": {"top_level_controller_type": "Deployment",
                                          "top_level_controller_name": "cart",
                                          "node_name": node}},
        }  # fmt: skip

    def node_condition(self, node: str, ready: bool, t: float) -> dict[str, Any]:
        return {
            "metric": {"type": "kubernetes.io/node/status_condition",
                       "labels": {"condition": "Ready", "status": "True" if ready else "False"}},
            "resource": {"type": "k8s_node", "labels": {"project_id": self.project,
                         "location": "us-central1", "cluster_name": "demo-cluster",
                         "node_name": node}},
            "metricKind": "GAUGE", "valueType": "INT64",
            "points": [{"interval": {"endTime": rfc(t)}, "value": {"int64Value": "1"}}],
        }  # fmt: skip

    def log(self, message: str, t: float, *, severity: str = "INFO",
            pod: str = "cart-7d9f8c6b5-x2kqp", received: float | None = None) -> dict[str, Any]:  # fmt: skip
        return {
            "logName": f"projects/{self.project}/logs/stdout",
            "resource": self.resource(pod),
            "timestamp": rfc(t),
            "receiveTimestamp": rfc(received if received is not None else t + 1),
            "severity": severity,
            "insertId": f"id-{t}-{message[:8]}",
            "textPayload": message,
            "labels": {"k8s-pod/app": "cart", "compute.googleapis.com/resource_name": "node-a"},
        }

    def event(self, reason: str, t: float, pod: str = "cart-7d9f8c6b5-x2kqp") -> dict[str, Any]:
        return {
            "logName": f"projects/{self.project}/logs/events",
            "resource": {"type": "k8s_pod", "labels": {"project_id": self.project,
                         "location": "us-central1", "cluster_name": "demo-cluster",
                         "namespace_name": "shop", "pod_name": pod}},
            "timestamp": rfc(t), "receiveTimestamp": rfc(t + 1), "severity": "WARNING",
            "insertId": f"ev-{t}-{reason}",
            "jsonPayload": {"reason": reason, "message": f"{reason} happened", "type": "Warning",
                            "involvedObject": {"kind": "Pod", "namespace": "shop", "name": pod}},
        }  # fmt: skip

    def window(self, start: float, *, memory_util: float = 0.5, restarts_before: int = 0,
               restarts_after: int = 0) -> list[dict[str, Any]]:  # fmt: skip
        """Four points of each main series inside the window [start, start+60)."""
        out: list[dict[str, Any]] = []
        K = "kubernetes.io/container/"
        for i, dt in enumerate((5.0, 20.0, 35.0, 50.0)):
            t = start + dt
            out.append(self.metric(K + "cpu/core_usage_time", 100.0 + 0.5 * (t - start), t,
                                   kind="CUMULATIVE", start=start - 1000))  # fmt: skip
            out.append(self.metric(K + "memory/used_bytes", 1_000_000 + 1000 * (t - start), t))
            out.append(self.metric(K + "memory/limit_utilization", memory_util, t))
            restarts = restarts_before if i < 2 else restarts_after
            out.append(self.metric(K + "restart_count", restarts, t, kind="CUMULATIVE",
                                   start=start - 1000))  # fmt: skip
        return out


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


class FakeScorer:
    """Score = the row's memory limit utilisation (0 when missing); remembers every row."""

    version = "fake-1"

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def score(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        verdicts = []
        for row in rows:
            if "entity_id" not in row:
                raise ValueError("entity_id: missing")
            self.rows.append(dict(row))
            score = float(row.get("memory_limit_utilization") or 0.0)
            verdicts.append({
                "entity_type": row["entity_type"], "entity_id": row["entity_id"],
                "namespace": row.get("namespace"), "deployment": row.get("deployment"),
                "pod": row.get("pod"), "node": row.get("node"), "window_end": row["window_end"],
                "score": score, "issue": "memory_leak" if score > 0.9 else "none",
                "severity": "critical" if score > 0.9 else "info", "critical": score > 0.9,
                "evidence": {"memory_limit_utilization": score}, "model_version": self.version,
            })  # fmt: skip
        return verdicts


@pytest.fixture
def fake_scorer() -> FakeScorer:
    return FakeScorer()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MonitoringReceiver:
    """A real HTTP server taking `POST /v3/projects/{p}/timeSeries` and keeping the bodies."""

    def __init__(self) -> None:
        self.series: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.paths.append(self.path)
                if receiver.fail_next:
                    receiver.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.series.extend(body["timeSeries"])
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def monitoring_receiver() -> Iterator[MonitoringReceiver]:
    receiver = MonitoringReceiver()
    yield receiver
    receiver.close()
