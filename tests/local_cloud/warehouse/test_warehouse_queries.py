"""The documented BigQuery SQL queries, transpiled to DuckDB, give the right answers on
hand-built rows; the schema comes from the BigQuery specs; bad input is refused with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local_cloud.warehouse import QUERIES, QueryError, SchemaError, Warehouse, load_query, transpile

NOW = "2026-01-01T12:00:00Z"


def _anomaly(pod: str, minute: int, score: float, issue: str = "none", *, hour: int = 11,
             entity_type: str = "pod") -> dict[str, Any]:  # fmt: skip
    return {
        "window_end": f"2026-01-01T{hour:02d}:{minute:02d}:00Z", "entity_type": entity_type,
        "entity_id": f"shop/{pod}", "namespace": "shop", "deployment": pod.split("-")[0],
        "pod": pod, "node": "node-a", "score": score, "issue": issue,
        "severity": "critical" if score > 0.9 else "info", "critical": score > 0.9,
        "evidence": json.dumps({"restarts": 3}), "model_version": "v0001",
    }  # fmt: skip


def test_top_anomalous_pods_last_hour(warehouse: Warehouse) -> None:
    warehouse.insert_rows("anomalies", [
        _anomaly("cart-a", 10, 0.20), _anomaly("cart-a", 20, 0.97, "crash_loop"),
        _anomaly("cart-a", 30, 0.95, "memory_leak"),
        _anomaly("ad-b", 15, 0.60), _anomaly("ad-b", 16, 0.93, "error_burst"),
        _anomaly("web-c", 5, 0.10),
        # Outside the hour, or not a pod: must not count.
        _anomaly("old-d", 59, 0.99, "node_failure", hour=10),
        _anomaly("cart-a", 40, 1.0, "bad_rollout", entity_type="deployment"),
        _anomaly("future-e", 1, 0.99, hour=13),
    ])  # fmt: skip
    rows = warehouse.run("top_anomalous_pods_last_hour", now=NOW, threshold=0.9, max_rows=2)
    assert rows == [
        {"namespace": "shop", "pod": "cart-a", "max_score": 0.97, "anomalous_windows": 2,
         "worst_issue": "crash_loop"},
        {"namespace": "shop", "pod": "ad-b", "max_score": 0.93, "anomalous_windows": 1,
         "worst_issue": "error_burst"},
    ]  # fmt: skip


def _feature(deployment: str, start: str, restarts: float | None, entity_type: str = "deployment") -> dict[str, Any]:  # fmt: skip
    return {"entity_type": entity_type, "entity_id": f"shop/{deployment}", "namespace": "shop",
            "deployment": deployment, "window_start": start,
            "window_end": start.replace(":00:00Z", ":01:00Z"), "restarts": restarts,
            "event_reasons": "{}", "log_templates": "{}"}  # fmt: skip


def test_restarts_per_deployment_per_day(warehouse: Warehouse) -> None:
    warehouse.insert_rows("features", [
        _feature("cart", "2026-01-01T08:00:00Z", 2), _feature("cart", "2026-01-01T23:00:00Z", 3),
        _feature("cart", "2026-01-02T00:00:00Z", 1), _feature("ad", "2026-01-01T09:00:00Z", 0),
        _feature("ad", "2026-01-01T10:00:00Z", None),
        _feature("cart", "2026-01-01T08:00:00Z", 50, entity_type="pod"),
    ])  # fmt: skip
    rows = warehouse.run("restarts_per_deployment_per_day")
    assert [(str(r["day"]), r["deployment"], r["restarts"]) for r in rows] == [
        ("2026-01-01", "cart", 5),
        ("2026-01-02", "cart", 1),
    ]


def _log(pod: str, minute: int, severity: str, hour: int = 11) -> dict[str, Any]:
    return {
        "logName": "projects/p/logs/stdout",
        "resource": {"type": "k8s_container", "labels": {"namespace_name": "shop", "pod_name": pod,
                     "container_name": "app", "project_id": "p", "location": "l",
                     "cluster_name": "c", "node_name": None}},
        "textPayload": "line", "jsonPayload": None,
        "timestamp": f"2026-01-01T{hour:02d}:{minute:02d}:00.123456Z",
        "receiveTimestamp": None, "severity": severity, "insertId": f"{pod}{minute}",
        "labels": json.dumps({"k8s-pod/app": pod}),
    }  # fmt: skip


def test_error_logs_per_pod_last_hour(warehouse: Warehouse) -> None:
    warehouse.insert_rows("raw_logs", [
        _log("a", 1, "ERROR"), _log("a", 2, "INFO"), _log("a", 3, "CRITICAL"), _log("a", 4, "INFO"),
        _log("b", 5, "INFO"), _log("b", 6, "ERROR", hour=9),
    ])  # fmt: skip
    rows = warehouse.run("error_logs_per_pod_last_hour", now=NOW)
    assert rows == [
        {"namespace": "shop", "pod": "a", "lines": 4, "error_lines": 2, "error_share": 0.5},
        {"namespace": "shop", "pod": "b", "lines": 1, "error_lines": 0, "error_share": 0.0},
    ]


def test_dead_letters_by_reason_and_memory_p95(warehouse: Warehouse) -> None:
    warehouse.insert_rows("dead_letters", [
        {"received_at": "2026-01-01T00:00:01Z", "kind": "metric", "reason": "malformed JSON: x", "payload": "{"},
        {"received_at": "2026-01-01T00:00:02Z", "kind": "metric", "reason": "malformed JSON: y", "payload": "{"},
        {"received_at": "2026-01-01T00:00:03Z", "kind": "log", "reason": "late: event at ...", "payload": "{}"},
    ])  # fmt: skip
    rows = warehouse.run("dead_letters_by_reason")
    assert [(r["kind"], r["category"], r["letters"]) for r in rows] == [
        ("metric", "malformed JSON", 2),
        ("log", "late", 1),
    ]
    assert rows[0]["last_seen"] == datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC)
    warehouse.insert_rows("raw_metrics", [
        {"timestamp": f"2026-01-01T00:00:{i:02d}Z", "metric_type":
         "kubernetes.io/container/memory/used_bytes", "value": float(i + 1), "resource_type":
         "k8s_container", "namespace": "shop", "deployment": "cart", "metric_labels": "{}"}
        for i in range(20)
    ])  # fmt: skip
    [row] = warehouse.run("memory_p95_per_deployment", since="2026-01-01T00:00:00Z")
    assert row["points"] == 20 and 18.0 <= row["memory_p95_bytes"] <= 20.0


def test_every_documented_query_transpiles_and_names_its_parameters() -> None:
    assert set(QUERIES) >= {"top_anomalous_pods_last_hour", "restarts_per_deployment_per_day"}
    for name in QUERIES:
        query = load_query(name)
        assert query.description, name
        duck = transpile(query.sql)
        for param in query.params:
            assert f"${param}" in duck and f"@{param}" in query.sql


def test_the_tables_follow_the_bigquery_specs(
    warehouse: Warehouse, specs: list[dict[str, Any]]
) -> None:
    for spec in specs:
        columns = warehouse.columns(spec["table"])
        assert [name for name, _ in columns] == [f["name"] for f in spec["schema"]]
    types = dict(warehouse.columns("raw_logs"))
    assert types["timestamp"] == "TIMESTAMP WITH TIME ZONE"
    assert types["jsonPayload"] == "JSON" and types["resource"].startswith("STRUCT(")


def test_bad_input_is_refused_with_a_reason(warehouse: Warehouse, tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="table: 'nope'"):
        warehouse.insert_rows("nope", [{}])
    with pytest.raises(QueryError, match=r"parameter 'now' .* required"):
        warehouse.run("top_anomalous_pods_last_hour", threshold=0.9, max_rows=3)
    with pytest.raises(QueryError, match="time-zone-aware"):
        warehouse.run("error_logs_per_pod_last_hour", now="2026-01-01T00:00:00")
    with pytest.raises(QueryError, match="unknown query"):
        warehouse.run("drop_everything")
    with pytest.raises(SchemaError, match="type 'GEOGRAPHY'"):
        Warehouse(
            tmp_path / "x.duckdb", [{"table": "t", "schema": [{"name": "g", "type": "GEOGRAPHY"}]}]
        )


def test_rows_survive_reopening_the_file(tmp_path: Path, specs: list[dict[str, Any]]) -> None:
    path = tmp_path / "w.duckdb"
    with Warehouse(path, specs) as store:
        store.insert_rows("anomalies", [_anomaly("cart-a", 1, 0.5)])
    with Warehouse(path, specs) as store:
        assert store.count("anomalies") == 1
        [row] = store.sql("SELECT JSON_VALUE(evidence, '$.restarts') AS r FROM telemetry.anomalies")
        assert row["r"] == "3"
