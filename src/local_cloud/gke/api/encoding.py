"""Served form of stored objects, and a per-object JSON cache that keeps big lists fast.

Listing 5,000 pods must take well under 100 ms: each object is encoded once per
resourceVersion, lists are joined from the cached bytes, and the joined items of recent list
queries are kept until an object of that resource changes. Objects must therefore only be
changed through the store's methods (which is the store's contract anyway).
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from typing import Any

from local_cloud.gke.api.resources import stored_by_plural
from local_cloud.gke.api.tables import Ago, row_entry
from local_cloud.gke.store import ObjectStore, WatchEvent

Obj = dict[str, Any]
_MARKER = re.compile(rb'"\\u0001(\d+)\\u0001"')  # a placeholder cell, JSON-encoded


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

    def __init__(self, store: ObjectStore, lists: int = 64) -> None:
        self._cache: dict[tuple[str, str, str], tuple[str, bytes]] = {}
        self._rows: dict[tuple[str, str, str, str], tuple[str, list[bytes | Ago]]] = {}
        self._lock = threading.Lock()
        self._changed: dict[str, int] = {}  # resource → RV of its last change
        self._lists: OrderedDict[tuple[str, ...], tuple[int, bytes]] = OrderedDict()
        self._max_lists = lists
        store.add_listener(self._forget)

    def encode_row(self, plural: str, obj: Obj, include: str, now: float) -> bytes:
        """JSON of one Table row for a live object; rows are cached per version, ages are not."""
        meta = obj.get("metadata") or {}
        key = (plural, meta.get("namespace") or "", meta.get("name") or "", include)
        version = str(meta.get("resourceVersion"))
        hit = self._rows.get(key)
        if hit is None or hit[0] != version:
            entry = row_entry(plural, served(plural, obj), include)
            markers = [c for c in entry["cells"] if isinstance(c, Ago)]
            numbered = iter(range(len(markers)))
            entry["cells"] = [
                f"\x01{next(numbered)}\x01" if isinstance(c, Ago) else c for c in entry["cells"]
            ]
            pieces = _MARKER.split(dumps(entry))
            parts: list[bytes | Ago] = [
                markers[int(p)] if i % 2 else p for i, p in enumerate(pieces)
            ]
            with self._lock:
                self._rows[key] = (version, parts)
        else:
            parts = hit[1]
        return b"".join(p if isinstance(p, bytes) else dumps(p.render(now)) for p in parts)

    def cached_items(self, key: tuple[str, ...]) -> bytes | None:
        """The joined items of a list query, if no object of its resource changed since."""
        hit = self._lists.get(key)
        if hit is None or hit[0] != self._changed.get(key[0], 0):
            return None
        return hit[1]

    def remember_items(self, key: tuple[str, ...], items: bytes) -> None:
        with self._lock:
            self._lists[key] = (self._changed.get(key[0], 0), items)
            self._lists.move_to_end(key)
            while len(self._lists) > self._max_lists:
                self._lists.popitem(last=False)

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
        self._changed[event.resource] = event.resource_version
        if event.type == "DELETED":
            meta = event.object.get("metadata") or {}
            with self._lock:
                self._cache.pop(
                    (event.resource, meta.get("namespace") or "", meta.get("name") or ""), None
                )
