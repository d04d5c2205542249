"""Healing benchmark: a fixed, seeded suite of fault scenarios on the whole local stack.

Each fault kind runs several times across workloads and seeds, followed by long fault-free
control periods; then the same faults run with the product in `observe` mode (it detects
but never acts), as the Kubernetes-alone baseline. Prints a table per fault kind and writes
`benchmarks/results/healing.json`.

    .venv/bin/python benchmarks/healing.py [--quick] [--speed 240] [--fault-speed 60]

Warm-up and the fault-free control run at `--speed`; faults run at `--fault-speed`, where each
wall-clock millisecond the services spend processing costs fewer simulated milliseconds (at
speed 1 the measurement would be exact; at 60, 0.2 s of Python is 12 simulated seconds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from gke_heal.report import FaultOutcome
from gke_heal.runner import ScenarioRunner
from gke_heal.scenario import FaultStep, Scenario

WINDOW_SECONDS = 60.0
# case → (fault kind, parameters, one target per run). Crash loops come in two causes: a
# config rollout (the usual one, `rollout undo` fixes it) and a database the service cannot
# reach (nothing in the cluster fixes it: the product must hand it to a human).
CASES: dict[str, tuple[str, dict[str, str], list[str]]] = {
    "memory_leak": ("memory_leak", {}, ["shop/cart", "shop/catalogue", "shop/recommendation"]),
    "cpu_saturation": ("cpu_saturation", {}, ["shop/frontend", "shop/catalogue", "shop/search"]),
    "crash_loop/rollout": (
        "crash_loop", {"cause": "rollout"}, ["shop/payment", "shop/shipping", "shop/ad"]
    ),
    "crash_loop/dependency": (
        "crash_loop", {"cause": "dependency"}, ["shop/email", "shop/cart", "shop/payment"]
    ),
    "bad_rollout": ("bad_rollout", {}, ["shop/checkout", "shop/email", "shop/ad"]),
    "error_burst": ("error_burst", {}, ["shop/cart", "shop/search", "shop/shipping"]),
    "node_not_ready": ("node_not_ready", {}, ["node/auto", "node/auto", "node/auto"]),
    "unschedulable": ("unschedulable", {}, ["shop/recommendation", "shop/email", "shop/search"]),
    "dependency_latency": (
        "dependency_latency", {}, ["shop/checkout", "shop/frontend", "shop/payment"]
    ),
}  # fmt: skip
SEEDS = (7, 11, 23)


def suite(mode: str, runs: int, control_hours: float) -> list[Scenario]:
    scenarios = []
    for run, seed in enumerate(SEEDS[:runs]):
        faults = [
            FaultStep(
                kind=kind,  # type: ignore[arg-type]
                target=targets[run],
                params=params,  # type: ignore[arg-type]
                duration_minutes=20,
                clear_after_minutes=15,
            )
            for kind, params, targets in CASES.values()
        ]
        scenarios.append(
            Scenario(
                name=f"benchmark seed {seed} ({mode})",
                seed=seed,
                mode=mode,  # type: ignore[arg-type]
                warmup_minutes=40,
                settle_minutes=5,
                control_minutes=control_hours * 60 / runs,
                faults=faults,
            )
        )
    return scenarios


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def summarise(outcomes: list[FaultOutcome]) -> dict[str, dict[str, Any]]:
    by_kind: dict[str, list[FaultOutcome]] = defaultdict(list)
    for o in outcomes:
        by_kind[case_of(o)].append(o)
    table: dict[str, dict[str, Any]] = {}
    for kind, items in by_kind.items():
        detect = [(o.detected_at - o.injected_at) for o in items if o.detected_at is not None]
        recover = [(o.recovered_at - o.injected_at) for o in items if o.recovered_at is not None]
        leaks_before_oom = [
            o
            for o in items
            if kind == "memory_leak"
            and o.outcome == "healed"
            and o.action_at is not None
            and o.oom_kills_before_action == 0
        ]
        table[kind] = {
            "runs": len(items),
            "detection_rate": len(detect) / len(items),
            "named_right": sum(1 for o in items if o.issue and o.issue in _expected(kind))
            / len(items),
            "detect_median_s": median(detect),
            "detect_p95_s": p95(detect),
            "recover_median_s": median(recover),
            "recover_p95_s": p95(recover),
            "recover_median_windows": (median(recover) or 0) / WINDOW_SECONDS if recover else None,
            "healed": sum(1 for o in items if o.outcome == "healed"),
            "escalated": sum(1 for o in items if o.outcome == "escalated"),
            "actions": sorted({o.action for o in items if o.action}),
            "healed_before_first_oom": len(leaks_before_oom) / len(items)
            if kind == "memory_leak"
            else None,
            "restarts_during_fault": sum(o.restarts_during for o in items),
            "unhealthy_minutes": sum(o.unhealthy_seconds for o in items) / 60,
        }
    return table


def fault_record(o: FaultOutcome) -> dict[str, Any]:
    """One fault's facts, times in seconds after its injection."""

    def after(at: float | None) -> float | None:
        return None if at is None else round(at - o.injected_at, 1)

    return {
        "case": case_of(o),
        "target": o.step.target,
        "injected_at": o.injected_at,
        "detected_after_s": after(o.detected_at),
        "issue": o.issue,
        "decision": o.decision,
        "action": o.action,
        "action_after_s": after(o.action_at),
        "recovered_after_s": after(o.recovered_at),
        "outcome": o.outcome,
        "reasons": o.reasons,
        "oom_kills_before_action": o.oom_kills_before_action,
        "alerts_open_at_injection": o.alerts_open_at_injection,
    }


