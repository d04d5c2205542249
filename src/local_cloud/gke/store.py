"""The simulator's object store: Kubernetes objects with resourceVersions and ordered watch events.

Objects are plain JSON-shaped dicts, as the API serves them. One lock guards everything;
readers get deep copies so nobody mutates the store behind its back. Every change gets the
next cluster-wide resourceVersion and is appended to a bounded event history, from which
watches resume; asking for a version older than the history is `Gone` (HTTP 410).
"""

from __future__ import annotations

import copy
import itertools
import queue
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from local_cloud.clock import Clock, RealClock, rfc3339

Obj = dict[str, Any]
EventType = Literal["ADDED", "MODIFIED", "DELETED"]


class StoreError(Exception):
    """Base of the store's errors; `code` and `reason` map onto a Kubernetes Status."""

    code = 500
    reason = "InternalError"


class NotFound(StoreError):
    code = 404
    reason = "NotFound"


class AlreadyExists(StoreError):
    code = 409
    reason = "AlreadyExists"


class Conflict(StoreError):
    code = 409
    reason = "Conflict"


class Gone(StoreError):
    code = 410
    reason = "Expired"


class Invalid(StoreError):
    code = 422
    reason = "Invalid"


@dataclass(frozen=True)
class WatchEvent:
    """One change to one object, in the order the store made it."""

    type: EventType
    resource: str
    object: Obj
    resource_version: int


@dataclass
class Watcher:
    """A subscription to changes of one resource (optionally one namespace)."""

    resource: str
    namespace: str | None
    events: queue.Queue[WatchEvent] = field(default_factory=queue.Queue)
    closed: bool = False

    def matches(self, event: WatchEvent) -> bool:
        if event.resource != self.resource:
            return False
        if self.namespace is None:
            return True
        return bool(event.object.get("metadata", {}).get("namespace") == self.namespace)


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


