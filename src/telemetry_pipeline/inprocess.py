"""The pipeline's transforms run in one process, for the live local loop (no Beam start-up).

Feed it like the simulator's `TelemetrySink` (`publish_metrics`, `publish_logs`); call
`advance()` to close the windows the watermark has passed: their feature rows are scored and
rows, verdicts and anomaly points are written. The watermark is the latest event time seen (or
the `now` given to `advance`); a window closes `allowed_lateness` seconds after its end, and a
point for a closed window is a dead letter (reason `late: ...`), never dropped silently.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from telemetry_pipeline.anomaly import AnomalyMetric, ClusterIdentity, anomaly_row
from telemetry_pipeline.features import build_feature_row, group_by_entity
from telemetry_pipeline.records import DeadLetter, SourceKey, parse_log, parse_metric
from telemetry_pipeline.scoring import RowScorer, Verdict
from telemetry_pipeline.sinks import (
    ANOMALIES,
    DEAD_LETTERS,
    FEATURES,
    RAW_LOGS,
    RAW_METRICS,
    MetricWriter,
    RowSink,
    feature_table_row,
)
from telemetry_pipeline.sources import CUMULATIVE, SourceStats
from telemetry_pipeline.templates import TemplateMemory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineSettings:
    """How the in-process pipeline windows and where it says its points come from."""

    window_seconds: float = 60.0
    allowed_lateness: float = 15.0
    cluster: ClusterIdentity = field(default_factory=ClusterIdentity)
    store_raw: bool = True


@dataclass
class PipelineCounters:
    """What went through, for progress displays and benchmarks."""

    metrics: int = 0
    logs: int = 0
    dead_letters: int = 0
    late: int = 0
    windows_closed: int = 0
    feature_rows: int = 0
    verdicts: int = 0
    write_failures: int = 0


@dataclass
class ClosedWindow:
    """What closing one window produced."""

    window_start: float
    features: list[dict[str, Any]]
    verdicts: list[Verdict]


class InProcessPipeline:
    """Parse → window per source → features per entity → score → rows and anomaly points."""

    def __init__(
        self,
        scorer: RowScorer,
        rows: RowSink,
        metrics: MetricWriter,
        settings: PipelineSettings | None = None,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.scorer = scorer
        self.rows = rows
        self.metrics = metrics
        self.settings = settings or PipelineSettings()
        self.counters = PipelineCounters()
        self.templates = TemplateMemory()
        self.anomaly_metric = AnomalyMetric(self.settings.cluster, self.settings.window_seconds)
        self.watermark = float("-inf")
        self._wall = wall_clock
        self._windows: dict[float, dict[SourceKey, SourceStats]] = {}
        self._closed_before = float("-inf")
        self._lock = threading.Lock()

    # -- input (the simulator's TelemetrySink shape) -----------------------------------------

    def publish_metrics(self, series: list[dict[str, Any]]) -> None:
        """Take Cloud Monitoring TimeSeries dicts (or JSON text)."""
        size = self.settings.window_seconds
        raw: list[dict[str, Any]] = []
        dead: list[dict[str, Any]] = []
        received = self._wall()
        with self._lock:
            windows, closed_before = self._windows, self._closed_before
            latest = self.watermark
            for doc in series:
                point = parse_metric(doc, received)
                if isinstance(point, DeadLetter):
                    dead.append(point.to_row())
                    continue
                t = point.time
                start = t - t % size
                if start < closed_before:
                    dead.append(self._late("metric", doc, start, received))
                    continue
                window = windows.get(start)
                if window is None:
                    window = windows[start] = {}
                stats = window.get(point.source)
                if stats is None:
                    stats = window[point.source] = SourceStats()
                stats.add_metric(point)
                if point.metric_kind == CUMULATIVE:
                    following = windows.get(start + size)
                    if following is None:
                        following = windows[start + size] = {}
                    carried = following.get(point.source)
                    if carried is None:
                        carried = following[point.source] = SourceStats()
                    carried.add_baseline(point)
                if t > latest:
                    latest = t
                if self.settings.store_raw:
                    raw.append(point.to_row())
            self.watermark = latest
            self.counters.metrics += len(series)
            self.counters.dead_letters += len(dead)
        self._store(RAW_METRICS, raw)
        self._store(DEAD_LETTERS, dead)

    def publish_logs(self, entries: list[dict[str, Any]]) -> None:
        """Take Cloud Logging LogEntry dicts (or JSON text)."""
        size = self.settings.window_seconds
        raw: list[dict[str, Any]] = []
        dead: list[dict[str, Any]] = []
        received = self._wall()
        with self._lock:
            for doc in entries:
                record = parse_log(doc, received)
                if isinstance(record, DeadLetter):
                    dead.append(record.to_row())
                    continue
                start = record.time - record.time % size
                if start < self._closed_before:
                    dead.append(self._late("log", doc, start, received))
                    continue
                window = self._windows.setdefault(start, {})
                stats = window.get(record.source)
                if stats is None:
                    stats = window[record.source] = SourceStats()
                stats.add_log(record)
                if self.settings.store_raw:
                    raw.append(record.to_row())
            self.counters.logs += len(entries)
            self.counters.dead_letters += len(dead)
        self._store(RAW_LOGS, raw)
        self._store(DEAD_LETTERS, dead)

    def _late(self, kind: str, doc: Any, start: float, received: float) -> dict[str, Any]:
        self.counters.late += 1
        letter = parse_metric(doc) if kind == "metric" else parse_log(doc)
        payload = letter.to_row() if not isinstance(letter, DeadLetter) else {}
        reason = (
            f"late: window starting {start:.0f} closed (watermark {self.watermark:.0f}, "
            f"allowed lateness {self.settings.allowed_lateness:g}s)"
        )
        return DeadLetter(kind, reason, json.dumps(payload, default=str), received).to_row()

    # -- windows -------------------------------------------------------------------------------

    def advance(self, now: float | None = None) -> list[ClosedWindow]:
        """Close every window whose end plus the allowed lateness the watermark has passed."""
        with self._lock:
            if now is not None and now > self.watermark:
                self.watermark = now
            size, lateness = self.settings.window_seconds, self.settings.allowed_lateness
            due = sorted(s for s in self._windows if s + size + lateness <= self.watermark)
            taken = [(start, self._windows.pop(start)) for start in due]
            if due:
                self._closed_before = max(self._closed_before, due[-1] + size)
        return [self._close(start, sources) for start, sources in taken if _has_data(sources)]

    def flush(self) -> list[ClosedWindow]:
        """Close every open window (end of a batch or of the process)."""
        with self._lock:
            # Windows holding only counters carried forward stay open for their own data.
            taken = sorted((s, w) for s, w in self._windows.items() if _has_data(w))
            for start, _ in taken:
                del self._windows[start]
            if taken:
                size = self.settings.window_seconds
                self._closed_before = max(self._closed_before, taken[-1][0] + size)
        return [self._close(start, sources) for start, sources in taken]

    @property
    def open_windows(self) -> list[float]:
        with self._lock:
            return sorted(start for start, sources in self._windows.items() if _has_data(sources))

    def _close(self, start: float, sources: dict[SourceKey, SourceStats]) -> ClosedWindow:
        size = self.settings.window_seconds
        features: list[dict[str, Any]] = []
        for entity, parts in sorted(group_by_entity(sources.items()).items()):
            row = build_feature_row(entity, start, size, parts)
            row["new_log_templates"] = float(
                self.templates.count_new(entity.entity_id, row["log_templates"])
            )
            features.append(row)
        verdicts = self._score(features)
        self.counters.windows_closed += 1
        self.counters.feature_rows += len(features)
        self.counters.verdicts += len(verdicts)
        self._store(FEATURES, [feature_table_row(r) for r in features])
        self._store(ANOMALIES, [anomaly_row(v) for v in verdicts])
        points = self.anomaly_metric.series(verdicts)
        if points:
            try:
                self.metrics.write(points)
            except Exception as exc:  # the loop must outlive a monitoring outage
                self.counters.write_failures += 1
                log.warning("anomaly points not written: %s", exc)
        return ClosedWindow(start, features, verdicts)

    def _score(self, rows: list[dict[str, Any]]) -> list[Verdict]:
        if not rows:
            return []
        try:
            return self.scorer.score(rows)
        except ValueError:
            # One bad row must not cost the window its other verdicts: score them one by one.
            verdicts: list[Verdict] = []
            dead: list[dict[str, Any]] = []
            for row in rows:
                try:
                    verdicts.extend(self.scorer.score([row]))
                except ValueError as exc:
                    dead.append(_feature_letter(row, str(exc), self._wall()))
            self.counters.dead_letters += len(dead)
            self._store(DEAD_LETTERS, dead)
            return verdicts

    def _store(self, table: str, rows: Iterable[dict[str, Any]]) -> None:
        batch = list(rows)
        if batch:
            self.rows.insert_rows(table, batch)


def _has_data(sources: dict[SourceKey, SourceStats]) -> bool:
    """False for a window that only holds counters carried in from the previous one."""
    return any(stats.has_data for stats in sources.values())


def _feature_letter(row: dict[str, Any], reason: str, received: float) -> dict[str, Any]:
    return DeadLetter("feature", reason, json.dumps(row, default=str), received).to_row()
