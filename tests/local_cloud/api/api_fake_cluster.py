"""A tiny test-only cluster behind the API server: a reconcile loop (Deployment → ReplicaSet →
Pod, scheduling, pods Running and Ready) and a `ClusterRuntime` with known logs and usage.

It is deliberately small: it exists so that kubectl's rollout, drain and delete flows have a
cluster to talk to. The real behaviour lives in `local_cloud.gke.controllers`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import uuid
from typing import Any

from local_cloud.clock import Clock, rfc3339
from local_cloud.gke.runtime import LogLine, Usage
from local_cloud.gke.store import NotFound, ObjectStore

Obj = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"


def node(name: str, now: str) -> Obj:
    """A schema-complete Node (the Python client insists on every NodeSystemInfo field)."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "cloud.google.com/gke-nodepool": "default-pool",
            },
        },
        "spec": {"podCIDR": "10.4.0.0/24", "providerID": f"gce://demo/europe-west1-b/{name}"},
        "status": {
            "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
            "allocatable": {"cpu": "3920m", "memory": "14Gi", "pods": "110"},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
            ],
            "addresses": [
                {"type": "InternalIP", "address": "10.132.0.2"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "machineID": "m" * 32,
                "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
                "bootID": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
                "kernelVersion": "6.1.100+",
                "osImage": "Container-Optimized OS from Google",
                "containerRuntimeVersion": "containerd://1.7.24",
                "kubeletVersion": "v1.32.4-gke.1106006",
                "kubeProxyVersion": "v1.32.4-gke.1106006",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


def _template_hash(template: Obj) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


class FakeCluster:
    """Reconciles the store every few milliseconds in a background thread; also the runtime."""

    def __init__(self, store: ObjectStore, nodes: int = 2, grace_scale: float = 0.02) -> None:
        self.store = store
        self.clock: Clock = store.clock
        self.grace_scale = grace_scale  # real seconds per grace-period second
        self.logs: dict[tuple[str, str, str], list[str]] = {}
        self.previous_logs: dict[tuple[str, str, str], list[str]] = {}
        self.usage = Usage(0.25, 64 * 1024 * 1024)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ip = 10
        self._log_start = self.clock.now() - 60  # stable timestamps, as a real log has
        now = rfc3339(self.clock.now())
        for index in range(nodes):
            with contextlib.suppress(Exception):
                store.create("nodes", node(f"node-{index + 1}", now))

    # -- ClusterRuntime ------------------------------------------------------------------
    def container_logs(
        self, namespace: str, pod: str, container: str, *, previous: bool = False
    ) -> list[LogLine]:
        source = self.previous_logs if previous else self.logs
        key = (namespace, pod, container)
        if previous and key not in source:
            raise KeyError(key)
        return [LogLine(self._log_start + i, text) for i, text in enumerate(source.get(key, []))]

    def pod_usage(self, namespace: str, pod: str) -> dict[str, Usage]:
        obj = self.store.get("pods", namespace, pod)
        return {c["name"]: self.usage for c in obj["spec"]["containers"]}

    def node_usage(self, node: str) -> Usage:
        return Usage(1.5, 6 * 1024**3)

    def graceful_delete(self, namespace: str, pod: str, grace_seconds: int) -> bool:
        def mark(obj: Obj) -> None:
            obj["metadata"]["deletionTimestamp"] = rfc3339(self.clock.now() + grace_seconds)
            obj["metadata"]["deletionGracePeriodSeconds"] = grace_seconds

        self.store.mutate("pods", namespace, pod, mark)

        def finish() -> None:
            with contextlib.suppress(NotFound):
                self.store.delete("pods", namespace, pod)

        timer = threading.Timer(max(0.05, grace_seconds * self.grace_scale), finish)
        timer.daemon = True
        timer.start()
        return True

    # -- reconcile loop ------------------------------------------------------------------
    def start(self) -> FakeCluster:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(0.03):
            with contextlib.suppress(NotFound):
                self.reconcile()

    def reconcile(self) -> None:
        for deployment in self.store.list("deployments")[0]:
            if not deployment["metadata"].get("deletionTimestamp"):  # as real controllers do
                self._deployment(deployment)
        for replicaset in self.store.list("replicasets")[0]:
            if not replicaset["metadata"].get("deletionTimestamp"):
                self._replicaset(replicaset)
        for pod in self.store.list("pods")[0]:
            if not pod["spec"].get("nodeName") and not pod["metadata"].get("deletionTimestamp"):
                self._start_pod(pod)

    def _owned(self, resource: str, owner: Obj) -> list[Obj]:
        uid = owner["metadata"]["uid"]
        items, _ = self.store.list(
            resource,
            owner["metadata"]["namespace"],
            lambda o: any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or []),
        )
        return items

    def _owner_ref(self, owner: Obj) -> Obj:
        return {
            "apiVersion": owner["apiVersion"],
            "kind": owner["kind"],
            "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def _deployment(self, deployment: Obj) -> None:
        ns, name = deployment["metadata"]["namespace"], deployment["metadata"]["name"]
        template = deployment["spec"]["template"]
        wanted_hash = _template_hash(template)
        owned = self._owned("replicasets", deployment)
        revisions = [int(rs["metadata"].get("annotations", {}).get(REVISION, "0")) for rs in owned]
        current = next(
            (
                rs
                for rs in owned
                if rs["metadata"]["labels"].get("pod-template-hash") == wanted_hash
            ),
            None,
        )
        top = max(revisions, default=0)
        if current is None:
            labels = {
                **(template["metadata"].get("labels") or {}),
                "pod-template-hash": wanted_hash,
            }
            rs_template = json.loads(json.dumps(template))
            rs_template["metadata"]["labels"] = labels
            current = self.store.create(
                "replicasets",
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": f"{name}-{wanted_hash}",
                        "namespace": ns,
                        "labels": labels,
                        "annotations": {REVISION: str(top + 1)},
                        "ownerReferences": [self._owner_ref(deployment)],
                    },
                    "spec": {
                        "replicas": deployment["spec"]["replicas"],
                        "selector": {"matchLabels": labels},
                        "template": rs_template,
                    },
                },
            )
        elif int(current["metadata"]["annotations"].get(REVISION, "0")) < top:

            def bump(rs: Obj) -> None:
                rs["metadata"]["annotations"][REVISION] = str(top + 1)

            current = self.store.mutate("replicasets", ns, current["metadata"]["name"], bump)
        for rs in self._owned("replicasets", deployment):
            want = (
                deployment["spec"]["replicas"]
                if rs["metadata"]["uid"] == current["metadata"]["uid"]
                else 0
            )
            if rs["spec"]["replicas"] != want:

                def scale(obj: Obj, want: int = want) -> None:
                    obj["spec"]["replicas"] = want

                self.store.mutate("replicasets", ns, rs["metadata"]["name"], scale)
        pods = [
            p for p in self.store.list("pods", ns)[0] if not p["metadata"].get("deletionTimestamp")
        ]
        mine = {rs["metadata"]["uid"] for rs in self._owned("replicasets", deployment)}
        owned_pods = [
            p
            for p in pods
            if any(r["uid"] in mine for r in p["metadata"].get("ownerReferences") or [])
        ]
        updated = [
            p for p in owned_pods if p["metadata"]["labels"].get("pod-template-hash") == wanted_hash
        ]
        ready = [p for p in owned_pods if p["status"].get("phase") == "Running"]
        now = rfc3339(self.clock.now())
        status = {
            "observedGeneration": deployment["metadata"]["generation"],
            "replicas": len(owned_pods),
            "updatedReplicas": len(updated),
            "readyReplicas": len(ready),
            "availableReplicas": len(ready),
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                    "lastUpdateTime": now,
                    "lastTransitionTime": now,
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable",
                    "message": f'ReplicaSet "{current["metadata"]["name"]}" has successfully progressed.',
                    "lastUpdateTime": now,
                    "lastTransitionTime": now,
                },
            ],
        }
        revision = current["metadata"]["annotations"][REVISION]
        old = deployment.get("status", {})
        if {k: v for k, v in old.items() if k != "conditions"} != {
            k: v for k, v in status.items() if k != "conditions"
        } or deployment["metadata"].get("annotations", {}).get(REVISION) != revision:

            def write(obj: Obj) -> None:
                obj["status"] = status
                obj["metadata"].setdefault("annotations", {})[REVISION] = revision

            self.store.mutate("deployments", ns, name, write)

    def _replicaset(self, rs: Obj) -> None:
        ns = rs["metadata"]["namespace"]
        pods = [p for p in self._owned("pods", rs) if not p["metadata"].get("deletionTimestamp")]
        want = rs["spec"]["replicas"]
        for _ in range(want - len(pods)):
            template = json.loads(json.dumps(rs["spec"]["template"]))
            spec = template["spec"]
            spec.setdefault("serviceAccountName", "default")
            spec.setdefault("serviceAccount", "default")
            spec.setdefault("enableServiceLinks", True)
            spec.setdefault("priority", 0)
            spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
            self.store.create(
                "pods",
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": f"{rs['metadata']['name']}-{uuid.uuid4().hex[:5]}",
                        "namespace": ns,
                        "labels": template["metadata"].get("labels") or {},
                        "ownerReferences": [self._owner_ref(rs)],
                    },
                    "spec": spec,
                    "status": {"phase": "Pending", "qosClass": "BestEffort"},
                },
            )
        for extra in pods[want:] if len(pods) > want else []:
            self.graceful_delete(ns, extra["metadata"]["name"], 1)
        ready = sum(1 for p in pods if p["status"].get("phase") == "Running")
        status = {
            "replicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "fullyLabeledReplicas": len(pods),
            "observedGeneration": rs["metadata"]["generation"],
        }
        if rs.get("status") != status:

            def write(obj: Obj) -> None:
                obj["status"] = status

            self.store.mutate("replicasets", ns, rs["metadata"]["name"], write)

    def _start_pod(self, pod: Obj) -> None:
        nodes = [n for n in self.store.list("nodes")[0] if not n["spec"].get("unschedulable")]
        if not nodes:
            return
        count = {n["metadata"]["name"]: 0 for n in nodes}
        for other in self.store.list("pods")[0]:
            if other["spec"].get("nodeName") in count:
                count[other["spec"]["nodeName"]] += 1
        target = min(count, key=lambda n: (count[n], n))
        self._ip += 1
        now = rfc3339(self.clock.now())

        def run(obj: Obj) -> None:
            obj["spec"]["nodeName"] = target
            obj["status"] = {
                "phase": "Running",
                "qosClass": obj["status"].get("qosClass", "BestEffort"),
                "hostIP": "10.132.0.2",
                "podIP": f"10.4.0.{self._ip % 250}",
                "podIPs": [{"ip": f"10.4.0.{self._ip % 250}"}],
                "startTime": now,
                "conditions": [
                    {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
                    for t in (
                        "PodReadyToStartContainers",
                        "Initialized",
                        "Ready",
                        "ContainersReady",
                        "PodScheduled",
                    )
                ],
                "containerStatuses": [
                    {
                        "name": c["name"],
                        "image": c["image"],
                        "imageID": f"docker.io/library/{c['image']}@sha256:{'a' * 64}",
                        "containerID": f"containerd://{uuid.uuid4().hex}",
                        "ready": True,
                        "started": True,
                        "restartCount": 0,
                        "state": {"running": {"startedAt": now}},
                        "lastState": {},
                    }
                    for c in obj["spec"]["containers"]
                ],
            }

        self.store.mutate("pods", pod["metadata"]["namespace"], pod["metadata"]["name"], run)
