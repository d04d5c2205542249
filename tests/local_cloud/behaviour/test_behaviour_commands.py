"""`gke-heal chaos` over real HTTP against the API server in front of a real cluster, and
`gke-heal cluster up` as a real process that kubectl-style clients can reach."""

from __future__ import annotations

import os
import subprocess
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from behaviour_sim import NS, Sim
from typer.testing import CliRunner

from gke_heal.cli import app
from local_cloud.gke.api import ApiServer
from local_cloud.gke.faults import FAULT_ANNOTATION, FAULTS, PARAMS_ANNOTATION
from local_cloud.gke.kubeconfig import write_kubeconfig

runner = CliRunner()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Sim, Path]]:
    sim = Sim()
    sim.deploy("cart", 2)
    sim.step(30)
    server = ApiServer(sim.store, runtime=sim.cluster)
    url = server.start()
    try:
        yield sim, write_kubeconfig(tmp_path / "kubeconfig", url)
    finally:
        server.stop()


def test_chaos_list_names_every_kind() -> None:
    result = runner.invoke(app, ["chaos", "list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    for kind in FAULTS:
        assert kind in result.output


def test_chaos_inject_and_clear_through_the_api(served: tuple[Sim, Path]) -> None:
    sim, config = served
    result = runner.invoke(app, ["chaos", "inject", "memory_leak", "--target", f"{NS}/cart",
                                 "--params", '{"minutes_to_oom": 2}', "--kubeconfig", str(config)])  # fmt: skip
    assert result.exit_code == 0, result.output
    annotations = sim.deployment("cart")["metadata"]["annotations"]
    assert annotations[FAULT_ANNOTATION] == "memory_leak"
    assert annotations[PARAMS_ANNOTATION] == '{"minutes_to_oom": 2}'
    sim.step(150)
    restarts = [p["status"]["containerStatuses"][0]["restartCount"] for p in sim.pods("cart")]
    assert all(r >= 1 for r in restarts)  # OOMKilled within the 2 minutes asked for
    result = runner.invoke(
        app, ["chaos", "clear", "--target", f"{NS}/cart", "--kubeconfig", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert FAULT_ANNOTATION not in (sim.deployment("cart")["metadata"].get("annotations") or {})


def test_chaos_inject_on_a_node(served: tuple[Sim, Path]) -> None:
    sim, config = served
    node = sim.nodes[0]
    result = runner.invoke(
        app, ["chaos", "inject", "node_not_ready", "--target", node, "--kubeconfig", str(config)]
    )
    assert result.exit_code == 0, result.output
    sim.step(60)
    ready = next(
        c
        for c in sim.store.get("nodes", None, node)["status"]["conditions"]
        if c["type"] == "Ready"
    )
    assert ready["status"] == "Unknown"
    result = runner.invoke(
        app, ["chaos", "clear", "--target", f"node/{node}", "--kubeconfig", str(config)]
    )
    assert result.exit_code == 0, result.output
    sim.step(10)
    ready = next(
        c
        for c in sim.store.get("nodes", None, node)["status"]["conditions"]
        if c["type"] == "Ready"
    )
    assert ready["status"] == "True"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["chaos", "inject", "meltdown", "--target", "shop/cart"], "KIND 'meltdown' is not a fault kind"),
        (["chaos", "inject", "memory_leak", "--target", "cart"], "--target 'cart': give NAMESPACE/DEPLOYMENT"),
        (["chaos", "inject", "memory_leak", "--target", "shop/nosuch"], "deployment shop/nosuch not found"),
        (["chaos", "inject", "memory_leak", "--target", "shop/cart", "--params", "{oops"], "--params: not JSON"),
        (["chaos", "inject", "memory_leak", "--target", "shop/cart", "--params", '{"speed": 1}'],
         "memory_leak has no parameter speed"),
        (["chaos", "inject", "crash_loop", "--target", "shop/cart", "--params", '{"cause": "gremlins"}'],
         "--params: cause must be one of dependency, bug, rollout, not 'gremlins'"),
    ],
)  # fmt: skip
def test_chaos_errors_name_the_problem(
    served: tuple[Sim, Path], args: list[str], message: str
) -> None:
    _, config = served
    result = runner.invoke(app, [*args, "--kubeconfig", str(config)], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


def test_chaos_without_a_kubeconfig_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["chaos", "clear", "--target", "shop/cart", "--kubeconfig", str(tmp_path / "none")],
                           env={"COLUMNS": "250"})  # fmt: skip
    assert result.exit_code == 1 and "cannot read" in result.output


def test_cluster_up_serves_the_demo_and_writes_a_kubeconfig(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    command = [str(Path(sysconfig.get_path("scripts")) / "gke-heal"), "cluster", "up", "--kubeconfig", str(config),
               "--speed", "20", "--duration", "6", "--metrics-port", "0"]  # fmt: skip
    env = {**os.environ, "COLUMNS": "200"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        deadline = time.monotonic() + 60
        while not config.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        assert config.exists(), process.stderr.read() if process.stderr else ""
        server = yaml.safe_load(config.read_text())["clusters"][0]["cluster"]["server"]
        pods: list[dict[str, object]] = []
        while time.monotonic() < deadline and not pods:
            pods = httpx.get(f"{server}/api/v1/namespaces/shop/pods", timeout=5).json()["items"]
            time.sleep(0.5)
        assert len(pods) >= 20
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "cluster stopped" in out and "Prometheus metrics at" in out