def case_of(outcome: FaultOutcome) -> str:
    cause = outcome.step.params.get("cause")
    return f"{outcome.step.kind}/{cause}" if cause else outcome.step.kind


def _expected(kind: str) -> tuple[str, ...]:
    if kind == "crash_loop/rollout":
        # A crash loop that began with a rollout is that rollout failing: either name is right.
        return ("crash_loop", "bad_rollout")
    kind = kind.split("/", 1)[0]
    return {"node_not_ready": ("node_failure",), "dependency_latency": ("latency_regression",)}.get(
        kind, (kind,)
    )


def run_suite(
    mode: str,
    runs: int,
    control_hours: float,
    speed: float,
    fault_speed: float,
    console: Console,
) -> tuple[list[FaultOutcome], list[str], float]:
    outcomes: list[FaultOutcome] = []
    harmful: list[str] = []
    simulated = 0.0
    for scenario in suite(mode, runs, control_hours):
        console.print(
            f"running {scenario.name}: {len(scenario.faults)} faults, "
            f"{scenario.control_minutes:.0f} min control"
        )
        with tempfile.TemporaryDirectory() as folder:
            report = ScenarioRunner(
                scenario, Path(folder), speed=speed, fault_speed=fault_speed
            ).run()
        outcomes += report.faults
        harmful += report.harmful_actions
        simulated += report.ended_at - report.started_at
    return outcomes, harmful, simulated


RECOVERY_TARGET_CASES = ("memory_leak", "crash_loop/rollout", "bad_rollout", "cpu_saturation")


