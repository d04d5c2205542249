"""Work due at a simulated time: a heap of keyed deadlines, where rescheduling a key replaces it."""

from __future__ import annotations

import heapq
import itertools

TimerKey = tuple[str, ...]


class Timers:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, TimerKey]] = []
        self._due: dict[TimerKey, float] = {}
        self._seq = itertools.count()

    def schedule(self, key: TimerKey, due: float) -> None:
        """Run `key` at `due` (replacing any earlier plan for it)."""
        self._due[key] = due
        heapq.heappush(self._heap, (due, next(self._seq), key))

    def cancel(self, key: TimerKey) -> None:
        self._due.pop(key, None)

    def next_due(self) -> float | None:
        while self._heap:
            due, _, key = self._heap[0]
            if self._due.get(key) == due:
                return due
            heapq.heappop(self._heap)
        return None

    def pop_due(self, now: float) -> list[TimerKey]:
        """Every key due at or before `now`, in time order."""
        out: list[TimerKey] = []
        while self._heap and self._heap[0][0] <= now:
            due, _, key = heapq.heappop(self._heap)
            if self._due.get(key) == due:
                del self._due[key]
                out.append(key)
        return out

    def __contains__(self, key: object) -> bool:
        return key in self._due

    def __len__(self) -> int:
        return len(self._due)
