"""Garbage collector: objects whose owners are gone are deleted (background cascade), and pods
bound to nodes that no longer exist are removed, as the pod GC does."""

from __future__ import annotations

import contextlib
from typing import Any

from local_cloud.gke.controllers import Context
from local_cloud.gke.store import NotFound

Obj = dict[str, Any]
OWNED = ("replicasets", "pods")


class GarbageCollector:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> int:
        """Delete every orphan; returns how many deletions were started."""
        ctx = self.ctx
        started = 0
        for resource in OWNED:
            for obj in ctx.view.list(resource):
                refs = obj["metadata"].get("ownerReferences") or []
                if not refs or any(ctx.view.exists_uid(r.get("uid", "")) for r in refs):
                    continue
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                started += 1
                self._delete(resource, obj)
        nodes = {n["metadata"]["name"] for n in ctx.view.list("nodes")}
        for pod in ctx.view.list("pods"):
            node = pod.get("spec", {}).get("nodeName")
            if node and node not in nodes:
                started += 1
                self._remove(pod)
        return started

    def _delete(self, resource: str, obj: Obj) -> None:
        meta = obj["metadata"]
        if resource == "pods":
            self.ctx.delete_pod(meta["namespace"], meta["name"])
            return
        with contextlib.suppress(NotFound):
            self.ctx.store.delete(resource, meta.get("namespace"), meta["name"])

    def _remove(self, pod: Obj) -> None:
        with contextlib.suppress(NotFound):
            self.ctx.store.delete("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])
