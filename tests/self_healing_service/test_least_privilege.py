"""The service works with exactly the permissions of `deploy/kubernetes/rbac.yaml`: the
simulator checks the service account's bearer token against those RBAC rules (over HTTPS)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from heal_harness import FAULT, REPO_ROOT, Served, Sim, fast_settings, start_sim
from notices import monitoring
from test_reliability import post, settle

from local_cloud.gke.rbac import Rbac
from self_healing_service.app import create_app
from self_healing_service.kube import PermanentKubeError
from self_healing_service.store.sqlite import SqliteStore

pytestmark = pytest.mark.slow
RBAC = REPO_ROOT / "deploy" / "kubernetes" / "rbac.yaml"
USER = "system:serviceaccount:gke-heal:gke-heal-healing"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    if not RBAC.exists():
        pytest.fail(f"{RBAC} is missing: the least-privilege manifest is part of the product")
    documents = [d for d in yaml.safe_load_all(RBAC.read_text()) if d]
    rbac = Rbac.from_manifests(documents, {"heal-token": USER})
    running = start_sim(tmp_path_factory.mktemp("rbac"), rbac=rbac, token="heal-token")
    yield running
    running.cluster.stop()
    running.server.stop()


def test_every_action_kind_works_with_the_manifest_permissions(
    guarded: Sim, tmp_path: Path
) -> None:
    assert guarded.server.url.startswith("https://")
    settings = fast_settings(tmp_path)
    store = SqliteStore(settings.sqlite_path)
    gateway = guarded.gateway(backoff=0.05)
    cases = [("0.rb-leak", "memory_leak", "cart"), ("0.rb-cpu", "cpu_saturation", "ad")]
    for _, issue, target in cases:
        guarded.annotate(target, {FAULT: issue})
    with Served(create_app(settings, gateway, store)) as served:
        for incident_id, issue, target in cases:
            assert (
                post(served.url, "monitoring", monitoring(incident_id, issue, f"shop/{target}"))
                == 200
            )
        for incident_id, _, _ in cases:
            assert settle(store, incident_id)["status"] == "resolved", store.audit_records(
                incident_id
            )
    assert guarded.deployment("ad")["spec"]["replicas"] == 6  # 2 + 4 by the default policy
    # Verification read the pods' CPU through metrics.k8s.io under the manifest's rules.
    verified = [r["data"] for r in store.audit_records("0.rb-cpu") if r["kind"] == "verification"]
    assert verified and "CPU at" in verified[-1]["reason"]
    # Diagnosis read events and logs under the same token.
    decision = next(r["data"] for r in store.audit_records("0.rb-leak") if r["kind"] == "decision")
    assert decision["logs"] or decision["events"]
    # Nothing beyond the manifest: the same token may not read secrets or delete deployments.
    with pytest.raises(PermanentKubeError) as forbidden:
        gateway._json("list secrets", gateway.core.list_namespaced_secret, "shop")
    assert forbidden.value.status == 403
    with pytest.raises(PermanentKubeError) as forbidden:
        gateway._json("delete", gateway.apps.delete_namespaced_deployment, "cart", "shop")
    assert forbidden.value.status == 403
    for _, _issue, target in cases:
        guarded.annotate(target, {FAULT: None})


def test_drain_works_with_the_manifest_permissions(guarded: Sim, tmp_path: Path) -> None:
    nodes, _ = guarded.store.list("nodes", None, lambda n: "default-pool" in n["metadata"]["name"])
    node = nodes[-1]["metadata"]["name"]

    def fault(value: str | None) -> None:
        def change(obj: dict[str, Any]) -> None:
            annotations = obj["metadata"].setdefault("annotations", {})
            annotations.pop(FAULT, None)
            if value is not None:
                annotations[FAULT] = value

        guarded.store.mutate("nodes", None, node, change)

    settings = fast_settings(tmp_path)
    store = SqliteStore(settings.sqlite_path)
    fault("node_not_ready")
    try:
        with Served(create_app(settings, guarded.gateway(backoff=0.05), store)) as served:
            post(served.url, "monitoring", monitoring("0.rb-node", "node_failure", node, node=node))
            assert settle(store, "0.rb-node")["status"] == "resolved", store.audit_records(
                "0.rb-node"
            )
        assert guarded.store.get("nodes", None, node)["spec"]["unschedulable"] is True
    finally:
        fault(None)
