"""Cloud Monitoring: write the anomaly metric, and export `kubernetes.io/...` series to Pub/Sub.

Cloud Monitoring has no push export of time series, so `MetricsExporter` polls
`list_time_series` on a schedule and publishes one message per point (contracts §1 shape) to the
metrics topic the streaming pipeline reads.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from google.cloud import monitoring_v3
from google.protobuf.json_format import MessageToDict

log = logging.getLogger(__name__)

# The metric types the pipeline reads (contracts §1), for a narrower export than by prefix.
EXPORTED_METRICS: tuple[str, ...] = (
    "kubernetes.io/container/cpu/core_usage_time",
    "kubernetes.io/container/cpu/limit_cores",
    "kubernetes.io/container/cpu/limit_utilization",
    "kubernetes.io/container/memory/used_bytes",
    "kubernetes.io/container/memory/limit_bytes",
    "kubernetes.io/container/memory/limit_utilization",
    "kubernetes.io/container/restart_count",
    "kubernetes.io/container/uptime",
    "kubernetes.io/pod/network/received_bytes_count",
    "kubernetes.io/pod/network/sent_bytes_count",
    "kubernetes.io/node/cpu/allocatable_utilization",
    "kubernetes.io/node/memory/allocatable_utilization",
    "kubernetes.io/node/status_condition",
    "workload.googleapis.com/http/server/request_count",
    "workload.googleapis.com/http/server/error_count",
    "workload.googleapis.com/http/server/latency_p95_ms",
)
MAX_SERIES_PER_CALL = 200


class CloudMonitoringWriter:
    """Writes TimeSeries JSON (contracts §4) with `MetricServiceClient.create_time_series`."""

    def __init__(self, project: str, client: Any | None = None) -> None:
        self.name = f"projects/{project}"
        self.client = client or monitoring_v3.MetricServiceClient()

    def write(self, series: list[dict[str, Any]]) -> None:
        for begin in range(0, len(series), MAX_SERIES_PER_CALL):
            chunk = [_to_proto(s) for s in series[begin : begin + MAX_SERIES_PER_CALL]]
            self.client.create_time_series(name=self.name, time_series=chunk)


def _to_proto(series: dict[str, Any]) -> monitoring_v3.TimeSeries:
    point = series["points"][0]
    end = point["interval"]["endTime"]
    proto = monitoring_v3.TimeSeries()
    proto.metric.type = series["metric"]["type"]
    proto.metric.labels.update(series["metric"].get("labels", {}))
    proto.resource.type = series["resource"]["type"]
    proto.resource.labels.update(series["resource"].get("labels", {}))
    interval = monitoring_v3.TimeInterval({"end_time": end})
    proto.points = [
        monitoring_v3.Point(
            {"interval": interval, "value": {"double_value": point["value"]["doubleValue"]}}
        )
    ]
    return proto


class Publisher(Protocol):
    """What the exporter needs of a Pub/Sub publisher."""

    def publish(self, topic: str, data: bytes, **attrs: str) -> Any: ...


@dataclass
class MetricsExporter:
    """Polls Cloud Monitoring for the last `period` and publishes each point to Pub/Sub.

    `prefixes` select metric types (`kubernetes.io/container/`, ...); `cluster` keeps the
    export to one cluster's resources when set.
    """

    project: str
    topic: str
    period: float = 60.0
    prefixes: tuple[str, ...] = ("kubernetes.io/", "workload.googleapis.com/")
    cluster: str | None = None
    client: Any = None
    publisher: Publisher | None = None
    clock: Callable[[], float] = time.time
    _last_end: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = monitoring_v3.MetricServiceClient()
        if self.publisher is None:
            from google.cloud.pubsub_v1 import PublisherClient

            self.publisher = PublisherClient()

    def filters(self) -> list[str]:
        """One Monitoring filter per metric-type prefix."""
        scope = f' AND resource.labels.cluster_name = "{self.cluster}"' if self.cluster else ""
        return [f'metric.type = starts_with("{prefix}"){scope}' for prefix in self.prefixes]

    def export_once(self) -> int:
        """Publish every point since the previous call (or the last `period`); return the count."""
        end = self.clock()
        start = self._last_end if self._last_end is not None else end - self.period
        interval = monitoring_v3.TimeInterval(
            {
                "start_time": {"seconds": int(start), "nanos": int((start % 1) * 1e9)},
                "end_time": {"seconds": int(end), "nanos": int((end % 1) * 1e9)},
            }
        )
        futures = []
        for query in self.filters():
            results = self.client.list_time_series(
                request={
                    "name": f"projects/{self.project}",
                    "filter": query,
                    "interval": interval,
                    "view": monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
                }
            )
            for message in messages_of(results):
                assert self.publisher is not None
                futures.append(self.publisher.publish(self.topic, json.dumps(message).encode()))
        for future in futures:
            if hasattr(future, "result"):
                future.result(timeout=60)
        self._last_end = end
        return len(futures)


def messages_of(results: Iterable[Any]) -> list[dict[str, Any]]:
    """Split listed series into one-point messages in the REST JSON shape of contracts §1."""
    out: list[dict[str, Any]] = []
    for series in results:
        doc = MessageToDict(series._pb if hasattr(series, "_pb") else series)
        for point in doc.get("points", []):
            out.append({**{k: v for k, v in doc.items() if k != "points"}, "points": [point]})
    return out
