"""The cluster's event loop body: route store changes to the controllers and kubelets, run them
until nothing changes, and do the timed work (pod syncs, telemetry, heartbeats, evictions)."""

from __future__ import annotations

import contextlib
import gc
from typing import TYPE_CHECKING, Any

from local_cloud.gke.objects import controller_of, is_terminating
from local_cloud.gke.store import NotFound, WatchEvent
from local_cloud.gke.timers import TimerKey
from local_cloud.gke.view import key_of

if TYPE_CHECKING:
    from local_cloud.gke.cluster import Cluster

Obj = dict[str, Any]
MAX_ROUNDS = 200
BUDGET_DELAY = 1.0


def settle(cluster: Cluster) -> None:
    """Process queued changes and dirty controllers until the cluster is quiet."""
    c = cluster
    for _ in range(MAX_ROUNDS):
        busy = False
        while c._queue:
            dispatch(c, c._queue.popleft())
            busy = True
        if c._dirty_rs:
            keys, c._dirty_rs = sorted(c._dirty_rs), set()
            for ns, name in keys:
                c._replicasets.sync(ns, name)
            busy = True
        if c._dirty_deployments:
            keys, c._dirty_deployments = sorted(c._dirty_deployments), set()
            for ns, name in keys:
                due = c._deployments.sync(ns, name)
                if due is not None:
                    c._timers.schedule(("deployment", ns, name), due + 0.001)
            busy = True
        if c._need_gc:
            c._need_gc = False
            c._gc.collect()
            busy = True
        if c._need_schedule:
            c._need_schedule = False
            c._scheduler.schedule_pending()
            busy = True
        if not busy and not c._queue:
            break
    if c._dirty_pdb_namespaces and ("budgets",) not in c._timers:
        # Budgets follow pod readiness a moment later, as the disruption controller does.
        c._timers.schedule(("budgets",), c.clock.now() + BUDGET_DELAY)


def dispatch(c: Cluster, event: WatchEvent) -> None:
    obj, resource = event.object, event.resource
    key = key_of(obj)
    deleted = event.type == "DELETED"
    if resource == "pods":
        _pod(c, obj, key, deleted)
    elif resource == "replicasets":
        c._dirty_rs.add(key)
        owner = controller_of(obj)
        if owner and owner.get("kind") == "Deployment":
            c._dirty_deployments.add((key[0], owner["name"]))
        c._need_gc |= deleted
    elif resource == "deployments":
        c._dirty_deployments.add(key)
        c._need_gc |= deleted
        if c.faults.deployment_changed(obj, deleted):
            _refresh_workload(c, key)
    elif resource == "nodes":
        _node(c, obj, deleted)
    elif resource == "poddisruptionbudgets":
        c._dirty_pdb_namespaces.add(key[0])


def _pod(c: Cluster, obj: Obj, key: tuple[str, str], deleted: bool) -> None:
    owner = controller_of(obj)
    if owner and owner.get("kind") == "ReplicaSet":
        c._dirty_rs.add((key[0], owner["name"]))
    c._dirty_pdb_namespaces.add(key[0])
    node = obj.get("spec", {}).get("nodeName")
    if deleted:
        c._need_schedule = True
        kubelet = c.kubelets.get(c._pod_node.pop(key, ""))
        state = kubelet.pods.get(key) if kubelet else None
        if kubelet and state and state.uid == obj["metadata"].get("uid"):
            kubelet.forget(key)
            c.agent.forget(state.uid)
            c._timers.cancel(("pod", *key))
        return
    if not node:
        c._need_schedule |= not is_terminating(obj)
        return
    kubelet = c.kubelets.get(node)
    if kubelet is None or not kubelet.alive:
        return
    state = kubelet.pods.get(key)
    now = c.clock.now()
    if state is None or state.uid != obj["metadata"].get("uid"):
        if is_terminating(obj):  # deleted before its containers were ever started
            with contextlib.suppress(NotFound):
                c.store.delete("pods", key[0], key[1])
            return
        state = kubelet.admit(obj, c._workload_of(obj), now)
        c._pod_node[key] = node
        c._write_status(state, node_ready=True)
        _plan(c, key, state.next_due())
    elif is_terminating(obj) and not state.deleting:
        grace = float(obj["metadata"].get("deletionGracePeriodSeconds", 30))
        kubelet.begin_termination(state, grace, now)
        _plan(c, key, state.next_due())


def _plan(c: Cluster, key: tuple[str, str], due: float | None) -> None:
    if due is not None:
        c._timers.schedule(("pod", *key), due)


