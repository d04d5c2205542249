"""The service as real processes (`python -m self_healing_service` under uvicorn) over one
SQLite file: killed with SIGKILL mid-remediation and restarted, and two replicas in a storm."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from faulty_proxy import FaultyProxy, Rule
from heal_harness import Sim, free_port, wait_for
from notices import monitoring
from test_reliability import post, settle

from local_cloud.gke.kubeconfig import write_kubeconfig
from self_healing_service.store.sqlite import SqliteStore

pytestmark = pytest.mark.slow


class Process:
    def __init__(self, popen: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.popen, self.url, self.log = popen, url, log

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    started: list[Process] = []

    def start(kubeconfig: Path, **env: str) -> Process:
        port = free_port()
        log = tmp_path / f"service-{port}.log"
        environ = {
            **os.environ,
            "HEAL_MODE": "enforce",
            "HEAL_SQLITE_PATH": str(tmp_path / "shared.sqlite3"),
            "HEAL_KUBECONFIG": str(kubeconfig),
            "HEAL_WEBHOOK_TOKEN": "hook-secret",
            "HEAL_PUSH_AUTH": "token",
            "HEAL_PUSH_TOKEN": "push-secret",
            "HEAL_ALERTMANAGER_TOKEN": "am-secret",
            "HEAL_API_TOKEN": "api-secret",
            "HEAL_LEASE_SECONDS": "2",
            "HEAL_SWEEP_INTERVAL_SECONDS": "0.3",
            "HEAL_VERIFY_INTERVAL_SECONDS": "0.3",
            "HEAL_VERIFY_STABLE_SECONDS": "1",
            "HEAL_VERIFY_TIMEOUT_SECONDS": "30",
            "HEAL_COOLDOWN_SECONDS": "0",
            "HEAL_KUBE_BACKOFF_SECONDS": "0.05",
            **env,
        }
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", "self_healing_service", "--host", "127.0.0.1",
                 "--port", str(port)],
                env=environ, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        process = Process(popen, f"http://127.0.0.1:{port}", log)
        started.append(process)

        def up() -> bool:
            assert popen.poll() is None, log.read_text()
            try:
                return httpx.get(process.url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, 30, "the service process")
        return process

    yield start
    for process in started:
        if process.popen.poll() is None:
            process.popen.terminate()
            process.popen.wait(timeout=10)


def test_sigkill_mid_remediation_then_restart_completes_without_a_second_mutation(
    sim: Sim, tmp_path: Path, spawn: Callable[..., Process]
) -> None:
    proxy = FaultyProxy(sim.server.url)
    proxy.start()
    # The real PATCH is held 2 s in the proxy: the service dies while its mutation is in flight.
    proxy.rules.append(Rule("PATCH", r"/deployments/cart\b", delay=2.0, times=1))
    kubeconfig = write_kubeconfig(tmp_path / "proxied", proxy.url)
    generation = sim.deployment("cart")["metadata"]["generation"]
    store = SqliteStore(tmp_path / "shared.sqlite3")
    try:
        first = spawn(kubeconfig)
        assert (
            post(first.url, "monitoring", monitoring("0.kill", "memory_leak", "shop/cart")) == 200
        )
        wait_for(lambda: proxy.rules[0].hits == 1, 30, "the real PATCH to be in flight")
        assert any(r["kind"] == "action_started" for r in store.audit_records("0.kill"))
        first.kill()
        wait_for(lambda: sim.deployment("cart")["metadata"]["generation"] == generation + 1, 10,
                 "the in-flight patch to land")  # fmt: skip
        assert store.incident("0.kill")["status"] == "acting"  # type: ignore[index]
        spawn(kubeconfig)
        record = settle(store, "0.kill")
        assert record["status"] == "resolved"
        kinds = [r["kind"] for r in store.audit_records("0.kill")]
        assert "resumed" in kinds and "action_skipped" in kinds and "action_done" not in kinds
        assert sim.deployment("cart")["metadata"]["generation"] == generation + 1
        real_patches = [p for m, p, _ in proxy.log if m == "PATCH" and "dryRun" not in p]
        assert len(real_patches) == 1
    finally:
        proxy.stop()


def test_two_replicas_sharing_a_store_act_once_and_respect_budgets(
    sim: Sim, tmp_path: Path, spawn: Callable[..., Process]
) -> None:
    targets = ("frontend", "checkout", "payment", "shipping")
    generations = {t: sim.deployment(t)["metadata"]["generation"] for t in targets}
    budget = {"HEAL_GLOBAL_ACTIONS_PER_HOUR": "3"}
    replicas = [spawn(sim.kubeconfig, **budget), spawn(sim.kubeconfig, **budget)]
    notices: list[tuple[str, dict[str, Any]]] = []
    for target in targets:
        for copy in range(10):
            notices.append(
                (
                    replicas[copy % 2].url,
                    monitoring(f"0.two-{target}", "memory_leak", f"shop/{target}"),
                )
            )
    random.Random(2).shuffle(notices)
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda n: post(n[0], "monitoring", n[1]), notices))
    assert set(codes) == {200}
    store = SqliteStore(tmp_path / "shared.sqlite3")
    records = [settle(store, f"0.two-{t}") for t in targets]
    actions = store.actions()
    assert len(actions) == 3  # the global budget
    assert len({a["incident_id"] for a in actions}) == 3  # one per incident
    skipped = [r for r in records if r["status"] == "skipped"]
    assert len(skipped) == 1
    reasons = [r["data"] for r in store.audit_records(skipped[0]["id"]) if r["kind"] == "decision"]
    assert any("actions in the cluster" in " ".join(d["reasons"]) for d in reasons)
    changed = sum(sim.deployment(t)["metadata"]["generation"] - g for t, g in generations.items())
    assert changed == 3
