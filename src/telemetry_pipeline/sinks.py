"""Where the pipeline's outputs go: warehouse tables and the anomaly metric, behind two protocols.

The warehouse is BigQuery in the cloud and `local_cloud.warehouse` locally; the anomaly metric
goes to Cloud Monitoring in the cloud and over HTTP to `local_cloud.monitoring` locally. The
composer (gke_heal, or a test) picks the implementations.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

import httpx

RAW_METRICS = "raw_metrics"
RAW_LOGS = "raw_logs"
FEATURES = "features"
ANOMALIES = "anomalies"
DEAD_LETTERS = "dead_letters"
TABLES = (RAW_METRICS, RAW_LOGS, FEATURES, ANOMALIES, DEAD_LETTERS)
MAX_SERIES_PER_CALL = 200


class RowSink(Protocol):
    """Appends rows (dicts keyed by column) to a named table."""

    def insert_rows(self, table: str, rows: list[dict[str, Any]]) -> None: ...


class MetricWriter(Protocol):
    """Writes TimeSeries JSON points (the body of `projects.timeSeries.create`)."""

    def write(self, series: list[dict[str, Any]]) -> None: ...


def feature_table_row(row: dict[str, Any]) -> dict[str, Any]:
    """A contracts §2 row as stored: the two maps as JSON text."""
    stored = dict(row)
    stored["event_reasons"] = json.dumps(row.get("event_reasons") or {}, sort_keys=True)
    stored["log_templates"] = json.dumps(row.get("log_templates") or {}, sort_keys=True)
    return stored


class MemoryRowSink:
    """Keeps rows per table in lists (tests, benchmarks, and a pipeline with no warehouse)."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        self._lock = threading.Lock()

    def insert_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self.tables.setdefault(table, []).extend(rows)


class DiscardingRowSink:
    """Counts rows and keeps none (benchmarks of the transforms alone)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def insert_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        self.counts[table] = self.counts.get(table, 0) + len(rows)


class MemoryMetricWriter:
    """Keeps the written series in a list."""

    def __init__(self) -> None:
        self.series: list[dict[str, Any]] = []

    def write(self, series: list[dict[str, Any]]) -> None:
        self.series.extend(series)


class MetricWriteError(RuntimeError):
    """The monitoring endpoint refused the points; the message carries its reason."""


class HttpMonitoringWriter:
    """Posts points to a Monitoring-compatible `POST {base}/v3/projects/{p}/timeSeries`."""

    def __init__(
        self,
        base_url: str,
        project: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/v3/projects/{project}/timeSeries"
        self.client = client or httpx.Client(timeout=timeout)

    def write(self, series: list[dict[str, Any]]) -> None:
        for begin in range(0, len(series), MAX_SERIES_PER_CALL):
            chunk = series[begin : begin + MAX_SERIES_PER_CALL]
            response = self.client.post(self.url, json={"timeSeries": chunk})
            if response.status_code >= 400:
                raise MetricWriteError(
                    f"POST {self.url} → {response.status_code}: {response.text[:500]}"
                )

    def close(self) -> None:
        self.client.close()
