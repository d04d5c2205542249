"""Faults the sink plays on its next matching requests: an HTTP status (429 with Retry-After,
500) or a delay before it accepts the request (a client that gives up first is not served)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from pydantic import BaseModel, Field


class Fault(BaseModel):
    """One fault, consumed by the first request whose path starts with `path_prefix`."""

    path_prefix: str = Field("/", description="Which requests it applies to.")
    status: int | None = Field(None, ge=400, le=599, description="Answer with this status.")
    retry_after: float | None = Field(None, ge=0, description="Retry-After header (seconds).")
    delay_seconds: float = Field(0.0, ge=0, le=60, description="Wait before accepting.")


@dataclass
class FaultPlan:
    """A queue of faults; thread-safe because tests add faults from another thread."""

    def __post_init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.played = 0

    def add(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if path.startswith(fault.path_prefix):
                    self.played += 1
                    return self._faults.pop(index)
        return None

    def pending(self) -> int:
        with self._lock:
            return len(self._faults)
