"""Admission on create and update: the defaults a real API server fills in, then validation.

Defaults matter beyond looks: the cluster behaviour relies on them (a Deployment's rolling
update percentages, a pod's grace period and NoExecute tolerations), and served objects must
validate against the Kubernetes schemas.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import itertools
import re
import threading
from typing import Any

from local_cloud.gke.api import schemas
from local_cloud.gke.api.resources import ResourceType
from local_cloud.gke.api.selectors import matches_label_selector
from local_cloud.gke.api.status import ApiError, bad_request, invalid
from local_cloud.gke.objects import qos_class

Obj = dict[str, Any]

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAMED = {"namespaces", "services"}  # names that must be DNS-1123 labels

_cluster_ips = itertools.count(10)
_ip_lock = threading.Lock()


def _next_cluster_ip() -> str:
    with _ip_lock:
        n = next(_cluster_ips)
    return str(ipaddress.IPv4Address("10.96.0.0") + n)


def _default_probe(probe: Obj | None) -> None:
    if not isinstance(probe, dict):
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    if isinstance(probe.get("httpGet"), dict):
        probe["httpGet"].setdefault("scheme", "HTTP")
        probe["httpGet"].setdefault("path", "/")


def _default_container(container: Obj) -> None:
    image = str(container.get("image", ""))
    tag = image.rsplit("/", 1)[-1]
    untagged = ":" not in tag and "@" not in image
    if "imagePullPolicy" not in container:
        container["imagePullPolicy"] = (
            "Always" if untagged or tag.endswith(":latest") else "IfNotPresent"
        )
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for env in container.get("env") or []:
        ref = (env.get("valueFrom") or {}).get("fieldRef") if isinstance(env, dict) else None
        if isinstance(ref, dict):
            ref.setdefault("apiVersion", "v1")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(container.get(probe))


def default_pod_spec(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for group in ("initContainers", "containers"):
        for container in spec.get(group) or []:
            if isinstance(container, dict):
                _default_container(container)


def _admit_pod(pod: Obj) -> None:
    """What the pod admission plugins add: service account, priority, default tolerations."""
    spec = pod.setdefault("spec", {})
    default_pod_spec(spec)
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    tolerations = spec.setdefault("tolerations", [])
    present = {t.get("key") for t in tolerations if isinstance(t, dict)}
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if key not in present:
            tolerations.append(
                {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            )
    status = pod.setdefault("status", {})
    status.setdefault("phase", "Pending")
    status.setdefault("qosClass", qos_class(spec))


def _default_template(spec: Obj) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        default_pod_spec(template.setdefault("spec", {}))


def _admit_deployment(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _default_template(spec)


def _admit_replicaset(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    _default_template(spec)


def _admit_daemonset(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if strategy.get("type") == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {"maxUnavailable": 1, "maxSurge": 0})
    spec.setdefault("revisionHistoryLimit", 10)
    _default_template(spec)


def _admit_service(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    if spec["type"] != "ExternalName":
        if "clusterIP" not in spec:
            spec["clusterIP"] = _next_cluster_ip()
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if "port" in port:
                port.setdefault("targetPort", port["port"])
    obj.setdefault("status", {"loadBalancer": {}})


def _admit_namespace(obj: Obj) -> None:
    name = obj["metadata"].get("name", "")
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")


def _admit_secret(obj: Obj) -> None:
    """`stringData` is write-only: it is merged into base64 `data`, as the real server does."""
    obj.setdefault("type", "Opaque")
    plain = obj.pop("stringData", None)
    if isinstance(plain, dict):
        data = obj.setdefault("data", {})
        for key, value in plain.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


_ADMIT = {
    "pods": _admit_pod,
    "deployments": _admit_deployment,
    "replicasets": _admit_replicaset,
    "daemonsets": _admit_daemonset,
    "statefulsets": _admit_replicaset,
    "services": _admit_service,
    "namespaces": _admit_namespace,
    "secrets": _admit_secret,
}


def default(resource: ResourceType, obj: Obj) -> None:
    """Fill in kind, apiVersion and the defaults a real server sets (in place)."""
    obj["apiVersion"] = resource.api_version
    obj["kind"] = resource.kind
    obj.setdefault("metadata", {})
    admit = _ADMIT.get(resource.plural)
    if admit is not None:
        admit(obj)


def _semantic_causes(resource: ResourceType, obj: Obj) -> list[tuple[str, str, str]]:
    causes: list[tuple[str, str, str]] = []
    meta = obj.get("metadata") or {}
    name = str(meta.get("name") or "")
    pattern = _DNS_LABEL if resource.plural in _LABEL_NAMED else _DNS_SUBDOMAIN
    if name and (not pattern.match(name) or len(name) > 253) and resource.plural != "events":
        causes.append(
            (
                "FieldValueInvalid",
                "metadata.name",
                f'Invalid value: "{name}": a lowercase RFC 1123 '
                "subdomain must consist of lower case alphanumeric characters, '-' or '.'",
            )
        )
    spec = obj.get("spec") or {}
    if resource.plural == "pods":
        names = [c.get("name") for c in spec.get("containers") or [] if isinstance(c, dict)]
        if not names:
            causes.append(("FieldValueRequired", "spec.containers", "Required value"))
        for index, container in enumerate(spec.get("containers") or []):
            if isinstance(container, dict) and not container.get("image"):
                causes.append(
                    ("FieldValueRequired", f"spec.containers[{index}].image", "Required value")
                )
        if len(set(names)) != len(names):
            causes.append(("FieldValueDuplicate", "spec.containers", "Duplicate value"))
    if resource.plural in ("deployments", "replicasets", "daemonsets", "statefulsets"):
        selector = spec.get("selector")
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if isinstance(selector, dict) and not matches_label_selector(selector, labels):
            causes.append(
                (
                    "FieldValueInvalid",
                    "spec.template.metadata.labels",
                    f"Invalid value: {labels}: `selector` does not match template `labels`",
                )
            )
        if isinstance(spec.get("replicas"), int) and spec["replicas"] < 0:
            causes.append(
                (
                    "FieldValueInvalid",
                    "spec.replicas",
                    "Invalid value: must be greater than or equal to 0",
                )
            )
    return causes


def _prune(obj: Any, path: tuple[str | int, ...]) -> None:
    for part in path[:-1]:
        try:
            obj = obj[part]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(obj, dict) and path:
        obj.pop(path[-1], None)


def validate(resource: ResourceType, obj: Obj, field_validation: str) -> list[str]:
    """Raise 400/422 for an invalid object; return warnings (unknown fields under Warn)."""
    problems = schemas.problems(obj)
    unknown = [p for p in problems if p.unknown]
    name = str((obj.get("metadata") or {}).get("name") or "")
    mode = (field_validation or "Warn").capitalize()
    if unknown and mode == "Strict":
        raise bad_request("strict decoding error: " + ", ".join(p.message for p in unknown))
    for problem in unknown:  # Warn and Ignore drop unknown fields, as a real decoder does
        _prune(obj, problem.path)
    causes = [(p.reason, p.field, p.message) for p in problems if not p.unknown]
    causes += _semantic_causes(resource, obj)
    if causes:
        raise invalid(resource.kind, resource.group, name, causes)
    return [p.message for p in unknown] if mode == "Warn" else []


def carry_over(resource: ResourceType, current: Obj, desired: Obj) -> None:
    """Keep allocated values a client may leave out of a full replace (a Service's cluster IP)."""
    if resource.plural == "services":
        old, new = current.get("spec") or {}, desired.setdefault("spec", {})
        for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if field not in new and field in old:
                new[field] = old[field]


_POD_MUTABLE = (
    "activeDeadlineSeconds",
    "tolerations",
    "terminationGracePeriodSeconds",
    "schedulingGates",
)


def _pod_spec_fixed_part(spec: Obj) -> Obj:
    fixed = {k: v for k, v in spec.items() if k not in _POD_MUTABLE}
    for group in ("containers", "initContainers"):
        if isinstance(fixed.get(group), list):
            fixed[group] = [
                {k: v for k, v in c.items() if k != "image"} if isinstance(c, dict) else c
                for c in fixed[group]
            ]
    return fixed


def check_update(resource: ResourceType, current: Obj, desired: Obj) -> None:
    """422 for changes a real server refuses: most of a pod's spec, a workload's selector."""
    name = str(current["metadata"].get("name") or "")
    before = copy.deepcopy(current)
    default(resource, before)  # compare like with like: objects written by the cluster itself
    old, new = before.get("spec") or {}, desired.get("spec") or {}
    if resource.plural == "pods" and _pod_spec_fixed_part(old) != _pod_spec_fixed_part(new):
        raise invalid(
            resource.kind,
            resource.group,
            name,
            [(
                "FieldValueForbidden",
                "spec",
                "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, "
                "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, "
                "`spec.tolerations` (only additions to existing tolerations), "
                "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
            )],
        )  # fmt: skip
    if resource.plural in ("deployments", "replicasets", "daemonsets", "statefulsets") and old.get(
        "selector"
    ) != new.get("selector"):
        raise invalid(
            resource.kind,
            resource.group,
            name,
            [
                (
                    "FieldValueInvalid",
                    "spec.selector",
                    f"Invalid value: {new.get('selector')}: field is immutable",
                )
            ],
        )


def check_field_validation(value: str | None) -> str:
    mode = value or "Warn"
    if mode not in ("Strict", "Warn", "Ignore"):
        raise ApiError(
            400,
            "BadRequest",
            f'fieldValidation parameter unsupported: {mode!r}, must be one of "Ignore", "Warn", "Strict"',
        )
    return mode
