"""The horizontal pod autoscaler scales a saturated Deployment out, and back in after the
five-minute stabilization window once the load is gone."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
from behaviour_sim import NS, Sim

Obj = dict[str, Any]


def _hpa(target: int = 80) -> Obj:
    return {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "cart", "namespace": NS},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "cart"},
            "minReplicas": 2, "maxReplicas": 12,
            "metrics": [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}}],
        },
    }  # fmt: skip


def test_hpa_scales_out_under_saturation_and_back_in_later(sim: Sim) -> None:
    sim.deploy("cart", 2, cpu="200m", cpu_limit="400m")
    sim.cluster.apply("horizontalpodautoscalers", _hpa())
    sim.step(90)
    assert sim.deployment("cart")["spec"]["replicas"] == 2
    status = sim.store.get("horizontalpodautoscalers", NS, "cart")["status"]
    assert status["currentMetrics"][0]["resource"]["current"]["averageUtilization"] < 88
    sim.cluster.inject("cpu_saturation", NS, "cart")
    sim.step(180)
    replicas = sim.deployment("cart")["spec"]["replicas"]
    assert replicas > 4
    rescale = sim.events("SuccessfulRescale")
    assert rescale and "above target" in rescale[0]["message"]
    hpa = sim.store.get("horizontalpodautoscalers", NS, "cart")
    assert hpa["status"]["desiredReplicas"] == replicas and hpa["status"]["lastScaleTime"]
    kubernetes_validate.validate(hpa, "1.32", strict=True)
    sim.cluster.clear(NS, "cart")
    sim.step(120)
    assert sim.deployment("cart")["spec"]["replicas"] == replicas  # stabilization: not yet
    sim.step(400)
    assert sim.deployment("cart")["spec"]["replicas"] < replicas
    assert any("below target" in e["message"] for e in sim.events("SuccessfulRescale"))
