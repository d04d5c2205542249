"""The kubelet's view of one pod: its container instances, their states, logs and counters.

This is runtime state that a real node keeps in its container runtime, not in the API; the
pod's `status` is rendered from it (`pod_status`) whenever something a client could see changes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from local_cloud.clock import rfc3339
from local_cloud.gke.objects import condition
from local_cloud.gke.runtime import LogLine
from local_cloud.gke.workload import Profile, Sample

Obj = dict[str, Any]
Phase = Literal["creating", "running", "backoff", "terminated"]
LOG_LINES_KEPT = 200
INITIAL_BACKOFF = 10.0
MAX_BACKOFF = 300.0
BACKOFF_RESET_AFTER = 600.0  # a container that ran this long restarts without back-off


@dataclass(frozen=True)
class Written:
    """A line as the logging agent ships it: when, which stream, severity and message."""

    timestamp: float
    stream: str
    severity: str
    message: str
    structured: bool


@dataclass
class ContainerState:
    """One container of a pod, across its restarts."""

    name: str
    image: str
    image_id: str
    profile: Profile
    cpu_limit: float | None
    memory_limit: int | None
    readiness_delay: float
    probe_period: float
    liveness_period: float = 0.0  # 0: no liveness probe
    liveness_threshold: int = 3
    liveness_target: str = ":8080/"  # port and path the probe calls
    liveness_kill: bool = False  # the planned exit is the kubelet killing it
    phase: Phase = "creating"
    start_at: float = 0.0  # when it (re)starts, while creating or backing off
    started_at: float | None = None
    ready: bool = False
    ready_at: float | None = None
    unready_at: float | None = None
    restart_count: int = 0
    backoff: float = 0.0
    last_terminated: Obj | None = None
    exit_at: float | None = None
    exit_reason: str = ""
    exit_code: int = 0
    container_id: str = ""
    instance: int = 0
    leak_since: float | None = None
    leak_rate: float = 0.0
    cpu_seconds: float = 0.0  # since this instance started (CUMULATIVE core_usage_time)
    requests_total: float = 0.0  # the process's own counters: reset when it restarts
    errors_total: float = 0.0
    last_sample: Sample | None = None
    next_unhealthy_event: float = 0.0
    terminated_state: Obj | None = None
    logs: deque[LogLine] = field(default_factory=lambda: deque(maxlen=LOG_LINES_KEPT))
    previous_logs: deque[LogLine] | None = None
    unshipped: list[Written] = field(default_factory=list)  # lines the logging agent has not sent

    def leaked(self, now: float) -> float:
        if self.leak_since is None or self.phase != "running":
            return 0.0
        return self.leak_rate * max(0.0, now - self.leak_since)

    def uptime(self, now: float) -> float:
        if self.phase != "running" or self.started_at is None:
            return 0.0
        return max(0.0, now - self.started_at)

    def next_due(self) -> float | None:
        candidates: list[float | None] = [self.exit_at, self.ready_at, self.unready_at]
        if self.phase in ("creating", "backoff"):
            candidates.append(self.start_at)
        if self.phase == "running" and self.unready_at is None and not self.ready:
            candidates.append(self.next_unhealthy_event or None)
        due = [c for c in candidates if c is not None]
        return min(due) if due else None

    def status(self, pod_name: str, namespace: str, uid: str) -> Obj:
        out: Obj = {
            "name": self.name,
            "image": self.image,
            "imageID": self.image_id if self.instance else "",
            "ready": self.ready,
            "restartCount": self.restart_count,
            "started": self.phase == "running",
        }
        if self.container_id:
            out["containerID"] = self.container_id
        if self.phase == "running" and self.started_at is not None:
            out["state"] = {"running": {"startedAt": rfc3339(self.started_at)}}
        elif self.phase == "creating":
            out["state"] = {"waiting": {"reason": "ContainerCreating"}}
        elif self.phase == "backoff":
            message = (
                f"back-off {int(self.backoff)}s restarting failed container={self.name} "
                f"pod={pod_name}_{namespace}({uid})"
            )
            out["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": message}}
        else:
            out["state"] = {"terminated": dict(self.terminated_state or {})}
        out["lastState"] = (
            {"terminated": dict(self.last_terminated)} if self.last_terminated else {}
        )
        return out


@dataclass
class PodState:
    """One pod bound to a node, as its kubelet runs it."""

    namespace: str
    name: str
    uid: str
    node: str
    workload: str | None  # the Deployment (or other top-level controller) that owns it
    controller_kind: str
    labels: dict[str, str]
    containers: list[ContainerState]
    admitted_at: float
    ip: str
    host_ip: str
    qos_class: str
    deleting: bool = False
    stop_at: float | None = None
    net_rx_bytes: float = 0.0
    net_tx_bytes: float = 0.0
    conditions: list[Obj] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    def container(self, name: str) -> ContainerState | None:
        return next((c for c in self.containers if c.name == name), None)

    def next_due(self) -> float | None:
        if self.deleting:
            return self.stop_at
        due = [d for d in (c.next_due() for c in self.containers) if d is not None]
        return min(due) if due else None


def pod_status(pod: PodState, now: float, *, node_ready: bool) -> Obj:
    """The pod's `status` as the kubelet reports it (or, for a dead node, as the node
    lifecycle controller leaves it: not ready)."""
    ready_names = [c.name for c in pod.containers if c.ready]
    unready = [c.name for c in pod.containers if not c.ready]
    all_ready = not unready and node_ready
    if all_ready:
        ready = condition("Ready", "True", now)
        containers_ready = condition("ContainersReady", "True", now)
    else:
        message = f"containers with unready status: [{' '.join(unready or ready_names)}]"
        reason = "ContainersNotReady" if unready else "NodeNotReady"
        ready = condition("Ready", "False", now, reason, message)
        containers_ready = condition("ContainersReady", "False", now, reason, message)
    wanted = [
        condition("PodReadyToStartContainers", "True", pod.admitted_at),
        condition("Initialized", "True", pod.admitted_at),
        ready,
        containers_ready,
        condition("PodScheduled", "True", pod.admitted_at),
    ]
    previous = {c["type"]: c for c in pod.conditions}
    for cond in wanted:
        old = previous.get(cond["type"])
        if old is not None and old["status"] == cond["status"]:
            cond["lastTransitionTime"] = old["lastTransitionTime"]
    pod.conditions = wanted
    started = any(c.instance > 0 for c in pod.containers)
    return {
        "phase": "Running" if started else "Pending",
        "conditions": wanted,
        "hostIP": pod.host_ip,
        "hostIPs": [{"ip": pod.host_ip}],
        "podIP": pod.ip,
        "podIPs": [{"ip": pod.ip}],
        "startTime": rfc3339(pod.admitted_at),
        "containerStatuses": [c.status(pod.name, pod.namespace, pod.uid) for c in pod.containers],
        "qosClass": pod.qos_class,
    }
