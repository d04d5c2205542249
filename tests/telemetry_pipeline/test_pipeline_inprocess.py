"""The in-process runner: windows close after the allowed lateness, late data is a dead letter,
order does not matter, verdicts become anomaly points posted over HTTP, the scorer reloads."""

from __future__ import annotations

import random
from typing import Any

from telemetry_pipeline.anomaly import ANOMALY_METRIC
from telemetry_pipeline.inprocess import InProcessPipeline, PipelineSettings
from telemetry_pipeline.scoring import RegistryScorer
from telemetry_pipeline.sinks import HttpMonitoringWriter, MemoryMetricWriter, MemoryRowSink

T0 = 1_767_225_600.0


def _pipeline(
    scorer: Any, writer: Any = None, lateness: float = 15.0
) -> tuple[InProcessPipeline, MemoryRowSink]:
    rows = MemoryRowSink()
    pipeline = InProcessPipeline(
        scorer, rows, writer or MemoryMetricWriter(),
        PipelineSettings(window_seconds=60.0, allowed_lateness=lateness),
        wall_clock=lambda: T0 + 1000,
    )  # fmt: skip
    return pipeline, rows


def test_a_window_closes_only_after_its_allowed_lateness(telemetry: Any, fake_scorer: Any) -> None:
    pipeline, rows = _pipeline(fake_scorer)
    pipeline.publish_metrics(telemetry.window(T0))
    assert pipeline.advance(T0 + 60 + 14) == []  # still within the lateness
    closed = pipeline.advance(T0 + 60 + 15)
    assert [c.window_start for c in closed] == [T0]
    kinds = sorted(r["entity_type"] for r in closed[0].features)
    assert kinds == ["container", "deployment", "pod"]
    assert len(rows.tables["features"]) == 3 and len(rows.tables["anomalies"]) == 3
    assert len(rows.tables["raw_metrics"]) == 16


def test_late_points_become_dead_letters_not_silence(telemetry: Any, fake_scorer: Any) -> None:
    pipeline, rows = _pipeline(fake_scorer)
    pipeline.publish_metrics(telemetry.window(T0) + telemetry.window(T0 + 60))
    pipeline.advance(T0 + 60 + 15)  # closes the first window only
    late = telemetry.metric("kubernetes.io/container/memory/used_bytes", 5, T0 + 30)
    on_time = telemetry.metric("kubernetes.io/container/memory/used_bytes", 5, T0 + 90)
    pipeline.publish_metrics([late, on_time])
    letters = rows.tables["dead_letters"]
    assert len(letters) == 1 and letters[0]["reason"].startswith("late: window starting")
    assert letters[0]["kind"] == "metric"
    assert pipeline.counters.late == 1
    assert pipeline.open_windows == [T0 + 60]


def test_out_of_order_input_gives_the_same_features(telemetry: Any, fake_scorer: Any) -> None:
    docs = telemetry.window(T0, restarts_before=1, restarts_after=4) + [
        telemetry.log(f"request {i} ok", T0 + i) for i in range(10)
    ]
    shuffled = list(docs)
    random.Random(5).shuffle(shuffled)
    results = []
    for order in (docs, shuffled):
        pipeline, _ = _pipeline(fake_scorer)
        pipeline.publish_metrics([d for d in order if "metric" in d])
        pipeline.publish_logs([d for d in order if "logName" in d])
        results.append(pipeline.flush()[0].features)
    assert results[0] == results[1]
    assert results[0][0]["restarts"] == 3.0


def test_bad_messages_are_counted_and_stored(telemetry: Any, fake_scorer: Any) -> None:
    pipeline, rows = _pipeline(fake_scorer)
    pipeline.publish_metrics([b"{oops", {"metric": {}}, telemetry.window(T0)[0]])  # type: ignore[list-item]
    pipeline.publish_logs(["[]"])  # type: ignore[list-item]
    reasons = sorted(r["reason"].split(":")[0] for r in rows.tables["dead_letters"])
    assert reasons == ["malformed JSON", "missing field", "wrong type"]
    assert pipeline.counters.dead_letters == 3


