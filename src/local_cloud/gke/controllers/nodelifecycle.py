"""Node lifecycle: a node whose kubelet stops posting status goes NotReady (Unknown), gets the
`unreachable` taints, its pods turn not ready, and after their toleration (300 s by default)
the taint manager evicts them so their ReplicaSets place them elsewhere."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from local_cloud.clock import rfc3339
from local_cloud.gke.controllers import Context
from local_cloud.gke.controllers.scheduler import tolerates
from local_cloud.gke.nodes import HEALTHY_CONDITIONS
from local_cloud.gke.objects import get_condition, is_terminating
from local_cloud.gke.store import NotFound

Obj = dict[str, Any]
GRACE_PERIOD = 40.0  # node-monitor-grace-period
UNREACHABLE = "node.kubernetes.io/unreachable"
COMPONENT = "node-controller"


class NodeLifecycleController:
    def __init__(self, ctx: Context, mark_pods_not_ready: Callable[[str], None]) -> None:
        self.ctx = ctx
        self._mark_pods_not_ready = mark_pods_not_ready

    def monitor(self, heartbeats: dict[str, float], now: float) -> list[tuple[float, str, str]]:
        """Check every node's last heartbeat as of `now`, the instant the heartbeats were read
        at (not the clock's now: on a fast clock, the time spent getting here would age every
        heartbeat at once); returns planned evictions (due, namespace, pod)."""
        evictions: list[tuple[float, str, str]] = []
        for node in self.ctx.view.list("nodes"):
            name = node["metadata"]["name"]
            beat = heartbeats.get(name)
            if beat is None:
                continue
            ready = (get_condition(node, "Ready") or {}).get("status")
            if now - beat > GRACE_PERIOD and ready == "True":
                self._lost(name, now)
                evictions.extend(self._plan_evictions(name, now))
            elif now - beat <= GRACE_PERIOD and ready != "True":
                self._recovered(name, now)
        return evictions

    def _lost(self, name: str, now: float) -> None:
        stamp = rfc3339(now)

        def change(node: Obj) -> None:
            for cond in node["status"].get("conditions") or []:
                cond.update(
                    status="Unknown", reason="NodeStatusUnknown",
                    message="Kubelet stopped posting node status.", lastTransitionTime=stamp,
                )  # fmt: skip
            taints = [t for t in node["spec"].get("taints") or [] if t.get("key") != UNREACHABLE]
            taints.append({"key": UNREACHABLE, "effect": "NoSchedule", "timeAdded": stamp})
            taints.append({"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": stamp})
            node["spec"]["taints"] = taints

        try:
            node = self.ctx.store.mutate("nodes", None, name, change)
        except NotFound:
            return
        self.ctx.recorder.record(
            node, "NodeNotReady", f"Node {name} status is now: NodeNotReady", component=COMPONENT
        )
        for pod in self.ctx.view.pods_on(name):
            self.ctx.recorder.record(
                pod, "NodeNotReady", "Node is not ready", type_="Warning", component=COMPONENT
            )
        self._mark_pods_not_ready(name)

    def _recovered(self, name: str, now: float) -> None:
        stamp = rfc3339(now)

        def change(node: Obj) -> None:
            for cond in node["status"].get("conditions") or []:
                for type_, status, reason, message in HEALTHY_CONDITIONS:
                    if cond.get("type") == type_:
                        cond.update(status=status, reason=reason, message=message,
                                    lastTransitionTime=stamp, lastHeartbeatTime=stamp)  # fmt: skip
            taints = [t for t in node["spec"].get("taints") or [] if t.get("key") != UNREACHABLE]
            if taints:
                node["spec"]["taints"] = taints
            else:
                node["spec"].pop("taints", None)

        try:
            node = self.ctx.store.mutate("nodes", None, name, change)
        except NotFound:
            return
        self.ctx.recorder.record(
            node, "NodeReady", f"Node {name} status is now: NodeReady", component=COMPONENT
        )

    def _plan_evictions(self, node: str, now: float) -> list[tuple[float, str, str]]:
        taint = {"key": UNREACHABLE, "effect": "NoExecute"}
        planned = []
        for pod in self.ctx.view.pods_on(node):
            tolerations = pod.get("spec", {}).get("tolerations") or []
            matching = [t for t in tolerations if tolerates([t], taint)]
            if matching and all(t.get("tolerationSeconds") is None for t in matching):
                continue  # tolerates the taint forever (DaemonSet pods)
            seconds = min((float(t["tolerationSeconds"]) for t in matching
                           if t.get("tolerationSeconds") is not None), default=0.0)  # fmt: skip
            planned.append(
                (now + max(0.0, seconds), pod["metadata"]["namespace"], pod["metadata"]["name"])
            )
        return planned

    def evict(self, namespace: str, name: str) -> None:
        """The taint manager's eviction, if the pod is still on a node tainted unreachable."""
        ctx = self.ctx
        pod = ctx.view.get("pods", namespace, name)
        if pod is None or is_terminating(pod):
            return
        node = ctx.view.get("nodes", None, pod.get("spec", {}).get("nodeName", ""))
        taints = (node or {}).get("spec", {}).get("taints") or []
        if not any(t.get("key") == UNREACHABLE and t.get("effect") == "NoExecute" for t in taints):
            return
        ctx.recorder.record(
            pod, "TaintManagerEviction", f"Marking for deletion Pod {namespace}/{name}",
            component="taint-eviction-controller",
        )  # fmt: skip
        ctx.delete_pod(namespace, name)

    def heartbeat(self, name: str) -> None:
        """The kubelet's periodic node status update (refreshes lastHeartbeatTime)."""
        stamp = rfc3339(self.ctx.now())
        node = self.ctx.view.get("nodes", None, name)
        if node is None or (get_condition(node, "Ready") or {}).get("status") != "True":
            return

        def change(obj: Obj) -> None:
            for cond in obj["status"].get("conditions") or []:
                cond["lastHeartbeatTime"] = stamp

        with contextlib.suppress(NotFound):
            self.ctx.store.mutate("nodes", None, name, change)
