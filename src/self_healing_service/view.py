"""What the service knows about the cluster around an incident, as plain frozen data.

`diagnosis` fills it from the Kubernetes API; `decision` and `verification` read it only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MARKER = "gke-heal.io/remediation"  # annotation naming the last (incident/rung) applied


@dataclass(frozen=True)
class PodView:
    name: str
    uid: str
    phase: str
    ready: bool
    restarts: int
    node: str
    reason: str = ""
    terminating: bool = False
    cpu_limit_share: float | None = None  # CPU used / CPU limit, when metrics were read


@dataclass(frozen=True)
class WorkloadView:
    namespace: str
    name: str
    replicas: int
    ready: int
    available: int
    updated: int
    generation: int
    observed_generation: int
    annotations: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    template_annotations: dict[str, str] = field(default_factory=dict)
    revision: int = 0
    previous_revision: int | None = None
    revision_created_at: float | None = None
    paused: bool = False
    progress_deadline_exceeded: bool = False
    hpa_name: str | None = None
    hpa_max: int | None = None

    @property
    def rolled_out(self) -> bool:
        """As `kubectl rollout status` judges it."""
        return (
            self.observed_generation >= self.generation
            and self.updated == self.replicas
            and self.available == self.replicas
        )


@dataclass(frozen=True)
class NodeView:
    name: str
    ready: bool
    unschedulable: bool
    pool: str
    annotations: dict[str, str] = field(default_factory=dict)
    evictable_pods: tuple[str, ...] = ()  # ns/name of pods drain must move


@dataclass(frozen=True)
class ClusterView:
    """The incident's surroundings at `gathered_at`."""

    gathered_at: float
    workload: WorkloadView | None = None
    pods: tuple[PodView, ...] = ()
    node: NodeView | None = None
    pool_nodes: int = 0
    pool_unschedulable: int = 0
    cluster_nodes: int = 0  # for a node incident: every node of the cluster
    cluster_not_ready: int = 0  # ... and those of them that are not Ready
    events: tuple[str, ...] = ()
    logs: tuple[str, ...] = ()

    @property
    def live_pods(self) -> tuple[PodView, ...]:
        return tuple(p for p in self.pods if not p.terminating)

    def summary(self) -> dict[str, Any]:
        """The before/after state recorded in the audit log and notifications."""
        if self.node is not None:
            return {
                "node": self.node.name,
                "ready": self.node.ready,
                "unschedulable": self.node.unschedulable,
                "pods_to_move": len(self.node.evictable_pods),
            }
        if self.workload is None:
            return {"workload": "not found"}
        live = self.live_pods
        return {
            "ready": f"{sum(1 for p in live if p.ready)}/{self.workload.replicas}",
            "restarts": sum(p.restarts for p in live),
            "revision": self.workload.revision,
            "replicas": self.workload.replicas,
        }
