"""The Monitoring stand-in as one object: write series, evaluate policies, deliver notices.

`gke_heal` builds one, hands it to `create_app` for the HTTP API, and either calls `tick()`
itself (virtual time) or `run()` in a thread, which ticks on the clock's own sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from local_cloud.clock import Clock
from local_cloud.monitoring.channels import NotificationChannel
from local_cloud.monitoring.delivery import DeliveryAttempt, Dispatcher
from local_cloud.monitoring.evaluation import AlertEvaluator, IncidentChange
from local_cloud.monitoring.incident import Incident
from local_cloud.monitoring.policies import PolicyDefinition, load_policies
from local_cloud.monitoring.store import MetricStore
from local_cloud.monitoring.timeseries import TimeSeries, TimeSeriesError

CONSOLE_INCIDENTS = "https://console.cloud.google.com/monitoring/alerting/incidents"


class Monitoring:
    """Metric store + alert evaluation + notification dispatch, on one clock."""

    def __init__(
        self,
        clock: Clock,
        channels: Iterable[NotificationChannel] = (),
        definition: PolicyDefinition | None = None,
        project: str = "local-project",
        project_number: int = 123456789012,
        incident_url_base: str = CONSOLE_INCIDENTS,
        dispatcher: Dispatcher | None = None,
        store: MetricStore | None = None,
    ) -> None:
        self.clock = clock
        self.definition = definition or load_policies()
        self.project = project
        self.project_number = project_number
        self.incident_url_base = incident_url_base
        self.store = store or MetricStore()
        self.evaluator = AlertEvaluator(self.definition.policies, self.store, project)
        self.dispatcher = dispatcher or Dispatcher(channels=list(channels))
        if dispatcher is not None:
            self.dispatcher.channels.extend(channels)
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def add_channel(self, channel: NotificationChannel) -> None:
        """Attach a channel once its endpoint is known (e.g. after the healing service starts)."""
        self.dispatcher.channels.append(channel)

    def write(self, raw_series: list[Any]) -> list[TimeSeriesError]:
        """Validate and store REST `TimeSeries` dicts; return the errors of rejected ones."""
        accepted: list[TimeSeries] = []
        errors: list[TimeSeriesError] = []
        for index, raw in enumerate(raw_series):
            try:
                accepted.append(TimeSeries.from_json(raw, index))
            except TimeSeriesError as exc:
                errors.append(exc)
        errors.extend(self.store.write(accepted))
        return errors

    def payload(self, incident: Incident) -> dict[str, Any]:
        return incident.payload(self.project_number, self.incident_url_base)

    def evaluate(self, now: float | None = None) -> list[IncidentChange]:
        """Evaluate policies up to `now` (default: the clock) and queue notices for changes."""
        at = self.clock.now() if now is None else now
        with self._lock:
            changes = self.evaluator.evaluate(at)
            for change in changes:
                self.dispatcher.enqueue(self.payload(change.incident), at)
        return changes

    def tick(self, now: float | None = None) -> tuple[list[IncidentChange], list[DeliveryAttempt]]:
        """One step: evaluate, then send every notice that is due."""
        at = self.clock.now() if now is None else now
        changes = self.evaluate(at)
        return changes, self.dispatcher.dispatch(at)

    def incidents(self, state: str = "all") -> list[Incident]:
        with self._lock:
            return self.evaluator.incidents(state)

    def incident(self, incident_id: str) -> Incident | None:
        with self._lock:
            return self.evaluator.incident(incident_id)

    def run(self, interval_seconds: float = 10.0) -> None:
        """Tick every `interval_seconds` of clock time until `stop()`; for a background thread."""
        while not self._stop.is_set():
            self.tick()
            self.clock.sleep(interval_seconds)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        """Stop the loop and release the delivery HTTP client."""
        self.stop()
        self.dispatcher.client.close()
