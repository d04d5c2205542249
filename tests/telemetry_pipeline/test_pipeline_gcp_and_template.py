"""Cloud-side pieces without the cloud: the Flex Template parameters are the pipeline's flags and
what Terraform passes; the anomaly writer's protos and the exporter's messages keep the contract
shapes (Google's client objects are replaced by recorders: Cloud Monitoring has no emulator)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from google.cloud import monitoring_v3

from telemetry_pipeline.anomaly import ClusterIdentity, anomaly_series
from telemetry_pipeline.beam.pipeline import TelemetryOptions
from telemetry_pipeline.gcp.monitoring import CloudMonitoringWriter, MetricsExporter
from telemetry_pipeline.records import MetricPoint, parse_metric

REPO = Path(__file__).resolve().parents[2]


def test_template_parameters_are_pipeline_flags_and_terraform_passes_them() -> None:
    metadata = json.loads((REPO / "deploy/dataflow/metadata.json").read_text())
    names = [p["name"] for p in metadata["parameters"]]
    options = TelemetryOptions([f"--{name}=1" for name in names]).get_all_options()
    for name in names:
        assert options[name] in ("1", 1.0), name
    terraform = (REPO / "terraform/modules/pipeline/main.tf").read_text()
    start = terraform.index("parameters = merge({") + len("parameters = merge({")
    block = terraform[start : terraform.index("}, var.flex_template.extra_parameters)")]
    passed = set(re.findall(r"^\s*(\w+)\s*=", block, re.MULTILINE))
    assert passed <= set(names), passed - set(names)
    required = {p["name"] for p in metadata["parameters"] if not p["is_optional"]}
    assert required <= passed


class RecordingMetricClient:
    def __init__(self, listed: list[monitoring_v3.TimeSeries] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.listed = listed or []

    def create_time_series(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)

    def list_time_series(self, request: dict[str, Any]) -> list[monitoring_v3.TimeSeries]:
        self.calls.append(request)
        return self.listed


def test_writer_sends_the_anomaly_metric_as_protos() -> None:
    verdict = {"entity_type": "pod", "entity_id": "shop/cart-1", "namespace": "shop",
               "deployment": "cart", "pod": "cart-1", "node": "n", "score": 0.97,
               "issue": "crash_loop", "severity": "critical", "critical": True,
               "window_end": "2026-01-01T00:01:00Z", "model_version": "v0002"}  # fmt: skip
    series = anomaly_series(verdict, ClusterIdentity("proj", "us-central1", "demo"))
    assert series is not None
    client = RecordingMetricClient()
    CloudMonitoringWriter("proj", client).write([series] * 250)
    assert [len(c["time_series"]) for c in client.calls] == [200, 50]
    proto = client.calls[0]["time_series"][0]
    assert client.calls[0]["name"] == "projects/proj"
    assert proto.metric.type == "custom.googleapis.com/anomaly/score"
    assert dict(proto.metric.labels) == {"issue": "crash_loop", "severity": "critical",
                                         "workload": "shop/cart", "entity_type": "pod",
                                         "model_version": "v0002"}  # fmt: skip
    assert proto.resource.type == "k8s_pod" and proto.resource.labels["pod_name"] == "cart-1"
    assert proto.points[0].value.double_value == 0.97
    assert proto.points[0].interval.end_time.isoformat().startswith("2026-01-01T00:01:00")


class RecordingPublisher:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []

    def publish(self, topic: str, data: bytes, **attrs: str) -> None:
        self.messages.append((topic, data))


def test_exporter_publishes_one_parsable_message_per_point() -> None:
    listed = monitoring_v3.TimeSeries(
        {
            "metric": {"type": "kubernetes.io/container/memory/used_bytes",
                       "labels": {"memory_type": "non-evictable"}},
            "resource": {"type": "k8s_container", "labels": {
                "project_id": "proj", "location": "us-central1", "cluster_name": "demo",
                "namespace_name": "shop", "pod_name": "cart-7d9f8c6b5-x2kqp",
                "container_name": "cart"}},
            "metric_kind": "GAUGE", "value_type": "INT64",
            "points": [
                {"interval": {"end_time": {"seconds": 1_767_225_660}}, "value": {"int64_value": 2}},
                {"interval": {"end_time": {"seconds": 1_767_225_600}}, "value": {"int64_value": 1}},
            ],
        }
    )  # fmt: skip
    client, publisher = RecordingMetricClient([listed]), RecordingPublisher()
    exporter = MetricsExporter("proj", "projects/proj/topics/metrics", prefixes=("kubernetes.io/",),
                               cluster="demo", client=client, publisher=publisher,
                               clock=lambda: 1_767_225_700.0)  # fmt: skip
    assert exporter.export_once() == 2
    assert client.calls[0]["filter"] == (
        'metric.type = starts_with("kubernetes.io/") AND resource.labels.cluster_name = "demo"'
    )
    points = [parse_metric(data) for _, data in publisher.messages]
    assert all(isinstance(p, MetricPoint) for p in points), points
    assert sorted(p.value for p in points if isinstance(p, MetricPoint)) == [1.0, 2.0]


def test_cli_names_a_missing_flag(monkeypatch: Any, capsys: Any) -> None:
    from telemetry_pipeline.beam.__main__ import main

    monkeypatch.setattr("sys.argv", ["telemetry_pipeline.beam", "--model_registry=/nowhere"])
    assert main() == 2
    assert "--metrics_input" in capsys.readouterr().err
