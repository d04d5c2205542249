"""Delivers stored notifications to ChatOps `POST /notify` with retries and back-off; a ChatOps
outage loses nothing (rows stay pending) and duplicates nothing (ChatOps dedups `event_id`)."""

from __future__ import annotations

import logging
import threading

import httpx

from self_healing_service.clock import Clock
from self_healing_service.store.base import Store

log = logging.getLogger(__name__)


class Outbox:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        url: str,
        token: str | None = None,
        backoff: float = 2.0,
        max_backoff: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.url = url.rstrip("/") + "/notify" if url else ""
        self.backoff = backoff
        self.max_backoff = max_backoff
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(headers=headers, timeout=5.0, transport=transport)
        self.delivered_count = 0

    def deliver_due(self) -> int:
        """Deliver everything due (each incident's events in sequence); returns how many."""
        if not self.url:
            return 0
        total = 0
        while True:
            sent, tried = self._pass()
            total += sent
            if sent == 0 or sent < tried or tried == 0:
                break
        self.delivered_count += total
        return total

    def _pass(self) -> tuple[int, int]:
        sent = 0
        due = self.store.due(self.clock.now(), lease=30.0)
        for delivery in due:
            try:
                response = self.http.post(self.url, json=delivery.payload)
                ok = 200 <= response.status_code < 300
                error = "" if ok else f"HTTP {response.status_code}"
            except httpx.HTTPError as problem:
                ok, error = False, type(problem).__name__
            if ok:
                self.store.delivered(delivery.event_id, self.clock.now())
                sent += 1
                continue
            delay = min(self.backoff * 2 ** min(delivery.attempts, 10), self.max_backoff)
            self.store.failed(delivery.event_id, self.clock.now() + delay, error)
            log.warning("notification %s not delivered (%s)", delivery.event_id, error)
        return sent, len(due)

    def run(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                self.deliver_due()
            except Exception:
                log.exception("outbox pass failed")
            stop.wait(interval)

    def close(self) -> None:
        self.http.close()