class ObjectStore:
    """Thread-safe store of every object in the simulated cluster, by resource plural."""

    def __init__(self, clock: Clock | None = None, history: int = 20_000) -> None:
        self.clock: Clock = clock or RealClock()
        self._lock = threading.RLock()
        self._objects: dict[str, dict[tuple[str, str], Obj]] = {}
        self._rv = itertools.count(1)
        self._current_rv = 0
        self._history: deque[WatchEvent] = deque(maxlen=history)
        self._watchers: list[Watcher] = []
        self._listeners: list[Callable[[WatchEvent], None]] = []

    # -- reading -------------------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        with self._lock:
            return self._current_rv

    def get(self, resource: str, namespace: str | None, name: str) -> Obj:
        with self._lock:
            obj = self._objects.get(resource, {}).get((namespace or "", name))
            if obj is None:
                raise NotFound(f'{resource} "{name}" not found')
            return copy.deepcopy(obj)

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        predicate: Callable[[Obj], bool] | None = None,
    ) -> tuple[list[Obj], int]:
        """Objects of `resource` (in `namespace` if given) passing `predicate`, and the list's RV."""
        with self._lock:
            items = [
                copy.deepcopy(obj)
                for (ns, _), obj in sorted(self._objects.get(resource, {}).items())
                if (namespace is None or ns == namespace) and (predicate is None or predicate(obj))
            ]
            return items, self._current_rv

    def peek(self, resource: str) -> Iterable[Obj]:
        """Live objects without copying, for hot read-only loops; hold `locked()` while iterating."""
        return list(self._objects.get(resource, {}).values())

    def locked(self) -> threading.RLock:
        return self._lock

    # -- writing -------------------------------------------------------------------------
    def create(self, resource: str, obj: Obj) -> Obj:
        with self._lock:
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            if not meta.get("name"):
                prefix = meta.get("generateName")
                if not prefix:
                    raise Invalid("metadata.name: Required value: name or generateName is required")
                meta["name"] = prefix + uuid.uuid4().hex[:5]
            bucket = self._objects.setdefault(resource, {})
            key = _key(obj)
            if key in bucket:
                raise AlreadyExists(f'{resource} "{key[1]}" already exists')
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", rfc3339(self.clock.now()))
            meta.setdefault("generation", 1)
            meta["resourceVersion"] = str(self._bump())
            bucket[key] = obj
            self._emit("ADDED", resource, obj)
            return copy.deepcopy(obj)

    def update(self, resource: str, obj: Obj, *, check_version: bool = True) -> Obj:
        """Replace an object; with `check_version`, a stale resourceVersion is a `Conflict`."""
        with self._lock:
            obj = copy.deepcopy(obj)
            key = _key(obj)
            bucket = self._objects.get(resource, {})
            current = bucket.get(key)
            if current is None:
                raise NotFound(f'{resource} "{key[1]}" not found')
            sent_rv = obj.get("metadata", {}).get("resourceVersion")
            if check_version and sent_rv and sent_rv != current["metadata"]["resourceVersion"]:
                raise Conflict(
                    f'Operation cannot be fulfilled on {resource} "{key[1]}": the object has been '
                    "modified; please apply your changes to the latest version and try again"
                )
            meta = obj["metadata"]
            for immutable in ("uid", "creationTimestamp"):
                meta[immutable] = current["metadata"].get(immutable)
            if obj.get("spec") != current.get("spec"):
                meta["generation"] = int(current["metadata"].get("generation", 1)) + 1
            else:
                meta["generation"] = current["metadata"].get("generation", 1)
            if obj == current:
                return copy.deepcopy(current)
            meta["resourceVersion"] = str(self._bump())
            bucket[key] = obj
            self._emit("MODIFIED", resource, obj)
            return copy.deepcopy(obj)

    def mutate(
        self, resource: str, namespace: str | None, name: str, change: Callable[[Obj], None]
    ) -> Obj:
        """Atomically read, change in place (by `change`) and write back one object."""
        with self._lock:
            obj = self.get(resource, namespace, name)
            change(obj)
            return self.update(resource, obj, check_version=False)

    def delete(self, resource: str, namespace: str | None, name: str) -> Obj:
        with self._lock:
            bucket = self._objects.get(resource, {})
            obj = bucket.pop((namespace or "", name), None)
            if obj is None:
                raise NotFound(f'{resource} "{name}" not found')
            obj["metadata"]["resourceVersion"] = str(self._bump())
            self._emit("DELETED", resource, obj)
            return copy.deepcopy(obj)

    # -- watching ------------------------------------------------------------------------
    def watch(self, resource: str, namespace: str | None, since: int | None) -> Watcher:
        """Subscribe to changes after resourceVersion `since` (None or 0: from now on)."""
        with self._lock:
            watcher = Watcher(resource, namespace)
            if since:
                oldest = (
                    self._history[0].resource_version if self._history else self._current_rv + 1
                )
                if since < oldest - 1 and since < self._current_rv:
                    raise Gone(f"too old resource version: {since} ({oldest - 1})")
                for event in self._history:
                    if event.resource_version > since and watcher.matches(event):
                        watcher.events.put(event)
            self._watchers.append(watcher)
            return watcher

    def stop_watch(self, watcher: Watcher) -> None:
        with self._lock:
            watcher.closed = True
            if watcher in self._watchers:
                self._watchers.remove(watcher)

    def add_listener(self, listener: Callable[[WatchEvent], None]) -> None:
        """Call `listener` synchronously (under the lock) for every change: for controllers."""
        with self._lock:
            self._listeners.append(listener)

    # -- internals -----------------------------------------------------------------------
    def _bump(self) -> int:
        self._current_rv = next(self._rv)
        return self._current_rv

    def _emit(self, type_: EventType, resource: str, obj: Obj) -> None:
        event = WatchEvent(type_, resource, copy.deepcopy(obj), self._current_rv)
        self._history.append(event)
        for watcher in self._watchers:
            if watcher.matches(event):
                watcher.events.put(event)
        for listener in self._listeners:
            listener(event)
