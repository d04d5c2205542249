"""Delivery of incident notices to channels, with retries and back-off on the evaluation clock.

Cloud Monitoring retries a failed webhook a few times and then drops the notice; the default
schedule here retries three times (after 10, 30 and 90 seconds of clock time) and then gives up,
recording every attempt so tests and the dashboard can see what happened.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

from local_cloud.monitoring.channels import DeliveryFailed, NotificationChannel


@dataclass(frozen=True)
class RetrySchedule:
    """Delays before each retry; the number of delays is the number of retries."""

    delays: tuple[float, ...] = (10.0, 30.0, 90.0)


@dataclass(frozen=True)
class DeliveryAttempt:
    """One attempt to deliver one notice to one channel."""

    channel: str
    incident_id: str
    state: str
    attempt: int
    at: float
    ok: bool
    detail: str


@dataclass
class _Pending:
    channel: NotificationChannel
    payload: dict[str, Any]
    due: float
    attempt: int = 1


@dataclass
class Dispatcher:
    """Queues notices per channel and sends the ones that are due."""

    channels: list[NotificationChannel]
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=5.0))
    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    _pending: list[_Pending] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enqueue(self, payload: dict[str, Any], now: float) -> None:
        """Queue `payload` (already rendered, so later changes do not leak in) for every channel."""
        with self._lock:
            self._pending.extend(_Pending(channel, payload, due=now) for channel in self.channels)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def dispatch(self, now: float) -> list[DeliveryAttempt]:
        """Attempt every due delivery once, in the order queued; failed ones are rescheduled."""
        with self._lock:
            due = [p for p in self._pending if p.due <= now]
            self._pending = [p for p in self._pending if p.due > now]
        made: list[DeliveryAttempt] = []
        retry: list[_Pending] = []
        for item in due:
            incident = item.payload.get("incident", {})
            try:
                status = item.channel.deliver(item.payload, self.client, now)
                ok, detail = True, f"HTTP {status}"
            except DeliveryFailed as exc:
                ok, detail = False, str(exc)
                if item.attempt <= len(self.schedule.delays):
                    delay = self.schedule.delays[item.attempt - 1]
                    retry.append(
                        _Pending(item.channel, item.payload, now + delay, item.attempt + 1)
                    )
                else:
                    detail += "; giving up"
            made.append(
                DeliveryAttempt(
                    channel=item.channel.name,
                    incident_id=str(incident.get("incident_id", "")),
                    state=str(incident.get("state", "")),
                    attempt=item.attempt,
                    at=now,
                    ok=ok,
                    detail=detail,
                )
            )
        with self._lock:
            self._pending.extend(retry)
            self.attempts.extend(made)
        return made

    def next_due(self) -> float | None:
        with self._lock:
            return min((p.due for p in self._pending), default=None)
