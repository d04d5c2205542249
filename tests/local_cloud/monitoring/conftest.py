"""Fixtures for the Monitoring stand-in's tests.

Real: the policy definition (`terraform/modules/alerting/policies.json`), the metric store, the
evaluator, the dispatcher's HTTP client, and HTTP receivers on random loopback ports (a plain
`http.server` that records requests and can be told to fail), the FastAPI app under uvicorn.
Fake: nothing but time, which is a `ManualClock` so every evaluation is deterministic.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from monitoring_fixtures import ANOMALY, Received, Receiver, SeriesFactory

from local_cloud.clock import ManualClock, rfc3339


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"null")
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            if state.fail_next > 0:
                state.fail_next -= 1
                self.send_response(state.fail_status)
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def score_series() -> SeriesFactory:
    """Build one anomaly-score TimeSeries (docs/contracts.md §4) for a pod or node."""

    def build(
        t: float,
        value: float,
        issue: str = "memory_leak",
        pod: str = "cart-7d9f-abcde",
        severity: str = "critical",
        workload: str = "shop/cart",
    ) -> dict[str, Any]:
        return {
            "metric": {
                "type": ANOMALY,
                "labels": {
                    "issue": issue,
                    "severity": severity,
                    "workload": workload,
                    "entity_type": "deployment",
                    "model_version": "v3",
                },
            },
            "resource": {
                "type": "k8s_pod",
                "labels": {
                    "project_id": "local-project",
                    "location": "europe-west1",
                    "cluster_name": "demo-cluster",
                    "namespace_name": workload.split("/")[0],
                    "pod_name": pod,
                },
            },
            "metricKind": "GAUGE",
            "valueType": "DOUBLE",
            "metadata": {"systemLabels": {"top_level_controller_name": "cart"}},
            "points": [{"interval": {"endTime": rfc3339(t)}, "value": {"doubleValue": value}}],
        }

    return build
