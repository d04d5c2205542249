"""A small simulated cluster on a manual clock, and shortcuts for looking at it in tests."""

from __future__ import annotations

from typing import Any

from local_cloud.clock import ManualClock
from local_cloud.gke.cluster import Cluster
from local_cloud.gke.demo_cluster import Service, deployment
from local_cloud.gke.nodes import NodePool, NodeShape
from local_cloud.gke.telemetry import MemorySink

Obj = dict[str, Any]
NS = "shop"


class Sim:
    """A small cluster (one pool of three 4-core nodes) and shortcuts to look at it."""

    def __init__(self, seed: int = 11, nodes: int = 3) -> None:
        self.clock = ManualClock()
        self.sink = MemorySink()
        self.cluster = Cluster(clock=self.clock, seed=seed, sink=self.sink)
        self.store = self.cluster.store
        self.nodes = self.cluster.add_node_pool(
            NodePool("pool", NodeShape("e2-standard-4", 4, 16), nodes)
        )

    def deploy(self, name: str = "cart", replicas: int = 3, **kw: Any) -> Obj:
        service = Service(name, replicas, kw.pop("cpu", "200m"), kw.pop("cpu_limit", "500m"),
                          kw.pop("memory", "192Mi"), kw.pop("memory_limit", "384Mi"))  # fmt: skip
        obj = deployment(service, NS)
        for key, value in kw.items():
            obj["spec"][key] = value
        return self.cluster.apply("deployments", obj)

    def step(self, seconds: float) -> None:
        self.cluster.step(seconds)

    def pods(self, app: str | None = None) -> list[Obj]:
        pods = self.store.list("pods", NS)[0]
        return [p for p in pods if app is None or p["metadata"]["labels"].get("app") == app]

    def deployment(self, name: str) -> Obj:
        return self.store.get("deployments", NS, name)

    def replicasets(self, name: str) -> list[Obj]:
        return [
            rs
            for rs in self.store.list("replicasets", NS)[0]
            if rs["metadata"]["labels"].get("app") == name
        ]

    def events(self, reason: str | None = None) -> list[Obj]:
        events = self.store.list("events")[0]
        return [e for e in events if reason is None or e["reason"] == reason]

    def patch(self, resource: str, name: str, change: Any, ns: str | None = NS) -> Obj:
        obj = self.store.mutate(resource, ns, name, change)
        self.cluster.step(0)
        return obj

    def metrics(self, metric_type: str, **labels: str) -> list[Obj]:
        return [
            m for m in self.sink.metrics
            if m["metric"]["type"] == metric_type
            and all(m["resource"]["labels"].get(k) == v for k, v in labels.items())
        ]  # fmt: skip


def ready(pod: Obj) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", [])
    )


def value(series: Obj) -> float:
    v = series["points"][0]["value"]
    return float(v.get("doubleValue", v.get("int64Value", 0)))
