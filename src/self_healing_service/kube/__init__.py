"""The Kubernetes boundary: the only package that imports the `kubernetes` client.

Here only the interface (`ClusterApi`) and the errors; `kube.gateway` holds the client.
Errors carry the retry intent in their type: temporary (retried, then escalated) or permanent.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

Json = dict[str, Any]
Eviction = Literal["evicted", "blocked", "gone"]


class KubeError(Exception):
    """A Kubernetes API call failed; `status` is the HTTP status (0 for no response)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class TemporaryKubeError(KubeError):
    """Still failing after retries with back-off (5xx, timeouts, conflicts)."""


class PermanentKubeError(KubeError):
    """Retrying cannot help (403, 404, 422, ...)."""


class ClusterApi(Protocol):
    """What the service reads and changes, as raw JSON objects."""

    def read_deployment(self, namespace: str, name: str) -> Json | None: ...
    def list_replicasets(self, namespace: str, selector: str) -> list[Json]: ...
    def list_pods(
        self, namespace: str = "", selector: str = "", field_selector: str = ""
    ) -> list[Json]: ...
    def list_events(self, namespace: str, field_selector: str = "") -> list[Json]: ...
    def pod_log(self, namespace: str, pod: str, tail: int = 20, previous: bool = False) -> str:
        """The last `tail` lines; `previous`: of the container's last terminated run (what
        `kubectl logs --previous` shows of a crash); "" when there is none."""
        ...

    def list_hpas(self, namespace: str) -> list[Json]: ...
    def list_pod_metrics(self, namespace: str, selector: str) -> list[Json] | None:
        """`metrics.k8s.io` PodMetrics (what `kubectl top pods` reads); None without a
        metrics server."""
        ...

    def read_node(self, name: str) -> Json | None: ...
    def list_nodes(self, selector: str = "") -> list[Json]: ...
    def patch_deployment(
        self, namespace: str, name: str, body: Json | list[Json], dry_run: bool
    ) -> Json: ...
    def delete_pod(self, namespace: str, name: str, uid: str, dry_run: bool) -> None: ...
    def evict_pod(self, namespace: str, name: str, dry_run: bool) -> Eviction: ...
    def patch_node(self, name: str, body: Json, dry_run: bool) -> Json: ...
