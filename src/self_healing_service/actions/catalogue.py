"""Six actions. Each knows its plan (the exact request), whether a view shows it already applied
(so a restarted service never mutates twice), and how to execute, dry run or for real.

Workload mutations carry the marker annotation `gke-heal.io/remediation: <incident>/<rung>` in
the same request, which is how `applied` recognises our own past work after a crash.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from self_healing_service.decision import PlannedAction
from self_healing_service.diagnosis import selector_of
from self_healing_service.kube import ClusterApi, Json, PermanentKubeError
from self_healing_service.view import MARKER, ClusterView

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


class DrainFailed(Exception):
    """Pods still on the node at the deadline (PodDisruptionBudgets said no)."""


@dataclass(frozen=True)
class ActionResult:
    plan: Json
    dry_run: bool
    detail: dict[str, Any] = field(default_factory=dict)


class Action(Protocol):
    @property
    def name(self) -> str: ...

    def applied(self, view: ClusterView, planned: PlannedAction, marker: str) -> bool: ...

    def execute(
        self, api: ClusterApi, planned: PlannedAction, marker: str, dry_run: bool
    ) -> ActionResult: ...


def _marked(marker: str) -> Json:
    return {"metadata": {"annotations": {MARKER: marker}}}


def _has_marker(view: ClusterView, marker: str) -> bool:
    return view.workload is not None and view.workload.annotations.get(MARKER) == marker


@dataclass(frozen=True)
class DeletePod:
    name: str = "delete_pod"

    def applied(self, view: ClusterView, planned: PlannedAction, marker: str) -> bool:
        return all(p.name != planned.target for p in view.live_pods)

    def execute(
        self, api: ClusterApi, planned: PlannedAction, marker: str, dry_run: bool
    ) -> ActionResult:
        uid = str(planned.params.get("uid", ""))
        api.delete_pod(planned.namespace, planned.target, uid, dry_run)
        return ActionResult({"delete": f"pods/{planned.target}", "uid": uid}, dry_run)


@dataclass(frozen=True)
class RolloutRestart:
    name: str = "rollout_restart"

    def applied(self, view: ClusterView, planned: PlannedAction, marker: str) -> bool:
        return _has_marker(view, marker)

    def execute(
        self, api: ClusterApi, planned: PlannedAction, marker: str, dry_run: bool
    ) -> ActionResult:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {
            **_marked(marker),
            "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}},
        }
        api.patch_deployment(planned.namespace, planned.target, body, dry_run)
        return ActionResult({"patch": body}, dry_run)


@dataclass(frozen=True)
class Scale:
    name: str = "scale"

    def applied(self, view: ClusterView, planned: PlannedAction, marker: str) -> bool:
        return _has_marker(view, marker)

    def execute(
        self, api: ClusterApi, planned: PlannedAction, marker: str, dry_run: bool
    ) -> ActionResult:
        # One patch of the deployment (not /scale) so the marker lands atomically with it.
        body = {**_marked(marker), "spec": {"replicas": int(planned.params["replicas"])}}
        api.patch_deployment(planned.namespace, planned.target, body, dry_run)
        return ActionResult({"patch": body}, dry_run)


@dataclass(frozen=True)
class RolloutUndo:
    """Back to the previous revision's pod template, as `kubectl rollout undo` does."""

    name: str = "rollout_undo"

    def applied(self, view: ClusterView, planned: PlannedAction, marker: str) -> bool:
        return _has_marker(view, marker)

    def execute(
        self, api: ClusterApi, planned: PlannedAction, marker: str, dry_run: bool
    ) -> ActionResult:
        deployment = api.read_deployment(planned.namespace, planned.target)
        if deployment is None:
            raise PermanentKubeError(f"deployment {planned.namespace}/{planned.target} gone", 404)
        wanted = str(planned.params.get("to"))
        uid = (deployment.get("metadata") or {}).get("uid")
        template = None
        for rs in api.list_replicasets(planned.namespace, selector_of(deployment)):
            meta = rs.get("metadata") or {}
            owned = any(o.get("uid") == uid for o in meta.get("ownerReferences") or [])
            if (
                owned
                and (meta.get("annotations") or {}).get("deployment.kubernetes.io/revision")
                == wanted
            ):
                template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
        if template is None:
            raise PermanentKubeError(f"revision {wanted} not found", 404)
        labels = (template.get("metadata") or {}).get("labels") or {}
        labels.pop("pod-template-hash", None)
        body: list[Json] = [
            {"op": "replace", "path": "/spec/template", "value": template},
            {
                "op": "add",
                "path": "/metadata/annotations/" + MARKER.replace("~", "~0").replace("/", "~1"),
                "value": marker,
            },
        ]
        api.patch_deployment(planned.namespace, planned.target, body, dry_run)
        return ActionResult({"json_patch": body, "to_revision": wanted}, dry_run)


