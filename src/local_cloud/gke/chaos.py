"""Fault reconciliation: read fault annotations, keep each workload's effect, and apply or undo
the template changes of stages that roll out a new revision (bad image, impossible requests)."""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Any

from local_cloud.gke.faults import NEUTRAL, ActiveFault, Effect, active_fault
from local_cloud.gke.objects import template_hash
from local_cloud.gke.store import NotFound, ObjectStore
from local_cloud.gke.workload import combine, image_effect

Obj = dict[str, Any]
Key = tuple[str, str]


@dataclass(frozen=True)
class _Applied:
    kind: str
    changed_hash: str
    original: Obj


class FaultBook:
    """What fault each workload and node has, and what it does to their containers."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.faults: dict[Key, ActiveFault] = {}
        self.effects: dict[Key, Effect] = {}
        self.dead_nodes: set[str] = set()
        self._applied: dict[Key, _Applied] = {}

    def effect_for(self, namespace: str, workload: str | None, image: str) -> Effect:
        effect = self.effects.get((namespace, workload)) if workload else None
        broken = image_effect(image)
        if broken is not None and effect is not None:
            return combine(broken, effect)
        return broken or effect or NEUTRAL

    def deployment_changed(self, deployment: Obj, deleted: bool) -> bool:
        """Track a Deployment's fault; True when its containers' effect changed."""
        meta = deployment["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        fault = None if deleted else active_fault(deployment, "Deployment")
        changed = self.faults.get(key) != fault
        if fault is None:
            self.faults.pop(key, None)
            self.effects.pop(key, None)
        else:
            self.faults[key] = fault
            self.effects[key] = fault.effect()
        if not deleted:
            self._template(key, deployment, fault)
        else:
            self._applied.pop(key, None)
        return changed

    def _template(self, key: Key, deployment: Obj, fault: ActiveFault | None) -> None:
        applied = self._applied.get(key)
        current = deployment.get("spec", {}).get("template") or {}
        if fault is not None and fault.stage.template_change is not None and applied is None:
            changed = copy.deepcopy(current)
            fault.stage.template_change(changed, fault.params)
            if template_hash(changed) == template_hash(current):
                return  # this fault's parameters change no template (a crash_loop's cause)
            self._applied[key] = _Applied(
                fault.stage.kind, template_hash(changed), copy.deepcopy(current)
            )
            self._set_template(key, changed)
        elif applied is not None and (fault is None or fault.stage.kind != applied.kind):
            del self._applied[key]
            if template_hash(current) == applied.changed_hash:  # nobody rolled back yet: we do
                self._set_template(key, applied.original)

    def _set_template(self, key: Key, template: Obj) -> None:
        def change(obj: Obj) -> None:
            obj["spec"]["template"] = copy.deepcopy(template)

        with contextlib.suppress(NotFound):
            self.store.mutate("deployments", key[0], key[1], change)

    def node_changed(self, node: Obj, deleted: bool) -> bool | None:
        """Track a Node's fault; returns the kubelet's new liveness when it changed, else None."""
        name = node["metadata"]["name"]
        fault = None if deleted else active_fault(node, "Node")
        dead = fault is not None and fault.stage.stops_heartbeat
        if dead == (name in self.dead_nodes):
            return None
        if dead:
            self.dead_nodes.add(name)
        else:
            self.dead_nodes.discard(name)
        return not dead
