"""The default demo cluster: three node pools and a small online shop in namespace `shop`.

Every deployment has requests and limits, readiness and liveness probes, and a Service; the
customer-facing ones have a PodDisruptionBudget. Images are named after behaviour profiles
(`workload.PROFILES`), so each service behaves like what it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local_cloud.gke.cluster import Cluster
from local_cloud.gke.nodes import NodePool, NodeShape
from local_cloud.gke.objects import default_pod_spec

Obj = dict[str, Any]
NAMESPACE = "shop"
REGISTRY = "us-docker.pkg.dev/gke-heal-demo/shop"

POOLS = (
    NodePool("default-pool", NodeShape("e2-standard-4", 4, 16), 3),
    NodePool(
        "highmem-pool", NodeShape("e2-highmem-4", 4, 32), 2,
        labels={"workload-class": "memory"},
        taints=({"key": "workload-class", "value": "memory", "effect": "NoSchedule"},),
    ),
    NodePool(
        "spot-pool", NodeShape("e2-standard-2", 2, 8), 2, spot=True,
        taints=({"key": "cloud.google.com/gke-spot", "value": "true", "effect": "NoSchedule"},),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Service:
    """One shop service: its size, resources, placement and disruption budget."""

    name: str
    replicas: int
    cpu: str
    cpu_limit: str
    memory: str
    memory_limit: str
    version: str = "1.4.2"
    pool: str | None = None  # a tainted pool it tolerates and is pinned to
    min_available: int | str | None = None
    port: int = 8080


SHOP = (
    Service("frontend", 3, "200m", "500m", "192Mi", "384Mi", min_available=2),
    Service("cart", 3, "150m", "400m", "192Mi", "384Mi", min_available=2),
    Service("checkout", 2, "150m", "500m", "256Mi", "512Mi", min_available=1),
    Service("payment", 2, "100m", "300m", "160Mi", "320Mi", min_available=1),
    Service("catalogue", 3, "150m", "400m", "256Mi", "512Mi", min_available="50%"),
    Service("recommendation", 2, "200m", "500m", "384Mi", "768Mi"),
    Service("search", 2, "150m", "500m", "384Mi", "768Mi"),
    Service("shipping", 2, "50m", "200m", "128Mi", "256Mi"),
    Service("email", 1, "50m", "200m", "128Mi", "256Mi"),
    Service("ad", 2, "100m", "300m", "128Mi", "256Mi"),
    Service(
        "redis-cache", 1, "250m", "1", "1Gi", "2Gi", version="7.2.4", pool="highmem", port=6379
    ),
    Service("queue-worker", 2, "250m", "750m", "256Mi", "512Mi", pool="spot"),
)


def namespace(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def _placement(service: Service) -> Obj:
    if service.pool == "highmem":
        return {
            "nodeSelector": {"workload-class": "memory"},
            "tolerations": [{"key": "workload-class", "operator": "Equal", "value": "memory",
                             "effect": "NoSchedule"}],
        }  # fmt: skip
    if service.pool == "spot":
        return {
            "nodeSelector": {"cloud.google.com/gke-spot": "true"},
            "tolerations": [{"key": "cloud.google.com/gke-spot", "operator": "Equal",
                             "value": "true", "effect": "NoSchedule"}],
        }  # fmt: skip
    return {}


def deployment(service: Service, ns: str = NAMESPACE) -> Obj:
    labels = {"app": service.name, "app.kubernetes.io/part-of": "shop"}
    probe_port = {"port": service.port}
    http = service.port != 6379
    readiness = (
        {"httpGet": {"path": "/healthz/ready", **probe_port}} if http else {"tcpSocket": probe_port}
    )
    liveness = (
        {"httpGet": {"path": "/healthz/live", **probe_port}} if http else {"tcpSocket": probe_port}
    )
    pod_spec: Obj = {
        "containers": [{
            "name": service.name,
            "image": f"{REGISTRY}/{service.name}:{service.version}",
            "ports": [{"name": "http" if http else "redis", "containerPort": service.port}],
            "env": [{"name": "SERVICE_NAME", "value": service.name}],
            "resources": {
                "requests": {"cpu": service.cpu, "memory": service.memory},
                "limits": {"cpu": service.cpu_limit, "memory": service.memory_limit},
            },
            "readinessProbe": {**readiness, "initialDelaySeconds": 5, "periodSeconds": 10},
            "livenessProbe": {**liveness, "initialDelaySeconds": 15, "periodSeconds": 20},
        }],
        **_placement(service),
    }  # fmt: skip
    default_pod_spec(pod_spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service.name, "namespace": ns, "labels": labels},
        "spec": {
            "replicas": service.replicas,
            "selector": {"matchLabels": {"app": service.name}},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
    }  # fmt: skip


def service_object(service: Service, ns: str = NAMESPACE) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service.name, "namespace": ns, "labels": {"app": service.name}},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": service.name},
            "ports": [{"name": "main", "port": 80 if service.port == 8080 else service.port,
                       "targetPort": service.port, "protocol": "TCP"}],
            "sessionAffinity": "None",
        },
        "status": {"loadBalancer": {}},
    }  # fmt: skip


def disruption_budget(service: Service, ns: str = NAMESPACE) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": f"{service.name}-pdb", "namespace": ns},
        "spec": {
            "minAvailable": service.min_available,
            "selector": {"matchLabels": {"app": service.name}},
        },
    }


def kube_dns() -> Obj:
    obj = deployment(
        Service("kube-dns", 2, "100m", "300m", "70Mi", "170Mi", version="1.11.1"), "kube-system"
    )
    obj["metadata"]["labels"] = {"k8s-app": "kube-dns"}
    obj["spec"]["selector"] = {"matchLabels": {"k8s-app": "kube-dns"}}
    obj["spec"]["template"]["metadata"]["labels"] = {"k8s-app": "kube-dns"}
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = "gke.gcr.io/kube-dns:1.11.1"
    obj["spec"]["template"]["spec"]["priorityClassName"] = "system-cluster-critical"
    return obj


def build_demo(cluster: Cluster, *, scale: int = 1) -> None:
    """Create the demo's node pools, namespaces, deployments, services and PDBs in `cluster`.

    `scale` multiplies pool sizes and replica counts (for load tests)."""
    for pool in POOLS:
        cluster.add_node_pool(
            NodePool(pool.name, pool.shape, pool.size * scale, pool.labels, pool.taints, pool.spot)
        )
    for name in ("default", "kube-system", "kube-public", "kube-node-lease", NAMESPACE):
        cluster.apply("namespaces", namespace(name))
    cluster.apply("deployments", kube_dns())
    for service in SHOP:
        obj = deployment(service)
        obj["spec"]["replicas"] = service.replicas * scale
        cluster.apply("deployments", obj)
        cluster.apply("services", service_object(service))
        if service.min_available is not None:
            cluster.apply("poddisruptionbudgets", disruption_budget(service))
