"""Row printers for `kubectl get`: the columns and cells a real API server's Table has.

The row logic follows the printers of kube-apiserver (pod STATUS from waiting/terminated
reasons, RESTARTS as `3 (2m ago)`, node STATUS with SchedulingDisabled, event LAST SEEN).
Cells that depend on the time of the request are `Ago` values, rendered per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from local_cloud.gke.api.selectors import selector_string

Obj = dict[str, Any]
Cells = list[Any]
Column = tuple[str, str, int]  # name, type, priority


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """kube's `duration.HumanDuration`: 45s, 3m20s, 12m, 5h3m, 10h, 3d4h, 30d, 2y10d."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


@dataclass(frozen=True)
class Ago:
    """A cell that depends on the time of rendering: `template` with the age of each stamp.

    Rows are built (and cached) once per object version; ages are filled in per request.
    """

    template: str
    stamps: tuple[float | None, ...]

    def render(self, now: float) -> str:
        return self.template.format(
            *("<unknown>" if ts is None else human_duration(now - ts) for ts in self.stamps)
        )


def _age(timestamp: str | None) -> Ago:
    return Ago("{}", (parse_time(timestamp),))


def meta_of(obj: Obj) -> Obj:
    meta: Obj = obj.get("metadata") or {}
    return meta


