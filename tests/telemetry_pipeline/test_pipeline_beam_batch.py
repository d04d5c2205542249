"""The Beam transforms on the FnApiRunner, checked with `assert_that`: parsing with every
dead-letter reason, out-of-order and late data, features per entity, scoring, anomaly points;
then `run()` end to end from JSONL files. One pipeline per test (Beam start-up is ~2 s)."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from telemetry_pipeline.anomaly import ANOMALY_METRIC, ClusterIdentity
from telemetry_pipeline.beam.pipeline import HttpWriterFactory, run
from telemetry_pipeline.beam.transforms import (
    DEAD,
    AnomalyPoints,
    AnomalyRows,
    BuildFeatures,
    FeatureTableRows,
    NormaliseRows,
    ParseTelemetry,
    ScoreWindows,
    WindowPerSource,
)
from telemetry_pipeline.inprocess import InProcessPipeline, PipelineSettings
from telemetry_pipeline.sinks import MemoryMetricWriter, MemoryRowSink

T0 = 1_767_225_600.0


class UtilisationScorer:
    """Score = memory limit utilisation (module level so Beam can pickle it by reference)."""

    def score(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for row in rows:
            if row.get("entity_type") == "node":
                raise ValueError("entity_type: this scorer refuses nodes")
            score = float(row.get("memory_limit_utilization") or 0.0)
            out.append({**{k: row.get(k) for k in ("entity_type", "entity_id", "namespace",
                        "deployment", "pod", "node", "window_end")},
                        "score": score, "issue": "memory_leak" if score > 0.9 else "none",
                        "severity": "critical" if score > 0.9 else "info",
                        "critical": score > 0.9, "evidence": {}, "model_version": "test"})  # fmt: skip
        return out


def _inputs(telemetry: Any) -> tuple[list[Any], list[Any]]:
    metrics: list[Any] = telemetry.window(T0, memory_util=0.5, restarts_before=1, restarts_after=3)
    metrics += telemetry.window(T0 + 60, memory_util=0.95)
    metrics.append(telemetry.node_condition("node-b", False, T0 + 10))
    logs: list[Any] = [telemetry.log(f"GET /cart 200 in {i}ms", T0 + i) for i in range(5)]
    logs.append(telemetry.event("BackOff", T0 + 12))
    rng = random.Random(11)
    rng.shuffle(metrics)  # out of order
    rng.shuffle(logs)
    return metrics, logs


BAD_METRICS: list[Any] = [b"{not json", json.dumps({"metric": {"type": "x"}}), '{"metric": 5}']
BAD_LOGS: list[Any] = ["[]"]


def _reasons(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(r["reason"].split(":")[0] for r in rows)


def test_transforms_with_assert_that(telemetry: Any) -> None:
    metrics, logs = _inputs(telemetry)
    late_log = telemetry.log("GET /cart 200 in 9ms", T0 + 30, received=T0 + 600)
    bad = [*BAD_METRICS, telemetry.metric("kubernetes.io/container/uptime", 1, T0 + 1)]
    bad[-1]["points"][0]["value"] = {"doubleValue": "NaN-ish"}
    # What the in-process runner makes of the same input: Beam must agree (same code).
    reference = InProcessPipeline(UtilisationScorer(), MemoryRowSink(), MemoryMetricWriter(),
                                  PipelineSettings(allowed_lateness=60.0))  # fmt: skip
    reference.publish_metrics(metrics)
    reference.publish_logs(logs)
    expected_features = [r for c in reference.flush() for r in c.features]
    expected_keys = sorted((r["entity_id"], r["window_start"]) for r in expected_features)

    with beam.Pipeline(runner=FnApiRunner()) as p:
        parsed_m = p | "Metrics" >> beam.Create(metrics + bad) | "PM" >> ParseTelemetry("metric")
        parsed_l = (
            p | "Logs" >> beam.Create([*logs, *BAD_LOGS, late_log]) | "PL" >> ParseTelemetry("log")
        )
        assert_that(
            parsed_m[DEAD] | "RM" >> beam.Map(lambda r: r["reason"].split(":")[0]),
            equal_to(["malformed JSON", "missing field", "wrong type", "wrong type"]),
            label="metric dead letters: malformed JSON, missing fields, wrong types",
        )
        assert_that(
            parsed_l[DEAD] | "RL" >> beam.Map(lambda r: r["reason"].split(":")[0]),
            equal_to(["wrong type", "late"]),
            label="log dead letters: wrong type and late data",
        )
        raw = parsed_m.rows | "Raw" >> NormaliseRows()
        assert_that(
            raw | beam.combiners.Count.Globally(), equal_to([len(metrics)]), label="raw metric rows"
        )
        items = (parsed_m.rows, parsed_l.rows) | beam.Flatten()
        sources = items | WindowPerSource(60.0, 60.0)
        assert_that(
            sources | "SK" >> beam.Map(lambda kv: (kv[0], kv[1].points)),
            equal_to([
                (("shop", "cart-7d9f8c6b5-x2kqp", "cart", ""), 16),
                (("shop", "cart-7d9f8c6b5-x2kqp", "cart", ""), 16),
                (("", "", "", "node-b"), 1),
                (("shop", "cart-7d9f8c6b5-x2kqp", "", ""), 0),  # the pod's event
                # Counters carried into the third window as baselines only (no row from it).
                (("shop", "cart-7d9f8c6b5-x2kqp", "cart", ""), 0),
            ]),
            label="one SourceStats per source per window",
        )  # fmt: skip
        features = sources | BuildFeatures(60.0)
        assert_that(
            features | "FK" >> beam.Map(lambda r: (r["entity_id"], r["window_start"])),
            equal_to(expected_keys),
            label="one feature row per entity per window",
        )

        def same_as_in_process(rows: list[dict[str, Any]]) -> None:
            by_key = {(r["entity_id"], r["window_start"]): r for r in rows}
            for want in expected_features:
                got = by_key[(want["entity_id"], want["window_start"])]
                for name, value in want.items():
                    if name != "new_log_templates":  # per-worker memory, order-dependent
                        assert got[name] == value, (want["entity_id"], name, got[name], value)
            first = by_key[("shop/cart-7d9f8c6b5-x2kqp/cart", "2026-01-01T00:00:00Z")]
            assert first["restarts"] == 2.0 and first["log_lines"] == 5.0
            pod = by_key[("shop/cart-7d9f8c6b5-x2kqp", "2026-01-01T00:00:00Z")]
            assert pod["event_reasons"] == {"BackOff": 1}
            assert by_key[("node-b", "2026-01-01T00:00:00Z")]["node_not_ready"] == 1.0

        assert_that(features, same_as_in_process, label="features equal the in-process runner's")
        scored = features | ScoreWindows(UtilisationScorer)
        assert_that(
            scored[DEAD] | "SD" >> beam.Map(lambda r: (r["kind"], r["reason"])),
            equal_to([("feature", "entity_type: this scorer refuses nodes")]),
            label="rows the scorer rejects are dead letters",
        )
        assert_that(
            features | FeatureTableRows() | "FT" >> beam.Map(lambda r: type(r["log_templates"])),
            equal_to([str] * len(expected_keys)),
            label="feature table rows carry the maps as JSON text",
        )
        assert_that(
            scored.rows | AnomalyRows() | "AR" >> beam.Map(lambda r: (r["entity_id"], r["critical"])),
            # The second window (starting 00:01) has memory utilisation 0.95.
            equal_to([(e, start == "2026-01-01T00:01:00Z")
                      for e, start in expected_keys if e != "node-b"]),
            label="anomaly rows, critical where the score passed 0.9",
        )  # fmt: skip
        points = scored.rows | AnomalyPoints(ClusterIdentity("p", "l", "c"))
        assert_that(
            points
            | "PT" >> beam.Map(lambda s: (s["metric"]["labels"]["entity_type"],
                                          s["points"][0]["interval"]["endTime"],
                                          s["points"][0]["value"]["doubleValue"])),
            equal_to([
                (kind, end, util)
                for end, util in (("2026-01-01T00:01:00Z", 0.5), ("2026-01-01T00:02:00Z", 0.95))
                for kind in ("container", "pod", "deployment")
            ]),
            label="one anomaly point per entity per window",
        )  # fmt: skip


def test_run_from_jsonl_files(telemetry: Any, tmp_path: Path, monitoring_receiver: Any) -> None:
    metrics, logs = _inputs(telemetry)
    (tmp_path / "metrics.jsonl").write_text(
        "".join(json.dumps(m) + "\n" for m in metrics) + "{broken\n"
    )
    (tmp_path / "logs.jsonl").write_text("".join(json.dumps(entry) + "\n" for entry in logs))
    out = tmp_path / "out"
    run(
        [
            "--runner=FnApiRunner",
            f"--metrics_input={tmp_path / 'metrics.jsonl'}",
            f"--logs_input={tmp_path / 'logs.jsonl'}",
            f"--output_dir={out}",
            "--metric_project=test-project",
        ],
        scorer_factory=UtilisationScorer,
        writer_factory=HttpWriterFactory(monitoring_receiver.url, "test-project"),
    )

    def table(name: str) -> list[dict[str, Any]]:
        path = out / f"{name}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    assert len(table("raw_metrics")) == len(metrics)
    assert len(table("raw_logs")) == len(logs)
    assert [r["reason"].split(":")[0] for r in table("dead_letters")] == [
        "malformed JSON",
        "entity_type",  # the node row, refused by this scorer
    ]
    assert len(table("features")) == 7  # 3 entities x 2 windows + the node
    assert len(table("anomalies")) == 6
    assert {s["metric"]["type"] for s in monitoring_receiver.series} == {ANOMALY_METRIC}
    assert len(monitoring_receiver.series) == 6
    assert set(monitoring_receiver.paths) == {"/v3/projects/test-project/timeSeries"}