def test_verdicts_are_posted_as_the_anomaly_metric(
    telemetry: Any, fake_scorer: Any, monitoring_receiver: Any
) -> None:
    writer = HttpMonitoringWriter(monitoring_receiver.url, "test-project")
    pipeline, _ = _pipeline(fake_scorer, writer)
    pipeline.publish_metrics(telemetry.window(T0, memory_util=0.95))
    pipeline.flush()
    assert monitoring_receiver.paths == ["/v3/projects/test-project/timeSeries"]
    posted = {s["metric"]["labels"]["entity_type"]: s for s in monitoring_receiver.series}
    assert set(posted) == {"container", "pod", "deployment"}
    deployment = posted["deployment"]
    assert deployment["metric"]["type"] == ANOMALY_METRIC
    assert deployment["metric"]["labels"]["workload"] == "shop/cart"
    assert deployment["metric"]["labels"]["issue"] == "memory_leak"
    assert deployment["resource"] == {
        "type": "k8s_pod",
        "labels": {"project_id": "local-project", "location": "us-central1",
                   "cluster_name": "demo-cluster", "namespace_name": "shop",
                   "pod_name": "cart-7d9f8c6b5-x2kqp"},
    }  # fmt: skip
    assert deployment["points"][0] == {
        "interval": {"endTime": "2026-01-01T00:01:00Z"},
        "value": {"doubleValue": 0.95},
    }


def test_a_monitoring_outage_does_not_stop_the_loop(
    telemetry: Any, fake_scorer: Any, monitoring_receiver: Any
) -> None:
    monitoring_receiver.fail_next = 1
    writer = HttpMonitoringWriter(monitoring_receiver.url, "test-project")
    pipeline, rows = _pipeline(fake_scorer, writer)
    pipeline.publish_metrics(telemetry.window(T0) + telemetry.window(T0 + 60))
    pipeline.flush()
    assert pipeline.counters.write_failures == 1
    assert len(monitoring_receiver.series) == 3  # the second window got through
    assert len(rows.tables["anomalies"]) == 6


def test_registry_scorer_reloads_when_a_new_version_is_named(tmp_path: Any) -> None:
    (tmp_path / "LATEST").write_text("v0001")
    loaded: list[str] = []
    now = [0.0]

    class Named:
        def __init__(self, version: str) -> None:
            self.version = version

        def score(self, rows: Any) -> list[dict[str, Any]]:
            return [{"model_version": self.version} for _ in rows]

    def loader(registry: str, version: str) -> Named:
        loaded.append(version)
        return Named(version)

    scorer = RegistryScorer(str(tmp_path), check_every=30, loader=loader, clock=lambda: now[0])
    assert scorer.score([{}]) == [{"model_version": "v0001"}]
    (tmp_path / "LATEST").write_text("v0002")
    now[0] = 10.0
    assert scorer.score([{}])[0]["model_version"] == "v0001"  # not checked yet
    now[0] = 31.0
    assert scorer.score([{}])[0]["model_version"] == "v0002"
    assert loaded == ["v0001", "v0002"] and scorer.reloads == 1


def test_counters_are_measured_across_the_window_boundary(telemetry: Any, fake_scorer: Any) -> None:
    pipeline, _ = _pipeline(fake_scorer)
    # Restarts 1 → 3 inside the first window, then 3 → 5 between its last point and the next's.
    pipeline.publish_metrics(
        telemetry.window(T0, restarts_before=1, restarts_after=3)
        + telemetry.window(T0 + 60, restarts_before=5, restarts_after=5)
    )
    first, second = pipeline.flush()[:2]
    restarts = [
        next(r["restarts"] for r in w.features if r["entity_type"] == "container")
        for w in (first, second)
    ]
    assert restarts == [2.0, 2.0]


def test_a_counter_with_one_point_in_a_window_has_a_rate(telemetry: Any, fake_scorer: Any) -> None:
    pipeline, _ = _pipeline(fake_scorer)
    metric = "kubernetes.io/container/cpu/core_usage_time"
    pipeline.publish_metrics([
        telemetry.metric(metric, 10.0, T0 + 50, kind="CUMULATIVE", start=T0 - 100),
        telemetry.metric(metric, 17.5, T0 + 65, kind="CUMULATIVE", start=T0 - 100),
    ])  # fmt: skip
    first, second = pipeline.flush()
    cores = [next(r["cpu_cores"] for r in w.features if r["entity_type"] == "container")
             for w in (first, second)]  # fmt: skip
    assert cores == [None, 0.5]  # 7.5 core-seconds over the 15 s since the previous point
