"""Pub/Sub: a `TelemetrySink`-shaped publisher (the simulator → the emulator or real topics)."""

from __future__ import annotations

import json
from typing import Any

from google.cloud.pubsub_v1 import PublisherClient


class PubSubTelemetrySink:
    """Publishes metrics and logs, one JSON message each, to two topics and waits for acks."""

    def __init__(self, metrics_topic: str, logs_topic: str, publisher: Any | None = None) -> None:
        self.metrics_topic = metrics_topic
        self.logs_topic = logs_topic
        self.publisher = publisher or PublisherClient()

    def _publish(self, topic: str, docs: list[dict[str, Any]]) -> None:
        futures = [
            self.publisher.publish(topic, json.dumps(d, separators=(",", ":")).encode())
            for d in docs
        ]
        for future in futures:
            future.result(timeout=30)

    def publish_metrics(self, series: list[dict[str, Any]]) -> None:
        self._publish(self.metrics_topic, series)

    def publish_logs(self, entries: list[dict[str, Any]]) -> None:
        self._publish(self.logs_topic, entries)
