"""The `pods/eviction` subresource: PodDisruptionBudget arithmetic, 429 when a budget would be
violated, otherwise a graceful delete (how `kubectl drain` and the healing service evict).
"""

from __future__ import annotations

import math
import threading
from typing import Any

from local_cloud.gke.api.deletion import Deleter
from local_cloud.gke.api.messages import Request, Response, json_response
from local_cloud.gke.api.resources import ResourceType
from local_cloud.gke.api.selectors import matches_label_selector
from local_cloud.gke.api.status import ApiError, bad_request, success

Obj = dict[str, Any]


def is_ready(pod: Obj) -> bool:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _scaled(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        fraction = int(value[:-1]) * total / 100
        return math.ceil(fraction) if round_up else math.floor(fraction)
    return int(value)


def budget(pdb: Obj, pods: list[Obj], scales: dict[str, int] | None = None) -> tuple[int, int, int]:
    """(desired healthy, currently healthy, expected) for a PDB over the pods it selects.

    As the disruption controller counts: an integer minAvailable is compared with the pods
    that exist; a percentage or maxUnavailable is taken of the controllers' desired scale
    (`scales`: controller uid → replicas), so a pod already evicted still counts as missing.
    """
    spec = pdb.get("spec") or {}
    selected = [
        p
        for p in pods
        if matches_label_selector(
            spec.get("selector"), (p.get("metadata") or {}).get("labels") or {}
        )
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]
    healthy = sum(1 for p in selected if is_ready(p))
    min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
    if isinstance(min_available, int) and max_unavailable is None:
        return min_available, healthy, len(selected)
    expected = _expected(selected, scales or {})
    if max_unavailable is not None:
        desired = max(0, expected - _scaled(max_unavailable, expected, round_up=True))
    elif min_available is not None:
        desired = _scaled(min_available, expected, round_up=True)
    else:
        desired = expected
    return desired, healthy, expected


def _expected(pods: list[Obj], scales: dict[str, int]) -> int:
    """Sum of the desired replicas of the pods' controllers (a bare pod counts as one)."""
    controllers: dict[str, int] = {}
    bare = 0
    for pod in pods:
        owner = next(
            (
                o
                for o in (pod.get("metadata") or {}).get("ownerReferences") or []
                if o.get("controller")
            ),
            None,
        )
        if owner is not None and owner.get("uid") in scales:
            controllers[owner["uid"]] = scales[owner["uid"]]
        elif not (pod.get("metadata") or {}).get("deletionTimestamp"):
            bare += 1
    return sum(controllers.values()) + bare


class Evictions:
    """Decides and performs evictions."""

    def __init__(self, deleter: Deleter) -> None:
        self.deleter = deleter
        self.store = deleter.store
        self._serial = threading.Lock()

    def evict(self, request: Request, pods: ResourceType, namespace: str, name: str) -> Response:
        body = request.json_body(required=False) or {}
        if not isinstance(body, dict):
            raise bad_request("the body must be an Eviction object")
        if (body.get("metadata") or {}).get("name") not in (None, name):
            raise bad_request("name in URL does not match name in Eviction object")
        # One eviction at a time: the evicted pod stops counting as healthy before the next
        # budget check, so concurrent evictions cannot both spend the last allowed disruption.
        with self._serial:
            pod = self.deleter.rest.fetch(pods, namespace, name)
            options = dict(body.get("deleteOptions") or {})
            if is_ready(pod) and not pod["metadata"].get("deletionTimestamp"):
                self._check_budgets(namespace, pod)
            if not (request.dry_run or "All" in (options.get("dryRun") or [])):
                options.setdefault("propagationPolicy", "Background")
                self.deleter.delete_object(pods, pod, options)
        return json_response(success(201), 201)

    def _check_budgets(self, namespace: str, pod: Obj) -> None:
        labels = pod["metadata"].get("labels") or {}
        with self.store.locked():
            pdbs = [
                p
                for p in self.store.peek("poddisruptionbudgets")
                if p["metadata"].get("namespace") == namespace
                and matches_label_selector((p.get("spec") or {}).get("selector"), labels)
                and (p.get("spec") or {}).get("selector")
            ]
            pods = [
                p for p in self.store.peek("pods") if p["metadata"].get("namespace") == namespace
            ]
            scales = {
                owner["metadata"]["uid"]: int((owner.get("spec") or {}).get("replicas", 1))
                for kind in ("replicasets", "statefulsets")
                for owner in self.store.peek(kind)
                if owner["metadata"].get("namespace") == namespace
            }
            if len(pdbs) > 1:
                raise ApiError(
                    500,
                    "InternalError",
                    "This pod has more than one PodDisruptionBudget, "
                    "which the eviction subresource does not support.",
                )
            for pdb in pdbs:
                desired, healthy, _ = budget(pdb, pods, scales)
                if healthy - desired <= 0:
                    message = (
                        f"The disruption budget {pdb['metadata']['name']} needs {desired} healthy pods "
                        f"and has {healthy} currently"
                    )
                    raise ApiError(
                        429,
                        "TooManyRequests",
                        "Cannot evict pod as it would violate the pod's disruption budget.",
                        {"causes": [{"reason": "DisruptionBudget", "message": message}]},
                    )
