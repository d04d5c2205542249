"""ReplicaSet controller: keeps the number of active pods equal to `spec.replicas`."""

from __future__ import annotations

import contextlib
from typing import Any

from local_cloud.gke.controllers import Context
from local_cloud.gke.objects import (
    is_active_pod,
    is_pod_ready,
    is_terminating,
    pod_from_template,
    safe_suffix,
)
from local_cloud.gke.store import AlreadyExists, NotFound

Obj = dict[str, Any]
BURST = 500  # pods created or deleted per sync, like the controller's burst replicas


def _deletion_rank(pod: Obj) -> tuple[int, int, int, str]:
    """Which pods go first on scale-down: unscheduled, pending, not ready, then the newest."""
    spec, status = pod.get("spec", {}), pod.get("status", {})
    created = pod["metadata"].get("creationTimestamp", "")
    return (
        0 if not spec.get("nodeName") else 1,
        0 if status.get("phase") == "Pending" else 1,
        1 if is_pod_ready(pod) else 0,
        "".join(chr(255 - ord(ch)) for ch in created),  # newest first
    )


class ReplicaSetController:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def sync(self, namespace: str, name: str) -> None:
        ctx = self.ctx
        rs = ctx.view.get("replicasets", namespace, name)
        if rs is None or is_terminating(rs):
            return
        desired = int(rs.get("spec", {}).get("replicas", 1))
        pods = [p for p in ctx.view.owned(rs["metadata"]["uid"], "pods") if is_active_pod(p)]
        if len(pods) < desired:
            self._create(rs, min(desired - len(pods), BURST))
        elif len(pods) > desired:
            for pod in sorted(pods, key=_deletion_rank)[: min(len(pods) - desired, BURST)]:
                ctx.delete_pod(namespace, pod["metadata"]["name"])
                ctx.recorder.record(
                    rs, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}",
                    component="replicaset-controller",
                )  # fmt: skip
        self._status(namespace, name)

    def _create(self, rs: Obj, count: int) -> None:
        ctx = self.ctx
        meta = rs["metadata"]
        for _ in range(count):
            for _attempt in range(5):
                pod_name = f"{meta['name']}-{safe_suffix(ctx.rng)}"
                pod = pod_from_template(
                    rs["spec"].get("template") or {}, namespace=meta["namespace"],
                    name=pod_name, owner=rs, now=ctx.now(),
                )  # fmt: skip
                try:
                    ctx.store.create("pods", pod)
                except AlreadyExists:
                    continue
                ctx.recorder.record(
                    rs, "SuccessfulCreate", f"Created pod: {pod_name}",
                    component="replicaset-controller",
                )  # fmt: skip
                break

    def _status(self, namespace: str, name: str) -> None:
        ctx = self.ctx
        rs = ctx.view.get("replicasets", namespace, name)
        if rs is None:
            return
        pods = [p for p in ctx.view.owned(rs["metadata"]["uid"], "pods") if is_active_pod(p)]
        ready = sum(1 for p in pods if is_pod_ready(p))
        status: Obj = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        if not ready:
            status.pop("readyReplicas")
            status.pop("availableReplicas")
        if not pods:
            status.pop("fullyLabeledReplicas")
            status["replicas"] = 0
        if rs.get("status") == status:
            return

        def change(obj: Obj) -> None:
            obj["status"] = status

        with contextlib.suppress(NotFound):
            ctx.store.mutate("replicasets", namespace, name, change)
