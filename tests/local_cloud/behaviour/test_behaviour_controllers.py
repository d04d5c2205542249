"""Deployment, ReplicaSet, scheduler, deletion and garbage collection behave as kube's do."""

from __future__ import annotations

import copy
from typing import Any

from behaviour_sim import NS, Sim, ready

from local_cloud.gke.objects import HASH_LABEL, REVISION

Obj = dict[str, Any]


def _set_image(image: str) -> Any:
    def change(d: Obj) -> None:
        d["spec"]["template"]["spec"]["containers"][0]["image"] = image

    return change


def _rollout_complete(d: Obj) -> bool:
    s = d["status"]
    want = d["spec"]["replicas"]
    return (
        s.get("observedGeneration", 0) >= d["metadata"]["generation"]
        and s.get("updatedReplicas") == want
        and s.get("replicas") == want
        and s.get("availableReplicas") == want
    )


def test_deployment_creates_replicaset_and_ready_pods(sim: Sim) -> None:
    sim.deploy("cart", 3)
    sim.step(60)
    (rs,) = sim.replicasets("cart")
    pods = sim.pods("cart")
    assert len(pods) == 3 and all(ready(p) for p in pods)
    assert all(p["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"] for p in pods)
    assert all(
        p["metadata"]["labels"][HASH_LABEL] == rs["metadata"]["labels"][HASH_LABEL] for p in pods
    )
    assert rs["metadata"]["annotations"][REVISION] == "1"
    d = sim.deployment("cart")
    assert _rollout_complete(d)
    assert {c["type"]: c["reason"] for c in d["status"]["conditions"]} == {
        "Available": "MinimumReplicasAvailable",
        "Progressing": "NewReplicaSetAvailable",
    }
    assert d["metadata"]["annotations"][REVISION] == "1"
    assert {e["reason"] for e in sim.events()} >= {
        "ScalingReplicaSet",
        "SuccessfulCreate",
        "Scheduled",
        "Started",
    }


def test_rolling_update_respects_surge_and_unavailable(sim: Sim) -> None:
    sim.deploy("cart", 4)
    sim.step(60)
    sim.patch("deployments", "cart", _set_image("us-docker.pkg.dev/x/cart:2.0"))
    seen_max_total, seen_min_ready = 0, 99
    for _ in range(60):
        sim.step(1)
        pods = [p for p in sim.pods("cart") if not p["metadata"].get("deletionTimestamp")]
        seen_max_total = max(seen_max_total, len(pods))
        seen_min_ready = min(seen_min_ready, sum(1 for p in pods if ready(p)))
    # maxSurge 25% of 4 = 1 extra pod, maxUnavailable 25% of 4 = 1 pod down at most.
    assert seen_max_total == 5
    assert seen_min_ready >= 3
    d = sim.deployment("cart")
    assert _rollout_complete(d)
    rss = {rs["metadata"]["annotations"][REVISION]: rs for rs in sim.replicasets("cart")}
    assert set(rss) == {"1", "2"}
    assert rss["1"]["spec"]["replicas"] == 0 and rss["2"]["spec"]["replicas"] == 4
    assert d["metadata"]["annotations"][REVISION] == "2"
    images = {p["spec"]["containers"][0]["image"] for p in sim.pods("cart")}
    assert images == {"us-docker.pkg.dev/x/cart:2.0"}


