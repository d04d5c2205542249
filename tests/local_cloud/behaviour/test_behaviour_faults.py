"""Each fault kind shows the statuses, events, metrics and logs a real cluster would show, and
the remedy a person would apply really fixes it."""

from __future__ import annotations

import copy
import itertools
import statistics
from typing import Any

from behaviour_sim import NS, Sim, ready, value

from local_cloud.gke.objects import HASH_LABEL, REVISION

Obj = dict[str, Any]
K = "kubernetes.io/container/"
W = "workload.googleapis.com/http/server/"


def _status(pod: Obj) -> Obj:
    return dict(pod["status"]["containerStatuses"][0])


def _series(metrics: list[Obj], metric_type: str, app: str) -> list[float]:
    return [
        value(m) for m in metrics
        if m["metric"]["type"] == metric_type and m["resource"]["labels"]["pod_name"].startswith(app + "-")
    ]  # fmt: skip


def _restart(sim: Sim, name: str, stamp: str) -> None:
    def change(d: Obj) -> None:
        d["spec"]["template"]["metadata"].setdefault("annotations", {})[
            "kubectl.kubernetes.io/restartedAt"
        ] = stamp

    sim.patch("deployments", name, change)


def _rollout_undo(sim: Sim, name: str) -> None:
    """`kubectl rollout undo`: revision 1's ReplicaSet template goes back on the Deployment."""
    first = next(
        rs for rs in sim.replicasets(name) if rs["metadata"]["annotations"][REVISION] == "1"
    )
    template = copy.deepcopy(first["spec"]["template"])
    template["metadata"]["labels"].pop(HASH_LABEL)

    def undo(obj: Obj) -> None:
        obj["spec"]["template"] = template

    sim.patch("deployments", name, undo)


def test_memory_leak_ends_in_oomkilled_137_restart_relieves_it_and_the_fix_ends_it(
    sim: Sim,
) -> None:
    sim.deploy("cart", 1, memory_limit="384Mi")
    sim.step(60)
    sim.cluster.inject("memory_leak", NS, "cart", {"minutes_to_oom": 5})
    pod = sim.pods("cart")[0]["metadata"]["name"]
    sim.sink.drain()
    sim.step(280)
    metrics, _ = sim.sink.drain()
    used = _series(metrics, K + "memory/limit_utilization", "cart")
    assert used[-1] > 0.9 and used[-1] > used[0] + 0.3  # climbing towards the limit
    sim.step(30)
    status = _status(sim.store.get("pods", NS, pod))
    assert status["restartCount"] == 1
    terminated = status["lastState"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137)
    oom = sim.events("OOMKilling")
    assert (
        oom
        and oom[0]["involvedObject"]["kind"] == "Node"
        and "Memory cgroup out of memory" in oom[0]["message"]
    )
    assert any(e["involvedObject"]["name"] == pod for e in sim.events("BackOff"))
    assert sim.cluster.container_logs(NS, pod, "cart", previous=True)  # the killed instance's log
    sim.step(30)
    metrics, _ = sim.sink.drain()
    restarts = [value(m) for m in metrics if m["metric"]["type"] == K + "restart_count"
                and m["resource"]["labels"]["pod_name"] == pod]  # fmt: skip
    assert restarts[-1] == 1
    # The leak is in the code: a rollout restart starts from low memory and leaks again.
    _restart(sim, "cart", "2026-01-01T01:00:00Z")
    sim.step(60)
    metrics, _ = sim.sink.drain()
    assert _series(metrics, K + "memory/limit_utilization", "cart")[-1] < 0.6
    sim.step(200)
    metrics, _ = sim.sink.drain()
    assert _series(metrics, K + "memory/limit_utilization", "cart")[-1] > 0.75
    # Shipping the fix (annotation removed) ends it: memory settles, no more OOM kills.
    sim.cluster.clear(NS, "cart")
    sim.step(900)
    metrics, _ = sim.sink.drain()
    assert max(_series(metrics, K + "memory/limit_utilization", "cart")) < 0.7
    assert _status(sim.pods("cart")[0])["restartCount"] == 0


