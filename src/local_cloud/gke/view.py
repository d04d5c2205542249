"""The controllers' cache of the store (an informer): current objects plus owner and node indexes.

The store calls `apply` synchronously for every change, under its lock, so controllers read
their own writes at once. Readers take snapshots (`list(...)`), which CPython builds without
letting another thread run, so the API threads may write while the cluster thread reads.
"""

from __future__ import annotations

import builtins
from typing import Any

from local_cloud.gke.store import WatchEvent

Obj = dict[str, Any]
Key = tuple[str, str]


def key_of(obj: Obj) -> Key:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


class ClusterView:
    """Read-only copies of every object, by resource, with the indexes controllers need."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[Key, Obj]] = {}
        self._children: dict[str, dict[tuple[str, Key], None]] = {}  # owner uid -> objects
        self._on_node: dict[str, dict[Key, None]] = {}
        self._uids: dict[str, tuple[str, Key]] = {}

    def apply(self, event: WatchEvent) -> None:
        obj = event.object
        key = key_of(obj)
        bucket = self.objects.setdefault(event.resource, {})
        old = bucket.get(key)
        if old is not None:
            self._unindex(event.resource, key, old)
        if event.type == "DELETED":
            bucket.pop(key, None)
            return
        bucket[key] = obj
        self._index(event.resource, key, obj)

    def _index(self, resource: str, key: Key, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        if meta.get("uid"):
            self._uids[meta["uid"]] = (resource, key)
        for ref in meta.get("ownerReferences") or []:
            self._children.setdefault(ref.get("uid", ""), {})[(resource, key)] = None
        if resource == "pods":
            node = (obj.get("spec") or {}).get("nodeName")
            if node:
                self._on_node.setdefault(node, {})[key] = None

    def _unindex(self, resource: str, key: Key, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        self._uids.pop(meta.get("uid", ""), None)
        for ref in meta.get("ownerReferences") or []:
            children = self._children.get(ref.get("uid", ""))
            if children is not None:
                children.pop((resource, key), None)
                if not children:
                    del self._children[ref.get("uid", "")]
        if resource == "pods":
            node = (obj.get("spec") or {}).get("nodeName")
            if node and node in self._on_node:
                self._on_node[node].pop(key, None)

    # -- reading -----------------------------------------------------------------------------
    def get(self, resource: str, namespace: str | None, name: str) -> Obj | None:
        return self.objects.get(resource, {}).get((namespace or "", name))

    def list(self, resource: str, namespace: str | None = None) -> builtins.list[Obj]:
        items = list(self.objects.get(resource, {}).items())
        return [o for (ns, _), o in sorted(items) if namespace is None or ns == namespace]

    def owned(self, uid: str, resource: str) -> builtins.list[Obj]:
        """Objects of `resource` whose ownerReferences name `uid`, in name order."""
        refs = sorted(self._children.get(uid, {}))
        bucket = self.objects.get(resource, {})
        return [bucket[k] for r, k in refs if r == resource and k in bucket]

    def children(self, uid: str) -> builtins.list[tuple[str, Key]]:
        return sorted(self._children.get(uid, {}))

    def pods_on(self, node: str) -> builtins.list[Obj]:
        keys = sorted(self._on_node.get(node, {}))
        bucket = self.objects.get("pods", {})
        return [bucket[k] for k in keys if k in bucket]

    def exists_uid(self, uid: str) -> bool:
        return uid in self._uids
