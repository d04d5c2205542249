"""Delivers stored notifications to ChatOps `POST /notify` with retries and back-off; a ChatOps
outage loses nothing (rows stay pending) and duplicates nothing (ChatOps dedups `event_id`).
ChatOps is called with a static bearer token (local) or a Google ID token (cloud, from an
injected identity source, cached until shortly before it expires)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import httpx

from self_healing_service.clock import Clock, wall_seconds
from self_healing_service.store.base import Store

log = logging.getLogger(__name__)

# Returns a fresh ID token and its expiry (Unix seconds); self_healing_service.gcp provides one.
IdentitySource = Callable[[], tuple[str, float]]


class CachedIdentity:
    """One ID token reused across deliveries and fetched anew `margin` seconds before it expires,
    so a token never expires in flight. The token itself is never logged."""

    def __init__(self, source: IdentitySource, clock: Clock, margin: float = 120.0) -> None:
        self.source = source
        self.clock = clock
        self.margin = margin
        self._token = ""
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if not self._token or self.clock.now() >= self._expires_at - self.margin:
                self._token, self._expires_at = self.source()
            return self._token


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
        identity: IdentitySource | None = None,
    ) -> None:
        """`identity` (when given) replaces `token`: each call carries a current ID token."""
        self.store = store
        self.clock = clock
        self.url = url.rstrip("/") + "/notify" if url else ""
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.identity = CachedIdentity(identity, clock) if identity else None
        headers = {"Authorization": f"Bearer {token}"} if token and not identity else {}
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
                headers = self._identity_headers()
                response = self.http.post(self.url, json=delivery.payload, headers=headers)
                ok = 200 <= response.status_code < 300
                error = "" if ok else f"HTTP {response.status_code}"
            except httpx.HTTPError as problem:
                ok, error = False, type(problem).__name__
            except _NoIdentity as problem:
                ok, error = False, str(problem)
            if ok:
                self.store.delivered(delivery.event_id, self.clock.now())
                sent += 1
                continue
            delay = min(self.backoff * 2 ** min(delivery.attempts, 10), self.max_backoff)
            self.store.failed(delivery.event_id, self.clock.now() + delay, error)
            log.warning("notification %s not delivered (%s)", delivery.event_id, error)
        return sent, len(due)

    def _identity_headers(self) -> dict[str, str]:
        if self.identity is None:
            return {}
        try:
            return {"Authorization": f"Bearer {self.identity.token()}"}
        except Exception as problem:  # the source is pluggable; any failure means "retry later"
            raise _NoIdentity(f"no identity token ({type(problem).__name__})") from None

    def run(self, stop: threading.Event, interval: float, clock: Clock | None = None) -> None:
        while not stop.is_set():
            try:
                self.deliver_due()
            except Exception:
                log.exception("outbox pass failed")
            stop.wait(interval if clock is None else wall_seconds(clock, interval))

    def close(self) -> None:
        self.http.close()


class _NoIdentity(Exception):
    """The identity source failed; the delivery is retried like a failed call."""
