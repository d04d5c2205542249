"""Shapes of the objects the cluster itself writes: pods from templates, ReplicaSets, conditions.

Controllers write to the store directly (not through the HTTP layer), so what they create must
already carry the defaults and required fields a real API server would have filled in: the
Python client refuses objects with missing required fields, and every served object must
validate against the Kubernetes schemas.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from typing import Any

from local_cloud.clock import rfc3339
from local_cloud.gke.quantity import cpu_cores, memory_bytes

Obj = dict[str, Any]

# The alphabet Kubernetes uses for generated name suffixes and hashes (no vowels, no 0/1/3).
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
# Annotations the Deployment controller does not copy onto its ReplicaSets.
NOT_COPIED = {
    REVISION,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deployment.kubernetes.io/revision-history",
    "kubectl.kubernetes.io/last-applied-configuration",
}
DEFAULT_TOLERATION_SECONDS = 300


def safe_suffix(rng: random.Random, length: int = 5) -> str:
    return "".join(rng.choice(SAFE_ALPHABET) for _ in range(length))


def template_hash(template: Obj) -> str:
    """A stable hash of a pod template (without its own hash label), spelt like Kubernetes'."""
    clean = copy.deepcopy(template)
    labels = (clean.get("metadata") or {}).get("labels") or {}
    labels.pop(HASH_LABEL, None)
    digest = hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    out = []
    for _ in range(10):
        number, index = divmod(number, len(SAFE_ALPHABET))
        out.append(SAFE_ALPHABET[index])
    return "".join(out)


def same_template(a: Obj, b: Obj) -> bool:
    return template_hash(a) == template_hash(b)


def owner_reference(owner: Obj, *, controller: bool = True) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: Obj) -> Obj | None:
    """The ownerReference with `controller: true`, if any."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def _default_container(container: Obj) -> None:
    image = str(container.get("image", ""))
    tag = image.rsplit("/", 1)[-1]
    untagged = ":" not in tag and "@" not in image
    if "imagePullPolicy" not in container:
        latest = untagged or tag.endswith(":latest")
        container["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(name)
        if isinstance(probe, dict):
            probe.setdefault("timeoutSeconds", 1)
            probe.setdefault("periodSeconds", 10)
            probe.setdefault("successThreshold", 1)
            probe.setdefault("failureThreshold", 3)
            if isinstance(probe.get("httpGet"), dict):
                probe["httpGet"].setdefault("scheme", "HTTP")
                probe["httpGet"].setdefault("path", "/")


def default_pod_spec(spec: Obj) -> None:
    """The pod-spec defaults the API server applies (same values as a real one)."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for container in spec.get("containers") or []:
        _default_container(container)


def qos_class(spec: Obj) -> str:
    """The pod's QoS class from its containers' requests and limits (tolerates unvalidated input)."""
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    requests = [((c.get("resources") or {}).get("requests") or {}) for c in containers]
    limits = [((c.get("resources") or {}).get("limits") or {}) for c in containers]
    if not any(requests) and not any(limits):
        return "BestEffort"
    guaranteed = all(
        lim.get(k) is not None and req.get(k, lim.get(k)) == lim.get(k)
        for req, lim in zip(requests, limits, strict=True)
        for k in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"


def admit_pod(pod: Obj) -> None:
    """What admission adds to a new pod: service account, priority, NoExecute tolerations."""
    spec = pod.setdefault("spec", {})
    default_pod_spec(spec)
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    tolerations = spec.setdefault("tolerations", [])
    present = {t.get("key") for t in tolerations}
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if key not in present:
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
                }
            )
    status = pod.setdefault("status", {})
    status.setdefault("phase", "Pending")
    status.setdefault("qosClass", qos_class(spec))


def pod_from_template(
    template: Obj, *, namespace: str, name: str, owner: Obj | None, now: float
) -> Obj:
    meta = copy.deepcopy(template.get("metadata") or {})
    pod: Obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": meta.get("labels") or {},
            "creationTimestamp": rfc3339(now),
        },
        "spec": copy.deepcopy(template.get("spec") or {}),
        "status": {"phase": "Pending"},
    }
    if owner is not None:
        pod["metadata"]["generateName"] = owner["metadata"]["name"] + "-"
        pod["metadata"]["ownerReferences"] = [owner_reference(owner)]
    if meta.get("annotations"):
        pod["metadata"]["annotations"] = meta["annotations"]
    admit_pod(pod)
    return pod


def container_requests(container: Obj) -> tuple[float, int]:
    """(CPU cores, memory bytes) a container requests; limits stand in for missing requests."""
    resources = container.get("resources") or {}
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    cpu = cpu_cores(requests.get("cpu", limits.get("cpu")))
    mem = memory_bytes(requests.get("memory", limits.get("memory")))
    return cpu, mem


def pod_requests(pod: Obj) -> tuple[float, int]:
    cpu, mem = 0.0, 0
    for container in pod.get("spec", {}).get("containers") or []:
        c, m = container_requests(container)
        cpu += c
        mem += m
    return cpu, mem


def condition(type_: str, status: str, now: float, reason: str = "", message: str = "") -> Obj:
    out: Obj = {
        "type": type_,
        "status": status,
        "lastProbeTime": None,
        "lastTransitionTime": rfc3339(now),
    }
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out


def set_condition(conditions: list[Obj], new: Obj) -> None:
    """Replace the condition of the same type, keeping its transition time if status is unchanged."""
    for i, old in enumerate(conditions):
        if old.get("type") == new["type"]:
            if old.get("status") == new["status"] and "lastTransitionTime" in old:
                new["lastTransitionTime"] = old["lastTransitionTime"]
            conditions[i] = new
            return
    conditions.append(new)


def get_condition(obj: Obj, type_: str) -> Obj | None:
    for cond in obj.get("status", {}).get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return None


def is_pod_ready(pod: Obj) -> bool:
    cond = get_condition(pod, "Ready")
    return cond is not None and cond.get("status") == "True"


def is_terminating(obj: Obj) -> bool:
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def is_active_pod(pod: Obj) -> bool:
    """Counts towards a ReplicaSet: not terminating and not finished."""
    phase = pod.get("status", {}).get("phase")
    return not is_terminating(pod) and phase not in ("Succeeded", "Failed")
