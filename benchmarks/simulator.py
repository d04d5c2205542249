"""Speed of the simulated cluster's behaviour (controllers, kubelets, workload model, telemetry).

Targets (issue 3): simulate one hour of a 500-pod cluster in under 30 s on a manual clock, and
keep a 5,000-pod, 200-node cluster in real time with telemetry every 10 s, on one core. The
simulation is single-threaded, so it uses one core; CPU time is reported beside wall time
because the machine may be shared. Telemetry goes to a counting sink (the benchmark measures
producing it, not a consumer). Only measured numbers are reported.
"""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from local_cloud.clock import ManualClock
from local_cloud.gke.cluster import Cluster
from local_cloud.gke.demo_cluster import Service, deployment, namespace
from local_cloud.gke.nodes import NodePool, NodeShape
from local_cloud.gke.telemetry import CountingSink
from local_cloud.gke.workload import PROFILES

RESULTS = Path(__file__).parent / "results" / "simulator.json"
HOUR_TARGET_S = 30.0
REALTIME_PODS, REALTIME_NODES = 5_000, 200
INTERVAL = 10.0


def build(pods: int, nodes: int, sink: CountingSink, seed: int = 1) -> tuple[Cluster, float]:
    """A cluster of `nodes` 8-core nodes and `pods` pods in deployments of ten replicas."""
    started = time.perf_counter()
    cluster = Cluster(clock=ManualClock(), seed=seed, sink=sink, telemetry_interval=INTERVAL)
    cluster.add_node_pool(NodePool("pool", NodeShape("e2-standard-8", 8, 32), nodes))
    cluster.apply("namespaces", namespace("bench"))
    profiles = [p for p in PROFILES if p != "generic"]
    for i in range(pods // 10):
        profile = profiles[i % len(profiles)]
        obj = deployment(Service(f"{profile}-{i}", 10, "100m", "500m", "128Mi", "1Gi"), "bench")
        obj["spec"]["template"]["metadata"].setdefault("annotations", {})[
            "sim.gke-heal.io/profile"
        ] = profile
        cluster.apply("deployments", obj)
    cluster.step(60)  # every pod scheduled, started and ready
    return cluster, time.perf_counter() - started


def running(cluster: Cluster) -> int:
    return sum(1 for p in cluster.store.list("pods")[0] if p["status"].get("phase") == "Running")


def one_hour(console: Console) -> dict[str, Any]:
    sink = CountingSink()
    cluster, setup = build(500, 25, sink)
    # Some trouble, so the hour is not all steady state.
    cluster.inject("memory_leak", "bench", "cart-1", {"minutes_to_oom": 6})
    cluster.inject("crash_loop", "bench", "payment-3")
    cluster.inject("cpu_saturation", "bench", "frontend-0")
    sink.metric_count = sink.log_count = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    cluster.step(3600)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    console.print(f"one hour of 500 pods: {wall:.1f} s ({cpu:.1f} s of CPU)")
    return {
        "pods": running(cluster),
        "nodes": 25,
        "setup_seconds": round(setup, 2),
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "simulated_seconds": 3600,
        "speedup": round(3600 / wall, 1),
        "metric_points": sink.metric_count,
        "log_entries": sink.log_count,
        "target_seconds": HOUR_TARGET_S,
        "meets_target": wall < HOUR_TARGET_S,
    }


def real_time(console: Console) -> dict[str, Any]:
    sink = CountingSink()
    cluster, setup = build(REALTIME_PODS, REALTIME_NODES, sink)
    console.print(f"{REALTIME_PODS} pods on {REALTIME_NODES} nodes built in {setup:.1f} s")
    sink.metric_count = sink.log_count = 0
    simulated = 120.0
    started, cpu_started = time.perf_counter(), time.process_time()
    cluster.step(simulated)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    per_interval = wall / (simulated / INTERVAL)
    return {
        "pods": running(cluster),
        "nodes": REALTIME_NODES,
        "setup_seconds": round(setup, 2),
        "simulated_seconds": simulated,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "wall_seconds_per_10s_interval": round(per_interval, 3),
        "realtime_factor": round(simulated / wall, 2),
        "keeps_real_time": simulated / wall >= 1.0,
        "metric_points_per_interval": round(sink.metric_count / (simulated / INTERVAL)),
        "log_entries_per_interval": round(sink.log_count / (simulated / INTERVAL)),
    }


def main() -> None:
    console = Console()
    hour = one_hour(console)
    realtime = real_time(console)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table = Table(title="Simulated cluster behaviour (single-threaded)")
    for column in ("measure", "value", "target", "met"):
        table.add_column(column)
    table.add_row("1 h of a 500-pod cluster (25 nodes, 3 faults)", f"{hour['wall_seconds']} s",
                  f"< {HOUR_TARGET_S:g} s", "yes" if hour["meets_target"] else "no")  # fmt: skip
    table.add_row("  CPU time used", f"{hour['cpu_seconds']} s", "", "")
    table.add_row("  simulated / wall time", f"{hour['speedup']}x", "", "")
    table.add_row(
        "  metric points / log entries in the hour",
        f"{hour['metric_points']:,} / {hour['log_entries']:,}",
        "",
        "",
    )
    table.add_row(f"{realtime['pods']:,} pods on {REALTIME_NODES} nodes: wall time per 10 s interval",
                  f"{realtime['wall_seconds_per_10s_interval']} s", "< 10 s",
                  "yes" if realtime["keeps_real_time"] else "no")  # fmt: skip
    table.add_row("  simulated / wall time", f"{realtime['realtime_factor']}x", ">= 1x", "")
    table.add_row("  CPU time for 120 simulated seconds", f"{realtime['cpu_seconds']} s", "", "")
    table.add_row(
        "  metric points per interval", f"{realtime['metric_points_per_interval']:,}", "", ""
    )
    table.add_row("  building the 5,000-pod cluster", f"{realtime['setup_seconds']} s", "", "")
    table.add_row("peak RSS", f"{peak_rss_mb:.0f} MB", "", "")
    table.add_row("load average when done (shared machine)", f"{os.getloadavg()[0]:.1f}", "", "")
    console.print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {"threads": 1, "load_average_1m": round(os.getloadavg()[0], 2), "one_hour_500_pods": hour, "real_time_5000_pods": realtime,
                "peak_rss_mb": round(peak_rss_mb)}  # fmt: skip
    RESULTS.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