@dataclass(frozen=True)
class Cordon:
    name: str = "cordon"

    def applied(self, view: ClusterView, planned: PlannedAction, marker: str) -> bool:
        return view.node is not None and view.node.unschedulable

    def execute(
        self, api: ClusterApi, planned: PlannedAction, marker: str, dry_run: bool
    ) -> ActionResult:
        body = {**_marked(marker), "spec": {"unschedulable": True}}
        api.patch_node(planned.target, body, dry_run)
        return ActionResult({"patch": body}, dry_run)


@dataclass(frozen=True)
class Drain:
    """Cordon, then evict every pod but DaemonSet and mirror pods through the eviction API;
    evictions a PodDisruptionBudget refuses (429) are retried until the deadline."""

    deadline: float = 120.0
    retry_every: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    name: str = "drain"

    def applied(self, view: ClusterView, planned: PlannedAction, marker: str) -> bool:
        return view.node is not None and view.node.unschedulable and not view.node.evictable_pods

    def _evictable(self, api: ClusterApi, node: str) -> list[tuple[str, str]]:
        from self_healing_service.diagnosis import node_view

        found = api.read_node(node)
        if found is None:
            return []
        view = node_view(found, api.list_pods(field_selector=f"spec.nodeName={node}"))
        return [tuple(p.split("/", 1)) for p in view.evictable_pods]  # type: ignore[misc]

    def execute(
        self, api: ClusterApi, planned: PlannedAction, marker: str, dry_run: bool
    ) -> ActionResult:
        cordon = Cordon().execute(api, planned, marker, dry_run).plan
        pods = self._evictable(api, planned.target)
        if dry_run:
            outcomes = {f"{ns}/{n}": api.evict_pod(ns, n, True) for ns, n in pods}
            return ActionResult({"cordon": cordon, "evict": sorted(outcomes)}, True, outcomes)
        start = self.clock()
        evicted: list[str] = []
        while pods:
            blocked = []
            for ns, pod in pods:
                if api.evict_pod(ns, pod, False) == "blocked":
                    blocked.append(f"{ns}/{pod}")
                else:
                    evicted.append(f"{ns}/{pod}")
            if not blocked:
                break
            if self.clock() - start > self.deadline:
                raise DrainFailed(f"PodDisruptionBudgets still block {', '.join(blocked)}")
            self.sleep(self.retry_every)
            pods = [tuple(p.split("/", 1)) for p in blocked]  # type: ignore[misc]
        return ActionResult({"cordon": cordon, "evict": evicted}, False, {"evicted": evicted})


def catalogue(drain_deadline: float = 120.0) -> dict[str, Action]:
    actions: list[Action] = [
        DeletePod(), RolloutRestart(), Scale(), RolloutUndo(), Cordon(),
        Drain(deadline=drain_deadline),
    ]  # fmt: skip
    return {a.name: a for a in actions}


CATALOGUE = catalogue()
