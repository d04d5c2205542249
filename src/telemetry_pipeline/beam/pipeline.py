"""`run()`: the pipeline's I/O wiring, batch (JSONL files) or streaming (Pub/Sub), on Dataflow or
the DirectRunner. Business logic stays in `transforms`; this module only connects sources and
sinks to it.

Sinks: BigQuery (file loads in batch, streaming inserts in streaming: no Java needed) and Cloud
Monitoring in the cloud; locally the composer passes `row_sink_factory` / `writer_factory`
(the DuckDB warehouse, the Monitoring stand-in), or `--output_dir` writes JSONL per table.
"""

# Beam ships without type information for most of its API: calls into it are untyped and its
# base classes are Any, so these checks say nothing useful here.
# mypy: disable-error-code="no-untyped-call,misc,type-arg,no-any-return"

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.pvalue import PCollection
from apache_beam.transforms import window

from telemetry_pipeline.anomaly import ClusterIdentity
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
    WriteAnomalyPoints,
    WriteRows,
)
from telemetry_pipeline.scoring import RegistryScorer, RowScorer
from telemetry_pipeline.sinks import (
    ANOMALIES,
    DEAD_LETTERS,
    FEATURES,
    RAW_LOGS,
    RAW_METRICS,
    HttpMonitoringWriter,
    MetricWriter,
    RowSink,
)


class TelemetryOptions(PipelineOptions):
    """The pipeline's own flags (Flex Template parameters of deploy/dataflow/metadata.json)."""

    @classmethod
    def _add_argparse_args(cls, parser: Any) -> None:
        parser.add_argument(
            "--metrics_input", default=None, help="JSONL glob of TimeSeries (batch)"
        )
        parser.add_argument("--logs_input", default=None, help="JSONL glob of LogEntry (batch)")
        parser.add_argument(
            "--metrics_subscription", default=None, help="projects/P/subscriptions/S"
        )
        parser.add_argument("--logs_subscription", default=None, help="projects/P/subscriptions/S")
        parser.add_argument(
            "--warehouse", default=None, help="BigQuery PROJECT:DATASET (cloud sink)"
        )
        parser.add_argument("--output_dir", default=None, help="JSONL per table (local sink)")
        parser.add_argument("--monitoring_url", default=None, help="local Monitoring base URL")
        parser.add_argument("--model_registry", default=None, help="registry folder or gs:// URI")
        parser.add_argument("--model_version", default="latest", help="a version, or latest")
        parser.add_argument("--window_seconds", type=float, default=60.0)
        parser.add_argument("--allowed_lateness", type=float, default=60.0)
        parser.add_argument("--metric_project", default="local-project", help="anomaly metric")
        parser.add_argument("--cluster_location", default="us-central1")
        parser.add_argument("--cluster_name", default="demo-cluster")


@dataclass(frozen=True)
class RegistryScorerFactory:
    """Picklable: builds the reloading registry scorer on each worker."""

    registry: str
    version: str = "latest"

    def __call__(self) -> RowScorer:
        if self.version != "latest":
            # A pinned version never changes: load it once, no reloading.
            from telemetry_pipeline.scoring import load_model_scorer

            return load_model_scorer(self.registry, self.version)
        return RegistryScorer(self.registry)


@dataclass(frozen=True)
class HttpWriterFactory:
    """Picklable: an HTTP writer to a Monitoring-compatible endpoint on each worker."""

    base_url: str
    project: str

    def __call__(self) -> MetricWriter:
        return HttpMonitoringWriter(self.base_url, self.project)


@dataclass(frozen=True)
class CloudWriterFactory:
    """Picklable: the Cloud Monitoring writer (google-cloud-monitoring) on each worker."""

    project: str

    def __call__(self) -> MetricWriter:
        from telemetry_pipeline.gcp.monitoring import CloudMonitoringWriter

        writer: MetricWriter = CloudMonitoringWriter(self.project)
        return writer


@dataclass(frozen=True)
class JsonlRowSink:
    """A row sink appending JSON lines to `<dir>/<table>.jsonl` (local batch runs)."""

    directory: str

    def insert_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        folder = Path(self.directory)
        folder.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps(r, default=str, sort_keys=True) + "\n" for r in rows)
        with (folder / f"{table}.jsonl").open("a", encoding="utf-8") as out:
            out.write(text)


@dataclass(frozen=True)
class JsonlSinkFactory:
    directory: str

    def __call__(self) -> RowSink:
        return JsonlRowSink(self.directory)


