"""Virtual clocks shared by the local stand-ins: real time, or simulated time running faster."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the time in Unix seconds."""

    def now(self) -> float:
        """Current time, Unix seconds."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let `seconds` of this clock's time pass (blocking)."""
        ...


class RealClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class ManualClock:
    """Time that moves only when told to; for tests and for simulating hours in seconds."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        """Sleeping on a manual clock moves it: single-threaded simulations stay deterministic."""
        self.advance(max(0.0, seconds))

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("time does not run backwards")
        with self._lock:
            self._now += seconds
            return self._now


class ScaledClock:
    """Simulated time that runs `speed` times faster than the wall clock from `start`."""

    def __init__(self, speed: float, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._wall0 = time.monotonic()
        self._sim0 = time.time() if start is None else start
        self._lock = threading.Lock()
        self._speed_changed = threading.Condition()

    def now(self) -> float:
        with self._lock:
            return self._sim0 + (time.monotonic() - self._wall0) * self.speed

    def set_speed(self, speed: float) -> None:
        """Run at `speed` from now on; simulated time carries on from where it is.

        Quiet stretches (warm-up, fault-free control) can run fast while the moments that are
        measured run slower, where a wall-clock millisecond of processing costs less
        simulated time.
        """
        if speed <= 0:
            raise ValueError("speed must be positive")
        with self._lock:
            wall = time.monotonic()
            self._sim0 += (wall - self._wall0) * self.speed
            self._wall0 = wall
            self.speed = speed
        with self._speed_changed:
            self._speed_changed.notify_all()  # sleepers re-plan at the new speed

    def sleep(self, seconds: float) -> None:
        """Until `seconds` of simulated time have passed, whatever the speed meanwhile (a
        sleeper at speed 1 must not oversleep once the clock runs 40 times faster)."""
        if seconds <= 0:
            time.sleep(0)
            return
        until = self.now() + seconds
        with self._speed_changed:
            while (left := until - self.now()) > 0:
                self._speed_changed.wait(left / self.speed)


def rfc3339(ts: float) -> str:
    """Format Unix seconds as the Kubernetes/Cloud timestamp `2026-01-01T00:00:00Z`."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
