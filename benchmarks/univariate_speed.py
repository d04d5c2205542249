"""Speed of the streaming univariate detector: points per second on one core.

Target: at least 200,000 points/s. Measures the batch path (`score`, the same kernel as
`score_then_learn`), with and without row times (the gap evidence), and, for reference,
the one-call-per-point path.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from anomaly_detection_model.detectors.univariate import RecordDetector

TARGET = 200_000
RESULTS = Path(__file__).parent / "results" / "univariate_speed.json"


def series(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 + 10 * np.sin(2 * np.pi * t / 288) + rng.normal(0, 2, n) + 0.0001 * t


def main() -> None:
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    RecordDetector().score(series(1000))  # compile (or load the cached compilation)
    xs = series(2_000_000)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        RecordDetector().score(xs)
        best = min(best, time.perf_counter() - started)
    batch_rate = xs.size / best
    times = 300.0 * np.arange(xs.size)
    best_timed = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        RecordDetector().score(xs, times)
        best_timed = min(best_timed, time.perf_counter() - started)
    timed_rate = xs.size / best_timed
    few = xs[:20_000].tolist()
    detector = RecordDetector()
    started = time.perf_counter()
    for x in few:
        detector.score_then_learn(x)
    single_rate = len(few) / (time.perf_counter() - started)
    detector = RecordDetector()
    started = time.perf_counter()
    for i, x in enumerate(few):
        detector.score_then_learn(x, 300.0 * i)
    single_timed_rate = len(few) / (time.perf_counter() - started)

    table = Table(title="univariate detector speed (one core)")
    table.add_column("path")
    table.add_column("points/s", justify="right")
    table.add_column("target", justify="right")
    table.add_row("score(batch)", f"{batch_rate:,.0f}", f"{TARGET:,}")
    table.add_row("score(batch, with row times)", f"{timed_rate:,.0f}", f"{TARGET:,}")
    table.add_row("score_then_learn (per call)", f"{single_rate:,.0f}", "-")
    table.add_row("score_then_learn (per call, with time)", f"{single_timed_rate:,.0f}", "-")
    Console().print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "batch_points_per_second": round(batch_rate),
                "batch_with_times_points_per_second": round(timed_rate),
                "per_call_points_per_second": round(single_rate),
                "per_call_with_time_points_per_second": round(single_timed_rate),
                "target_points_per_second": TARGET,
                "meets_target": min(batch_rate, timed_rate) >= TARGET,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
