"""Streaming end to end: telemetry published to the Pub/Sub emulator is read by the Beam
pipeline (DirectRunner, streaming), lands in the DuckDB warehouse, and its anomaly scores reach
the real `local_cloud.monitoring` HTTP API. The emulator is started here from the machine's
gcloud (skipped with the reason where absent, required in CI); the pipeline is cancelled at
the end, and the whole test is bounded in time."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from local_cloud.clock import ManualClock
from local_cloud.monitoring import Monitoring, create_app
from local_cloud.warehouse import Warehouse
from telemetry_pipeline.anomaly import ANOMALY_METRIC
from telemetry_pipeline.schemas import table_specs

PROJECT = "test-project"
DEADLINE_S = 75.0
_WAREHOUSES: dict[str, Warehouse] = {}


@dataclass(frozen=True)
class SharedWarehouse:
    """Picklable factory: the warehouse this test opened, looked up in this process."""

    key: str

    def __call__(self) -> Warehouse:
        return _WAREHOUSES[self.key]


class HalfScorer:
    def score(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [{
            **{k: row.get(k) for k in ("entity_type", "entity_id", "namespace", "deployment",
                                       "pod", "node", "window_end")},
            "score": 0.5, "issue": "none", "severity": "info", "critical": False,
            "evidence": {}, "model_version": "stream-test",
        } for row in rows]  # fmt: skip


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def emulator(require_tool: Callable[[str], str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    gcloud = require_tool("gcloud")
    host = f"127.0.0.1:{_free_port()}"
    process = subprocess.Popen(
        [gcloud, "beta", "emulators", "pubsub", "start", f"--host-port={host}",
         f"--project={PROJECT}", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 40
        while True:
            try:
                httpx.get(f"http://{host}/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    pytest.fail(f"the Pub/Sub emulator exited with {process.returncode}")
                assert time.monotonic() < deadline, "the Pub/Sub emulator did not start in 40 s"
                time.sleep(0.2)
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", host)
        yield host
    finally:
        # The gcloud wrapper starts java as its child: end the session we started, by its id.
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def monitoring_api() -> Iterator[tuple[str, Monitoring]]:
    monitoring = Monitoring(ManualClock(), project=PROJECT)
    config = uvicorn.Config(create_app(monitoring), host="127.0.0.1", port=_free_port(),
                            log_level="warning", lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "monitoring API did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{config.port}", monitoring
    server.should_exit = True
    thread.join(timeout=5)


@pytest.mark.slow
def test_pubsub_to_warehouse_and_monitoring(
    emulator: str, monitoring_api: tuple[str, Monitoring], tmp_path: Path, telemetry: Any
) -> None:
    from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient

    from telemetry_pipeline.beam.pipeline import HttpWriterFactory, run
    from telemetry_pipeline.gcp.pubsub import PubSubTelemetrySink

    url, monitoring = monitoring_api
    publisher, subscriber = PublisherClient(), SubscriberClient()
    topics = {}
    for name in ("metrics", "logs"):
        topic = publisher.create_topic(name=f"projects/{PROJECT}/topics/{name}").name
        subscriber.create_subscription(
            name=f"projects/{PROJECT}/subscriptions/{name}-pipeline", topic=topic
        )
        topics[name] = topic
    warehouse = Warehouse(tmp_path / "stream.duckdb", table_specs())
    _WAREHOUSES[str(tmp_path)] = warehouse
    result = run(
        [
            "--runner=BundleBasedDirectRunner", "--streaming",
            f"--metrics_subscription=projects/{PROJECT}/subscriptions/metrics-pipeline",
            f"--logs_subscription=projects/{PROJECT}/subscriptions/logs-pipeline",
            "--window_seconds=2", "--allowed_lateness=30", f"--metric_project={PROJECT}",
        ],
        scorer_factory=HalfScorer,
        row_sink_factory=SharedWarehouse(str(tmp_path)),
        writer_factory=HttpWriterFactory(url, PROJECT),
        wait=False,
    )  # fmt: skip
    sink = PubSubTelemetrySink(topics["metrics"], topics["logs"], publisher)
    began = time.monotonic()
    try:
        while time.monotonic() - began < DEADLINE_S:
            now = time.time()
            # Both subscriptions get traffic every second: each pull returns at once and moves
            # the DirectRunner's watermark, so windows close within seconds.
            sink.publish_metrics([
                telemetry.metric("kubernetes.io/container/memory/used_bytes", 1000, now),
                telemetry.metric("kubernetes.io/container/memory/limit_utilization", 0.4, now),
            ])  # fmt: skip
            sink.publish_logs([telemetry.log("GET /cart 200 in 3ms", now)])
            scores = monitoring.store.series(ANOMALY_METRIC)
            if scores and warehouse.count("features") and warehouse.count("raw_logs"):
                break
            time.sleep(1.0)
    finally:
        result.cancel()
        _WAREHOUSES.pop(str(tmp_path), None)
    elapsed = time.monotonic() - began
    assert warehouse.count("raw_metrics") >= 2, f"no metric rows after {elapsed:.0f} s"
    assert warehouse.count("raw_logs") >= 1
    features = warehouse.sql(
        "SELECT entity_type, memory_limit_utilization AS util FROM telemetry.features "
        "WHERE entity_type = 'deployment'"
    )
    assert features and all(f["util"] == 0.4 for f in features)
    scores = monitoring.store.series(ANOMALY_METRIC)
    assert scores, f"no anomaly score reached monitoring after {elapsed:.0f} s"
    assert warehouse.count("anomalies") >= 1
    warehouse.close()
