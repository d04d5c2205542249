"""Diagnosis: gather what a human would look at (owner workload, pods, restarts, events, last
log lines, rollouts, node state) into a `ClusterView`. Reads only."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from self_healing_service.incidents import Incident
from self_healing_service.kube import ClusterApi, Json
from self_healing_service.view import ClusterView, NodeView, PodView, WorkloadView

POOL_LABEL = "cloud.google.com/gke-nodepool"
REVISION = "deployment.kubernetes.io/revision"


def _time(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def selector_of(deployment: Json) -> str:
    labels = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def pod_view(pod: Json) -> PodView:
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    waiting = [
        ((c.get("state") or {}).get("waiting") or {}).get("reason", "")
        for c in containers
        if (c.get("state") or {}).get("waiting")
    ]
    return PodView(
        name=str(meta.get("name", "")),
        uid=str(meta.get("uid", "")),
        phase=str(status.get("phase", "")),
        ready=bool(containers) and all(c.get("ready") for c in containers),
        restarts=sum(int(c.get("restartCount") or 0) for c in containers),
        node=str((pod.get("spec") or {}).get("nodeName") or ""),
        reason=waiting[0] if waiting else str(status.get("reason") or ""),
        terminating=bool(meta.get("deletionTimestamp")),
    )


def workload_view(deployment: Json, replicasets: list[Json], hpas: list[Json]) -> WorkloadView:
    meta, spec, status = (deployment.get(k) or {} for k in ("metadata", "spec", "status"))
    uid = meta.get("uid")
    owned = [
        rs
        for rs in replicasets
        if any(o.get("uid") == uid for o in (rs.get("metadata") or {}).get("ownerReferences") or [])
    ]
    revisions = {}
    for rs in owned:
        rs_meta = rs.get("metadata") or {}
        try:
            revisions[int((rs_meta.get("annotations") or {}).get(REVISION, "0"))] = rs_meta
        except ValueError:
            continue
    annotations = dict(meta.get("annotations") or {})
    try:
        current = int(annotations.get(REVISION, "0"))
    except ValueError:
        current = 0
    current = current or max(revisions, default=0)
    previous = max((r for r in revisions if 0 < r < current), default=None)
    created = _time((revisions.get(current) or {}).get("creationTimestamp"))
    conditions = status.get("conditions") or []
    deadline = any(c.get("reason") == "ProgressDeadlineExceeded" for c in conditions)
    hpa = next(
        (
            h
            for h in hpas
            if ((h.get("spec") or {}).get("scaleTargetRef") or {}).get("name") == meta.get("name")
            and ((h.get("spec") or {}).get("scaleTargetRef") or {}).get("kind") == "Deployment"
        ),
        None,
    )
    template_meta = (spec.get("template") or {}).get("metadata") or {}
    return WorkloadView(
        namespace=str(meta.get("namespace", "")),
        name=str(meta.get("name", "")),
        replicas=int(spec.get("replicas", 1) or 0),
        ready=int(status.get("readyReplicas") or 0),
        available=int(status.get("availableReplicas") or 0),
        updated=int(status.get("updatedReplicas") or 0),
        generation=int(meta.get("generation") or 0),
        observed_generation=int(status.get("observedGeneration") or 0),
        annotations=annotations,
        labels=dict(meta.get("labels") or {}),
        template_annotations=dict(template_meta.get("annotations") or {}),
        revision=current,
        previous_revision=previous,
        revision_created_at=created,
        paused=bool(spec.get("paused")),
        progress_deadline_exceeded=deadline,
        hpa_name=str((hpa.get("metadata") or {}).get("name")) if hpa else None,
        hpa_max=int((hpa.get("spec") or {}).get("maxReplicas") or 0) if hpa else None,
    )


def _evictable(pod: Json) -> bool:
    meta = pod.get("metadata") or {}
    if "kubernetes.io/config.mirror" in (meta.get("annotations") or {}):
        return False
    if any(o.get("kind") == "DaemonSet" for o in meta.get("ownerReferences") or []):
        return False
    if meta.get("deletionTimestamp"):
        return False
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def node_view(node: Json, pods_on_node: list[Json]) -> NodeView:
    meta, spec, status = (node.get(k) or {} for k in ("metadata", "spec", "status"))
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    evictable = tuple(
        f"{(p.get('metadata') or {}).get('namespace')}/{(p.get('metadata') or {}).get('name')}"
        for p in pods_on_node
        if _evictable(p)
    )
    return NodeView(
        name=str(meta.get("name", "")),
        ready=ready,
        unschedulable=bool(spec.get("unschedulable")),
        pool=str((meta.get("labels") or {}).get(POOL_LABEL, "")),
        annotations=dict(meta.get("annotations") or {}),
        evictable_pods=evictable,
    )


def _event_line(event: Json) -> str:
    obj = event.get("involvedObject") or {}
    when = event.get("lastTimestamp") or event.get("eventTime") or ""
    return f"{when} {event.get('type', '')} {event.get('reason', '')} {obj.get('kind', '')}/{obj.get('name', '')}: {event.get('message', '')}"[
        :300
    ]


_CPU_SUFFIX = {"n": 1e-9, "u": 1e-6, "m": 1e-3}


def cpu_cores(quantity: Any) -> float | None:
    """A Kubernetes CPU quantity (`250m`, `1`, `123456n`) in cores; None when unreadable."""
    text = str(quantity or "").strip()
    scale = _CPU_SUFFIX.get(text[-1:], 1.0)
    try:
        return float(text[:-1] if text[-1:] in _CPU_SUFFIX else text) * scale
    except ValueError:
        return None


def cpu_shares(pods: list[Json], metrics: list[Json]) -> dict[str, float]:
    """Pod name → CPU used over CPU limit (pods whose containers all have a limit)."""
    used: dict[str, float] = {}
    for item in metrics:
        name = str((item.get("metadata") or {}).get("name", ""))
        cores = [cpu_cores((c.get("usage") or {}).get("cpu")) for c in item.get("containers") or []]
        if cores and all(c is not None for c in cores):
            used[name] = sum(c or 0.0 for c in cores)
    shares: dict[str, float] = {}
    for pod in pods:
        name = str((pod.get("metadata") or {}).get("name", ""))
        limits = [
            cpu_cores(((c.get("resources") or {}).get("limits") or {}).get("cpu"))
            for c in (pod.get("spec") or {}).get("containers") or []
        ]
        if name in used and limits and all(limits):
            shares[name] = used[name] / sum(limit or 0.0 for limit in limits)
    return shares


def gather(
    api: ClusterApi, incident: Incident, now: float, details: bool = True, usage: bool = False
) -> ClusterView:
    """Read the incident's surroundings; `details=False` skips events and logs (verification),
    `usage=True` adds each pod's CPU use from the metrics API (judging a scale-out)."""
    if incident.kind == "Node":
        return _gather_node(api, incident, now, details)
    deployment = api.read_deployment(incident.namespace, incident.name)
    if deployment is None:
        return ClusterView(gathered_at=now)
    selector = selector_of(deployment)
    replicasets = api.list_replicasets(incident.namespace, selector)
    hpas = api.list_hpas(incident.namespace)
    pods = api.list_pods(incident.namespace, selector)
    pod_views = tuple(sorted((pod_view(p) for p in pods), key=lambda p: p.name))
    if usage:
        metrics = api.list_pod_metrics(incident.namespace, selector)
        shares = cpu_shares(pods, metrics) if metrics else {}
        pod_views = tuple(replace(p, cpu_limit_share=shares.get(p.name)) for p in pod_views)
    events: tuple[str, ...] = ()
    logs: tuple[str, ...] = ()
    if details:
        names = {incident.name, *(p.name for p in pod_views)}
        names |= {str((rs.get("metadata") or {}).get("name")) for rs in replicasets}
        related = [
            e for e in api.list_events(incident.namespace)
            if (e.get("involvedObject") or {}).get("name") in names
        ]  # fmt: skip
        related.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
        events = tuple(_event_line(e) for e in related[-10:])
        worst = sorted(pod_views, key=lambda p: (p.ready, -p.restarts))
        if worst:
            logs = _last_lines(api, incident.namespace, worst[0])
    return ClusterView(
        gathered_at=now,
        workload=workload_view(deployment, replicasets, hpas),
        pods=pod_views,
        events=events,
        logs=logs,
    )


