"""Deployment controller: ReplicaSets per template, rolling updates, revisions, rollout status.

It follows kube-controller-manager's rolling algorithm: scale the new ReplicaSet up within
`maxSurge`, clean up unhealthy old replicas, then scale old ReplicaSets down while keeping
`replicas - maxUnavailable` available. Status carries what `kubectl rollout status` reads
(observedGeneration, updated/ready/available replicas, the Progressing condition with its
deadline) and ReplicaSets carry the revision annotations `kubectl rollout undo` relies on.
"""

from __future__ import annotations

import contextlib
import copy
import math
from datetime import UTC, datetime
from typing import Any

from local_cloud.clock import rfc3339
from local_cloud.gke.controllers import Context
from local_cloud.gke.objects import (
    DESIRED_REPLICAS,
    HASH_LABEL,
    MAX_REPLICAS,
    NOT_COPIED,
    REVISION,
    owner_reference,
    template_hash,
)
from local_cloud.gke.store import AlreadyExists, NotFound

Obj = dict[str, Any]
COMPONENT = "deployment-controller"


def _resolve(value: object, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        exact = total * int(value[:-1]) / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(str(value or 0))


def _revision(rs: Obj) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _replicas(rs: Obj) -> int:
    return int(rs.get("spec", {}).get("replicas", 0))


def _available(rs: Obj) -> int:
    return int(rs.get("status", {}).get("availableReplicas", 0))


def _parse_time(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


class DeploymentController:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def sync(self, namespace: str, name: str) -> float | None:
        """Reconcile one Deployment; returns when its progress deadline should next be checked."""
        ctx = self.ctx
        d = ctx.view.get("deployments", namespace, name)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return None
        uid = d["metadata"]["uid"]
        wanted_hash = template_hash(d["spec"]["template"])
        rss = [
            rs
            for rs in ctx.view.owned(uid, "replicasets")
            if any(
                r.get("uid") == uid and r.get("controller")
                for r in rs["metadata"].get("ownerReferences") or []
            )
        ]
        new_rs = next(
            (rs for rs in rss if (rs["spec"]["template"].get("metadata") or {}).get("labels", {}).get(HASH_LABEL)
             == wanted_hash), None,
        )  # fmt: skip
        old = sorted((rs for rs in rss if rs is not new_rs), key=_revision)
        max_revision = max((_revision(rs) for rs in rss), default=0)
        created = False
        if not d["spec"].get("paused"):
            if new_rs is None:
                new_rs = self._create_rs(d, wanted_hash, max_revision + 1)
                created = True
            elif _revision(new_rs) < max_revision:  # a rollback to an old template
                new_rs = self._set_revision(new_rs, max_revision + 1)
            if new_rs is not None:
                self._rollout(d, new_rs, old)
        self._cleanup(d, old)
        return self._status(namespace, name, created)

    # -- ReplicaSets -----------------------------------------------------------------------
    def _create_rs(self, d: Obj, hash_: str, revision: int) -> Obj | None:
        ctx = self.ctx
        meta, spec = d["metadata"], d["spec"]
        template = copy.deepcopy(spec["template"])
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = hash_
        selector = copy.deepcopy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = hash_
        annotations = {
            k: v for k, v in (meta.get("annotations") or {}).items() if k not in NOT_COPIED
        }
        desired = int(spec.get("replicas", 1))
        surge = _resolve(
            (spec.get("strategy", {}).get("rollingUpdate") or {}).get("maxSurge", "25%"),
            desired,
            True,
        )
        annotations.update({
            REVISION: str(revision), DESIRED_REPLICAS: str(desired), MAX_REPLICAS: str(desired + surge),
        })  # fmt: skip
        rs: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{meta['name']}-{hash_}",
                "namespace": meta["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": annotations,
                "ownerReferences": [owner_reference(d)],
            },
            "spec": {"replicas": 0, "selector": selector, "template": template,
                     "minReadySeconds": spec.get("minReadySeconds", 0)},
            "status": {"replicas": 0},
        }  # fmt: skip
        try:
            return ctx.store.create("replicasets", rs)
        except AlreadyExists:
            return ctx.view.get("replicasets", meta["namespace"], rs["metadata"]["name"])

    def _set_revision(self, rs: Obj, revision: int) -> Obj:
        def change(obj: Obj) -> None:
            obj["metadata"].setdefault("annotations", {})[REVISION] = str(revision)

        return self.ctx.store.mutate(
            "replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"], change
        )

    def _scale(self, d: Obj, rs: Obj, to: int) -> Obj:
        current = _replicas(rs)
        if current == to:
            return rs
        desired = int(d["spec"].get("replicas", 1))

        def change(obj: Obj) -> None:
            obj["spec"]["replicas"] = to
            obj["metadata"].setdefault("annotations", {})[DESIRED_REPLICAS] = str(desired)

        updated = self.ctx.store.mutate(
            "replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"], change
        )
        direction = "up" if to > current else "down"
        self.ctx.recorder.record(
            d, "ScalingReplicaSet",
            f"Scaled {direction} replica set {rs['metadata']['name']} from {current} to {to}",
            component=COMPONENT,
        )  # fmt: skip
        return updated

    def _rollout(self, d: Obj, new_rs: Obj, old: list[Obj]) -> None:
        spec = d["spec"]
        desired = int(spec.get("replicas", 1))
        strategy = spec.get("strategy") or {}
        active_old = [rs for rs in old if _replicas(rs) > 0]
        if strategy.get("type") == "Recreate":
            if active_old:
                for rs in active_old:
                    self._scale(d, rs, 0)
            elif not any(self.ctx.view.owned(rs["metadata"]["uid"], "pods") for rs in old):
                self._scale(d, new_rs, desired)
            return
        if not active_old:
            self._scale(d, new_rs, desired)
            return
        rolling = strategy.get("rollingUpdate") or {}
        surge = _resolve(rolling.get("maxSurge", "25%"), desired, True)
        unavailable = _resolve(rolling.get("maxUnavailable", "25%"), desired, False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        total = _replicas(new_rs) + sum(_replicas(rs) for rs in active_old)
        if _replicas(new_rs) < desired:
            step = min(desired + surge - total, desired - _replicas(new_rs))
            if step > 0:
                new_rs = self._scale(d, new_rs, _replicas(new_rs) + step)
        elif _replicas(new_rs) > desired:
            new_rs = self._scale(d, new_rs, desired)
        all_pods = _replicas(new_rs) + sum(_replicas(rs) for rs in active_old)
        min_available = desired - unavailable
        new_unavailable = _replicas(new_rs) - _available(new_rs)
        budget = all_pods - min_available - new_unavailable
        if budget <= 0:
            return
        replicas = {rs["metadata"]["name"]: _replicas(rs) for rs in active_old}
        for rs in active_old:  # oldest first: unhealthy replicas go without costing availability
            unhealthy = replicas[rs["metadata"]["name"]] - _available(rs)
            cut = min(budget, max(0, unhealthy))
            if cut:
                replicas[rs["metadata"]["name"]] -= cut
                budget -= cut
        available = _available(new_rs) + sum(
            min(_available(rs), replicas[rs["metadata"]["name"]]) for rs in active_old
        )
        can_remove = min(budget, available - min_available)
        for rs in active_old:
            if can_remove <= 0:
                break
            cut = min(replicas[rs["metadata"]["name"]], can_remove)
            replicas[rs["metadata"]["name"]] -= cut
            can_remove -= cut
        for rs in active_old:
            self._scale(d, rs, replicas[rs["metadata"]["name"]])

    def _cleanup(self, d: Obj, old: list[Obj]) -> None:
        limit = int(d["spec"].get("revisionHistoryLimit", 10))
        idle = [rs for rs in old if _replicas(rs) == 0 and not rs.get("status", {}).get("replicas")]
        for rs in idle[: max(0, len(idle) - limit)]:
            with contextlib.suppress(NotFound):
                self.ctx.store.delete(
                    "replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"]
                )

    # -- status ------------------------------------------------------------------------------
    def _status(self, namespace: str, name: str, created: bool) -> float | None:
        ctx = self.ctx
        d = ctx.view.get("deployments", namespace, name)
        if d is None:
            return None
        now = ctx.now()
        spec, previous = d["spec"], d.get("status") or {}
        desired = int(spec.get("replicas", 1))
        uid = d["metadata"]["uid"]
        rss = ctx.view.owned(uid, "replicasets")
        wanted_hash = template_hash(spec["template"])
        new_rs = next(
            (
                rs
                for rs in rss
                if rs["spec"]["template"]["metadata"].get("labels", {}).get(HASH_LABEL)
                == wanted_hash
            ),
            None,
        )
        sums = {k: sum(int(rs.get("status", {}).get(k, 0)) for rs in rss)
                for k in ("replicas", "readyReplicas", "availableReplicas")}  # fmt: skip
        updated = int((new_rs or {}).get("status", {}).get("replicas", 0))
        rolling = spec.get("strategy", {}).get("rollingUpdate") or {}
        max_unavailable = _resolve(rolling.get("maxUnavailable", "25%"), desired, False)
        status: Obj = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": sums["replicas"],
            "updatedReplicas": updated,
            "readyReplicas": sums["readyReplicas"],
            "availableReplicas": sums["availableReplicas"],
            "unavailableReplicas": max(0, desired - sums["availableReplicas"]),
        }
        for key in (
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
        ):
            if not status[key]:
                del status[key]
        conditions = {c["type"]: c for c in previous.get("conditions") or []}
        stamp = rfc3339(now)

        def put(type_: str, value: str, reason: str, message: str, touch: bool = True) -> None:
            old = conditions.get(type_)
            same = old is not None and old.get("status") == value
            cond = {
                "type": type_, "status": value,
                "lastUpdateTime": stamp if (touch or not old) else old.get("lastUpdateTime", stamp),
                "lastTransitionTime": old["lastTransitionTime"] if same and old else stamp,
                "reason": reason, "message": message,
            }  # fmt: skip
            conditions[type_] = cond

        if sums["availableReplicas"] >= desired - max_unavailable:
            put(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                touch=False,
            )
        else:
            put(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                touch=False,
            )
        rs_name = (new_rs or {}).get("metadata", {}).get("name", name)
        complete = (
            updated == desired
            and sums["replicas"] == desired
            and sums["availableReplicas"] >= desired
        )
        progressed = (
            created
            or updated > int(previous.get("updatedReplicas", 0))
            or sums["readyReplicas"] > int(previous.get("readyReplicas", 0))
            or sums["availableReplicas"] > int(previous.get("availableReplicas", 0))
            or sums["replicas"] - updated
            < int(previous.get("replicas", 0)) - int(previous.get("updatedReplicas", 0))
            or status["observedGeneration"] != previous.get("observedGeneration")
        )
        deadline = int(spec.get("progressDeadlineSeconds", 600))
        old_progress = conditions.get("Progressing")
        next_check: float | None = None
        if spec.get("paused"):
            put("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
        elif complete:
            already = (
                old_progress is not None and old_progress.get("reason") == "NewReplicaSetAvailable"
            )
            put("Progressing", "True", "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.', touch=not already)  # fmt: skip
        elif created:
            put(
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                f'Created new replica set "{rs_name}"',
            )
        elif (
            progressed
            or old_progress is None
            or old_progress.get("reason") == "NewReplicaSetAvailable"
        ):
            put(
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                f'ReplicaSet "{rs_name}" is progressing.',
            )
        if not complete and not spec.get("paused"):
            current = conditions["Progressing"]
            if current.get("status") == "True":
                started = _parse_time(current["lastUpdateTime"])
                if now - started >= deadline:
                    put("Progressing", "False", "ProgressDeadlineExceeded",
                        f'ReplicaSet "{rs_name}" has timed out progressing.')  # fmt: skip
                else:
                    next_check = started + deadline
        status["conditions"] = [
            conditions[t] for t in ("Available", "Progressing") if t in conditions
        ]
        revision = (new_rs or {}).get("metadata", {}).get("annotations", {}).get(REVISION)
        annotations = d["metadata"].get("annotations") or {}
        if status == previous and (revision is None or annotations.get(REVISION) == revision):
            return next_check

        def change(obj: Obj) -> None:
            obj["status"] = status
            if revision is not None:
                obj["metadata"].setdefault("annotations", {})[REVISION] = revision

        try:
            ctx.store.mutate("deployments", namespace, name, change)
        except NotFound:
            return None
        return next_check
