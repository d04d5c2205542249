"""Named composite transforms wrapping the plain modules: the same logic as the in-process runner.

Parse (→ rows and dead letters) → window per source (fixed windows, allowed lateness, late
firings accumulate) → features per entity → new-template counts → score → anomaly points.
"""

# Beam ships without type information for most of its API: calls into it are untyped and its
# base classes are Any, so these checks say nothing useful here.
# mypy: disable-error-code="no-untyped-call,misc,type-arg,no-any-return"

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.pvalue import PCollection
from apache_beam.transforms import trigger, userstate, window

from telemetry_pipeline.anomaly import (
    ClusterIdentity,
    anomaly_row,
    anomaly_series,
    clearing_series,
    quiet_series,
    workload_of,
)
from telemetry_pipeline.features import EntityKey, build_feature_row, entities_of
from telemetry_pipeline.lateness import arrival_of, late_letter
from telemetry_pipeline.records import (
    DeadLetter,
    LogRecord,
    MetricPoint,
    SourceKey,
    parse_log,
    parse_metric,
)
from telemetry_pipeline.scoring import RowScorer
from telemetry_pipeline.sinks import MetricWriter, RowSink, feature_table_row
from telemetry_pipeline.sources import CUMULATIVE, Baseline, SourceStats
from telemetry_pipeline.templates import TemplateMemory

ROWS = "rows"
DEAD = "dead_letters"


class _ParseFn(beam.DoFn):
    def __init__(self, kind: str, window_seconds: float, allowed_lateness: float) -> None:
        self.kind = kind
        self.window_seconds = window_seconds
        self.allowed_lateness = allowed_lateness

    def get_allowed_timestamp_skew(self) -> Any:
        # Elements are re-stamped with their event time, which is before the Pub/Sub publish
        # time they arrive with; how far behind is judged by the lateness rule, not here.
        from apache_beam.utils.timestamp import Duration

        return Duration(seconds=10**9)

    def process(self, message: Any) -> Iterator[Any]:
        published: float | None = None
        if hasattr(message, "data") and hasattr(message, "publish_time"):
            publish_time = message.publish_time
            published = publish_time.timestamp() if publish_time is not None else None
            message = message.data
        received = published or 0.0
        item = parse_metric(message, received) if self.kind == "metric" else parse_log(message)
        if isinstance(item, DeadLetter):
            yield beam.pvalue.TaggedOutput(DEAD, item.to_row())
            return
        late = late_letter(
            item, arrival_of(item, published), self.window_seconds, self.allowed_lateness
        )
        if late is not None:
            yield beam.pvalue.TaggedOutput(DEAD, late.to_row())
            return
        yield window.TimestampedValue(item, item.time)
        if isinstance(item, MetricPoint) and item.metric_kind == CUMULATIVE:
            # The next window measures this counter from here (see SourceStats.baselines).
            following = item.time - item.time % self.window_seconds + self.window_seconds
            yield window.TimestampedValue(Baseline(item), following)


class ParseTelemetry(beam.PTransform):
    """Messages (JSON bytes/text, dicts or Pub/Sub messages) → timestamped points or records,
    plus a `dead_letters` output of warehouse rows carrying the reason."""

    def __init__(self, kind: str, window_seconds: float = 60.0, allowed_lateness: float = 60.0):
        super().__init__()
        if kind not in ("metric", "log"):
            raise ValueError(f"kind: {kind!r} is not 'metric' or 'log'")
        self.kind = kind
        self.window_seconds = window_seconds
        self.allowed_lateness = allowed_lateness

    def expand(self, messages: PCollection) -> Any:
        return messages | beam.ParDo(
            _ParseFn(self.kind, self.window_seconds, self.allowed_lateness)
        ).with_outputs(DEAD, main=ROWS)


class NormaliseRows(beam.PTransform):
    """Points or records → their warehouse rows (`raw_metrics` / `raw_logs`)."""

    def expand(self, items: PCollection) -> PCollection:
        return items | beam.FlatMap(
            lambda item: [] if isinstance(item, Baseline) else [item.to_row()]
        )


class SourceStatsFn(beam.CombineFn):
    """Folds points and log records of one source and window into `SourceStats`."""

    def create_accumulator(self) -> SourceStats:
        return SourceStats()

    def add_input(
        self, stats: SourceStats, item: MetricPoint | LogRecord | Baseline
    ) -> SourceStats:
        if isinstance(item, MetricPoint):
            stats.add_metric(item)
        elif isinstance(item, Baseline):
            stats.add_baseline(item.point)
        else:
            stats.add_log(item)
        return stats

    def merge_accumulators(self, accumulators: Iterable[SourceStats]) -> SourceStats:
        merged = SourceStats()
        for stats in accumulators:
            merged.merge(stats)
        return merged

    def extract_output(self, stats: SourceStats) -> SourceStats:
        return stats


