"""Telemetry has GKE's shapes (contract §1): metric types, resource labels, LogEntry fields."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from behaviour_sim import NS, Sim, value
from prometheus_client.parser import text_string_to_metric_families

from local_cloud.clock import ManualClock
from local_cloud.gke.cluster import Cluster
from local_cloud.gke.demo_cluster import build_demo
from local_cloud.gke.prometheus import PrometheusEndpoint
from local_cloud.gke.telemetry import JsonlSink, MemorySink
from local_cloud.gke.workload import seasonality

Obj = dict[str, Any]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
CONTAINER_LABELS = {
    "project_id",
    "location",
    "cluster_name",
    "namespace_name",
    "pod_name",
    "container_name",
}
POD_LABELS = CONTAINER_LABELS - {"container_name"}
NODE_LABELS = {"project_id", "location", "cluster_name", "node_name"}
EXPECTED = {
    # type: (resource, kind, value type)
    "kubernetes.io/container/cpu/core_usage_time": ("k8s_container", "CUMULATIVE", "DOUBLE"),
    "kubernetes.io/container/cpu/limit_cores": ("k8s_container", "GAUGE", "DOUBLE"),
    "kubernetes.io/container/cpu/limit_utilization": ("k8s_container", "GAUGE", "DOUBLE"),
    "kubernetes.io/container/memory/used_bytes": ("k8s_container", "GAUGE", "INT64"),
    "kubernetes.io/container/memory/limit_bytes": ("k8s_container", "GAUGE", "INT64"),
    "kubernetes.io/container/memory/limit_utilization": ("k8s_container", "GAUGE", "DOUBLE"),
    "kubernetes.io/container/restart_count": ("k8s_container", "CUMULATIVE", "INT64"),
    "kubernetes.io/container/uptime": ("k8s_container", "GAUGE", "DOUBLE"),
    "kubernetes.io/pod/network/received_bytes_count": ("k8s_pod", "CUMULATIVE", "INT64"),
    "kubernetes.io/pod/network/sent_bytes_count": ("k8s_pod", "CUMULATIVE", "INT64"),
    "kubernetes.io/node/cpu/allocatable_utilization": ("k8s_node", "GAUGE", "DOUBLE"),
    "kubernetes.io/node/memory/allocatable_utilization": ("k8s_node", "GAUGE", "DOUBLE"),
    "kubernetes.io/node/status_condition": ("k8s_node", "GAUGE", "INT64"),
    "workload.googleapis.com/http/server/request_count": ("k8s_container", "CUMULATIVE", "INT64"),
    "workload.googleapis.com/http/server/error_count": ("k8s_container", "CUMULATIVE", "INT64"),
    "workload.googleapis.com/http/server/latency_p95_ms": ("k8s_container", "GAUGE", "DOUBLE"),
}
SEVERITIES = {
    "DEFAULT",
    "DEBUG",
    "INFO",
    "NOTICE",
    "WARNING",
    "ERROR",
    "CRITICAL",
    "ALERT",
    "EMERGENCY",
}


@pytest.fixture(scope="module")
def demo() -> tuple[Cluster, MemorySink]:
    sink = MemorySink()
    cluster = Cluster(clock=ManualClock(), seed=5, sink=sink)
    build_demo(cluster)
    cluster.step(90)
    cluster.inject("crash_loop", "shop", "email")
    cluster.step(60)
    return cluster, sink


def test_every_metric_type_has_the_contract_shape(demo: tuple[Cluster, MemorySink]) -> None:
    _, sink = demo
    seen = {m["metric"]["type"] for m in sink.metrics}
    assert seen == set(EXPECTED)
    labels_by_resource = {
        "k8s_container": CONTAINER_LABELS,
        "k8s_pod": POD_LABELS,
        "k8s_node": NODE_LABELS,
    }
    for m in sink.metrics:
        resource, kind, value_type = EXPECTED[m["metric"]["type"]]
        assert m["resource"]["type"] == resource
        assert set(m["resource"]["labels"]) == labels_by_resource[resource]
        assert m["resource"]["labels"]["cluster_name"] == "demo-cluster"
        assert (m["metricKind"], m["valueType"]) == (kind, value_type)
        (point,) = m["points"]
        assert RFC3339.match(point["interval"]["endTime"])
        if kind == "CUMULATIVE":
            assert point["interval"]["startTime"] <= point["interval"]["endTime"]
        if value_type == "INT64":
            assert (
                isinstance(point["value"]["int64Value"], str)
                and int(point["value"]["int64Value"]) >= 0
            )
        else:
            assert isinstance(point["value"]["doubleValue"], float)


def test_container_metrics_carry_pod_labels_and_controller(
    demo: tuple[Cluster, MemorySink],
) -> None:
    _, sink = demo
    series = next(m for m in sink.metrics if m["metric"]["type"] == "kubernetes.io/container/memory/used_bytes"
                  and m["resource"]["labels"]["pod_name"].startswith("cart-"))  # fmt: skip
    assert series["metric"]["labels"] == {"memory_type": "non-evictable"}
    assert series["metadata"]["userLabels"]["app"] == "cart"
    system = series["metadata"]["systemLabels"]
    assert (system["top_level_controller_type"], system["top_level_controller_name"]) == (
        "Deployment",
        "cart",
    )


def test_telemetry_arrives_every_ten_simulated_seconds(demo: tuple[Cluster, MemorySink]) -> None:
    _, sink = demo
    stamps = sorted({m["points"][0]["interval"]["endTime"] for m in sink.metrics})
    assert len(stamps) == 15  # 150 s of simulated time
    assert stamps[0].endswith("00:00:10Z") and stamps[1].endswith("00:00:20Z")


def test_restart_count_rises_for_a_crash_looping_container(
    demo: tuple[Cluster, MemorySink],
) -> None:
    _, sink = demo
    restarts = [value(m) for m in sink.metrics if m["metric"]["type"] == "kubernetes.io/container/restart_count"
                and m["resource"]["labels"]["container_name"] == "email"]  # fmt: skip
    assert restarts[0] == 0 and restarts[-1] >= 2


def test_log_entries_have_the_logentry_shape(demo: tuple[Cluster, MemorySink]) -> None:
    _, sink = demo
    containers = [e for e in sink.logs if e["logName"].rsplit("/", 1)[-1] in ("stdout", "stderr")]
    assert len(containers) > 50
    for entry in containers:
        assert re.match(r"^projects/local-project/logs/(stdout|stderr)$", entry["logName"])
        assert entry["resource"]["type"] == "k8s_container"
        assert set(entry["resource"]["labels"]) == CONTAINER_LABELS
        assert ("textPayload" in entry) != ("jsonPayload" in entry)
        assert entry["severity"] in SEVERITIES
        assert RFC3339.match(entry["timestamp"]) and RFC3339.match(entry["receiveTimestamp"])
        assert entry["timestamp"] <= entry["receiveTimestamp"]
        assert "compute.googleapis.com/resource_name" in entry["labels"]
        assert any(k.startswith("k8s-pod/") for k in entry["labels"])
    assert len({e["insertId"] for e in containers}) == len(containers)
    text_errors = [e for e in containers if "textPayload" in e and e["logName"].endswith("/stderr")]
    assert text_errors and {e["severity"] for e in text_errors} == {
        "ERROR"
    }  # email crash-loops: stderr
    assert any("jsonPayload" in e and e["jsonPayload"]["message"] for e in containers)


def test_kubernetes_events_go_to_the_events_log(demo: tuple[Cluster, MemorySink]) -> None:
    _, sink = demo
    events = [e for e in sink.logs if e["logName"] == "projects/local-project/logs/events"]
    reasons = {e["jsonPayload"]["reason"] for e in events}
    assert {"Scheduled", "Started", "BackOff"} <= reasons
    backoff = next(e for e in events if e["jsonPayload"]["reason"] == "BackOff")
    assert (
        backoff["resource"]["type"] == "k8s_pod"
        and set(backoff["resource"]["labels"]) == POD_LABELS
    )
    assert backoff["severity"] == "WARNING"
    assert {"reason", "message", "involvedObject", "type"} <= set(backoff["jsonPayload"])


def test_runtime_usage_and_logs_for_the_api(demo: tuple[Cluster, MemorySink]) -> None:
    cluster, _ = demo
    pod = next(
        p
        for p in cluster.store.list("pods", "shop")[0]
        if p["metadata"]["labels"]["app"] == "frontend"
    )
    name, node = pod["metadata"]["name"], pod["spec"]["nodeName"]
    usage = cluster.pod_usage("shop", name)
    assert usage["frontend"].cpu_cores > 0 and usage["frontend"].memory_bytes > 100 * 2**20
    assert cluster.node_usage(node).cpu_cores >= usage["frontend"].cpu_cores
    lines = cluster.container_logs("shop", name, "frontend")
    assert (
        lines
        and lines[0].text.startswith("{")
        and lines == sorted(lines, key=lambda line: line.timestamp)
    )
    with pytest.raises(KeyError):
        cluster.container_logs("shop", name, "frontend", previous=True)
    with pytest.raises(KeyError):
        cluster.container_logs("shop", name, "nosuch")
    assert cluster.pod_usage("shop", "nosuch") == {}


def test_prometheus_exposition_parses_and_is_served(demo: tuple[Cluster, MemorySink]) -> None:
    cluster, _ = demo
    text = cluster.prometheus_text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {"container_cpu_usage_seconds", "container_memory_working_set_bytes",
            "kube_pod_container_status_restarts", "kube_node_status_condition"} <= set(families)  # fmt: skip
    restarts = [
        s
        for s in families["kube_pod_container_status_restarts"].samples
        if s.labels["container"] == "email"
    ]
    assert restarts and restarts[0].value >= 2
    endpoint = PrometheusEndpoint(cluster.prometheus_text)
    url = endpoint.start()
    try:
        response = httpx.get(url, timeout=5)
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/plain"
        )
        assert "container_memory_working_set_bytes{" in response.text
        assert httpx.get(url.replace("/metrics", "/other"), timeout=5).status_code == 404
    finally:
        endpoint.stop()


def test_jsonl_sink_writes_one_document_per_line(tmp_path: Path) -> None:
    sim = Sim()
    sim.cluster.sink = JsonlSink(tmp_path / "out")
    sim.deploy("cart", 1)
    sim.step(30)
    metrics = [
        json.loads(line) for line in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()
    ]
    logs = [json.loads(line) for line in (tmp_path / "out" / "logs.jsonl").read_text().splitlines()]
    assert {m["metric"]["type"] for m in metrics} >= {"kubernetes.io/container/memory/used_bytes"}
    assert any(entry["resource"]["labels"].get("namespace_name") == NS for entry in logs)


def test_same_seed_same_telemetry_different_seed_different() -> None:
    def run(seed: int) -> list[Obj]:
        sim = Sim(seed=seed)
        sim.deploy("cart", 2)
        sim.step(60)
        return [m for m in sim.sink.metrics if m["metric"]["type"].endswith("memory/used_bytes")]

    assert json.dumps(run(3)) == json.dumps(run(3))
    assert json.dumps(run(3)) != json.dumps(run(4))


def test_traffic_follows_a_daily_and_weekly_cycle() -> None:
    thursday = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    assert seasonality(thursday + 15 * 3600) > 1.3 > 0.7 > seasonality(thursday + 3 * 3600)
    saturday = thursday + 2 * 86_400
    assert seasonality(saturday + 15 * 3600) < 0.8 * seasonality(thursday + 15 * 3600)