def test_crash_loop_backs_off_10s_doubling_and_clears_when_fixed(sim: Sim) -> None:
    sim.deploy("cart", 1)
    sim.step(30)
    sim.cluster.inject("crash_loop", NS, "cart", {"after_seconds": 3})
    pod = sim.pods("cart")[0]["metadata"]["name"]
    restarts_at: list[float] = []
    backoffs: list[str] = []
    last = 0
    for _ in range(400):
        sim.step(1)
        status = _status(sim.store.get("pods", NS, pod))
        if status["restartCount"] > last:
            last = status["restartCount"]
            restarts_at.append(sim.clock.now())
            waiting = status["state"]["waiting"]
            assert waiting["reason"] == "CrashLoopBackOff"
            backoffs.append(waiting["message"].split()[1])
            assert status["lastState"]["terminated"]["exitCode"] == 1
            assert status["lastState"]["terminated"]["reason"] == "Error"
            assert not ready(sim.store.get("pods", NS, pod))
    assert backoffs[:5] == ["10s", "20s", "40s", "80s", "160s"]
    gaps = [b - a for a, b in itertools.pairwise(restarts_at)]
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps))
    previous = "\n".join(
        line.text for line in sim.cluster.container_logs(NS, pod, "cart", previous=True)
    )
    assert "FATAL: cannot connect to database" in previous
    backoff_events = [e for e in sim.events("BackOff") if e["involvedObject"]["name"] == pod]
    assert backoff_events[0]["count"] >= 5 and backoff_events[0]["type"] == "Warning"
    sim.cluster.clear(NS, "cart")
    sim.step(400)
    status = _status(sim.store.get("pods", NS, pod))
    assert "running" in status["state"] and status["ready"]
    count = status["restartCount"]
    sim.step(600)
    assert _status(sim.store.get("pods", NS, pod))["restartCount"] == count


def test_back_off_resets_after_ten_minutes_of_running(sim: Sim) -> None:
    sim.deploy("cart", 1)
    sim.step(30)
    sim.cluster.inject("crash_loop", NS, "cart", {"after_seconds": 700})
    pod = sim.pods("cart")[0]["metadata"]["name"]
    messages = []
    for _ in range(3):
        sim.step(720)
        waiting = _status(sim.store.get("pods", NS, pod))["state"].get("waiting") or {}
        messages.append(waiting.get("message", ""))
    assert all(m.startswith("back-off 10s") for m in messages if m)
    assert _status(sim.store.get("pods", NS, pod))["restartCount"] >= 2


def test_bad_rollout_fails_readiness_logs_errors_and_undo_fixes_it(sim: Sim) -> None:
    sim.deploy("cart", 4, progressDeadlineSeconds=300)
    sim.step(60)
    sim.cluster.inject("bad_rollout", NS, "cart")
    sim.sink.drain()
    sim.step(120)
    d = sim.deployment("cart")
    assert d["spec"]["template"]["spec"]["containers"][0]["image"].endswith("-bad")
    assert d["metadata"]["annotations"][REVISION] == "2"
    new = [p for p in sim.pods("cart") if p["spec"]["containers"][0]["image"].endswith("-bad")]
    assert new and all(not ready(p) and "running" in _status(p)["state"] for p in new)
    assert (
        sum(1 for p in sim.pods("cart") if ready(p)) >= 3
    )  # maxUnavailable keeps the old ones serving
    unhealthy = [
        e
        for e in sim.events("Unhealthy")
        if e["involvedObject"]["name"] == new[0]["metadata"]["name"]
    ]
    assert unhealthy and unhealthy[0]["message"].startswith("Readiness probe failed")
    _, logs = sim.sink.drain()
    bad_errors = [e for e in logs if e["severity"] == "ERROR" and e["resource"]["labels"]["pod_name"] in
                  {p["metadata"]["name"] for p in new}]  # fmt: skip
    assert len(bad_errors) >= 10
    sim.step(300)
    progressing = next(
        c for c in sim.deployment("cart")["status"]["conditions"] if c["type"] == "Progressing"
    )
    assert progressing["reason"] == "ProgressDeadlineExceeded"
    _rollout_undo(sim, "cart")
    sim.step(120)
    pods = sim.pods("cart")
    assert len(pods) == 4 and all(ready(p) for p in pods)
    assert not any(p["spec"]["containers"][0]["image"].endswith("-bad") for p in pods)
    progressing = next(
        c for c in sim.deployment("cart")["status"]["conditions"] if c["type"] == "Progressing"
    )
    assert progressing["reason"] == "NewReplicaSetAvailable"