class WindowPerSource(beam.PTransform):
    """Timestamped points and records → `(source, SourceStats)` per fixed window.

    The on-time pane fires at the watermark; data up to `allowed_lateness` behind it fires a
    late pane that accumulates, so the window's features are recomputed with it.
    """

    def __init__(
        self,
        window_seconds: float = 60.0,
        allowed_lateness: float = 60.0,
        *,
        late_firings: bool = True,
    ) -> None:
        super().__init__()
        self.window_seconds = window_seconds
        self.allowed_lateness = allowed_lateness
        self.late_firings = late_firings

    def expand(self, items: PCollection) -> PCollection:
        # In batch nothing is late, and the default trigger lets Beam lift the combine before
        # the shuffle (a custom trigger sends every point through the trigger machinery).
        windowing = (
            beam.WindowInto(
                window.FixedWindows(self.window_seconds),
                trigger=trigger.AfterWatermark(late=trigger.AfterCount(1)),
                allowed_lateness=self.allowed_lateness,
                accumulation_mode=trigger.AccumulationMode.ACCUMULATING,
            )
            if self.late_firings
            else beam.WindowInto(window.FixedWindows(self.window_seconds))
        )
        return (
            items
            | "FixedWindows" >> windowing
            | "KeyBySource" >> beam.Map(lambda item: (tuple(item.source), item))
            | "CombineSource" >> beam.CombinePerKey(SourceStatsFn())
        )


def _to_entities(
    element: tuple[tuple[str, ...], SourceStats],
) -> Iterator[tuple[tuple[str, str], tuple[tuple[str, ...], SourceStats]]]:
    key, stats = element
    for entity in entities_of(SourceKey(*key), stats):
        yield tuple(entity), (key, stats)


class _FeatureRowFn(beam.DoFn):
    def __init__(self, window_seconds: float) -> None:
        self.window_seconds = window_seconds

    def process(
        self,
        element: tuple[tuple[str, str], Iterable[tuple[tuple[str, ...], SourceStats]]],
        win: Any = beam.DoFn.WindowParam,
    ) -> Iterator[dict[str, Any]]:
        entity, parts = element
        start = float(win.start.micros) / 1e6
        yield build_feature_row(
            EntityKey(*entity),
            start,
            self.window_seconds,
            [(SourceKey(*key), stats) for key, stats in parts],
        )


class _NewTemplatesFn(beam.DoFn):
    """Counts templates an entity shows for the first time, remembered per worker."""

    def setup(self) -> None:
        self.memory = TemplateMemory()

    def process(self, row: dict[str, Any]) -> Iterator[dict[str, Any]]:
        row = dict(row)
        row["new_log_templates"] = float(
            self.memory.count_new(row["entity_id"], row["log_templates"])
        )
        yield row


class BuildFeatures(beam.PTransform):
    """Per-window `(source, SourceStats)` → one contracts §2 row per entity per window."""

    def __init__(self, window_seconds: float = 60.0) -> None:
        super().__init__()
        self.window_seconds = window_seconds

    def expand(self, sources: PCollection) -> PCollection:
        return (
            sources
            | "ToEntities" >> beam.FlatMap(_to_entities)
            | "GroupByEntity" >> beam.GroupByKey()
            | "FeatureRow" >> beam.ParDo(_FeatureRowFn(self.window_seconds))
            | "NewTemplates" >> beam.ParDo(_NewTemplatesFn())
        )


class _ScoreFn(beam.DoFn):
    """Loads the scorer once per worker (`setup`); a `RegistryScorer` reloads new versions."""

    def __init__(self, scorer_factory: Callable[[], RowScorer]) -> None:
        self.scorer_factory = scorer_factory

    def setup(self) -> None:
        self.scorer = self.scorer_factory()

    def process(self, row: dict[str, Any]) -> Iterator[Any]:
        try:
            verdicts = self.scorer.score([row])
        except ValueError as exc:
            letter = DeadLetter("feature", str(exc), json.dumps(row, default=str), 0.0)
            yield beam.pvalue.TaggedOutput(DEAD, letter.to_row())
            return
        yield from verdicts


