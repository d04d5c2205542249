"""Kubernetes Events, recorded the way real components do: deduplicated, counted, expiring.

A repeat of the same (object, reason, message, source) within the dedup window bumps `count`
and `lastTimestamp` of the existing Event instead of creating a new one, as client-go's event
correlator does. Every recording is also handed to `on_event` (the telemetry's events log).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local_cloud.clock import rfc3339
from local_cloud.gke.store import NotFound, ObjectStore

Obj = dict[str, Any]
DEDUP_WINDOW = 600.0
EVENT_TTL = 3600.0


@dataclass
class _Seen:
    name: str
    namespace: str
    last: float


class EventRecorder:
    """Writes core/v1 Events for controllers, the scheduler and kubelets."""

    def __init__(
        self,
        store: ObjectStore,
        rng: random.Random,
        on_event: Callable[[Obj], None] | None = None,
    ) -> None:
        self.store = store
        self._rng = rng
        self._on_event = on_event
        self._seen: dict[tuple[str, ...], _Seen] = {}

    def record(
        self,
        obj: Obj,
        reason: str,
        message: str,
        *,
        type_: str = "Normal",
        component: str,
        host: str | None = None,
        field_path: str | None = None,
    ) -> Obj:
        """Record one occurrence of `reason` about `obj`; returns the stored Event."""
        now = self.store.clock.now()
        meta = obj.get("metadata", {})
        kind = obj.get("kind", "")
        namespace = meta.get("namespace") or "default"
        involved: Obj = {
            "apiVersion": obj.get("apiVersion", "v1"),
            "kind": kind,
            "name": meta.get("name", ""),
            "uid": meta.get("uid", ""),
        }
        if meta.get("namespace"):
            involved["namespace"] = meta["namespace"]
        if meta.get("resourceVersion"):
            involved["resourceVersion"] = meta["resourceVersion"]
        if field_path:
            involved["fieldPath"] = field_path
        key = (involved["uid"], kind, reason, message, component, field_path or "")
        seen = self._seen.get(key)
        event: Obj | None = None
        if seen is not None and now - seen.last < DEDUP_WINDOW:

            def bump(ev: Obj) -> None:
                ev["count"] = int(ev.get("count", 1)) + 1
                ev["lastTimestamp"] = rfc3339(now)

            try:
                event = self.store.mutate("events", seen.namespace, seen.name, bump)
                seen.last = now
            except NotFound:
                event = None
        if event is None:
            source: Obj = {"component": component}
            if host:
                source["host"] = host
            suffix = "".join(self._rng.choice("0123456789abcdef") for _ in range(16))
            event = self.store.create(
                "events",
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": f"{involved['name']}.{suffix}", "namespace": namespace},
                    "involvedObject": involved,
                    "reason": reason,
                    "message": message,
                    "type": type_,
                    "source": source,
                    "firstTimestamp": rfc3339(now),
                    "lastTimestamp": rfc3339(now),
                    "count": 1,
                    "reportingComponent": component,
                    "reportingInstance": host or "",
                },
            )
            self._seen[key] = _Seen(event["metadata"]["name"], namespace, now)
        if self._on_event is not None:
            self._on_event(event)
        return event

    def expire(self) -> int:
        """Delete Events not seen for an hour (the API server's default event TTL)."""
        now = self.store.clock.now()
        expired = [k for k, s in self._seen.items() if now - s.last >= EVENT_TTL]
        for key in expired:
            seen = self._seen.pop(key)
            with contextlib.suppress(NotFound):
                self.store.delete("events", seen.namespace, seen.name)
        return len(expired)