def check_targets(
    ours: dict[str, dict[str, Any]], harmful: list[str], control_hours: float
) -> list[dict[str, Any]]:
    """The issue's targets, each with what was measured."""
    rows: list[dict[str, Any]] = []
    lowest = min(ours.items(), key=lambda kv: kv[1]["detection_rate"])
    rows.append(
        {
            "target": "every fault detected in >= 95 % of runs",
            "measured": f"lowest {lowest[1]['detection_rate']:.0%} ({lowest[0]})",
            "met": lowest[1]["detection_rate"] >= 0.95,
        }
    )
    for case in RECOVERY_TARGET_CASES:
        windows = ours.get(case, {}).get("recover_median_windows")
        rows.append(
            {
                "target": f"{case}: median onset to recovery <= 3 windows",
                "measured": "not recovered" if windows is None else f"{windows:.1f} windows",
                "met": windows is not None and windows <= 3.0,
            }
        )
    leak = ours.get("memory_leak", {}).get("healed_before_first_oom")
    rows.append(
        {
            "target": "memory leaks healed before the first OOMKill >= 90 %",
            "measured": "-" if leak is None else f"{leak:.0%}",
            "met": leak is not None and leak >= 0.9,
        }
    )
    rows.append(
        {
            "target": "0 harmful actions over >= 24 fault-free simulated hours",
            "measured": f"{len(harmful)} over {control_hours:g} h",
            "met": not harmful and control_hours >= 24,
        }
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one seed, 2 h control")
    parser.add_argument(
        "--speed", type=float, default=240.0, help="warm-up and fault-free control speed"
    )
    parser.add_argument(
        "--fault-speed",
        type=float,
        default=60.0,
        help="speed while faults run (each wall ms of processing costs this many sim ms)",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/healing.json"))
    args = parser.parse_args(argv)
    runs, control = (1, 2.0) if args.quick else (3, 24.0)
    console = Console(width=170)
    wall = time.monotonic()
    product, harmful, simulated = run_suite(
        "enforce", runs, control, args.speed, args.fault_speed, console
    )
    baseline, _, _ = run_suite(
        "observe", runs, 0.0, args.speed, args.speed, console
    )  # the product only watches: no latency to measure, so it can run at full speed
    ours, theirs = summarise(product), summarise(baseline)
    table = Table(title=f"healing benchmark ({runs} runs per kind, {control:g} h fault-free)")
    for col in (
        "fault",
        "detected",
        "named",
        "detect p50/p95",
        "recover p50/p95 (windows)",
        "healed/escalated",
        "actions",
        "restarts: ours/k8s",
        "unhealthy min: ours/k8s",
    ):
        table.add_column(col)
    for kind, row in ours.items():
        base = theirs.get(kind, {})
        fmt = lambda v: "-" if v is None else f"{v / 60:.1f}m"  # noqa: E731
        table.add_row(
            kind,
            f"{row['detection_rate']:.0%}",
            f"{row['named_right']:.0%}",
            f"{fmt(row['detect_median_s'])}/{fmt(row['detect_p95_s'])}",
            "-"
            if row["recover_median_s"] is None
            else f"{row['recover_median_s'] / WINDOW_SECONDS:.1f}/{(row['recover_p95_s'] or 0) / WINDOW_SECONDS:.1f}",
            f"{row['healed']}/{row['escalated']}",
            ",".join(row["actions"]) or "-",
            f"{row['restarts_during_fault']}/{base.get('restarts_during_fault', '-')}",
            f"{row['unhealthy_minutes']:.0f}/{base.get('unhealthy_minutes', 0):.0f}",
        )
    console.print(table)
    leak = ours.get("memory_leak", {}).get("healed_before_first_oom")
    console.print(
        f"memory leaks healed before the first OOMKill: {leak if leak is None else f'{leak:.0%}'}"
    )
    console.print(
        f"harmful or needless actions: {len(harmful)} over {simulated / 3600:.1f} simulated h "
        f"(including {control:g} h fault-free)"
    )
    for line in harmful:
        console.print(f"  - {line}")
    targets = check_targets(ours, harmful, control)
    verdicts = Table(title="targets (issue #6)")
    for col in ("target", "measured", "met"):
        verdicts.add_column(col)
    for row in targets:
        verdicts.add_row(row["target"], row["measured"], "yes" if row["met"] else "NO")
    console.print(verdicts)
    result = {
        "targets": targets,
        "product": ours,
        "baseline_kubernetes_alone": theirs,
        "harmful_actions": harmful,
        # Every fault of the product's runs, so a miss or a slow recovery can be looked up.
        "faults": [fault_record(o) for o in product],
        "simulated_hours": simulated / 3600,
        "fault_free_hours": control,
        "wall_seconds": time.monotonic() - wall,
        "speed": args.speed,
        "fault_speed": args.fault_speed,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str))
    console.print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
