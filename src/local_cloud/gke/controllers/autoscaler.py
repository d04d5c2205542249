"""Horizontal pod autoscaler (autoscaling/v2, CPU utilization of requests): every 15 s it
compares the ready pods' CPU use with the target and rescales the Deployment, with the real
controller's 10 % tolerance and five-minute scale-down stabilization."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

from local_cloud.clock import rfc3339
from local_cloud.gke.controllers import Context
from local_cloud.gke.objects import container_requests, is_active_pod, is_pod_ready
from local_cloud.gke.runtime import Usage
from local_cloud.gke.store import NotFound

Obj = dict[str, Any]
PERIOD = 15.0
TOLERANCE = 0.1
DOWNSCALE_WINDOW = 300.0
COMPONENT = "horizontal-pod-autoscaler"


def _target_utilization(hpa: Obj) -> int | None:
    spec = hpa.get("spec", {})
    if spec.get("targetCPUUtilizationPercentage") is not None:  # autoscaling/v1
        return int(spec["targetCPUUtilizationPercentage"])
    for metric in spec.get("metrics") or []:
        resource = metric.get("resource") or {}
        target = resource.get("target") or {}
        if (
            metric.get("type") == "Resource"
            and resource.get("name") == "cpu"
            and target.get("type") == "Utilization"
        ):
            return int(target.get("averageUtilization", 80))
    return None


class Autoscaler:
    def __init__(self, ctx: Context, usage_of: Callable[[str, str], dict[str, Usage]]) -> None:
        self.ctx = ctx
        self._usage_of = usage_of
        self._recommendations: dict[tuple[str, str], list[tuple[float, int]]] = {}

    def sync_all(self) -> None:
        for hpa in self.ctx.view.list("horizontalpodautoscalers"):
            self.sync(hpa)

    def sync(self, hpa: Obj) -> None:
        ctx = self.ctx
        now = ctx.now()
        meta, spec = hpa["metadata"], hpa.get("spec", {})
        ref = spec.get("scaleTargetRef") or {}
        target = _target_utilization(hpa)
        deployment = ctx.view.get("deployments", meta["namespace"], ref.get("name", ""))
        if ref.get("kind") != "Deployment" or deployment is None or target is None:
            self._status(
                hpa,
                None,
                None,
                None,
                "FailedGetScale" if deployment is None else "InvalidMetricSourceType",
            )
            return
        current = int(deployment["spec"].get("replicas", 1))
        selector = (deployment["spec"].get("selector") or {}).get("matchLabels") or {}
        used = requested = 0.0
        counted = 0
        for pod in ctx.view.list("pods", meta["namespace"]):
            labels = pod["metadata"].get("labels") or {}
            if (
                not is_active_pod(pod)
                or not is_pod_ready(pod)
                or any(labels.get(k) != v for k, v in selector.items())
            ):
                continue
            usage = self._usage_of(meta["namespace"], pod["metadata"]["name"])
            counted += 1 if usage else 0
            for container in pod["spec"].get("containers") or []:
                if container["name"] in usage:
                    used += usage[container["name"]].cpu_cores
                    requested += container_requests(container)[0]
        if requested <= 0:
            self._status(hpa, current, current, None, "FailedGetResourceMetric")
            return
        utilization = used / requested
        ratio = utilization / (target / 100)
        wanted = current if abs(ratio - 1.0) <= TOLERANCE else math.ceil(current * ratio)
        low, high = int(spec.get("minReplicas", 1)), int(spec["maxReplicas"])
        wanted = max(low, min(high, wanted))
        key = (meta["namespace"], meta["name"])
        history = [
            (t, r) for t, r in self._recommendations.get(key, []) if now - t < DOWNSCALE_WINDOW
        ]
        history.append((now, wanted))
        self._recommendations[key] = history
        desired = max(r for _, r in history) if wanted < current else wanted
        if desired != current:

            def scale(obj: Obj) -> None:
                obj["spec"]["replicas"] = desired

            ctx.store.mutate("deployments", meta["namespace"], ref["name"], scale)
            direction = "above" if desired > current else "below"
            ctx.recorder.record(
                hpa, "SuccessfulRescale",
                f"New size: {desired}; reason: cpu resource utilization (percentage of request) {direction} target",
                component=COMPONENT,
            )  # fmt: skip
        self._status(hpa, current, desired, round(utilization * 100), None,
                     scaled=desired != current, used=used, ready=max(1, counted))  # fmt: skip

    def _status(self, hpa: Obj, current: int | None, desired: int | None, utilization: int | None,
                problem: str | None, *, scaled: bool = False, used: float = 0.0, ready: int = 1) -> None:  # fmt: skip
        now = rfc3339(self.ctx.now())
        old = hpa.get("status") or {}
        previous = {c["type"]: c for c in old.get("conditions") or []}

        def cond(type_: str, status: str, reason: str, message: str) -> Obj:
            before = previous.get(type_)
            since = (
                before["lastTransitionTime"] if before and before.get("status") == status else now
            )
            return {
                "type": type_,
                "status": status,
                "lastTransitionTime": since,
                "reason": reason,
                "message": message,
            }

        status: Obj = {
            "observedGeneration": hpa["metadata"].get("generation", 1),
            "currentReplicas": current if current is not None else old.get("currentReplicas", 0),
            "desiredReplicas": desired if desired is not None else old.get("desiredReplicas", 0),
        }
        if old.get("lastScaleTime"):
            status["lastScaleTime"] = old["lastScaleTime"]
        if scaled:
            status["lastScaleTime"] = now
        if problem is None and utilization is not None:
            status["currentMetrics"] = [{"type": "Resource", "resource": {
                "name": "cpu", "current": {"averageUtilization": utilization,
                                           "averageValue": f"{round(used * 1000 / ready)}m"}}}]  # fmt: skip
            status["conditions"] = [
                cond(
                    "AbleToScale",
                    "True",
                    "ReadyForNewScale",
                    "recommended size matches current size",
                ),
                cond(
                    "ScalingActive",
                    "True",
                    "ValidMetricFound",
                    "the HPA was able to successfully calculate a replica count from cpu resource "
                    "utilization (percentage of request)",
                ),
            ]
        else:
            status["conditions"] = [
                cond(
                    "AbleToScale",
                    "True",
                    "SucceededGetScale",
                    "the HPA controller was able to get the target's current scale",
                ),
                cond(
                    "ScalingActive",
                    "False",
                    problem or "FailedGetResourceMetric",
                    "the HPA was unable to compute the replica count",
                ),
            ]
        if status == old:
            return

        def change(obj: Obj) -> None:
            obj["status"] = status

        with contextlib.suppress(NotFound):
            self.ctx.store.mutate(
                "horizontalpodautoscalers",
                hpa["metadata"]["namespace"],
                hpa["metadata"]["name"],
                change,
            )
