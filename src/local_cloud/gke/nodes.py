"""Node objects shaped like GKE's: pool labels, capacity and allocatable, conditions, nodeInfo."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from local_cloud.clock import rfc3339

Obj = dict[str, Any]
KUBELET_VERSION = "v1.32.4-gke.1106006"  # as the API server reports
HEALTHY_CONDITIONS = (
    (
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
    ),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


@dataclass(frozen=True)
class NodeShape:
    """A machine type: capacity, and what the kubelet keeps back from pods."""

    machine_type: str
    cpu: int
    memory_gib: int
    reserved_cpu_m: int = 80
    reserved_memory_gib: float = 1.5
    max_pods: int = 110


@dataclass(frozen=True)
class NodePool:
    """A GKE node pool: a name, a machine shape, a size, and labels/taints for its nodes."""

    name: str
    shape: NodeShape
    size: int
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[Obj, ...] = ()
    spot: bool = False


def node_object(
    cluster: str, project: str, zone: str, pool: NodePool, index: int, now: float
) -> Obj:
    digest = hashlib.sha256(f"{cluster}/{pool.name}".encode()).hexdigest()[:8]
    suffix = hashlib.sha256(f"{cluster}/{pool.name}/{index}".encode()).hexdigest()[:4]
    name = f"gke-{cluster}-{pool.name}-{digest}-{suffix}"
    shape = pool.shape
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": shape.machine_type,
        "beta.kubernetes.io/os": "linux",
        "cloud.google.com/gke-boot-disk": "pd-balanced",
        "cloud.google.com/gke-container-runtime": "containerd",
        "cloud.google.com/gke-nodepool": pool.name,
        "cloud.google.com/gke-os-distribution": "cos",
        "cloud.google.com/machine-family": shape.machine_type.split("-", 1)[0],
        "failure-domain.beta.kubernetes.io/region": zone.rsplit("-", 1)[0],
        "failure-domain.beta.kubernetes.io/zone": zone,
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": shape.machine_type,
        "topology.kubernetes.io/region": zone.rsplit("-", 1)[0],
        "topology.kubernetes.io/zone": zone,
        **({"cloud.google.com/gke-spot": "true"} if pool.spot else {}),
        **pool.labels,
    }
    stamp = rfc3339(now)
    allocatable_cpu = f"{shape.cpu * 1000 - shape.reserved_cpu_m - 60 * shape.cpu}m"
    allocatable_mem = f"{int((shape.memory_gib - shape.reserved_memory_gib) * 1024 * 1024)}Ki"
    host_index = sum(ord(ch) for ch in name) % 200 + 2
    spec: Obj = {
        "podCIDR": f"10.64.{index}.0/24",
        "podCIDRs": [f"10.64.{index}.0/24"],
        "providerID": f"gce://{project}/{zone}/{name}",
    }
    if pool.taints:
        spec["taints"] = [dict(t) for t in pool.taints]
    machine = hashlib.sha256(name.encode()).hexdigest()
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {
                "container.googleapis.com/instance_id": str(int(machine[:15], 16)),
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": spec,
        "status": {
            "capacity": {
                "cpu": str(shape.cpu),
                "memory": f"{shape.memory_gib * 1024 * 1024}Ki",
                "pods": str(shape.max_pods),
                "ephemeral-storage": "98831908Ki",
            },
            "allocatable": {
                "cpu": allocatable_cpu,
                "memory": allocatable_mem,
                "pods": str(shape.max_pods),
                "ephemeral-storage": "47060071478",
            },
            "conditions": [
                {
                    "type": t,
                    "status": s,
                    "reason": r,
                    "message": m,
                    "lastHeartbeatTime": stamp,
                    "lastTransitionTime": stamp,
                }
                for t, s, r, m in HEALTHY_CONDITIONS
            ],
            "addresses": [
                {"type": "InternalIP", "address": f"10.128.0.{host_index}"},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": f"{machine[:8]}-{machine[8:12]}-{machine[12:16]}-{machine[16:20]}-{machine[20:32]}",
                "containerRuntimeVersion": "containerd://1.7.24",
                "kernelVersion": "6.1.112+",
                "kubeProxyVersion": KUBELET_VERSION,
                "kubeletVersion": KUBELET_VERSION,
                "machineID": machine[32:64],
                "operatingSystem": "linux",
                "osImage": "Container-Optimized OS from Google",
                "systemUUID": f"{machine[:8]}-{machine[8:12]}-{machine[12:16]}-{machine[16:20]}-{machine[40:52]}",
            },
        },
    }


def internal_ip(node: Obj) -> str:
    for address in node.get("status", {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return str(address.get("address"))
    return "10.128.0.2"
