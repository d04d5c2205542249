"""Served form of stored objects, and a per-object JSON cache that keeps big lists fast.

Listing 5,000 pods must take well under 100 ms: each object is encoded once per
resourceVersion and lists are joined from the cached bytes.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from local_cloud.gke.api.resources import stored_by_plural
from local_cloud.gke.store import ObjectStore, WatchEvent

Obj = dict[str, Any]


def served(plural: str, obj: Obj) -> Obj:
    """The object as the API serves it: with `kind` and `apiVersion` (writers may omit them)."""
    if "kind" in obj and "apiVersion" in obj:
        return obj
    resource = stored_by_plural(plural)
    if resource is None:
        return obj
    return {"kind": resource.kind, "apiVersion": resource.api_version, **obj}


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class ObjectEncoder:
    """Encodes live store objects to JSON, caching by (resource, namespace, name, RV)."""

    def __init__(self, store: ObjectStore) -> None:
        self._cache: dict[tuple[str, str, str], tuple[str, bytes]] = {}
        self._lock = threading.Lock()
        store.add_listener(self._forget)

    def encode(self, plural: str, obj: Obj) -> bytes:
        """JSON of a live object; call it while holding the store lock."""
        meta = obj.get("metadata") or {}
        key = (plural, meta.get("namespace") or "", meta.get("name") or "")
        version = str(meta.get("resourceVersion"))
        hit = self._cache.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        data = dumps(served(plural, obj))
        with self._lock:
            self._cache[key] = (version, data)
        return data

    def _forget(self, event: WatchEvent) -> None:
        if event.type == "DELETED":
            meta = event.object.get("metadata") or {}
            with self._lock:
                self._cache.pop(
                    (event.resource, meta.get("namespace") or "", meta.get("name") or ""), None
                )
