"""The clock the service reads and sleeps on; tests inject a faster or manual one."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Unix seconds."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


def wall_seconds(clock: Clock, seconds: float) -> float:
    """How long `seconds` of `clock`'s time last on the wall.

    A clock that runs faster than the wall (the local stack's simulated time) says so with a
    `speed` attribute; background loops divide their pauses by it so that, in simulated time,
    they run as often as they would in production.
    """
    speed = getattr(clock, "speed", 1.0)
    return seconds / speed if isinstance(speed, int | float) and speed > 0 else seconds
