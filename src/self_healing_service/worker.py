"""Background work: threads that process incidents from a queue, a sweeper that picks up work
left by restarts, postponements, approvals and other replicas, and the outbox loop."""

from __future__ import annotations

import logging
import queue
import threading

from self_healing_service.clock import wall_seconds
from self_healing_service.engine import Healer
from self_healing_service.outbox import Outbox

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self, healer: Healer, outbox: Outbox, threads: int, sweep: float, outbox_every: float
    ) -> None:
        self.healer = healer
        self.outbox = outbox
        self.threads = threads
        self.sweep_every = sweep
        self.outbox_every = outbox_every
        self.queue: queue.Queue[str] = queue.Queue()
        self.stop = threading.Event()
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def submit(self, incident_id: str) -> None:
        with self._lock:
            if incident_id in self._busy:
                return
            self._busy.add(incident_id)
        self.queue.put(incident_id)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                incident_id = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.healer.process(incident_id)
            except Exception:
                log.exception("incident %s", incident_id)
            finally:
                with self._lock:
                    self._busy.discard(incident_id)

    def _sweep(self) -> None:
        while not self.stop.wait(wall_seconds(self.healer.clock, self.sweep_every)):
            try:
                for incident_id in self.healer.store.pending(self.healer.clock.now()):
                    self.submit(incident_id)
            except Exception:
                log.exception("sweep failed")

    def start(self) -> None:
        targets = [self._run] * self.threads + [self._sweep]
        targets.append(lambda: self.outbox.run(self.stop, self.outbox_every, self.healer.clock))
        for target in targets:
            thread = threading.Thread(target=target, daemon=True, name="heal-worker")
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
