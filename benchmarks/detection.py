"""Detection benchmark: the model on the simulator, faults and long fault-free control periods.

The chain is the product's own, in one process on a virtual clock: the demo cluster →
`InProcessPipeline` (60 s feature windows) → `Scorer` (untrained: each entity learns its normal
during the warm-up) → the anomaly metric → `local_cloud.monitoring` alert policies. No healing:
this measures detection only. Per seed: a warm-up, a fault-free control stretch, then every fault
kind in turn on a different workload, each followed by a cool-down that is not scored.

Per fault kind it prints detection rate (an incident on the faulty workload or node within the
fault window), named-issue accuracy (the first incident names the expected issue), median and
p95 time to detect, memory leaks caught before the first OOMKill, and alerts on other workloads;
then false critical incidents per fault-free day. Writes `benchmarks/results/detection.json`.

    .venv/bin/python benchmarks/detection.py [--quick] [--trained] [--control-hours 4.8] [--seeds 7 11 23 42 101]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from anomaly_detection_model.scoring import Scorer
from anomaly_detection_model.train import normalise, train
from gke_heal.health import busiest_node, workload_health
from local_cloud.clock import ManualClock
from local_cloud.gke.cluster import Cluster
from local_cloud.gke.demo_cluster import build_demo
from local_cloud.gke.telemetry import FanOutSink
from local_cloud.monitoring.service import Monitoring
from telemetry_pipeline.inprocess import InProcessPipeline, PipelineSettings
from telemetry_pipeline.sinks import FEATURES

WINDOW_SECONDS = 60.0
STEP_SECONDS = 10.0
WARMUP_MINUTES = 45
FAULT_MINUTES = 20  # how long a fault may take to be detected
COOLDOWN_MINUTES = 15  # after clearing a fault; alerts here are neither false nor detections
EXPECTED = {
    "memory_leak": "memory_leak",
    "cpu_saturation": "cpu_saturation",
    "crash_loop": "crash_loop",
    "bad_rollout": "bad_rollout",
    "error_burst": "error_burst",
    "node_not_ready": "node_failure",
    "unschedulable": "unschedulable",
    "dependency_latency": "latency_regression",
}
TARGETS = {
    "memory_leak": ["shop/cart", "shop/catalogue", "shop/recommendation"],
    "cpu_saturation": ["shop/frontend", "shop/catalogue", "shop/search"],
    "crash_loop": ["shop/payment", "shop/shipping", "shop/ad"],
    "bad_rollout": ["shop/checkout", "shop/email", "shop/ad"],
    "error_burst": ["shop/cart", "shop/search", "shop/shipping"],
    "node_not_ready": ["node/auto", "node/auto", "node/auto"],
    "unschedulable": ["shop/recommendation", "shop/email", "shop/search"],
    "dependency_latency": ["shop/checkout", "shop/frontend", "shop/payment"],
}
SEEDS = (7, 11, 23, 42, 101)


class _FeatureRows:
    """The warehouse is not under test: only feature rows are kept, for training."""

    def __init__(self) -> None:
        self.features: list[dict[str, Any]] = []
        self.keep = False

    def insert_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        if self.keep and table == FEATURES:
            self.features += rows


@dataclass
class Alert:
    """One incident opened by the alert policies."""

    opened: float
    issue: str
    workload: str


@dataclass
class FaultRun:
    kind: str
    target: str
    seed: int
    detected: bool = False
    named_right: bool = False
    first_issue: str | None = None
    seconds_to_detect: float | None = None
    seconds_to_first_oom: float | None = None
    incidents_on_target: int = 0  # one per policy and series: pod, container, deployment rows
    others: list[str] = field(default_factory=list)


class Rig:
    """One seeded demo cluster with the detection chain attached."""

    def __init__(self, seed: int) -> None:
        self.clock = ManualClock()
        self.monitoring = Monitoring(self.clock)
        self.rows = _FeatureRows()
        self.pipeline = InProcessPipeline(
            Scorer.untrained(),
            self.rows,
            self.monitoring,  # type: ignore[arg-type]  # write() returns errors; unused
            PipelineSettings(store_raw=False),
            wall_clock=self.clock.now,
        )
        self.cluster = Cluster(clock=self.clock, seed=seed, sink=FanOutSink(self.pipeline))
        build_demo(self.cluster)
        self._seen: set[str] = set()

    def train(self) -> str:
        """As the demo does: train on the warm-up's feature rows, then score with that model.

        The new scorer starts with no entity state, so entities warm up again, now against
        the trained fleet-wide normal.
        """
        with tempfile.TemporaryDirectory() as registry:
            rows = [normalise(r) for r in self.rows.features]
            result = train(rows, registry, source="warm-up")
            self.pipeline.scorer = Scorer.load(registry, result.version)
        self.rows.keep = False
        self.rows.features.clear()
        return result.version

    def run(self, minutes: float) -> list[Alert]:
        """Advance the clock; return the incidents opened meanwhile."""
        for _ in range(round(minutes * 60 / STEP_SECONDS)):
            self.cluster.step(STEP_SECONDS)
            self.pipeline.advance(self.clock.now())
            self.monitoring.tick()
        return self.new_alerts()

    def new_alerts(self) -> list[Alert]:
        found = []
        for incident in self.monitoring.incidents("all"):
            if incident.id in self._seen:
                continue
            self._seen.add(incident.id)
            labels = incident.series.metric_labels
            issue = incident.policy.user_labels.get("issue", incident.policy.name)
            found.append(Alert(float(incident.started_at), issue, labels.get("workload", "")))
        return sorted(found, key=lambda a: a.opened)


def run_fault(rig: Rig, kind: str, target: str, seed: int) -> tuple[FaultRun, list[Alert]]:
    ns, name = target.split("/", 1)
    node = ns == "node"
    if node and name == "auto":
        name = busiest_node(rig.cluster)
    workload = name if node else target
    result = FaultRun(kind, workload, seed)
    start = rig.clock.now()
    ooms_before = 0 if node else workload_health(rig.cluster, ns, name).oom_kills
    rig.cluster.inject(kind, None if node else ns, name)
    alerts: list[Alert] = []
    for _ in range(FAULT_MINUTES):
        alerts += rig.run(1)
        oom_unseen = not node and result.seconds_to_first_oom is None
        if oom_unseen and workload_health(rig.cluster, ns, name).oom_kills > ooms_before:
            result.seconds_to_first_oom = rig.clock.now() - start
        for alert in alerts:
            if alert.workload == workload and not result.detected:
                result.detected = True
                result.first_issue = alert.issue
                result.named_right = alert.issue == EXPECTED[kind]
                result.seconds_to_detect = alert.opened - start
        if result.detected and (kind != "memory_leak" or result.seconds_to_first_oom):
            break
    result.incidents_on_target = sum(1 for a in alerts if a.workload == workload)
    result.others = sorted({f"{a.workload}:{a.issue}" for a in alerts if a.workload != workload})
    rig.cluster.clear(None if node else ns, name, node=node)
    cooldown = rig.run(COOLDOWN_MINUTES)
    return result, cooldown


def run_seed(
    seed: int, control_hours: float, kinds: list[str], console: Console, trained: bool = False
) -> dict[str, Any]:
    rig = Rig(seed)
    rig.rows.keep = trained
    # Entities learn their normal during the warm-up; alerts there are false alarms too.
    warmup_alerts = [asdict(a) for a in rig.run(WARMUP_MINUTES)]
    if trained:
        rig.train()
    false_alerts: list[dict[str, Any]] = []
    # The control stretch is fault-free: every incident in it is a false alarm.
    for alert in rig.run(control_hours * 60):
        false_alerts.append(asdict(alert))
    runs = []
    index = SEEDS.index(seed) if seed in SEEDS else seed
    for kind in kinds:
        targets = TARGETS[kind]
        result, _ = run_fault(rig, kind, targets[index % len(targets)], seed)
        runs.append(result)
        console.print(
            f"  seed {seed} {kind:<18} {result.target:<22} "
            f"{'detected' if result.detected else 'MISSED':<8} {result.first_issue or '-':<18} "
            f"{(result.seconds_to_detect or 0) / 60:5.1f} min"
            + (f"  others: {', '.join(result.others)}" if result.others else "")
        )
    return {
        "seed": seed,
        "control_hours": control_hours,
        "false": false_alerts,
        "warmup_false": warmup_alerts,
        "runs": runs,
    }


def _run_seed_quietly(seed: int, hours: float, kinds: list[str], trained: bool) -> dict[str, Any]:
    return run_seed(seed, hours, kinds, Console(width=150), trained)


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summarise(seeds: list[dict[str, Any]]) -> dict[str, Any]:
    runs: list[FaultRun] = [r for s in seeds for r in s["runs"]]
    kinds: dict[str, Any] = {}
    for kind in EXPECTED:
        mine = [r for r in runs if r.kind == kind]
        if not mine:
            continue
        ttd = [r.seconds_to_detect for r in mine if r.seconds_to_detect is not None]
        leaks = [r for r in mine if kind == "memory_leak"]
        before_oom = [
            r
            for r in leaks
            if r.detected
            and (
                r.seconds_to_first_oom is None
                or (r.seconds_to_detect or 0) < r.seconds_to_first_oom
            )
        ]
        kinds[kind] = {
            "runs": len(mine),
            "detection_rate": sum(r.detected for r in mine) / len(mine),
            "named_accuracy": sum(r.named_right for r in mine) / len(mine),
            "median_seconds_to_detect": statistics.median(ttd) if ttd else None,
            "p95_seconds_to_detect": _quantile(ttd, 0.95),
            "detected_before_first_oom": (len(before_oom) / len(leaks)) if leaks else None,
            "alerts_on_other_workloads": sum(len(r.others) for r in mine),
            "incidents_per_run": sum(r.incidents_on_target for r in mine) / len(mine),
            "runs_detail": [asdict(r) for r in mine],
        }
    hours = sum(s["control_hours"] for s in seeds)
    false = [a for s in seeds for a in s["false"]]
    warmup = [a for s in seeds for a in s["warmup_false"]]
    return {
        "fault_kinds": kinds,
        "control_hours": hours,
        "false_critical_incidents": len(false),
        "false_critical_per_day": len(false) / (hours / 24) if hours else None,
        "false_incidents": false,
        "warmup_minutes_per_seed": WARMUP_MINUTES,
        "warmup_false_critical_incidents": len(warmup),
        "warmup_false_incidents": warmup,
    }


def show(summary: dict[str, Any], console: Console) -> None:
    table = Table(title=f"Detection on the simulator ({summary['scorer']} scorer, alert policies)")
    columns = ("fault", "runs", "detected", "named right", "median TTD", "p95 TTD")
    for col in (*columns, "incidents/run", "other"):
        table.add_column(col, justify="left" if col == "fault" else "right")

    def minutes(s: float | None) -> str:
        return "-" if s is None else f"{s / 60:.1f} min"

    for kind, k in summary["fault_kinds"].items():
        table.add_row(
            kind,
            str(k["runs"]),
            f"{k['detection_rate']:.0%}",
            f"{k['named_accuracy']:.0%}",
            minutes(k["median_seconds_to_detect"]),
            minutes(k["p95_seconds_to_detect"]),
            f"{k['incidents_per_run']:.1f}",
            str(k["alerts_on_other_workloads"]),
        )
    console.print(table)
    leak = summary["fault_kinds"].get("memory_leak")
    if leak:
        console.print(
            f"memory leaks detected before the first OOMKill: {leak['detected_before_first_oom']:.0%}"
        )
    console.print(
        f"fault-free control: {summary['control_hours']:.1f} h, "
        f"{summary['false_critical_incidents']} false critical incidents "
        f"({summary['false_critical_per_day']:.2f} per day)"
    )
    console.print(
        f"warm-up ({WARMUP_MINUTES} min per seed, entities still learning their normal): "
        f"{summary['warmup_false_critical_incidents']} false critical incidents"
    )
    for alert in [*summary["false_incidents"], *summary["warmup_false_incidents"]][:10]:
        console.print(f"  false: {alert['workload']} {alert['issue']} at {alert['opened']:.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, 1 h control")
    parser.add_argument("--seeds", type=int, nargs="*", default=list(SEEDS))
    parser.add_argument("--control-hours", type=float, default=4.8, help="per seed")
    parser.add_argument("--kinds", nargs="*", default=list(EXPECTED))
    parser.add_argument(
        "--trained", action="store_true", help="train on the warm-up, as `gke-heal demo` does"
    )
    parser.add_argument("--jobs", type=int, default=2, help="seeds run in parallel processes")
    parser.add_argument("--out", default="benchmarks/results/detection.json")
    args = parser.parse_args(argv)
    console = Console(width=150)
    seeds = args.seeds[:1] if args.quick else args.seeds
    hours = 1.0 if args.quick else args.control_hours
    started = time.perf_counter()
    console.print(f"seeds {seeds}: warm-up {WARMUP_MINUTES} min, control {hours:g} h, faults")
    jobs = [(seed, hours, args.kinds, args.trained) for seed in seeds]
    if args.jobs > 1 and len(seeds) > 1:
        with multiprocessing.get_context("spawn").Pool(min(args.jobs, len(seeds))) as pool:
            per_seed = pool.starmap(_run_seed_quietly, jobs)
    else:
        per_seed = [run_seed(seed, hours, args.kinds, console, args.trained) for seed in seeds]
    summary = summarise(per_seed)
    summary["seeds"] = seeds
    summary["scorer"] = "trained on the warm-up" if args.trained else "untrained"
    summary["wall_seconds"] = round(time.perf_counter() - started, 1)
    show(summary, console)
    console.print(f"wall time {summary['wall_seconds']} s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