def _last_lines(api: ClusterApi, namespace: str, pod: PodView, count: int = 10) -> tuple[str, ...]:
    """The pod's last log lines; for a container that has restarted, its crashed run's last
    lines first (as `kubectl logs --previous`), since the running one may not have failed yet."""
    current = api.pod_log(namespace, pod.name, count).splitlines()[-count:]
    if not pod.restarts:
        return tuple(current)
    crashed = api.pod_log(namespace, pod.name, count, previous=True).splitlines()[-count:]
    return tuple(crashed + current)


def _gather_node(api: ClusterApi, incident: Incident, now: float, details: bool) -> ClusterView:
    node = api.read_node(incident.name)
    if node is None:
        return ClusterView(gathered_at=now)
    pods = api.list_pods(field_selector=f"spec.nodeName={incident.name}")
    view = node_view(node, pods)
    everyone = [node_view(n, []) for n in api.list_nodes()]
    pool = [n for n in everyone if n.pool == view.pool] if view.pool else [view]
    unschedulable = sum(1 for n in pool if n.unschedulable and n.name != view.name)
    events: tuple[str, ...] = ()
    if details:
        related = [
            e for e in api.list_events("default")
            if (e.get("involvedObject") or {}).get("name") == incident.name
        ]  # fmt: skip
        events = tuple(_event_line(e) for e in related[-10:])
    return ClusterView(
        gathered_at=now,
        node=view,
        pods=tuple(pod_view(p) for p in pods),
        pool_nodes=len(pool),
        pool_unschedulable=unschedulable,
        cluster_nodes=len(everyone),
        cluster_not_ready=sum(1 for n in everyone if not n.ready),
        events=events,
    )