def test_rollout_undo_reuses_the_old_replicaset_with_a_new_revision(sim: Sim) -> None:
    sim.deploy("cart", 2)
    sim.step(60)
    sim.patch("deployments", "cart", _set_image("us-docker.pkg.dev/x/cart:2.0"))
    sim.step(120)
    old = next(
        rs for rs in sim.replicasets("cart") if rs["metadata"]["annotations"][REVISION] == "1"
    )
    template = copy.deepcopy(old["spec"]["template"])
    template["metadata"]["labels"].pop(HASH_LABEL)  # what kubectl rollout undo sends

    def undo(d: Obj) -> None:
        d["spec"]["template"] = template

    sim.patch("deployments", "cart", undo)
    sim.step(120)
    rss = {rs["metadata"]["name"]: rs for rs in sim.replicasets("cart")}
    assert len(rss) == 2
    assert rss[old["metadata"]["name"]]["metadata"]["annotations"][REVISION] == "3"
    assert rss[old["metadata"]["name"]]["spec"]["replicas"] == 2
    assert sim.deployment("cart")["metadata"]["annotations"][REVISION] == "3"
    assert _rollout_complete(sim.deployment("cart"))
    assert {p["spec"]["containers"][0]["image"] for p in sim.pods("cart")} == {
        old["spec"]["template"]["spec"]["containers"][0]["image"]
    }


def test_restarted_at_annotation_replaces_every_pod(sim: Sim) -> None:
    sim.deploy("cart", 3)
    sim.step(60)
    before = {p["metadata"]["name"] for p in sim.pods("cart")}

    def restart(d: Obj) -> None:
        annotations = d["spec"]["template"]["metadata"].setdefault("annotations", {})
        annotations["kubectl.kubernetes.io/restartedAt"] = "2026-01-01T00:01:00Z"

    sim.patch("deployments", "cart", restart)
    sim.step(180)
    after = {p["metadata"]["name"] for p in sim.pods("cart")}
    assert len(after) == 3 and not before & after
    assert _rollout_complete(sim.deployment("cart"))


def test_scale_up_and_down(sim: Sim) -> None:
    sim.deploy("cart", 2)
    sim.step(30)

    def scale(n: int) -> Any:
        def change(d: Obj) -> None:
            d["spec"]["replicas"] = n

        return change

    sim.patch("deployments", "cart", scale(5))
    sim.step(30)
    assert sum(1 for p in sim.pods("cart") if ready(p)) == 5
    assert sim.deployment("cart")["status"]["readyReplicas"] == 5
    sim.patch("deployments", "cart", scale(1))
    sim.step(30)
    assert len(sim.pods("cart")) == 1
    assert len(sim.events("SuccessfulDelete")) == 4
    messages = [e["message"] for e in sim.events("ScalingReplicaSet")]
    assert any("from 5 to 1" in m for m in messages)


def test_graceful_delete_sets_deletion_timestamp_then_removes_and_replaces(sim: Sim) -> None:
    sim.deploy("cart", 2)
    sim.step(30)
    victim = sim.pods("cart")[0]["metadata"]["name"]
    assert sim.cluster.graceful_delete(NS, victim, 30) is True
    pod = sim.store.get("pods", NS, victim)
    assert (
        pod["metadata"]["deletionTimestamp"] and pod["metadata"]["deletionGracePeriodSeconds"] == 30
    )
    sim.step(0)
    assert any(
        e["reason"] == "Killing" and e["involvedObject"]["name"] == victim for e in sim.events()
    )
    sim.step(5)
    names = {p["metadata"]["name"] for p in sim.pods("cart")}
    assert victim not in names
    sim.step(20)
    assert sum(1 for p in sim.pods("cart") if ready(p)) == 2


def test_unscheduled_pod_is_not_deleted_gracefully(sim: Sim) -> None:
    sim.cluster.apply("pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "lone", "namespace": NS},
        "spec": {"nodeName": "", "containers": [{"name": "x", "image": "busybox:1"}],
                 "nodeSelector": {"nowhere": "true"}},
    })  # fmt: skip
    sim.step(1)
    assert sim.cluster.graceful_delete(NS, "lone", 30) is False


