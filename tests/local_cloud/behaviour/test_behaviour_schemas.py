"""Every object the cluster itself writes validates against the Kubernetes schemas (strict)."""

from __future__ import annotations

import kubernetes_validate
import pytest

from local_cloud.clock import ManualClock
from local_cloud.gke.cluster import Cluster
from local_cloud.gke.demo_cluster import build_demo

VERSION = "1.32"  # what the API server reports
RESOURCES = ("namespaces", "nodes", "pods", "deployments", "replicasets", "events",
             "services", "poddisruptionbudgets")  # fmt: skip


@pytest.fixture(scope="module")
def troubled() -> Cluster:
    """The demo with most things going wrong at once."""
    cluster = Cluster(clock=ManualClock(), seed=9)
    build_demo(cluster)
    cluster.step(60)
    node = cluster.store.list("nodes")[0][0]["metadata"]["name"]
    cluster.inject("crash_loop", "shop", "email")
    cluster.inject("memory_leak", "shop", "cart", {"minutes_to_oom": 1})
    cluster.inject("bad_rollout", "shop", "payment")
    cluster.inject("unschedulable", "shop", "search")
    cluster.inject("node_not_ready", None, node)
    cluster.step(400)
    return cluster


@pytest.mark.parametrize("resource", RESOURCES)
def test_objects_validate_strictly(troubled: Cluster, resource: str) -> None:
    objects = troubled.store.list(resource)[0]
    assert objects
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            pytest.fail(f"{resource} {obj['metadata']['name']}: {e.message} at {list(e.path)}")


def test_the_troubles_are_visible(troubled: Cluster) -> None:
    pods = troubled.store.list("pods", "shop")[0]
    reasons = set()
    for pod in pods:
        for status in pod["status"].get("containerStatuses") or []:
            reasons.add((status["state"].get("waiting") or {}).get("reason"))
            reasons.add((status.get("lastState", {}).get("terminated") or {}).get("reason"))
    assert {"CrashLoopBackOff", "OOMKilled", "Error"} <= reasons
    assert any(p["status"]["phase"] == "Pending" for p in pods)
    assert any(p["metadata"].get("deletionTimestamp") for p in pods)  # evicted from the dead node