def _refresh_workload(c: Cluster, workload: tuple[str, str]) -> None:
    now = c.clock.now()
    for kubelet in c.kubelets.values():
        if not kubelet.alive:
            continue
        for key, state in list(kubelet.pods.items()):
            if (state.namespace, state.workload) == workload:
                kubelet.refresh(state, c._effect_of, now)
                _plan(c, key, now)


def _node(c: Cluster, obj: Obj, deleted: bool) -> None:
    name = obj["metadata"]["name"]
    c._need_schedule = True
    if deleted:
        c.kubelets.pop(name, None)
        c._need_gc = True
        c.faults.node_changed(obj, True)
        return
    kubelet = c.kubelets.get(name) or c._new_kubelet(obj)
    alive = c.faults.node_changed(obj, False)
    if alive is False:
        kubelet.alive = False
        c._died_at[name] = c.clock.now()
    elif alive is True:
        kubelet.alive = True
        c._died_at.pop(name, None)
        _resync_node(c, name)


def _resync_node(c: Cluster, node: str) -> None:
    """A kubelet came back: take up the pods bound to it meanwhile and finish deletions."""
    for pod in c.view.pods_on(node):
        _pod(c, pod, key_of(pod), False)
    kubelet = c.kubelets[node]
    now = c.clock.now()
    for key, state in list(kubelet.pods.items()):
        c._write_status(state, node_ready=True)
        _plan(c, key, now)


def run_timer(c: Cluster, key: TimerKey, now: float) -> None:
    kind = key[0]
    if kind == "pod":
        _sync_pod(c, (key[1], key[2]), now)
    elif kind == "telemetry":
        _telemetry(c, now)
        c._timers.schedule(key, now + c.telemetry_interval)
    elif kind == "nodes":
        beats = {
            name: (c._died_at.get(name, now) if not k.alive else now)
            for name, k in c.kubelets.items()
        }
        for due, ns, name in c._lifecycle.monitor(beats, now):
            c._timers.schedule(("evict", ns, name), due)
        c._timers.schedule(key, now + 5.0)
    elif kind == "evict":
        c._lifecycle.evict(key[1], key[2])
    elif kind == "node-status":
        for name, kubelet in sorted(c.kubelets.items()):
            if kubelet.alive:
                c._lifecycle.heartbeat(name)
        c._timers.schedule(key, now + c.node_status_interval)
    elif kind == "budgets":
        namespaces, c._dirty_pdb_namespaces = sorted(c._dirty_pdb_namespaces), set()
        for ns in namespaces:
            c._disruption.sync_namespace(ns)
    elif kind == "deployment":
        c._dirty_deployments.add((key[1], key[2]))
    elif kind == "scheduler":
        c._need_schedule = True
        c._timers.schedule(key, now + 30.0)
    elif kind == "gc":
        c._need_gc = True
        c._timers.schedule(key, now + 120.0)
    elif kind == "autoscaler":
        c._autoscaler.sync_all()
        c._timers.schedule(key, now + 15.0)
    elif kind == "events":
        c.recorder.expire()
        c._timers.schedule(key, now + 600.0)


def _sync_pod(c: Cluster, key: tuple[str, str], now: float) -> None:
    kubelet = c.kubelets.get(c._pod_node.get(key, ""))
    state = kubelet.pods.get(key) if kubelet else None
    if kubelet is None or state is None or not kubelet.alive:
        return  # a dead kubelet does nothing; its pods are taken up again when it returns
    changed = kubelet.sync(state, c._effect_of, now)
    if state.deleting and state.stop_at is not None and now >= state.stop_at and kubelet.alive:
        kubelet.forget(key)
        c._pod_node.pop(key, None)
        c.agent.forget(state.uid)
        with contextlib.suppress(NotFound):
            c.store.delete("pods", key[0], key[1])
        return
    if changed:
        c._write_status(state, node_ready=True)
    due = state.next_due()
    if due is not None and due <= now:  # safety net: never spin on one instant
        due = now + 1.0
    _plan(c, key, due)


def _telemetry(c: Cluster, now: float) -> None:
    # Collecting allocates tens of thousands of acyclic dicts at once; letting the cyclic GC
    # rescan them again and again while they are being built costs more than building them.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        collected = c.agent.collect(
            list(c.kubelets.values()), c.view.list("nodes"), now, c.telemetry_interval, c._effect_of
        )
    finally:
        if was_enabled:
            gc.enable()
    for key in collected.resync:
        c._timers.schedule(("pod", *key), now)
    c._pod_usage = collected.pod_usage
    c._node_usage = collected.node_usage
    logs = collected.logs + c._ship_events()
    if c.sink is not None:
        c.sink.publish_metrics(collected.metrics)
        c.sink.publish_logs(logs)