def test_crash_loop_after_a_config_rollout_crashes_the_new_pods_and_undo_fixes_it(
    sim: Sim,
) -> None:
    sim.deploy("cart", 3)
    sim.step(60)
    sim.cluster.inject("crash_loop", NS, "cart", {"cause": "rollout"})
    sim.sink.drain()
    sim.step(90)
    d = sim.deployment("cart")
    assert d["spec"]["template"]["spec"]["containers"][0]["image"].endswith("-crashing")
    assert d["metadata"]["annotations"][REVISION] == "2"
    new = [p for p in sim.pods("cart") if p["spec"]["containers"][0]["image"].endswith("-crashing")]
    assert new and all(_status(p)["restartCount"] >= 1 for p in new)
    old = [p for p in sim.pods("cart") if p not in new]
    assert old and all(ready(p) for p in old)  # maxUnavailable keeps the old ones serving
    _, logs = sim.sink.drain()
    assert any("configuration invalid" in str(e.get("textPayload", e)) for e in logs)
    _rollout_undo(sim, "cart")  # the fault stays annotated: the old revision runs fine
    sim.step(120)
    pods = sim.pods("cart")
    assert len(pods) == 3 and all(ready(p) for p in pods)
    assert not any(p["spec"]["containers"][0]["image"].endswith("-crashing") for p in pods)


def test_crash_loop_from_a_dependency_changes_no_template(sim: Sim) -> None:
    sim.deploy("cart", 2)
    sim.step(30)
    before = sim.deployment("cart")["metadata"]["generation"]
    sim.cluster.inject("crash_loop", NS, "cart")
    sim.step(60)
    assert sim.deployment("cart")["metadata"]["generation"] == before
    assert all(_status(p)["restartCount"] >= 1 for p in sim.pods("cart"))


def test_removing_the_bad_rollout_annotation_rolls_back(sim: Sim) -> None:
    sim.deploy("cart", 2)
    sim.step(30)
    sim.cluster.inject("bad_rollout", NS, "cart")
    sim.step(60)
    sim.cluster.clear(NS, "cart")
    sim.step(120)
    assert all(
        ready(p) and not p["spec"]["containers"][0]["image"].endswith("-bad")
        for p in sim.pods("cart")
    )


def test_cpu_saturation_pins_cpu_and_raises_latency_and_scaling_out_fixes_it(sim: Sim) -> None:
    sim.deploy("cart", 3, cpu_limit="400m")
    sim.step(120)
    metrics, _ = sim.sink.drain()
    base_latency = statistics.mean(_series(metrics, W + "latency_p95_ms", "cart"))
    assert max(_series(metrics, K + "cpu/limit_utilization", "cart")) < 0.6
    sim.cluster.inject("cpu_saturation", NS, "cart")
    sim.step(120)
    metrics, logs = sim.sink.drain()
    assert min(_series(metrics, K + "cpu/limit_utilization", "cart")[-3:]) > 0.99
    hot_latency = statistics.mean(_series(metrics, W + "latency_p95_ms", "cart")[-6:])
    assert hot_latency > 3 * base_latency
    assert any(
        "request queue length" in (e.get("jsonPayload") or {}).get("message", "") for e in logs
    )

    def scale(d: Obj) -> None:
        d["spec"]["replicas"] = 12

    sim.patch("deployments", "cart", scale)
    sim.step(120)
    sim.sink.drain()
    sim.step(60)
    metrics, _ = sim.sink.drain()
    assert max(_series(metrics, K + "cpu/limit_utilization", "cart")) < 0.9
    assert statistics.mean(_series(metrics, W + "latency_p95_ms", "cart")) < 1.5 * base_latency


def test_extreme_saturation_fails_liveness_and_the_kubelet_restarts_the_container(sim: Sim) -> None:
    sim.deploy("cart", 2, cpu_limit="400m")
    sim.step(60)
    sim.cluster.inject("cpu_saturation", NS, "cart", {"traffic_factor": 25})
    sim.step(90)
    pods = sim.pods("cart")
    assert all(_status(p)["restartCount"] >= 1 for p in pods)
    assert all(_status(p)["lastState"]["terminated"]["exitCode"] == 137 for p in pods)
    unhealthy = [e["message"] for e in sim.events("Unhealthy")]
    assert any(
        m.startswith("Liveness probe failed") and "context deadline exceeded" in m
        for m in unhealthy
    )
    assert any(
        "failed liveness probe, will be restarted" in e["message"] for e in sim.events("Killing")
    )
    sim.cluster.clear(NS, "cart")
    sim.step(300)
    counts = [_status(p)["restartCount"] for p in sim.pods("cart")]
    sim.step(300)
    assert [_status(p)["restartCount"] for p in sim.pods("cart")] == counts
    assert all(ready(p) for p in sim.pods("cart"))


