"""Judging a workload's health from the cluster itself, the way an SRE would look at it.

The scenario runner uses this to decide when a fault's target has recovered and to draw the
signal; it reads the simulator's store and runtime directly (it is the composer's view, not
the product's: the product only sees telemetry and the Kubernetes API).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local_cloud.gke.cluster import Cluster
from local_cloud.gke.quantity import parse_quantity

Obj = dict[str, Any]


@dataclass(frozen=True)
class WorkloadHealth:
    """A snapshot of one Deployment (or node) for recovery checks and charts."""

    replicas: int
    ready: int
    crash_looping: int
    oom_kills: int
    restarts: int
    memory_utilisation: float  # highest share of its limit among running containers
    cpu_utilisation: float  # highest share of its limit among running containers
    node_ready: bool = True
    rolled_out: bool = True  # as `kubectl rollout status` judges it

    @property
    def all_ready(self) -> bool:
        """Every replica ready, none crash-looping, and no rollout half done: a fix that
        replaces pods (restart, undo) has recovered the workload only once it has landed."""
        return (
            self.replicas > 0
            and self.ready >= self.replicas
            and self.crash_looping == 0
            and self.rolled_out
        )


def _owned_by(pod: Obj, deployment: str) -> bool:
    for ref in pod.get("metadata", {}).get("ownerReferences", []):
        if ref.get("kind") == "ReplicaSet" and ref.get("name", "").rsplit("-", 1)[0] == deployment:
            return True
    return False


def _limit(container: Obj, resource: str) -> float:
    raw = container.get("resources", {}).get("limits", {}).get(resource)
    return float(parse_quantity(raw)) if raw else 0.0


def workload_health(cluster: Cluster, namespace: str, name: str) -> WorkloadHealth:
    """Health of Deployment `namespace/name` right now."""
    deployment = cluster.store.get("deployments", namespace, name)
    pods, _ = cluster.store.list(
        "pods",
        namespace,
        lambda p: _owned_by(p, name) and not p.get("metadata", {}).get("deletionTimestamp"),
    )
    ready = crash = ooms = restarts = 0
    mem = cpu = 0.0
    for pod in pods:
        status = pod.get("status", {})
        if any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions", [])
        ):
            ready += 1
        limits = {c["name"]: c for c in pod.get("spec", {}).get("containers", [])}
        for cs in status.get("containerStatuses", []):
            restarts += int(cs.get("restartCount", 0))
            waiting = cs.get("state", {}).get("waiting", {})
            if waiting.get("reason") == "CrashLoopBackOff":
                crash += 1
            last = cs.get("lastState", {}).get("terminated", {})
            if last.get("reason") == "OOMKilled":
                ooms += 1
        usage = cluster.pod_usage(namespace, pod["metadata"]["name"])
        for container, used in usage.items():
            spec = limits.get(container, {})
            mem_limit, cpu_limit = _limit(spec, "memory"), _limit(spec, "cpu")
            if mem_limit:
                mem = max(mem, used.memory_bytes / mem_limit)
            if cpu_limit:
                cpu = max(cpu, used.cpu_cores / cpu_limit)
    spec, state = deployment.get("spec", {}), deployment.get("status", {})
    replicas = int(spec.get("replicas", 0))
    rolled_out = (
        int(state.get("observedGeneration", 0))
        >= int(deployment.get("metadata", {}).get("generation", 0))
        and int(state.get("updatedReplicas", 0)) >= replicas
        and int(state.get("availableReplicas", 0)) >= replicas
        and int(state.get("replicas", 0)) <= replicas
    )
    return WorkloadHealth(
        replicas=replicas,
        rolled_out=rolled_out,
        ready=ready,
        crash_looping=crash,
        oom_kills=ooms,
        restarts=restarts,
        memory_utilisation=mem,
        cpu_utilisation=cpu,
    )


def node_ready(cluster: Cluster, node: str) -> bool:
    obj = cluster.store.get("nodes", None, node)
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in obj.get("status", {}).get("conditions", [])
    )


def busiest_node(cluster: Cluster, namespace: str = "shop") -> str:
    """The node running most of `namespace`'s pods: the most telling one to take down."""
    pods, _ = cluster.store.list("pods", namespace)
    counts: dict[str, int] = {}
    for pod in pods:
        node = pod.get("spec", {}).get("nodeName")
        if node:
            counts[node] = counts.get(node, 0) + 1
    if not counts:
        nodes, _ = cluster.store.list("nodes")
        return str(nodes[0]["metadata"]["name"])
    return max(sorted(counts), key=lambda n: counts[n])
