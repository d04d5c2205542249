"""Simulator-shaped feature rows (contracts §2) with labelled faults, for tests and the notebook.

The shapes follow what the cluster simulator's fault kinds do to a pod (contracts §9): a
memory leak grows memory towards the limit, CPU saturation pins CPU and slows requests, a
crash loop restarts with back-off, and so on. Deterministic for a given seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

WINDOW_SECONDS = 60
START = datetime(2026, 1, 5, tzinfo=UTC)
MEMORY_LIMIT = 512 * 1024 * 1024
FAULT_KINDS = (
    "memory_leak",
    "cpu_saturation",
    "crash_loop",
    "bad_rollout",
    "error_burst",
    "node_not_ready",
    "unschedulable",
    "dependency_latency",
)


@dataclass(frozen=True)
class Fault:
    """A fault on one pod from window `start` (inclusive) to `end` (exclusive)."""

    kind: str
    start: int
    end: int


def rfc3339(index: int) -> str:
    return (START + timedelta(seconds=WINDOW_SECONDS * index)).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_rows(
    pod: str,
    windows: int,
    *,
    seed: int = 0,
    fault: Fault | None = None,
    namespace: str = "shop",
    deployment: str | None = None,
    node: str = "node-1",
    base_latency_ms: float = 80.0,
    base_rps: float = 40.0,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Rows of one pod entity for `windows` windows, with an optional fault."""
    rng = np.random.default_rng(seed)
    deployment = deployment or pod.rsplit("-", 2)[0]
    memory = MEMORY_LIMIT * (0.35 + 0.05 * rng.random())
    rows: list[dict[str, Any]] = []
    for i in range(offset, offset + windows):
        active = fault is not None and fault.start <= i < fault.end
        kind = fault.kind if fault is not None and active else None
        daily = 1.0 + 0.2 * math.sin(2 * math.pi * i / 1440)
        rps = base_rps * daily * (1 + 0.05 * rng.standard_normal())
        cpu_util = min(0.3 * daily + 0.03 * rng.standard_normal(), 1.0)
        latency = base_latency_ms * (1 + 0.08 * rng.standard_normal())
        errors = max(rps * 0.002 * (1 + rng.standard_normal()), 0.0)
        slope = 2000.0 * rng.standard_normal()
        restarts = 0.0
        ready = 1.0
        not_ready = 0.0
        events: dict[str, int] = {}
        rollout_age: float | None = None
        log_lines = rps * 60 * 0.5 * (1 + 0.05 * rng.standard_normal())
        error_logs = float(rng.poisson(1.0))
        new_templates = float(rng.random() < 0.02)
        if kind == "memory_leak":
            assert fault is not None
            slope = MEMORY_LIMIT * 0.55 / ((fault.end - fault.start) * WINDOW_SECONDS)
        memory = min(max(memory + slope * WINDOW_SECONDS, MEMORY_LIMIT * 0.2), MEMORY_LIMIT)
        if kind == "memory_leak" and memory >= MEMORY_LIMIT * 0.99:
            events["OOMKilling"] = 1
        if kind == "cpu_saturation":
            cpu_util = 0.97 + 0.02 * rng.random()
            latency *= 3.0
        if kind == "crash_loop":
            restarts = float(rng.integers(1, 3))
            ready = 0.0
            events = {"BackOff": int(rng.integers(1, 4))}
            rps, log_lines = rps * 0.1, log_lines * 0.2
            error_logs += 20
        if kind == "bad_rollout":
            assert fault is not None
            rollout_age = float((i - fault.start) * WINDOW_SECONDS)
            if i == fault.start:
                events["ScalingReplicaSet"] = 1
            errors = rps * 0.3
            error_logs += 40
            ready = 0.5
            new_templates += 3
        if kind == "error_burst":
            errors = rps * 0.25
            error_logs += 60
        if kind == "node_not_ready":
            not_ready = 1.0
            ready = 0.0
        if kind == "unschedulable":
            events = {"FailedScheduling": 1}
            ready = 0.0
        if kind == "dependency_latency":
            latency *= 4.0
        rows.append(
            {
                "entity_type": "pod",
                "entity_id": f"{namespace}/{pod}",
                "namespace": namespace,
                "pod": pod,
                "container": None,
                "deployment": deployment,
                "node": node,
                "window_start": rfc3339(i),
                "window_end": rfc3339(i + 1),
                "cpu_cores": cpu_util * 0.5,
                "cpu_limit_utilization": max(cpu_util, 0.0),
                "memory_bytes": memory,
                "memory_limit_utilization": memory / MEMORY_LIMIT,
                "memory_slope_bytes_per_s": slope,
                "restarts": restarts,
                "network_rx_bytes_per_s": rps * 2000,
                "network_tx_bytes_per_s": rps * 8000,
                "request_rate": rps,
                "error_rate": errors,
                "latency_p95_ms": latency,
                "log_lines": max(log_lines, 0.0),
                "error_log_lines": error_logs,
                "new_log_templates": new_templates,
                "ready": ready,
                "node_not_ready": not_ready,
                "event_reasons": events,
                "log_templates": {},
                "rollout_age_seconds": rollout_age,
            }
        )
    return rows


def cluster_rows(pods: int, windows: int, *, seed: int = 0) -> list[dict[str, Any]]:
    """Healthy rows of `pods` pods over `windows` windows, interleaved by window."""
    per_pod = [
        pod_rows(
            f"svc{p % 4}-abc{p:02d}-x{p:02d}",
            windows,
            seed=seed * 1000 + p,
            base_latency_ms=40.0 + 30.0 * (p % 4),
            base_rps=10.0 + 15.0 * (p % 3),
        )
        for p in range(pods)
    ]
    return [rows[i] for i in range(windows) for rows in per_pod]