def build(
    pipeline: beam.Pipeline,
    options: TelemetryOptions,
    *,
    scorer_factory: Callable[[], RowScorer],
    row_sink_factory: Callable[[], RowSink] | None,
    writer_factory: Callable[[], MetricWriter] | None,
) -> None:
    """Wire sources → transforms → sinks into `pipeline`."""
    size, lateness = options.window_seconds, options.allowed_lateness
    cluster = ClusterIdentity(
        options.metric_project, options.cluster_location, options.cluster_name
    )
    metrics, logs = _sources(pipeline, options)
    parsed_metrics = metrics | "ParseMetrics" >> ParseTelemetry("metric", size, lateness)
    parsed_logs = logs | "ParseLogs" >> ParseTelemetry("log", size, lateness)
    items = (parsed_metrics.rows, parsed_logs.rows) | "AllItems" >> beam.Flatten()
    features = (
        items
        | "WindowPerSource"
        >> WindowPerSource(size, lateness, late_firings=options.view_as(StandardOptions).streaming)
        | "BuildFeatures" >> BuildFeatures(size)
    )
    scored = features | "Score" >> ScoreWindows(scorer_factory)
    verdicts = scored.rows
    outputs: dict[str, PCollection] = {
        RAW_METRICS: parsed_metrics.rows | "MetricRows" >> NormaliseRows(),
        RAW_LOGS: parsed_logs.rows | "LogRows" >> NormaliseRows(),
        FEATURES: features | "FeatureRows" >> FeatureTableRows(),
        ANOMALIES: verdicts | "AnomalyRows" >> AnomalyRows(),
        DEAD_LETTERS: (
            parsed_metrics[DEAD],
            parsed_logs[DEAD],
            # Windowed like the features; Flatten needs one windowing.
            scored[DEAD] | "ScoreLettersUnwindowed" >> beam.WindowInto(window.GlobalWindows()),
        )
        | "AllDeadLetters" >> beam.Flatten(),
    }
    for table, rows in outputs.items():
        if row_sink_factory is not None:
            _ = rows | f"Write_{table}" >> WriteRows(table, row_sink_factory)
        elif options.warehouse:
            _ = rows | f"BigQuery_{table}" >> _bigquery(options, table)
    if writer_factory is not None:
        points = verdicts | "AnomalyPoints" >> AnomalyPoints(cluster, size)
        _ = points | "WritePoints" >> WriteAnomalyPoints(writer_factory)


def _sources(pipeline: beam.Pipeline, options: TelemetryOptions) -> tuple[PCollection, PCollection]:
    if options.view_as(StandardOptions).streaming:
        from apache_beam.io.gcp.pubsub import ReadFromPubSub

        if not (options.metrics_subscription and options.logs_subscription):
            raise ValueError("streaming needs --metrics_subscription and --logs_subscription")
        metrics = pipeline | "ReadMetrics" >> ReadFromPubSub(
            subscription=options.metrics_subscription, with_attributes=True
        )
        logs = pipeline | "ReadLogs" >> ReadFromPubSub(
            subscription=options.logs_subscription, with_attributes=True
        )
        return metrics, logs
    if not (options.metrics_input or options.logs_input):
        raise ValueError("batch needs --metrics_input and/or --logs_input (JSONL globs)")
    metrics = (
        pipeline | "ReadMetrics" >> beam.io.ReadFromText(options.metrics_input)
        if options.metrics_input
        else pipeline | "NoMetrics" >> beam.Create([])
    )
    logs = (
        pipeline | "ReadLogs" >> beam.io.ReadFromText(options.logs_input)
        if options.logs_input
        else pipeline | "NoLogs" >> beam.Create([])
    )
    return metrics, logs


def _bigquery(options: TelemetryOptions, table: str) -> beam.PTransform:
    from telemetry_pipeline.schemas import table_specs

    spec = next(s for s in table_specs() if s["table"] == table)
    streaming = options.view_as(StandardOptions).streaming
    method = (
        beam.io.WriteToBigQuery.Method.STREAMING_INSERTS
        if streaming
        else beam.io.WriteToBigQuery.Method.FILE_LOADS
    )
    return beam.io.WriteToBigQuery(
        f"{options.warehouse}.{table}",
        schema={"fields": spec["schema"]},
        method=method,
        create_disposition=beam.io.BigQueryDisposition.CREATE_IF_NEEDED,
        write_disposition=beam.io.BigQueryDisposition.WRITE_APPEND,
        additional_bq_parameters={
            "timePartitioning": spec["timePartitioning"],
            "clustering": {"fields": spec["clustering"]},
        },
    )


def run(
    argv: Sequence[str] | None = None,
    *,
    scorer_factory: Callable[[], RowScorer] | None = None,
    row_sink_factory: Callable[[], RowSink] | None = None,
    writer_factory: Callable[[], MetricWriter] | None = None,
    wait: bool = True,
) -> Any:
    """Build and run the pipeline from command-line flags; returns the PipelineResult."""
    options = TelemetryOptions(list(argv) if argv is not None else None)
    standard = options.view_as(StandardOptions)
    if standard.runner in (None, "DirectRunner", "direct"):
        # The switching DirectRunner first tries to download the Prism runner (offline: a
        # failed fetch, then a fallback). Choose its local runners directly instead.
        standard.runner = "BundleBasedDirectRunner" if standard.streaming else "FnApiRunner"
    if scorer_factory is None:
        if not options.model_registry:
            raise ValueError("--model_registry is required (or pass scorer_factory)")
        scorer_factory = RegistryScorerFactory(options.model_registry, options.model_version)
    if row_sink_factory is None and options.output_dir:
        row_sink_factory = JsonlSinkFactory(options.output_dir)
    if writer_factory is None:
        if options.monitoring_url:
            writer_factory = HttpWriterFactory(options.monitoring_url, options.metric_project)
        elif options.warehouse:
            writer_factory = CloudWriterFactory(options.metric_project)
    pipeline = beam.Pipeline(options=options)
    build(
        pipeline,
        options,
        scorer_factory=scorer_factory,
        row_sink_factory=row_sink_factory,
        writer_factory=writer_factory,
    )
    result = pipeline.run()
    if wait:
        result.wait_until_finish()
    return result
