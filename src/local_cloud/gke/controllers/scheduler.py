"""The default scheduler: filter nodes (readiness, cordon, taints, selector, requests against
allocatable), score the rest (least allocated, spread replicas), bind, or explain why not.

An unschedulable pod gets `PodScheduled=False` with reason `Unschedulable` and a Warning
`FailedScheduling` event worded as the real scheduler words it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from local_cloud.gke.controllers import Context
from local_cloud.gke.objects import (
    condition,
    controller_of,
    get_condition,
    is_terminating,
    pod_requests,
    set_condition,
)
from local_cloud.gke.quantity import cpu_cores, memory_bytes
from local_cloud.gke.store import NotFound

Obj = dict[str, Any]
COMPONENT = "default-scheduler"


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    for t in tolerations:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        if t.get("operator") == "Exists":
            if not t.get("key") or t.get("key") == taint.get("key"):
                return True
        elif t.get("key") == taint.get("key") and t.get("value", "") == taint.get("value", ""):
            return True
    return False


def _untolerated(pod: Obj, node: Obj) -> Obj | None:
    tolerations = pod.get("spec", {}).get("tolerations") or []
    for taint in node.get("spec", {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            return dict(taint)
    return None


class Scheduler:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._requests: dict[str, tuple[float, int]] = {}  # pod uid -> requests (immutable)

    def _requests_of(self, pod: Obj) -> tuple[float, int]:
        uid = pod["metadata"].get("uid", "")
        found = self._requests.get(uid)
        if found is None:
            if len(self._requests) > 200_000:
                self._requests.clear()
            found = self._requests[uid] = pod_requests(pod)
        return found

    def schedule_pending(self) -> int:
        """Try every pending unbound pod once; returns how many are still unschedulable."""
        ctx = self.ctx
        pending = [
            p for p in ctx.view.list("pods")
            if not p.get("spec", {}).get("nodeName") and not is_terminating(p)
            and p.get("spec", {}).get("schedulerName", COMPONENT) == COMPONENT
        ]  # fmt: skip
        if not pending:
            return 0
        nodes = ctx.view.list("nodes")
        used: dict[str, list[float]] = {}
        owners: dict[str, Counter[str]] = {}
        for node in nodes:
            name = node["metadata"]["name"]
            cpu, mem = 0.0, 0.0
            counter: Counter[str] = Counter()
            for pod in ctx.view.pods_on(name):
                if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                    continue
                c, m = self._requests_of(pod)
                cpu, mem = cpu + c, mem + m
                ref = controller_of(pod)
                if ref:
                    counter[ref["uid"]] += 1
            allocatable = node.get("status", {}).get("allocatable") or {}
            used[name] = [
                cpu,
                mem,
                cpu_cores(allocatable.get("cpu")),
                memory_bytes(allocatable.get("memory")),
            ]
            owners[name] = counter
        failed = 0
        for pod in sorted(pending, key=lambda p: p["metadata"].get("creationTimestamp", "")):
            if not self._place(pod, nodes, used, owners):
                failed += 1
        return failed

    def _place(self, pod: Obj, nodes: list[Obj], used: dict[str, list[float]],
               owners: dict[str, Counter[str]]) -> bool:  # fmt: skip
        cpu, mem = self._requests_of(pod)
        selector = pod.get("spec", {}).get("nodeSelector") or {}
        reasons: Counter[str] = Counter()
        fits: list[tuple[float, str]] = []
        ref = controller_of(pod)
        for node in nodes:
            name = node["metadata"]["name"]
            labels = node["metadata"].get("labels") or {}
            if node.get("spec", {}).get("unschedulable"):
                reasons["node(s) were unschedulable"] += 1
                continue
            taint = _untolerated(pod, node)
            if taint is not None:
                value = f": {taint['value']}" if taint.get("value") else ""
                reasons[f"node(s) had untolerated taint {{{taint['key']}{value}}}"] += 1
                continue
            if any(labels.get(k) != v for k, v in selector.items()):
                reasons["node(s) didn't match Pod's node affinity/selector"] += 1
                continue
            free_cpu = used[name][2] - used[name][0]
            free_mem = used[name][3] - used[name][1]
            short = False
            if cpu > free_cpu + 1e-9:
                reasons["Insufficient cpu"] += 1
                short = True
            if mem > free_mem:
                reasons["Insufficient memory"] += 1
                short = True
            if short:
                continue
            total_cpu = max(used[name][2], 1e-9)
            total_mem = max(used[name][3], 1.0)
            share = ((used[name][0] + cpu) / total_cpu + (used[name][1] + mem) / total_mem) / 2
            spread = owners[name][ref["uid"]] if ref else 0
            fits.append((share + 0.25 * spread, name))
        if fits:
            _, chosen = min(fits)
            used[chosen][0] += cpu
            used[chosen][1] += mem
            if ref:
                owners[chosen][ref["uid"]] += 1
            self._bind(pod, chosen)
            return True
        self._unschedulable(pod, len(nodes), reasons)
        return False

    def _bind(self, pod: Obj, node: str) -> None:
        ctx = self.ctx
        now = ctx.now()
        meta = pod["metadata"]

        def change(obj: Obj) -> None:
            obj["spec"]["nodeName"] = node
            conditions = obj.setdefault("status", {}).setdefault("conditions", [])
            set_condition(conditions, condition("PodScheduled", "True", now))

        try:
            bound = ctx.store.mutate("pods", meta["namespace"], meta["name"], change)
        except NotFound:
            return
        ctx.recorder.record(
            bound, "Scheduled", f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}",
            component=COMPONENT,
        )  # fmt: skip

    def _unschedulable(self, pod: Obj, total: int, reasons: Counter[str]) -> None:
        ctx = self.ctx
        meta = pod["metadata"]
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        message = (
            f"0/{total} nodes are available: {detail}. preemption: 0/{total} nodes are available: "
            f"{total} Preemption is not helpful for scheduling."
            if total
            else "no nodes available to schedule pods"
        )
        current = get_condition(pod, "PodScheduled")
        if current is None or current.get("message") != message:

            def change(obj: Obj) -> None:
                conditions = obj.setdefault("status", {}).setdefault("conditions", [])
                set_condition(
                    conditions,
                    condition("PodScheduled", "False", ctx.now(), "Unschedulable", message),
                )

            try:
                pod = ctx.store.mutate("pods", meta["namespace"], meta["name"], change)
            except NotFound:
                return
        ctx.recorder.record(pod, "FailedScheduling", message, type_="Warning", component=COMPONENT)
