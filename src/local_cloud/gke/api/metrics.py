"""`metrics.k8s.io/v1beta1`, what `kubectl top` reads: PodMetrics and NodeMetrics computed from
the runtime's current usage (zero without a runtime), formatted as metrics-server does.
"""

from __future__ import annotations

from typing import Any

from local_cloud.clock import rfc3339
from local_cloud.gke.api.messages import Request, Response, json_response
from local_cloud.gke.api.selectors import object_filter
from local_cloud.gke.api.status import ApiError
from local_cloud.gke.runtime import ClusterRuntime, Usage
from local_cloud.gke.store import ObjectStore

Obj = dict[str, Any]
API_VERSION = "metrics.k8s.io/v1beta1"
WINDOW = "10.004s"


def _usage(usage: Usage) -> Obj:
    return {
        "cpu": f"{max(0, round(usage.cpu_cores * 1e9))}n",
        "memory": f"{max(0, usage.memory_bytes) // 1024}Ki",
    }


class MetricsApi:
    """Serves pod and node metrics lists and items."""

    def __init__(self, store: ObjectStore, runtime: ClusterRuntime | None) -> None:
        self.store = store
        self.runtime = runtime

    def _pod_metrics(self, pod: Obj, stamp: str) -> Obj:
        meta = pod["metadata"]
        usage: dict[str, Usage] = {}
        if self.runtime is not None:
            usage = self.runtime.pod_usage(meta.get("namespace", ""), meta["name"])
        names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
        return {
            "kind": "PodMetrics",
            "apiVersion": API_VERSION,
            "metadata": {
                "name": meta["name"],
                "namespace": meta.get("namespace"),
                "creationTimestamp": stamp,
                "labels": meta.get("labels") or {},
            },
            "timestamp": stamp,
            "window": WINDOW,
            "containers": [
                {"name": name, "usage": _usage(usage.get(str(name), Usage(0.0, 0)))}
                for name in names
            ],
        }

    def _node_metrics(self, node: Obj, stamp: str) -> Obj:
        meta = node["metadata"]
        usage = self.runtime.node_usage(meta["name"]) if self.runtime is not None else Usage(0.0, 0)
        return {
            "kind": "NodeMetrics",
            "apiVersion": API_VERSION,
            "metadata": {
                "name": meta["name"],
                "creationTimestamp": stamp,
                "labels": meta.get("labels") or {},
            },
            "timestamp": stamp,
            "window": WINDOW,
            "usage": _usage(usage),
        }

    def serve(self, request: Request, plural: str, namespace: str | None, name: str) -> Response:
        stamp = rfc3339(self.store.clock.now())
        predicate = object_filter(
            request.param("labelSelector"), request.param("fieldSelector"), plural
        )
        if plural == "pods":
            items, rv = self.store.list("pods", namespace, predicate)
            running = [p for p in items if (p.get("status") or {}).get("phase") == "Running"]
            objects = [
                self._pod_metrics(p, stamp)
                for p in running
                if not name or p["metadata"]["name"] == name
            ]
            kind = "PodMetrics"
        else:
            items, rv = self.store.list("nodes", None, predicate)
            objects = [
                self._node_metrics(n, stamp)
                for n in items
                if not name or n["metadata"]["name"] == name
            ]
            kind = "NodeMetrics"
        if name:
            if not objects:
                raise ApiError(
                    404,
                    "NotFound",
                    f'{plural}.metrics.k8s.io "{name}" not found',
                    {"name": name, "group": "metrics.k8s.io", "kind": plural},
                )
            return json_response(objects[0])
        return json_response(
            {
                "kind": kind + "List",
                "apiVersion": API_VERSION,
                "metadata": {"resourceVersion": str(rv)},
                "items": objects,
            }
        )