class ScoreWindows(beam.PTransform):
    """Feature rows → verdicts (contracts §3); rows the scorer rejects go to `dead_letters`."""

    def __init__(self, scorer_factory: Callable[[], RowScorer]) -> None:
        super().__init__()
        self.scorer_factory = scorer_factory

    def expand(self, rows: PCollection) -> Any:
        return rows | beam.ParDo(_ScoreFn(self.scorer_factory)).with_outputs(DEAD, main=ROWS)


class _AnomalyPointsFn(beam.DoFn):
    """One workload's verdicts → its points, plus 0s closing the series it stopped reporting.

    Keyed state (per workload, in the global window) remembers when each (issue, severity)
    series last had a point: see `telemetry_pipeline.anomaly.AnomalyMetric`.
    """

    LAST_SEEN = userstate.ReadModifyWriteStateSpec("last_seen", PickleCoder())

    def __init__(self, cluster: ClusterIdentity, window_seconds: float) -> None:
        self.cluster = cluster
        self.window_seconds = window_seconds

    def process(
        self,
        item: tuple[str, dict[str, Any]],
        last_seen: Any = beam.DoFn.StateParam(LAST_SEEN),
    ) -> Iterator[dict[str, Any]]:
        _, verdict = item
        own = anomaly_series(verdict, self.cluster)
        if own is None:
            return
        yield own
        seen = last_seen.read() or {}
        due = quiet_series(seen, verdict, self.window_seconds)
        if seen:
            last_seen.write(seen)
        else:
            last_seen.clear()
        yield from clearing_series(verdict, self.cluster, due)


class AnomalyPoints(beam.PTransform):
    """Verdicts → `custom.googleapis.com/anomaly/score` TimeSeries JSON (contracts §4)."""

    def __init__(self, cluster: ClusterIdentity, window_seconds: float = 60.0) -> None:
        super().__init__()
        self.cluster = cluster
        self.window_seconds = window_seconds

    def expand(self, verdicts: PCollection) -> PCollection:
        return (
            verdicts
            | "ByWorkload" >> beam.FlatMap(lambda v: [(w, v)] if (w := workload_of(v)) else [])
            # The memory outlives each fixed window: state lives in the global window.
            | "AcrossWindows" >> beam.WindowInto(window.GlobalWindows())
            | "Points" >> beam.ParDo(_AnomalyPointsFn(self.cluster, self.window_seconds))
        )


class AnomalyRows(beam.PTransform):
    """Verdicts → `anomalies` warehouse rows."""

    def expand(self, verdicts: PCollection) -> PCollection:
        return verdicts | beam.Map(anomaly_row)


class FeatureTableRows(beam.PTransform):
    """Feature rows → `features` warehouse rows (maps as JSON text)."""

    def expand(self, rows: PCollection) -> PCollection:
        return rows | beam.Map(feature_table_row)


class _WriteRowsFn(beam.DoFn):
    def __init__(self, table: str, sink_factory: Callable[[], RowSink]) -> None:
        self.table = table
        self.sink_factory = sink_factory

    def setup(self) -> None:
        self.sink = self.sink_factory()

    def start_bundle(self) -> None:
        self.buffer: list[dict[str, Any]] = []

    def process(self, row: dict[str, Any]) -> None:
        self.buffer.append(row)

    def finish_bundle(self) -> None:
        if self.buffer:
            self.sink.insert_rows(self.table, self.buffer)
            self.buffer = []


class WriteRows(beam.PTransform):
    """Appends rows to a table of a `RowSink` made once per worker (the local warehouse)."""

    def __init__(self, table: str, sink_factory: Callable[[], RowSink]) -> None:
        super().__init__()
        self.table = table
        self.sink_factory = sink_factory

    def expand(self, rows: PCollection) -> Any:
        return rows | beam.ParDo(_WriteRowsFn(self.table, self.sink_factory))


class _WritePointsFn(beam.DoFn):
    def __init__(self, writer_factory: Callable[[], MetricWriter]) -> None:
        self.writer_factory = writer_factory

    def setup(self) -> None:
        self.writer = self.writer_factory()

    def start_bundle(self) -> None:
        self.buffer: list[dict[str, Any]] = []

    def process(self, series: dict[str, Any]) -> None:
        self.buffer.append(series)

    def finish_bundle(self) -> None:
        if self.buffer:
            self.writer.write(self.buffer)
            self.buffer = []


class WriteAnomalyPoints(beam.PTransform):
    """Writes anomaly points through a `MetricWriter` made once per worker."""

    def __init__(self, writer_factory: Callable[[], MetricWriter]) -> None:
        super().__init__()
        self.writer_factory = writer_factory

    def expand(self, series: PCollection) -> Any:
        return series | beam.ParDo(_WritePointsFn(self.writer_factory))