def _increase(metrics: list[Obj], metric_type: str) -> float:
    """How much a CUMULATIVE counter grew over the window, summed over pods."""
    by_pod: dict[str, list[float]] = {}
    for m in metrics:
        if m["metric"]["type"] == metric_type:
            by_pod.setdefault(m["resource"]["labels"]["pod_name"], []).append(value(m))
    return sum(points[-1] - points[0] for points in by_pod.values())


def _error_ratio(metrics: list[Obj]) -> float:
    return _increase(metrics, W + "error_count") / max(_increase(metrics, W + "request_count"), 1.0)


def test_error_burst_spikes_errors_and_error_logs_until_removed(sim: Sim) -> None:
    sim.deploy("cart", 2)
    sim.step(120)
    metrics, logs = sim.sink.drain()
    calm_errors = sum(1 for e in logs if e["severity"] == "ERROR")
    sim.cluster.inject("error_burst", NS, "cart")
    sim.step(120)
    metrics, logs = sim.sink.drain()
    assert _error_ratio(metrics) > 0.2
    assert sum(1 for e in logs if e["severity"] == "ERROR") > calm_errors + 50
    sim.cluster.clear(NS, "cart")
    sim.step(30)
    sim.sink.drain()
    sim.step(120)
    metrics, logs = sim.sink.drain()
    assert sum(1 for e in logs if e["severity"] == "ERROR") < 10


def test_dependency_latency_raises_latency_and_timeouts(sim: Sim) -> None:
    sim.deploy("cart", 2)
    sim.step(120)
    metrics, _ = sim.sink.drain()
    base = statistics.mean(_series(metrics, W + "latency_p95_ms", "cart"))
    sim.cluster.inject("dependency_latency", NS, "cart", {"added_ms": 900})
    sim.step(120)
    metrics, logs = sim.sink.drain()
    slow = statistics.mean(_series(metrics, W + "latency_p95_ms", "cart"))
    assert slow > base + 800
    assert any(
        "upstream request timeout" in (e.get("jsonPayload") or {}).get("message", "") for e in logs
    )
    sim.cluster.clear(NS, "cart")
    sim.step(60)
    sim.sink.drain()
    sim.step(60)
    metrics, _ = sim.sink.drain()
    assert statistics.mean(_series(metrics, W + "latency_p95_ms", "cart")) < base * 1.5


def test_a_busy_cluster_on_a_fast_clock_loses_no_node(sim: Sim) -> None:
    """On a fast clock, simulated time runs on while the cluster works through its due timers
    (at 240x, 0.2 s of Python is 48 s). Heartbeats read at one instant must be judged at that
    instant: judged at the clock's later now, every node looked silent for longer than the
    40 s grace period and went NotReady at once (a whole-cluster node failure, from nothing)."""
    sim.deploy("cart", 3)
    sim.step(60)
    run_due = sim.cluster._run_due

    def slow(now: float) -> None:
        sim.clock.advance(45.0)  # the time spent getting through the batch before its timers
        run_due(now)

    sim.cluster._run_due = slow  # type: ignore[method-assign]
    sim.step(600)
    assert sim.events("NodeNotReady") == []
    for node in sim.store.list("nodes")[0]:
        ready_cond = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert ready_cond["status"] == "True", node["metadata"]["name"]


