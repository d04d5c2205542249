"""The official Python client (`kubernetes`) against the simulator: typed APIs, patches,
subresources, watches, errors, and schema-valid objects throughout."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_conformance import (
    Simulated,
    deployment,
    running_pods,
    validate_everything,
    validate_served,
    wait_for,
)
from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException

from local_cloud.gke.api import ApiServer
from local_cloud.gke.kubeconfig import write_kubeconfig
from local_cloud.gke.rbac import Rbac
from local_cloud.gke.store import NotFound, ObjectStore


@pytest.fixture(scope="module")
def api(sim: Simulated) -> Iterator[client.ApiClient]:
    api_client = config.new_client_from_config(config_file=str(sim.kubeconfig))
    yield api_client
    api_client.close()


@pytest.fixture(scope="module")
def web(sim: Simulated, api: client.ApiClient) -> str:
    apps = client.AppsV1Api(api)
    created = apps.create_namespaced_deployment("default", deployment("web", replicas=2))
    assert created.spec.strategy.rolling_update.max_surge == "25%"  # defaulted by admission
    assert (
        created.spec.revision_history_limit == 10 and created.spec.progress_deadline_seconds == 600
    )
    wait_for(lambda: len(running_pods(sim.store, "web")) == 2, what="two web pods")
    return "web"


def _error(excinfo: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(excinfo.value.body)
    assert body["kind"] == "Status" and body["code"] == excinfo.value.status
    return body


def test_typed_reads_deserialise(sim: Simulated, api: client.ApiClient, web: str) -> None:
    core = client.CoreV1Api(api)
    pods = core.list_namespaced_pod("default", label_selector="app=web")
    assert len(pods.items) == 2 and pods.kind == "PodList"
    assert all(p.status.container_statuses[0].ready for p in pods.items)
    nodes = core.list_node()
    assert {n.metadata.name for n in nodes.items} >= {"node-1", "node-2"}
    assert nodes.items[0].status.node_info.kubelet_version.startswith("v1.32")
    everywhere = core.list_pod_for_all_namespaces(
        field_selector=f"spec.nodeName={pods.items[0].spec.node_name}"
    )
    assert all(p.spec.node_name == pods.items[0].spec.node_name for p in everywhere.items)
    assert client.VersionApi(api).get_code().minor == "32"


def test_scale_and_patches(sim: Simulated, api: client.ApiClient, web: str) -> None:
    apps = client.AppsV1Api(api)
    scale = apps.patch_namespaced_deployment_scale(web, "default", {"spec": {"replicas": 3}})
    assert scale.spec.replicas == 3 and scale.status.selector == "app=web"
    wait_for(lambda: len(running_pods(sim.store, web)) == 3, what="three pods")
    smp = {"spec": {"template": {"spec": {"containers": [{"name": web, "image": "nginx:1.28"}]}}}}
    patched = apps.patch_namespaced_deployment(web, "default", smp)
    container = patched.spec.template.spec.containers[0]
    assert container.image == "nginx:1.28" and container.ports[0].container_port == 8080
    json_patch = [{"op": "replace", "path": "/spec/replicas", "value": 2}]
    assert apps.patch_namespaced_deployment(web, "default", json_patch).spec.replicas == 2


def test_logs(sim: Simulated, api: client.ApiClient, web: str) -> None:
    pod = wait_for(lambda: running_pods(sim.store, web), what="a running pod")[0]["metadata"][
        "name"
    ]
    sim.cluster.logs[("default", pod, web)] = ["a", "b", "c"]
    text = client.CoreV1Api(api).read_namespaced_pod_log(
        pod, "default", container=web, tail_lines=2
    )
    assert text == "b\nc\n"


def test_eviction_respects_the_budget(sim: Simulated, api: client.ApiClient, web: str) -> None:
    wait_for(lambda: len(running_pods(sim.store, web)) == 2, what="two pods")
    policy = client.PolicyV1Api(api)
    policy.create_namespaced_pod_disruption_budget(
        "default",
        {
            "metadata": {"name": "web-pdb"},
            "spec": {"maxUnavailable": 0, "selector": {"matchLabels": {"app": web}}},
        },
    )
    core = client.CoreV1Api(api)
    victim = wait_for(lambda: running_pods(sim.store, web), what="a running pod")[0]["metadata"][
        "name"
    ]
    eviction = {
        "metadata": {"name": victim, "namespace": "default"}
    }  # no kind, as the client sends
    with pytest.raises(ApiException) as blocked:
        core.create_namespaced_pod_eviction(victim, "default", eviction)
    body = _error(blocked)
    assert blocked.value.status == 429 and body["reason"] == "TooManyRequests"
    assert body["details"]["causes"][0]["reason"] == "DisruptionBudget"
    assert "needs 2 healthy pods and has 2 currently" in body["details"]["causes"][0]["message"]
    policy.delete_namespaced_pod_disruption_budget("web-pdb", "default")
    core.create_namespaced_pod_eviction(victim, "default", eviction)
    wait_for(
        lambda: victim not in {p["metadata"]["name"] for p in running_pods(sim.store, web)},
        what="evicted",
    )


def test_watch_streams_changes(sim: Simulated, api: client.ApiClient, web: str) -> None:
    core = client.CoreV1Api(api)
    seen: list[tuple[str, str]] = []

    def follow() -> None:
        for event in watch.Watch().stream(
            core.list_namespaced_config_map, "default", timeout_seconds=3
        ):
            seen.append((event["type"], event["object"].metadata.name))

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    time.sleep(0.5)
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "settings"}, "data": {"a": "1"}}
    )
    core.patch_namespaced_config_map("settings", "default", {"data": {"a": "2"}})
    core.delete_namespaced_config_map("settings", "default")
    thread.join(timeout=10)
    assert seen == [("ADDED", "settings"), ("MODIFIED", "settings"), ("DELETED", "settings")]


def test_errors_are_statuses(sim: Simulated, api: client.ApiClient, web: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod("nosuch", "default")
    assert missing.value.status == 404 and _error(missing)["message"] == 'pods "nosuch" not found'
    with pytest.raises(ApiException) as duplicate:
        apps.create_namespaced_deployment("default", deployment(web))
    assert duplicate.value.status == 409 and _error(duplicate)["reason"] == "AlreadyExists"
    stale = apps.read_namespaced_deployment(web, "default")
    apps.patch_namespaced_deployment(web, "default", {"metadata": {"labels": {"touched": "yes"}}})
    with pytest.raises(ApiException) as conflict:
        apps.replace_namespaced_deployment(web, "default", stale)
    assert conflict.value.status == 409 and _error(conflict)["reason"] == "Conflict"
    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_pod(
            "default", {"metadata": {"name": "empty"}, "spec": {"containers": []}}
        )
    assert invalid.value.status == 422
    assert _error(invalid)["details"]["causes"][0]["field"] == "spec.containers"
    with pytest.raises(ApiException) as no_namespace:
        core.create_namespaced_config_map("nowhere", {"metadata": {"name": "x"}})
    assert _error(no_namespace)["message"] == 'namespaces "nowhere" not found'


def test_dry_run_does_not_persist(sim: Simulated, api: client.ApiClient, web: str) -> None:
    apps = client.AppsV1Api(api)
    preview = apps.create_namespaced_deployment("default", deployment("ghost"), dry_run="All")
    assert preview.metadata.uid and preview.spec.replicas == 2
    with pytest.raises(NotFound):
        sim.store.get("deployments", "default", "ghost")
    before = sim.store.get("deployments", "default", web)
    after = apps.patch_namespaced_deployment(
        web, "default", {"spec": {"replicas": 7}}, dry_run="All"
    )
    assert after.spec.replicas == 7
    assert (
        sim.store.get("deployments", "default", web)["metadata"]["resourceVersion"]
        == before["metadata"]["resourceVersion"]
    )
    pod = wait_for(lambda: running_pods(sim.store, web), what="a running pod")[0]["metadata"][
        "name"
    ]
    client.CoreV1Api(api).delete_namespaced_pod(pod, "default", dry_run="All")
    assert sim.store.get("pods", "default", pod)["metadata"].get("deletionTimestamp") is None


def test_metrics_and_dynamic_client(sim: Simulated, api: client.ApiClient, web: str) -> None:
    metrics = client.CustomObjectsApi(api).list_namespaced_custom_object(
        "metrics.k8s.io", "v1beta1", "default", "pods"
    )
    assert metrics["kind"] == "PodMetricsList"
    assert {c["usage"]["memory"] for m in metrics["items"] for c in m["containers"]} == {"65536Ki"}
    deployments = dynamic.DynamicClient(api).resources.get(api_version="apps/v1", kind="Deployment")
    assert web in {d.metadata.name for d in deployments.get(namespace="default").items}


def test_delete_deployment_cascades(sim: Simulated, api: client.ApiClient, web: str) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment("default", deployment("doomed", replicas=1))
    wait_for(lambda: running_pods(sim.store, "doomed"), what="a doomed pod")
    apps.delete_namespaced_deployment("doomed", "default", propagation_policy="Foreground")
    assert not [
        rs
        for rs in sim.store.list("replicasets", "default")[0]
        if rs["metadata"]["name"].startswith("doomed-")
    ]
    wait_for(
        lambda: (
            not sim.store.list(
                "pods", "default", lambda p: p["metadata"]["labels"].get("app") == "doomed"
            )[0]
        ),
        what="pods gone",
    )


def test_every_served_object_validates_against_the_schemas(
    sim: Simulated, api: client.ApiClient, web: str
) -> None:
    served = client.AppsV1Api(api).read_namespaced_deployment(web, "default")
    assert validate_served(api.sanitize_for_serialization(served)) == 1
    assert validate_everything(sim) > 10


def test_least_privilege_over_https(tmp_path: Path) -> None:
    """A service-account token bound to a namespaced Role, as the healing service will run."""
    manifests = [
        {"kind": "Role", "metadata": {"name": "healer", "namespace": "default"},
         "rules": [{"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"], "verbs": ["get", "list", "patch"]},
                   {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]},
        {"kind": "RoleBinding", "metadata": {"name": "healer", "namespace": "default"},
         "roleRef": {"kind": "Role", "name": "healer"},
         "subjects": [{"kind": "ServiceAccount", "name": "healer", "namespace": "gke-heal"}]},
    ]  # fmt: skip
    rbac = Rbac.from_manifests(manifests, {"sa-token": "system:serviceaccount:gke-heal:healer"})
    store = ObjectStore()
    with ApiServer(store, rbac=rbac) as server:
        web = deployment("web", replicas=1)
        web["metadata"]["namespace"] = "default"
        store.create("deployments", web)
        config_file = write_kubeconfig(
            tmp_path / "config", server.url, token="sa-token", ca_pem=server.ca_pem
        )
        api_client = config.new_client_from_config(config_file=str(config_file))
        apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
        assert (
            apps.patch_namespaced_deployment_scale(
                "web", "default", {"spec": {"replicas": 2}}
            ).spec.replicas
            == 2
        )
        assert core.list_namespaced_pod("default").items == []
        with pytest.raises(ApiException) as forbidden:
            core.delete_namespaced_pod("web-1", "default")
        assert forbidden.value.status == 403 and _error(forbidden)["reason"] == "Forbidden"
        with pytest.raises(ApiException) as elsewhere:
            core.list_namespaced_pod("kube-system")
        assert elsewhere.value.status == 403
        api_client.close()
