"""A check suite run against every action of the catalogue, on the simulator: the server-side
dry run changes nothing; the real run is then recognised as applied from a fresh view (which is
how a restarted service avoids a second mutation)."""

from __future__ import annotations

from typing import Any

import pytest
from heal_harness import Sim, wait_for

from self_healing_service.actions.catalogue import catalogue
from self_healing_service.decision import PlannedAction
from self_healing_service.diagnosis import gather
from self_healing_service.incidents import Incident

pytestmark = pytest.mark.slow
ACTIONS = catalogue(drain_deadline=20.0)


def _incident(kind: str, name: str) -> Incident:
    namespace = "" if kind == "Node" else "shop"
    return Incident("0.check", "open", "memory_leak", "critical", namespace, kind, name, "t", 0.0)  # type: ignore[arg-type]


def _planned(sim: Sim, action: str) -> tuple[Incident, PlannedAction]:
    if action in ("cordon", "drain"):
        nodes, _ = sim.store.list("nodes", None, lambda n: "spot-pool" in n["metadata"]["name"])
        node = nodes[0]["metadata"]["name"]
        return _incident("Node", node), PlannedAction(action, "Node", "", node)
    target = {"delete_pod": "queue-worker", "rollout_restart": "catalogue", "scale": "search",
              "rollout_undo": "frontend"}[action]  # fmt: skip
    incident = _incident("Deployment", target)
    if action == "delete_pod":
        pod = sim.pods(target)[0]["metadata"]
        return incident, PlannedAction(action, "Pod", "shop", pod["name"], {"uid": pod["uid"]})
    if action == "scale":
        return incident, PlannedAction(action, "Deployment", "shop", target, {"replicas": 3})
    if action == "rollout_undo":
        # A second revision to undo: change the template and wait for it to roll out.
        def bump(obj: dict[str, Any]) -> None:
            obj["spec"]["template"]["metadata"].setdefault("annotations", {})["rev"] = "2"

        sim.store.mutate("deployments", "shop", target, bump)
        wait_for(lambda: sim.deployment(target)["metadata"].get("annotations", {}).get(
            "deployment.kubernetes.io/revision") == "2", 20, "revision 2")  # fmt: skip
        return incident, PlannedAction(action, "Deployment", "shop", target, {"to": 1})
    return incident, PlannedAction(action, "Deployment", "shop", target)


def _snapshot(sim: Sim, planned: PlannedAction) -> Any:
    if planned.kind == "Node":
        node = sim.store.get("nodes", None, planned.target)
        return node["spec"], sorted(
            p["metadata"]["name"] for p in sim.store.list(
                "pods", None, lambda p: p["spec"].get("nodeName") == planned.target)[0]
        )  # fmt: skip
    if planned.kind == "Pod":
        return sorted(p["metadata"]["name"] for p in sim.pods("queue-worker"))
    return sim.deployment(planned.target)["metadata"]["generation"]


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_dry_run_changes_nothing_and_the_real_run_is_recognised(sim: Sim, name: str) -> None:
    action = ACTIONS[name]
    api = sim.gateway(backoff=0.05)
    incident, planned = _planned(sim, name)
    marker = f"0.check/{name}"
    before = _snapshot(sim, planned)
    result = action.execute(api, planned, marker, dry_run=True)
    assert result.dry_run and result.plan
    assert _snapshot(sim, planned) == before
    assert not action.applied(gather(api, incident, 0.0, details=False), planned, marker)
    action.execute(api, planned, marker, dry_run=False)
    wait_for(lambda: action.applied(gather(api, incident, 0.0, details=False), planned, marker),
             20, f"{name} applied")  # fmt: skip
    if planned.kind == "Node":  # leave the node usable for the next case
        sim.store.mutate(
            "nodes", None, planned.target, lambda n: n["spec"].pop("unschedulable", None)
        )
