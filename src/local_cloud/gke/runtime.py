"""What the API server needs from the running cluster, beyond the object store.

The HTTP layer (`local_cloud.gke.api`) serves objects from the `ObjectStore`; for the parts
of the API that are not objects (container logs, `metrics.k8s.io` usage) it asks the
cluster's runtime (`local_cloud.gke.cluster.Cluster`, which owns the controllers, kubelets
and workload model). A bare store with no runtime is still a working API server: logs are
empty, usage is zero, and pods are deleted at once instead of gracefully.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from local_cloud.clock import Clock
from local_cloud.gke.store import ObjectStore


@dataclass(frozen=True)
class LogLine:
    """One line a container wrote, with the (virtual) time it was written."""

    timestamp: float
    text: str
    stream: str = "stdout"


@dataclass(frozen=True)
class Usage:
    """Resource usage right now: CPU in cores, memory in bytes."""

    cpu_cores: float
    memory_bytes: int


class ClusterRuntime(Protocol):
    """The running cluster behind the API server."""

    store: ObjectStore
    clock: Clock

    def container_logs(
        self, namespace: str, pod: str, container: str, *, previous: bool = False
    ) -> list[LogLine]:
        """Lines of the current (or, with `previous`, the last terminated) container instance.

        Raises `KeyError` when the pod or container does not exist or, with `previous`, when
        there is no terminated instance (the API answers 400 as a real kubelet does).
        """
        ...

    def pod_usage(self, namespace: str, pod: str) -> dict[str, Usage]:
        """Usage per container of a running pod (empty when the pod is not running)."""
        ...

    def node_usage(self, node: str) -> Usage:
        """Usage of a whole node."""
        ...

    def graceful_delete(self, namespace: str, pod: str, grace_seconds: int) -> bool:
        """Begin graceful termination of a scheduled pod (sets deletionTimestamp, the kubelet
        stops its containers and removes it). Returns False when the pod should be removed
        at once by the caller instead (not scheduled, or grace 0)."""
        ...