def _pod_row(pod: Obj) -> Cells:
    spec, status, meta = pod.get("spec") or {}, pod.get("status") or {}, meta_of(pod)
    total = len(spec.get("containers") or [])
    ready = 0
    restarts = 0
    last_restart: float | None = None
    reason = status.get("reason") or status.get("phase") or "Pending"
    initializing = False
    for index, init in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(init.get("restartCount") or 0)
        state = init.get("state") or {}
        terminated = state.get("terminated")
        if terminated and terminated.get("exitCode") == 0:
            continue
        if terminated:
            reason = "Init:" + (
                terminated.get("reason") or f"ExitCode:{terminated.get('exitCode')}"
            )
        elif (state.get("waiting") or {}).get("reason") not in (None, "PodInitializing"):
            reason = "Init:" + state["waiting"]["reason"]
        else:
            reason = f"Init:{index}/{len(spec.get('initContainers') or [])}"
        initializing = True
        break
    if not initializing:
        restarts = 0
        has_running = False
        for container in reversed(status.get("containerStatuses") or []):
            restarts += int(container.get("restartCount") or 0)
            finished = parse_time(
                ((container.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
            )
            if finished is not None and (last_restart is None or finished > last_restart):
                last_restart = finished
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated:
                signal = terminated.get("signal")
                reason = f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode')}"
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions") or []
            )
            reason = "Running" if pod_ready else "NotReady"
    if meta.get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    restarts_text: str | Ago = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = Ago(f"{restarts} ({{}} ago)", (last_restart,))
    gates = spec.get("readinessGates") or []
    gates_text = "<none>"
    if gates:
        true = {c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"}
        gates_text = f"{sum(1 for g in gates if g.get('conditionType') in true)}/{len(gates)}"
    return [
        meta.get("name"),
        f"{ready}/{total}",
        reason,
        restarts_text,
        _age(meta.get("creationTimestamp")),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_text,
    ]


def _containers(spec: Obj) -> tuple[str, str]:
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    return ",".join(str(c.get("name")) for c in containers), ",".join(
        str(c.get("image")) for c in containers
    )


def _deployment_row(obj: Obj) -> Cells:
    spec, status, meta = obj.get("spec") or {}, obj.get("status") or {}, meta_of(obj)
    names, images = _containers(spec)
    return [
        meta.get("name"),
        f"{status.get('readyReplicas') or 0}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas") or 0,
        status.get("availableReplicas") or 0,
        _age(meta.get("creationTimestamp")),
        names,
        images,
        selector_string(spec.get("selector")) or "<none>",
    ]


def _replicaset_row(obj: Obj) -> Cells:
    spec, status, meta = obj.get("spec") or {}, obj.get("status") or {}, meta_of(obj)
    names, images = _containers(spec)
    return [
        meta.get("name"),
        spec.get("replicas", 1),
        status.get("replicas") or 0,
        status.get("readyReplicas") or 0,
        _age(meta.get("creationTimestamp")),
        names,
        images,
        selector_string(spec.get("selector")) or "<none>",
    ]


def _daemonset_row(obj: Obj) -> Cells:
    spec, status, meta = obj.get("spec") or {}, obj.get("status") or {}, meta_of(obj)
    selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    return [
        meta.get("name"),
        status.get("desiredNumberScheduled") or 0,
        status.get("currentNumberScheduled") or 0,
        status.get("numberReady") or 0,
        status.get("updatedNumberScheduled") or 0,
        status.get("numberAvailable") or 0,
        ",".join(f"{k}={v}" for k, v in selector.items()) or "<none>",
        _age(meta.get("creationTimestamp")),
    ]


def _node_row(obj: Obj) -> Cells:
    spec, status, meta = obj.get("spec") or {}, obj.get("status") or {}, meta_of(obj)
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    state = (
        "Unknown" if ready is None else ("Ready" if ready.get("status") == "True" else "NotReady")
    )
    if spec.get("unschedulable"):
        state += ",SchedulingDisabled"
    roles = sorted(
        key.split("/", 1)[1]
        for key in (meta.get("labels") or {})
        if key.startswith("node-role.kubernetes.io/") and "/" in key
    )
    info = status.get("nodeInfo") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    return [
        meta.get("name"),
        state,
        ",".join(roles) or "<none>",
        _age(meta.get("creationTimestamp")),
        info.get("kubeletVersion") or "",
        addresses.get("InternalIP") or "<none>",
        addresses.get("ExternalIP") or "<none>",
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _event_row(obj: Obj) -> Cells:
    meta = meta_of(obj)
    first = obj.get("firstTimestamp") or obj.get("eventTime") or meta.get("creationTimestamp")
    last = obj.get("lastTimestamp") or obj.get("eventTime") or first
    count = int(obj.get("count") or 1)
    last_seen = _age(last)
    if count > 1:
        last_seen = Ago(f"{{}} (x{count} over {{}})", (parse_time(last), parse_time(first)))
    involved = obj.get("involvedObject") or {}
    source = obj.get("source") or {}
    source_text = source.get("component") or obj.get("reportingComponent") or ""
    if source.get("host"):
        source_text = f"{source_text}, {source['host']}"
    return [
        last_seen,
        obj.get("type") or "",
        obj.get("reason") or "",
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        involved.get("fieldPath") or "",
        source_text,
        str(obj.get("message") or "").strip(),
        _age(first),
        count,
        meta.get("name"),
    ]


def _service_row(obj: Obj) -> Cells:
    spec, status, meta = obj.get("spec") or {}, obj.get("status") or {}, meta_of(obj)
    ports = []
    for port in spec.get("ports") or []:
        node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
        ports.append(f"{port.get('port')}{node_port}/{port.get('protocol', 'TCP')}")
    ingress = (status.get("loadBalancer") or {}).get("ingress") or []
    external = ",".join(i.get("ip") or i.get("hostname") or "" for i in ingress)
    if not external:
        external = "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"
    selector = ",".join(f"{k}={v}" for k, v in (spec.get("selector") or {}).items())
    return [
        meta.get("name"),
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or "<none>",
        external,
        ",".join(ports) or "<none>",
        _age(meta.get("creationTimestamp")),
        selector or "<none>",
    ]


def _namespace_row(obj: Obj) -> Cells:
    meta = meta_of(obj)
    phase = (obj.get("status") or {}).get("phase") or "Active"
    return [meta.get("name"), phase, _age(meta.get("creationTimestamp"))]


def _pdb_row(obj: Obj) -> Cells:
    spec, status, meta = obj.get("spec") or {}, obj.get("status") or {}, meta_of(obj)
    return [
        meta.get("name"),
        spec.get("minAvailable", "N/A"),
        spec.get("maxUnavailable", "N/A"),
        status.get("disruptionsAllowed") or 0,
        _age(meta.get("creationTimestamp")),
    ]


def _hpa_row(obj: Obj) -> Cells:
    spec, status, meta = obj.get("spec") or {}, obj.get("status") or {}, meta_of(obj)
    ref = spec.get("scaleTargetRef") or {}
    targets = []
    current = {
        (m.get("resource") or {}).get("name"): (m.get("resource") or {}).get("current") or {}
        for m in status.get("currentMetrics") or []
    }
    for metric in spec.get("metrics") or []:
        resource = metric.get("resource") or {}
        target = (resource.get("target") or {}).get("averageUtilization")
        now_value = current.get(resource.get("name"), {}).get("averageUtilization")
        shown = "<unknown>" if now_value is None else f"{now_value}%"
        targets.append(f"{resource.get('name')}: {shown}/{target}%")
    return [
        meta.get("name"),
        f"{ref.get('kind')}/{ref.get('name')}",
        ", ".join(targets) or "<none>",
        spec.get("minReplicas", 1),
        spec.get("maxReplicas"),
        status.get("currentReplicas") or 0,
        _age(meta.get("creationTimestamp")),
    ]


def _configmap_row(obj: Obj) -> Cells:
    meta = meta_of(obj)
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [meta.get("name"), count, _age(meta.get("creationTimestamp"))]


def default_row(obj: Obj) -> Cells:
    meta = meta_of(obj)
    return [meta.get("name"), _age(meta.get("creationTimestamp"))]


NAME_COLUMN: Column = ("Name", "string", 0)
AGE_COLUMN: Column = ("Age", "string", 0)
PRINTERS: dict[str, tuple[list[Column], Callable[[Obj], Cells]]] = {
    "pods": (
        [
            NAME_COLUMN,
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            AGE_COLUMN,
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ],
        _pod_row,
    ),
    "deployments": (
        [
            NAME_COLUMN,
            ("Ready", "string", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            AGE_COLUMN,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        _deployment_row,
    ),
    "replicasets": (
        [
            NAME_COLUMN,
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            AGE_COLUMN,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        _replicaset_row,
    ),
    "daemonsets": (
        [
            NAME_COLUMN,
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Node Selector", "string", 0),
            AGE_COLUMN,
        ],
        _daemonset_row,
    ),
    "nodes": (
        [
            NAME_COLUMN,
            ("Status", "string", 0),
            ("Roles", "string", 0),
            AGE_COLUMN,
            ("Version", "string", 0),
            ("Internal-IP", "string", 1),
            ("External-IP", "string", 1),
            ("OS-Image", "string", 1),
            ("Kernel-Version", "string", 1),
            ("Container-Runtime", "string", 1),
        ],
        _node_row,
    ),
    "events": (
        [
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Subobject", "string", 1),
            ("Source", "string", 1),
            ("Message", "string", 0),
            ("First Seen", "string", 1),
            ("Count", "string", 1),
            ("Name", "string", 1),
        ],
        _event_row,
    ),
    "services": (
        [
            NAME_COLUMN,
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            AGE_COLUMN,
            ("Selector", "string", 1),
        ],
        _service_row,
    ),
    "namespaces": ([NAME_COLUMN, ("Status", "string", 0), AGE_COLUMN], _namespace_row),
    "poddisruptionbudgets": (
        [
            NAME_COLUMN,
            ("Min Available", "string", 0),
            ("Max Unavailable", "string", 0),
            ("Allowed Disruptions", "integer", 0),
            AGE_COLUMN,
        ],
        _pdb_row,
    ),
    "horizontalpodautoscalers": (
        [
            NAME_COLUMN,
            ("Reference", "string", 0),
            ("Targets", "string", 0),
            ("MinPods", "string", 0),
            ("MaxPods", "string", 0),
            ("Replicas", "string", 0),
            AGE_COLUMN,
        ],
        _hpa_row,
    ),
    "configmaps": ([NAME_COLUMN, ("Data", "string", 0), AGE_COLUMN], _configmap_row),
}
