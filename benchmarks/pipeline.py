"""Telemetry pipeline speed and delay (issue 4).

- In-process path (`telemetry_pipeline.inprocess`) on one core: metric records per second
  through parse → window per source (target 100,000/s), also with the raw rows built, and the
  whole path including closing windows (features, the model's real untrained scorer).
- Beam batch pipeline (`run()` from JSONL files, FnApiRunner and the bundle-based
  DirectRunner, i.e. the DirectRunner without its Prism attempt): records per
  second including start-up, and the start-up alone.
- Local end-to-end delay: a metric leaves the producer (wall time) → its window closes → its
  anomaly score is accepted by `local_cloud.monitoring` over HTTP. Target: under two windows.

Input is the GKE simulator's own telemetry (demo cluster). Measured figures only.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).parent / "results" / "pipeline.json"
TARGET_RECORDS_PER_S = 100_000
console = Console()


def one_core() -> str:
    """Pin this process to one CPU so the in-process figure is a one-core figure."""
    if hasattr(os, "sched_setaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[-1]
        os.sched_setaffinity(0, {cpu})
        return f"cpu {cpu}"
    return "not pinned"


def simulate(minutes: int, scale: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from local_cloud.gke.cluster import Cluster
    from local_cloud.gke.demo_cluster import build_demo
    from local_cloud.gke.telemetry import MemorySink

    sink = MemorySink()
    cluster = Cluster(sink=sink)
    build_demo(cluster, scale=scale)
    cluster.step(60.0 * minutes)
    return sink.drain()


def in_process(metrics: list[dict[str, Any]], logs: list[dict[str, Any]]) -> dict[str, float]:
    from anomaly_detection_model.scoring import Scorer
    from telemetry_pipeline.inprocess import InProcessPipeline, PipelineSettings
    from telemetry_pipeline.sinks import DiscardingRowSink, MemoryMetricWriter

    class NoScores:
        def score(self, rows: Any) -> list[dict[str, Any]]:
            return []

    batches = [metrics[i : i + 2000] for i in range(0, len(metrics), 2000)]
    out: dict[str, float] = {}
    for label, store_raw in (("transforms", False), ("transforms + raw rows", True)):
        best = best_cpu = float("inf")
        for _ in range(5):
            pipeline = InProcessPipeline(
                NoScores(), DiscardingRowSink(), MemoryMetricWriter(),
                PipelineSettings(store_raw=store_raw),
            )  # fmt: skip
            started, cpu = time.perf_counter(), time.process_time()
            for batch in batches:
                pipeline.publish_metrics(batch)
            best = min(best, time.perf_counter() - started)
            best_cpu = min(best_cpu, time.process_time() - cpu)
        out[label] = len(metrics) / best
        # Per CPU-second of this process: the one-core figure when other work shares the core.
        out[f"{label} (per CPU-second)"] = len(metrics) / best_cpu
    best = float("inf")
    for _ in range(3):
        pipeline = InProcessPipeline(
            Scorer.untrained(), DiscardingRowSink(), MemoryMetricWriter(), PipelineSettings()
        )
        started = time.perf_counter()
        for batch in batches:
            pipeline.publish_metrics(batch)
        pipeline.publish_logs(logs)
        pipeline.flush()
        best = min(best, time.perf_counter() - started)
    out["whole path (metrics+logs, features, real scorer)"] = (len(metrics) + len(logs)) / best
    out["_feature_rows"] = float(pipeline.counters.feature_rows)
    return out


def warehouse_rate(metrics: list[dict[str, Any]]) -> float:
    from local_cloud.warehouse import Warehouse
    from telemetry_pipeline.records import MetricPoint, parse_metric
    from telemetry_pipeline.schemas import table_specs

    rows = [p.to_row() for m in metrics if isinstance(p := parse_metric(m), MetricPoint)]
    with (
        tempfile.TemporaryDirectory() as folder,
        Warehouse(Path(folder) / "w.duckdb", table_specs()) as warehouse,
    ):
        started = time.perf_counter()
        for i in range(0, len(rows), 5000):
            warehouse.insert_rows("raw_metrics", rows[i : i + 5000])
        return len(rows) / (time.perf_counter() - started)


def beam_batch(
    metrics: list[dict[str, Any]], logs: list[dict[str, Any]], runner: str
) -> dict[str, float]:
    from telemetry_pipeline.beam.pipeline import run

    class NoScores:
        def score(self, rows: Any) -> list[dict[str, Any]]:
            return []

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "m.jsonl").write_text("".join(json.dumps(m) + "\n" for m in metrics))
        (base / "l.jsonl").write_text("".join(json.dumps(e) + "\n" for e in logs))
        (base / "m1.jsonl").write_text(json.dumps(metrics[0]) + "\n")

        def timed(metrics_file: str, logs_file: str | None) -> float:
            argv = [f"--runner={runner}", f"--metrics_input={base / metrics_file}",
                    f"--output_dir={base / 'out'}"]  # fmt: skip
            if logs_file:
                argv.append(f"--logs_input={base / logs_file}")
            started = time.perf_counter()
            run(argv, scorer_factory=NoScores)
            return time.perf_counter() - started

        startup = timed("m1.jsonl", None)
        whole = timed("m.jsonl", "l.jsonl")
    records = len(metrics) + len(logs)
    return {
        "records_per_s": records / whole,
        "records_per_s_without_startup": records / max(whole - startup, 1e-9),
        "startup_s": startup,
        "wall_s": whole,
    }


def live_delay(window: float, lateness: float, seconds: float) -> dict[str, float]:
    """Real-time loop: producer thread → in-process pipeline → local_cloud.monitoring (HTTP)."""
    import socket

    import uvicorn

    from anomaly_detection_model.scoring import Scorer
    from local_cloud.clock import ManualClock
    from local_cloud.monitoring import Monitoring, create_app
    from telemetry_pipeline.inprocess import InProcessPipeline, PipelineSettings
    from telemetry_pipeline.sinks import DiscardingRowSink, HttpMonitoringWriter

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monitoring = Monitoring(ManualClock())
    server = uvicorn.Server(uvicorn.Config(create_app(monitoring), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))  # fmt: skip
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)

    first_sent: dict[float, float] = {}  # window start -> wall time its first metric left
    written: dict[float, float] = {}

    class TimedWriter(HttpMonitoringWriter):
        def write(self, series: list[dict[str, Any]]) -> None:
            super().write(series)
            now = time.time()
            for s in series:
                end = s["points"][0]["interval"]["endTime"]
                start = time.mktime(time.strptime(end[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
                written.setdefault(start - window, now)

    pipeline = InProcessPipeline(
        Scorer.untrained(), DiscardingRowSink(),
        TimedWriter(f"http://127.0.0.1:{port}", "local-project"),
        PipelineSettings(window_seconds=window, allowed_lateness=lateness),
    )  # fmt: skip
    sample, _ = simulate(1, 1)
    last_interval = max(m["points"][0]["interval"]["endTime"] for m in sample)
    template = [m for m in sample if m["points"][0]["interval"]["endTime"] == last_interval]
    stop = threading.Event()

    def produce() -> None:
        while not stop.is_set():
            now = time.time()
            stamp = (
                time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
            )
            batch = []
            for m in template:
                copy = dict(m)
                point = dict(m["points"][0])
                point["interval"] = {**point["interval"], "endTime": stamp}
                copy["points"] = [point]
                batch.append(copy)
            first_sent.setdefault(now - now % window, time.time())
            pipeline.publish_metrics(batch)
            stop.wait(1.0)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    began = time.time()
    while time.time() - began < seconds:
        pipeline.advance(time.time())  # the live loop ticks the watermark with the wall clock
        time.sleep(0.25)
    stop.set()
    producer.join()
    server.should_exit = True
    delays = [
        written[w] - first_sent[w] for w in written if w in first_sent and w > min(first_sent)
    ]
    return {
        "window_s": window,
        "allowed_lateness_s": lateness,
        "series_per_tick": float(len(template)),
        "windows_measured": float(len(delays)),
        "median_delay_s": statistics.median(delays),
        "max_delay_s": max(delays),
        "max_delay_windows": max(delays) / window,
        "write_failures": float(pipeline.counters.write_failures),
    }


def main() -> None:
    pinned = one_core()
    console.print(f"[bold]pipeline benchmark[/] (pinned to {pinned})")
    metrics, logs = simulate(minutes=int(os.environ.get("BENCH_MINUTES", "20")), scale=2)
    console.print(
        f"simulator telemetry: {len(metrics):,} metric records, {len(logs):,} log entries"
    )
    local = in_process(metrics, logs)
    duck = warehouse_rate(metrics)
    beam = {
        runner: beam_batch(metrics, logs, runner)
        for runner in ("FnApiRunner", "BundleBasedDirectRunner")
    }
    delay = live_delay(
        window=5.0, lateness=1.0, seconds=float(os.environ.get("BENCH_LIVE_S", "40"))
    )

    table = Table(title="telemetry pipeline (one core)")
    table.add_column("path")
    table.add_column("records/s", justify="right")
    table.add_column("target", justify="right")
    for label, rate in local.items():
        if not label.startswith("_"):
            target = f"{TARGET_RECORDS_PER_S:,}" if label.startswith("transforms") else "-"
            table.add_row(f"in-process: {label}", f"{rate:,.0f}", target)
    table.add_row("DuckDB warehouse: raw_metrics inserts", f"{duck:,.0f}", "-")
    for runner, figures in beam.items():
        table.add_row(f"Beam {runner} batch (incl. {figures['startup_s']:.1f} s start-up)",
                      f"{figures['records_per_s']:,.0f}", "-")  # fmt: skip
        table.add_row(f"Beam {runner} batch (start-up excluded)",
                      f"{figures['records_per_s_without_startup']:,.0f}", "-")  # fmt: skip
    console.print(table)
    delays = Table(
        title="local end-to-end delay: metric leaves producer → score accepted by monitoring"
    )
    for key in ("window_s", "allowed_lateness_s", "windows_measured", "median_delay_s",
                "max_delay_s", "max_delay_windows"):  # fmt: skip
        delays.add_column(key, justify="right")
    delays.add_row(*(f"{delay[k]:.2f}" for k in ("window_s", "allowed_lateness_s",
                   "windows_measured", "median_delay_s", "max_delay_s", "max_delay_windows")))  # fmt: skip
    console.print(delays)
    result = {
        "cpu": pinned,
        "python": sys.version.split()[0],
        "metric_records": len(metrics),
        "log_entries": len(logs),
        "in_process_records_per_s": {k: round(v) for k, v in local.items()},
        "in_process_target_records_per_s": TARGET_RECORDS_PER_S,
        "in_process_meets_target_wall": local["transforms"] >= TARGET_RECORDS_PER_S,
        "in_process_meets_target_cpu": local["transforms (per CPU-second)"] >= TARGET_RECORDS_PER_S,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "warehouse_raw_metric_rows_per_s": round(duck),
        "beam_batch": {r: {k: round(v, 2) for k, v in f.items()} for r, f in beam.items()},
        "end_to_end_delay": {k: round(v, 3) for k, v in delay.items()},
        "end_to_end_under_two_windows": delay["max_delay_windows"] < 2.0,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