def test_node_not_ready_taints_the_node_and_evicts_its_pods_after_300s(sim: Sim) -> None:
    sim.deploy("cart", 3)
    sim.step(60)
    node = sim.pods("cart")[0]["spec"]["nodeName"]
    doomed = [p["metadata"]["name"] for p in sim.pods("cart") if p["spec"]["nodeName"] == node]
    sim.cluster.inject("node_not_ready", None, node)
    sim.step(50)
    n = sim.store.get("nodes", None, node)
    ready_cond = next(c for c in n["status"]["conditions"] if c["type"] == "Ready")
    assert (ready_cond["status"], ready_cond["reason"]) == ("Unknown", "NodeStatusUnknown")
    assert {(t["key"], t["effect"]) for t in n["spec"]["taints"]} == {
        ("node.kubernetes.io/unreachable", "NoSchedule"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
    }
    assert any(e["involvedObject"]["name"] == node for e in sim.events("NodeNotReady"))
    assert all(not ready(sim.store.get("pods", NS, name)) for name in doomed)
    sim.sink.drain()
    sim.step(200)  # still within the 300 s toleration: nothing evicted yet
    assert all(
        not sim.store.get("pods", NS, name)["metadata"].get("deletionTimestamp") for name in doomed
    )
    metrics, _ = sim.sink.drain()
    conditions = [m["metric"]["labels"]["status"] for m in metrics
                  if m["metric"]["type"] == "kubernetes.io/node/status_condition"
                  and m["resource"]["labels"]["node_name"] == node]  # fmt: skip
    assert conditions and set(conditions) == {"Unknown"}
    sim.step(120)
    evicted = {e["involvedObject"]["name"] for e in sim.events("TaintManagerEviction")}
    assert set(doomed) <= evicted
    sim.step(60)
    live = [p for p in sim.pods("cart") if not p["metadata"].get("deletionTimestamp")]
    assert len(live) == 3 and all(ready(p) and p["spec"]["nodeName"] != node for p in live)
    # The node comes back: its kubelet finishes the deletions and it is Ready again.
    sim.cluster.clear(None, node, node=True)
    sim.step(30)
    n = sim.store.get("nodes", None, node)
    assert next(c for c in n["status"]["conditions"] if c["type"] == "Ready")["status"] == "True"
    assert not n["spec"].get("taints")
    assert {p["metadata"]["name"] for p in sim.pods("cart")}.isdisjoint(doomed)


def test_unschedulable_pods_stay_pending_with_failed_scheduling(sim: Sim) -> None:
    sim.deploy("cart", 4)
    sim.step(60)
    sim.cluster.inject("unschedulable", NS, "cart")
    sim.step(60)
    pending = [p for p in sim.pods("cart") if not p["spec"].get("nodeName")]
    assert pending and all(p["status"]["phase"] == "Pending" for p in pending)
    cond = next(c for c in pending[0]["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (cond["status"], cond["reason"]) == ("False", "Unschedulable")
    assert cond["message"].startswith("0/3 nodes are available: 3 Insufficient memory.")
    failed = [
        e
        for e in sim.events("FailedScheduling")
        if e["involvedObject"]["name"] == pending[0]["metadata"]["name"]
    ]
    assert failed and failed[0]["type"] == "Warning"
    assert sum(1 for p in sim.pods("cart") if ready(p)) >= 3
    sim.cluster.clear(NS, "cart")
    sim.step(120)
    pods = sim.pods("cart")
    assert len(pods) == 4 and all(ready(p) for p in pods)


def test_callers_see_a_failing_dependency(sim: Sim) -> None:
    sim.deploy("frontend", 2)  # the frontend profile calls cart, catalogue and recommendation
    sim.deploy("cart", 2)
    sim.step(120)
    metrics, _ = sim.sink.drain()
    calm = _app_error_ratio(metrics, "frontend")
    sim.cluster.inject("crash_loop", NS, "cart")
    sim.step(60)
    sim.sink.drain()
    sim.step(120)
    metrics, logs = sim.sink.drain()
    assert _app_error_ratio(metrics, "frontend") > calm + 0.3
    frontend_errors = [e for e in logs if e["severity"] == "ERROR"
                       and e["resource"]["labels"]["pod_name"].startswith("frontend-")]  # fmt: skip
    assert len(frontend_errors) >= 20
    sim.cluster.clear(NS, "cart")
    sim.step(400)
    sim.sink.drain()
    sim.step(120)
    metrics, _ = sim.sink.drain()
    assert _app_error_ratio(metrics, "frontend") < calm + 0.02


def _app_error_ratio(metrics: list[Obj], app: str) -> float:
    mine = [m for m in metrics if m["resource"]["labels"].get("pod_name", "").startswith(app + "-")]
    return _increase(mine, W + "error_count") / max(_increase(mine, W + "request_count"), 1.0)