def test_cordon_and_evict_moves_pods_off_the_node(sim: Sim) -> None:
    sim.deploy("cart", 3)
    sim.step(30)
    node = sim.pods("cart")[0]["spec"]["nodeName"]

    def cordon(n: Obj) -> None:
        n["spec"]["unschedulable"] = True

    sim.patch("nodes", node, cordon, ns=None)
    for pod in sim.pods("cart"):
        if pod["spec"]["nodeName"] == node:
            assert sim.cluster.graceful_delete(NS, pod["metadata"]["name"], 30)
    sim.step(60)
    pods = sim.pods("cart")
    assert len(pods) == 3 and all(ready(p) for p in pods)
    assert all(p["spec"]["nodeName"] != node for p in pods)


def test_deleting_a_deployment_collects_its_replicasets_and_pods(sim: Sim) -> None:
    sim.deploy("cart", 2)
    sim.step(30)
    sim.store.delete("deployments", NS, "cart")
    sim.step(10)
    assert sim.replicasets("cart") == []
    sim.step(10)
    assert sim.pods("cart") == []


def test_revision_history_limit_prunes_old_replicasets(sim: Sim) -> None:
    sim.deploy("cart", 1, revisionHistoryLimit=2)
    sim.step(30)
    for version in range(2, 7):
        sim.patch("deployments", "cart", _set_image(f"us-docker.pkg.dev/x/cart:{version}.0"))
        sim.step(40)
    revisions = sorted(
        int(rs["metadata"]["annotations"][REVISION]) for rs in sim.replicasets("cart")
    )
    assert revisions == [4, 5, 6]


def test_scheduler_respects_taints_selectors_and_capacity(sim: Sim) -> None:
    def taint(n: Obj) -> None:
        n["spec"]["taints"] = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]

    sim.patch("nodes", sim.nodes[0], taint, ns=None)
    sim.deploy("cart", 6)
    sim.step(30)
    placed = {p["spec"]["nodeName"] for p in sim.pods("cart")}
    assert sim.nodes[0] not in placed and len(placed) == 2  # spread over the two others
    # 3.74 allocatable cores per node: six 2-core pods cannot all fit on two nodes.
    sim.deploy("search", 3, cpu="2", cpu_limit="2")
    sim.step(30)
    pending = [p for p in sim.pods("search") if not p["spec"].get("nodeName")]
    assert len(pending) >= 1
    cond = next(c for c in pending[0]["status"]["conditions"] if c["type"] == "PodScheduled")
    assert cond["status"] == "False" and cond["reason"] == "Unschedulable"
    assert "Insufficient cpu" in cond["message"]
    assert "1 node(s) had untolerated taint {dedicated: gpu}" in cond["message"]
    event = next(
        e
        for e in sim.events("FailedScheduling")
        if e["involvedObject"]["name"] == pending[0]["metadata"]["name"]
    )
    assert event["type"] == "Warning" and event["source"]["component"] == "default-scheduler"


def test_pod_disruption_budget_status_follows_ready_pods(sim: Sim) -> None:
    sim.deploy("cart", 3)
    sim.cluster.apply("poddisruptionbudgets", {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "cart-pdb", "namespace": NS},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "cart"}}},
    })  # fmt: skip
    sim.step(30)
    status = sim.store.get("poddisruptionbudgets", NS, "cart-pdb")["status"]
    assert (status["currentHealthy"], status["desiredHealthy"], status["disruptionsAllowed"]) == (
        3,
        2,
        1,
    )
    assert status["expectedPods"] == 3


def test_progress_deadline_exceeded_when_new_pods_never_become_ready(sim: Sim) -> None:
    sim.deploy("cart", 2, progressDeadlineSeconds=120)
    sim.step(30)
    sim.patch("deployments", "cart", _set_image("us-docker.pkg.dev/x/cart:2.0-bad"))
    sim.step(60)
    progressing = next(
        c for c in sim.deployment("cart")["status"]["conditions"] if c["type"] == "Progressing"
    )
    assert progressing["status"] == "True"
    sim.step(120)
    progressing = next(
        c for c in sim.deployment("cart")["status"]["conditions"] if c["type"] == "Progressing"
    )
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert "has timed out progressing" in progressing["message"]
