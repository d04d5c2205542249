"""Reliability against the simulator: storms of duplicated and reordered notices, and a
Kubernetes API that returns 500s, 409s and times out (through a fault-injecting proxy)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from faulty_proxy import FaultyProxy, Rule
from heal_harness import ChatOps, Served, Sim, fast_settings, wait_for
from notices import alertmanager, monitoring, pubsub

from local_cloud.gke.kubeconfig import write_kubeconfig
from self_healing_service.app import create_app
from self_healing_service.kube.gateway import KubernetesGateway, api_client
from self_healing_service.store.sqlite import SqliteStore

pytestmark = pytest.mark.slow
TERMINAL = ("resolved", "escalated", "notified", "skipped", "closed")


def post(url: str, kind: str, body: dict[str, Any]) -> int:
    if kind == "monitoring":
        r = httpx.post(f"{url}/alerts/monitoring?auth_token=hook-secret", json=body, timeout=30)
    elif kind == "pubsub":
        r = httpx.post(f"{url}/alerts/pubsub", json=pubsub(body), timeout=30,
                       headers={"Authorization": "Bearer push-secret"})  # fmt: skip
    else:
        r = httpx.post(f"{url}/alerts/alertmanager", json=body, timeout=30,
                       headers={"Authorization": "Bearer am-secret"})  # fmt: skip
    return r.status_code


def settle(store: SqliteStore, incident_id: str, timeout: float = 60) -> dict[str, Any]:
    return dict(
        wait_for(
            lambda: (i := store.incident(incident_id)) and i["status"] in TERMINAL and i,
            timeout,
            f"{incident_id} settled",
        )
    )


def test_ten_copies_of_each_notice_in_random_order_make_one_action(
    sim: Sim, tmp_path: Path, chatops: ChatOps
) -> None:
    settings = fast_settings(tmp_path, chatops_url=chatops.url)
    store = SqliteStore(settings.sqlite_path)
    generations = {d: sim.deployment(d)["metadata"]["generation"] for d in ("cart", "ad", "email")}
    notices = []
    for _ in range(10):
        # The same incident by webhook and by Pub/Sub; another by Alertmanager; one that closes.
        notices.append(("monitoring", monitoring("0.storm", "memory_leak", "shop/cart")))
        notices.append(("pubsub", monitoring("0.storm", "memory_leak", "shop/cart")))
        notices.append(("alertmanager", alertmanager("storm", "memory_leak", "shop/ad")))
        notices.append(("monitoring", monitoring("0.flap", "memory_leak", "shop/email")))
        notices.append(
            ("monitoring", monitoring("0.flap", "memory_leak", "shop/email", state="closed"))
        )
    random.Random(8).shuffle(notices)
    app = create_app(settings, sim.gateway(backoff=0.05), store)
    with Served(app) as served, ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda n: post(served.url, *n), notices))
        assert set(codes) == {200}
        for incident_id in ("0.storm", "am-storm", "0.flap"):
            settle(store, incident_id)
        assert [a["action"] for a in store.actions("0.storm")] == ["rollout_restart"]
        assert [a["action"] for a in store.actions("am-storm")] == ["rollout_restart"]
        assert len(store.actions("0.flap")) <= 1
        results = [r["data"]["result"] for r in store.audit_records(incident_id="0.storm")
                   if r["kind"] == "notice"]  # fmt: skip
        assert results.count("new") == 1 and len(results) == 20
    after = {d: sim.deployment(d)["metadata"]["generation"] for d in generations}
    assert after["cart"] == generations["cart"] + 1
    assert after["ad"] == generations["ad"] + 1
    assert after["email"] - generations["email"] == len(store.actions("0.flap"))


@pytest.fixture
def proxied(sim: Sim, tmp_path: Path) -> Iterator[tuple[FaultyProxy, KubernetesGateway]]:
    proxy = FaultyProxy(sim.server.url)
    url = proxy.start()
    gateway = KubernetesGateway(
        api_client(write_kubeconfig(tmp_path / "proxied", url)), attempts=4, backoff=0.05,
        timeout=0.5,
    )  # fmt: skip
    yield proxy, gateway
    proxy.stop()


def _run(
    sim: Sim, gateway: KubernetesGateway, tmp_path: Path, notice: dict[str, Any]
) -> SqliteStore:
    settings = fast_settings(tmp_path)
    store = SqliteStore(settings.sqlite_path)
    with Served(create_app(settings, gateway, store)) as served:
        assert post(served.url, "monitoring", notice) == 200
        settle(store, notice["incident"]["incident_id"])
    return store


def test_kubernetes_500s_conflicts_and_timeouts_are_retried(
    sim: Sim, proxied: tuple[FaultyProxy, KubernetesGateway], tmp_path: Path
) -> None:
    proxy, gateway = proxied
    proxy.rules += [
        Rule("PATCH", r"/deployments/search\b", status=500, times=1),
        Rule("PATCH", r"/deployments/search\b", status=409, times=1),
        Rule("GET", r"/deployments/search$", delay=1.0, times=1),  # longer than the timeout
    ]
    generation = sim.deployment("search")["metadata"]["generation"]
    store = _run(sim, gateway, tmp_path, monitoring("0.retry", "memory_leak", "shop/search"))
    assert store.incident("0.retry")["status"] == "resolved"  # type: ignore[index]
    assert sim.deployment("search")["metadata"]["generation"] == generation + 1
    assert [r.hits for r in proxy.rules] == [1, 1, 1]
    assert proxy.count("PATCH", r"/deployments/search\?(?!.*dryRun)") == 3  # two refused, one done


def test_kubernetes_down_escalates_and_leaves_nothing_unrecorded(
    sim: Sim, proxied: tuple[FaultyProxy, KubernetesGateway], tmp_path: Path
) -> None:
    proxy, gateway = proxied
    proxy.rules.append(Rule("PATCH", r"/deployments/catalogue\b", status=503))
    generation = sim.deployment("catalogue")["metadata"]["generation"]
    store = _run(sim, gateway, tmp_path, monitoring("0.down", "memory_leak", "shop/catalogue"))
    assert store.incident("0.down")["status"] == "escalated"  # type: ignore[index]
    assert [(a["action"], a["status"]) for a in store.actions("0.down")] == [
        ("rollout_restart", "failed")
    ]
    kinds = [r["kind"] for r in store.audit_records(incident_id="0.down")]
    assert kinds.index("action_started") < kinds.index("action_failed")
    failure = next(
        r["data"] for r in store.audit_records(incident_id="0.down") if r["kind"] == "action_failed"
    )
    assert "503" in failure["error"]
    assert proxy.rules[0].hits == 4  # every attempt, with back-off between them
    assert sim.deployment("catalogue")["metadata"]["generation"] == generation
    assert store.history_outcomes()[0] == "failed"
