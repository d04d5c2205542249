"""Disruption controller: PodDisruptionBudget status (healthy pods, disruptions allowed)."""

from __future__ import annotations

import contextlib
import math
from typing import Any

from local_cloud.clock import rfc3339
from local_cloud.gke.controllers import Context
from local_cloud.gke.objects import is_active_pod, is_pod_ready
from local_cloud.gke.store import NotFound

Obj = dict[str, Any]


def selector_matches(selector: Obj, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a label set."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _count(value: object, total: int) -> int:
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(total * int(value[:-1]) / 100)
    return int(str(value))


class DisruptionController:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def sync_namespace(self, namespace: str) -> None:
        budgets = self.ctx.view.list("poddisruptionbudgets", namespace)
        if not budgets:
            return
        pods = [p for p in self.ctx.view.list("pods", namespace) if is_active_pod(p)]
        for pdb in budgets:
            self.sync(pdb, pods)

    def sync(self, pdb: Obj, active_pods: list[Obj]) -> None:
        ctx = self.ctx
        meta, spec = pdb["metadata"], pdb.get("spec", {})
        selector = spec.get("selector") or {}
        pods = [
            p for p in active_pods if selector_matches(selector, p["metadata"].get("labels") or {})
        ]
        expected = len(pods)
        healthy = sum(1 for p in pods if is_pod_ready(p))
        if spec.get("minAvailable") is not None:
            desired = _count(spec["minAvailable"], expected)
        elif spec.get("maxUnavailable") is not None:
            desired = max(0, expected - _count(spec["maxUnavailable"], expected))
        else:
            desired = expected
        allowed = max(0, healthy - desired)
        old = pdb.get("status") or {}
        old_cond = next(
            (c for c in old.get("conditions") or [] if c.get("type") == "DisruptionAllowed"), None
        )
        cond_status = "True" if allowed > 0 else "False"
        transition = (
            old_cond["lastTransitionTime"]
            if old_cond and old_cond.get("status") == cond_status
            else rfc3339(ctx.now())
        )
        status: Obj = {
            "observedGeneration": meta.get("generation", 1),
            "disruptionsAllowed": allowed,
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "expectedPods": expected,
            "conditions": [{
                "type": "DisruptionAllowed", "status": cond_status,
                "reason": "SufficientPods" if allowed > 0 else "InsufficientPods",
                "message": "", "lastTransitionTime": transition,
                "observedGeneration": meta.get("generation", 1),
            }],
        }  # fmt: skip
        if old == status:
            return

        def change(obj: Obj) -> None:
            obj["status"] = status

        with contextlib.suppress(NotFound):
            ctx.store.mutate("poddisruptionbudgets", meta["namespace"], meta["name"], change)
