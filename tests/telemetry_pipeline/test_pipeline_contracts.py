"""Contract tests across units: the simulator's telemetry goes through with no dead letters, the
rows it yields are what the model's `FeatureRow.parse` accepts, and the real `Scorer` from a
registry scores them, loaded once per worker in Beam and reloaded when a version is registered."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from anomaly_detection_model.features import FeatureRow
from anomaly_detection_model.model import EntityModel
from anomaly_detection_model.registry import Registry
from local_cloud.gke.cluster import Cluster
from local_cloud.gke.demo_cluster import build_demo
from local_cloud.gke.telemetry import MemorySink
from telemetry_pipeline.beam.pipeline import RegistryScorerFactory
from telemetry_pipeline.beam.transforms import ScoreWindows
from telemetry_pipeline.inprocess import InProcessPipeline
from telemetry_pipeline.scoring import RegistryScorer
from telemetry_pipeline.sinks import MemoryMetricWriter, MemoryRowSink

T0 = 1_767_225_600.0


def _registry(root: Path) -> Registry:
    registry = Registry(str(root))
    registry.register(EntityModel.untrained().to_dict(), {"note": "test"})
    return registry


def test_simulator_telemetry_scored_by_the_real_model(tmp_path: Path) -> None:
    _registry(tmp_path)
    sink = MemorySink()
    cluster = Cluster(sink=sink)
    build_demo(cluster)
    cluster.step(300)
    metrics, logs = sink.drain()
    assert metrics and logs
    rows = MemoryRowSink()
    writer = MemoryMetricWriter()
    pipeline = InProcessPipeline(RegistryScorer(str(tmp_path)), rows, writer)
    pipeline.publish_metrics(metrics)
    pipeline.publish_logs(logs)
    closed = pipeline.flush()
    assert rows.tables["dead_letters"] == []
    features = [row for window in closed for row in window.features]
    kinds = {row["entity_type"] for row in features}
    assert kinds == {"container", "pod", "deployment", "node"}
    for row in features:
        FeatureRow.parse(row)  # the model's own reader accepts every row
    verdicts = [v for window in closed for v in window.verdicts]
    assert len(verdicts) == len(features)
    assert all(0.0 <= v["score"] <= 1.0 and v["model_version"] == "v0001" for v in verdicts)
    # Every verdict names a pod or a node, so each has its own point; any more are 0s that
    # close a series (issue, severity) its workload stopped reporting.
    points = Counter(_point(s) for s in writer.series)
    own = Counter(
        (str(v["issue"]), str(v["severity"]), str(v["window_end"]), float(v["score"]))
        for v in verdicts
    )
    assert points & own == own
    assert all(p[0] != "none" and p[3] == 0.0 for p in (points - own).elements())


def _point(series: dict[str, Any]) -> tuple[str, str, str, float]:
    labels, point = series["metric"]["labels"], series["points"][0]
    return (
        labels["issue"], labels["severity"], point["interval"]["endTime"],
        point["value"]["doubleValue"],
    )  # fmt: skip


def test_registry_scorer_picks_up_a_new_registration(tmp_path: Path, telemetry: Any) -> None:
    registry = _registry(tmp_path)
    scorer = RegistryScorer(str(tmp_path), check_every=0.0)
    pipeline = InProcessPipeline(scorer, MemoryRowSink(), MemoryMetricWriter())
    pipeline.publish_metrics(telemetry.window(T0))
    [first] = pipeline.flush()
    assert {v["model_version"] for v in first.verdicts} == {"v0001"}
    registry.register(EntityModel.untrained().to_dict(), {"note": "retrained"})
    pipeline.publish_metrics(telemetry.window(T0 + 60))
    [second] = pipeline.flush()
    assert {v["model_version"] for v in second.verdicts} == {"v0002"}
    assert scorer.reloads == 1


def test_beam_scores_with_the_registry_model(tmp_path: Path, telemetry: Any) -> None:
    _registry(tmp_path)
    reference = InProcessPipeline(
        RegistryScorer(str(tmp_path)), MemoryRowSink(), MemoryMetricWriter()
    )
    reference.publish_metrics(telemetry.window(T0))
    rows = reference.flush()[0].features
    with beam.Pipeline(runner=FnApiRunner()) as p:
        verdicts = (p | beam.Create(rows) | ScoreWindows(RegistryScorerFactory(str(tmp_path)))).rows
        assert_that(
            verdicts | beam.Map(lambda v: (v["entity_id"], v["model_version"])),
            equal_to([(r["entity_id"], "v0001") for r in rows]),
        )
