"""Real kubectl (the pinned 1.37 wheel and the machine's dispatcher) against the simulator."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from typing import Any

import pytest
from api_conformance import (
    KubectlRun,
    Simulated,
    deployment,
    running_pods,
    validate_everything,
    wait_for,
)

from local_cloud.gke.store import NotFound

pytestmark = pytest.mark.slow


def _apply(kubectl: KubectlRun, obj: dict[str, Any]) -> None:
    kubectl("apply", "-f", "-", stdin=json.dumps(obj))


def _rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.strip().splitlines()]


@pytest.fixture(scope="module")
def app(sim: Simulated, kubectl: KubectlRun) -> str:
    """A deployment of two running pods, created through `kubectl apply`."""
    name = f"shop-{kubectl.tag}"  # type: ignore[attr-defined]
    _apply(kubectl, deployment(name, replicas=2))
    wait_for(lambda: len(running_pods(sim.store, name)) == 2, what="two running pods")
    return name


def test_get_pods_all_namespaces_is_a_table(sim: Simulated, kubectl: KubectlRun, app: str) -> None:
    rows = _rows(kubectl("get", "pods", "-A").stdout)
    assert rows[0] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    mine = [r for r in rows if r[1].startswith(app)]
    assert len(mine) == 2
    assert all(r[0] == "default" and r[2:5] == ["1/1", "Running", "0"] for r in mine)
    wide = _rows(kubectl("get", "pods", "-o", "wide").stdout)
    assert (
        wide[0][-4:] == ["NODE", "NOMINATED", "NODE", "READINESS", "GATES"][-4:]
        or "NODE" in wide[0]
    )
    assert any(r[0].startswith(app) and r[6].startswith("node-") for r in wide[1:])


def test_get_in_chunks_sees_everything(sim: Simulated, kubectl: KubectlRun, app: str) -> None:
    whole = _rows(kubectl("get", "pods", "-A").stdout)
    chunked = _rows(kubectl("get", "pods", "-A", "--chunk-size=1").stdout)
    assert [r[:2] for r in chunked] == [r[:2] for r in whole] and len(whole) >= 3


def test_get_deployments_nodes_and_events(sim: Simulated, kubectl: KubectlRun, app: str) -> None:
    rows = _rows(kubectl("get", "deployments", "-A").stdout)
    assert rows[0] == ["NAMESPACE", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert ["default", app, "2/2", "2", "2"] == next(r for r in rows if r[1] == app)[:5]
    nodes = _rows(kubectl("get", "nodes").stdout)
    assert nodes[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert any(
        r[0] == "node-1" and r[1].startswith("Ready") and r[4].startswith("v1.32") for r in nodes
    )
    pod = wait_for(lambda: running_pods(sim.store, app), what="a running pod")[0]
    sim.store.create("events", _event(pod, "BackOff", "Back-off restarting failed container", sim))
    events = kubectl("get", "events", "-A").stdout
    header = events.splitlines()[0].split()
    assert header[:4] == ["NAMESPACE", "LAST", "SEEN", "TYPE"] and "MESSAGE" in header
    line = next(line for line in events.splitlines() if pod["metadata"]["name"] in line)
    assert "Warning" in line and "BackOff" in line and f"pod/{pod['metadata']['name']}" in line


def _event(pod: dict[str, Any], reason: str, message: str, sim: Simulated) -> dict[str, Any]:
    from local_cloud.clock import rfc3339

    now = rfc3339(sim.store.clock.now())
    meta = pod["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{reason.lower()}", "namespace": meta["namespace"]},
        "involvedObject": {
            "kind": "Pod",
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "apiVersion": "v1",
        },
        "reason": reason,
        "message": message,
        "type": "Warning",
        "count": 3,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "source": {"component": "kubelet", "host": pod["spec"]["nodeName"]},
        "reportingComponent": "kubelet",
        "reportingInstance": pod["spec"]["nodeName"],
    }


def test_describe_pod_shows_status_and_events(
    sim: Simulated, kubectl: KubectlRun, app: str
) -> None:
    pod = wait_for(lambda: running_pods(sim.store, app), what="a running pod")[0]
    name = pod["metadata"]["name"]
    sim.store.create("events", _event(pod, "Unhealthy", "Readiness probe failed: HTTP 503", sim))
    out = kubectl("describe", "pod", name).stdout
    assert (
        f"Name:             {name}" in out
        or f"Name:         {name}" in out
        or name in out.splitlines()[0]
    )
    assert f"Node:             {pod['spec']['nodeName']}" in out
    assert "Status:           Running" in out
    assert "Readiness probe failed: HTTP 503" in out and "Unhealthy" in out


def test_logs_and_previous_logs(sim: Simulated, kubectl: KubectlRun, app: str) -> None:
    pod = wait_for(lambda: running_pods(sim.store, app), what="a running pod")[0]["metadata"][
        "name"
    ]
    sim.cluster.logs[("default", pod, app)] = [f"GET /cart 200 line {i}" for i in range(10)]
    out = kubectl("logs", pod, "--tail=3").stdout
    assert out.splitlines() == [
        "GET /cart 200 line 7",
        "GET /cart 200 line 8",
        "GET /cart 200 line 9",
    ]
    failed = kubectl("logs", pod, "--previous", check=False)
    assert failed.returncode != 0 and "previous terminated container" in failed.stderr
    sim.cluster.previous_logs[("default", pod, app)] = ["panic: out of memory"]
    assert kubectl("logs", pod, "-p").stdout == "panic: out of memory\n"
    stamped = kubectl("logs", pod, "--tail=1", "--timestamps").stdout
    assert stamped.endswith(" GET /cart 200 line 9\n") and stamped[:4].isdigit()


def test_logs_follow_streams_new_lines(sim: Simulated, kubectl: KubectlRun, app: str) -> None:
    pod = wait_for(lambda: running_pods(sim.store, app), what="a running pod")[0]["metadata"][
        "name"
    ]
    key = ("default", pod, app)
    sim.cluster.logs[key] = ["before"]
    follow = subprocess.Popen(
        [kubectl.path, "logs", "-f", pod],  # type: ignore[attr-defined]
        env=kubectl.env,  # type: ignore[attr-defined]
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(follow.stdout or []), daemon=True).start()
    try:
        wait_for(lambda: lines == ["before\n"], what="the existing line")
        sim.cluster.logs[key] = ["before", "after"]
        wait_for(lambda: lines == ["before\n", "after\n"], what="the new line")
    finally:
        follow.kill()


def test_top_pods_reads_metrics_api(sim: Simulated, kubectl: KubectlRun, app: str) -> None:
    rows = _rows(kubectl("top", "pods").stdout)
    assert rows[0] == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    mine = [r for r in rows if r[0].startswith(app)]
    assert mine and all(r[1:] == ["250m", "64Mi"] for r in mine)
    nodes = _rows(kubectl("top", "nodes").stdout)
    assert nodes[1][0].startswith("node-") and nodes[1][1] == "1500m"


def test_scale(sim: Simulated, kubectl: KubectlRun, app: str) -> None:
    assert "scaled" in kubectl("scale", f"deployment/{app}", "--replicas=3").stdout
    assert sim.store.get("deployments", "default", app)["spec"]["replicas"] == 3
    wait_for(lambda: len(running_pods(sim.store, app)) == 3, what="three pods")
    kubectl("scale", f"deployment/{app}", "--replicas=2")
    wait_for(lambda: len(running_pods(sim.store, app)) == 2, what="two pods")


def test_rollout_restart_and_status(sim: Simulated, kubectl: KubectlRun, app: str) -> None:
    before = sim.store.get("deployments", "default", app)["metadata"]["generation"]
    kubectl("rollout", "restart", f"deployment/{app}")
    dep = sim.store.get("deployments", "default", app)
    assert "kubectl.kubernetes.io/restartedAt" in dep["spec"]["template"]["metadata"]["annotations"]
    assert dep["metadata"]["generation"] == before + 1
    out = kubectl("rollout", "status", f"deployment/{app}", "--timeout=30s").stdout
    assert "successfully rolled out" in out


def test_set_image_keeps_the_rest_of_the_container_and_undo_restores(
    sim: Simulated, kubectl: KubectlRun, app: str
) -> None:
    kubectl("set", "image", f"deployment/{app}", f"{app}=nginx:1.28")
    container = sim.store.get("deployments", "default", app)["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["image"] == "nginx:1.28"
    assert container["ports"][0]["containerPort"] == 8080  # a strategic merge, not a list replace
    assert container["env"] == [{"name": "MODE", "value": "test"}]
    kubectl("rollout", "status", f"deployment/{app}", "--timeout=30s")
    kubectl("rollout", "undo", f"deployment/{app}")
    image = sim.store.get("deployments", "default", app)["spec"]["template"]["spec"]["containers"][
        0
    ]["image"]
    assert image != "nginx:1.28"
    kubectl("rollout", "status", f"deployment/{app}", "--timeout=30s")


def test_delete_pod_returns_once_the_pod_is_gone(
    sim: Simulated, kubectl: KubectlRun, app: str
) -> None:
    name = f"lonely-{kubectl.tag}"  # type: ignore[attr-defined]
    kubectl("run", name, "--image=busybox:1.36", "--restart=Never")
    wait_for(
        lambda: sim.store.get("pods", "default", name)["status"].get("phase") == "Running",
        what="running",
    )
    sim.cluster.grace_scale = 0.05  # the 30 s grace period takes 1.5 s here
    started = time.monotonic()
    assert f'pod "{name}" deleted' in kubectl("delete", "pod", name).stdout
    assert time.monotonic() - started >= 1.0  # it waited for graceful termination
    with pytest.raises(NotFound):
        sim.store.get("pods", "default", name)
    sim.cluster.grace_scale = 0.02


def test_cordon_and_uncordon(sim: Simulated, kubectl: KubectlRun) -> None:
    kubectl("cordon", "node-2")
    assert sim.store.get("nodes", None, "node-2")["spec"]["unschedulable"] is True
    assert "Ready,SchedulingDisabled" in kubectl("get", "node", "node-2").stdout
    kubectl("uncordon", "node-2")
    assert "unschedulable" not in sim.store.get("nodes", None, "node-2")["spec"]


def test_drain_waits_for_the_disruption_budget(sim: Simulated, kubectl: KubectlRun) -> None:
    name = f"guarded-{kubectl.tag}"  # type: ignore[attr-defined]
    _apply(kubectl, deployment(name, replicas=2))
    pods = wait_for(
        lambda: len(running_pods(sim.store, name)) == 2 and running_pods(sim.store, name),
        what="pods",
    )
    _apply(
        kubectl,
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": f"{name}-pdb"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": name}}},
        },
    )
    node = pods[0]["spec"]["nodeName"]
    drain = subprocess.Popen(
        [
            kubectl.path,
            "drain",
            node,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=60s",
        ],  # type: ignore[attr-defined]
        env=kubectl.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,  # type: ignore[attr-defined]
    )
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(drain.stderr or []), daemon=True)
    reader.start()
    try:
        wait_for(
            lambda: any("disruption budget" in e for e in errors),
            timeout=20,
            what="a blocked eviction",
        )
        assert sim.store.get("nodes", None, node)["spec"]["unschedulable"] is True
        assert any(
            p["spec"]["nodeName"] == node for p in running_pods(sim.store, name)
        )  # still there

        def relax(pdb: dict[str, Any]) -> None:
            pdb["spec"]["minAvailable"] = 1

        sim.store.mutate("poddisruptionbudgets", "default", f"{name}-pdb", relax)
        out, _ = drain.communicate(timeout=40)
    finally:
        drain.kill()
    assert drain.returncode == 0, errors
    assert f"node/{node} drained" in out
    assert not [p for p in running_pods(sim.store, name) if p["spec"]["nodeName"] == node]
    kubectl("uncordon", node)


def test_create_and_apply_reject_a_misspelt_field(sim: Simulated, kubectl: KubectlRun) -> None:
    name = f"typo-{kubectl.tag}"  # type: ignore[attr-defined]
    bad = deployment(name)
    bad["spec"]["template"]["spec"]["containers"][0]["imagee"] = bad["spec"]["template"]["spec"][
        "containers"
    ][0].pop("image")
    for verb in ("create", "apply"):
        result = kubectl(verb, "-f", "-", stdin=json.dumps(bad), check=False)
        assert result.returncode != 0
        assert 'unknown field "spec.template.spec.containers[0].imagee"' in result.stderr
    with pytest.raises(NotFound):
        sim.store.get("deployments", "default", name)
    good = deployment(name)
    assert "created" in kubectl("create", "-f", "-", stdin=json.dumps(good)).stdout
    good["spec"]["replicas"] = 1
    assert "configured" in kubectl("apply", "-f", "-", stdin=json.dumps(good)).stdout
    stored = sim.store.get("deployments", "default", name)
    assert stored["spec"]["replicas"] == 1
    assert "kubectl.kubernetes.io/last-applied-configuration" in stored["metadata"]["annotations"]
    kubectl("delete", "deployment", name)


def test_get_pods_watch_sees_changes(sim: Simulated, kubectl: KubectlRun) -> None:
    label = f"watched-{kubectl.tag}"  # type: ignore[attr-defined]
    watch = subprocess.Popen(
        [kubectl.path, "get", "pods", "-w", "-l", f"app={label}"],  # type: ignore[attr-defined]
        env=kubectl.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,  # type: ignore[attr-defined]
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(watch.stdout or []), daemon=True)
    reader.start()
    try:
        time.sleep(1.0)  # let it list and start watching
        kubectl("run", label, "--image=busybox:1.36", "--restart=Never", f"--labels=app={label}")
        wait_for(
            lambda: any(label in line and "Running" in line for line in lines),
            what="the pod in the watch",
        )
    finally:
        watch.kill()
    kubectl("delete", "pod", label, "--grace-period=0", "--force")


def test_every_served_object_validates_against_the_schemas(
    sim: Simulated, kubectl: KubectlRun
) -> None:
    assert validate_everything(sim) > 10
